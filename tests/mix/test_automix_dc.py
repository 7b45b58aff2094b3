"""A stem that is nothing but a DC offset: said once, plainly, and without numerical warnings."""

from __future__ import annotations

import warnings

import numpy as np

from bandmate.io.audio import Audio
from bandmate.mix.automix import automix
from bandmate.mix.roles import detect_role_from_content

RATE = 48_000


def _keys(seconds: float = 4.0) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    chord = sum(np.sin(2 * np.pi * f * t) for f in (261.6, 329.6, 392.0))
    return (0.15 * chord).astype(np.float32)


def test_a_stem_of_nothing_but_dc_is_named_once_as_silent():
    # it was "removed" and then said to go "into the mix as it came", two notes at odds
    dc = np.full((1, 4 * RATE), 0.5, dtype=np.float32)
    stems = [("dc.wav", Audio(dc, RATE)), ("Keys.wav", Audio(_keys(), RATE))]
    mix, report = automix(stems)
    about = [note for note in report.notes if "dc.wav" in note]
    assert len(about) == 1, report.notes
    assert "DC offset of 0.5" in about[0] and "silent" in about[0]
    assert "as it came" not in about[0]
    assert report.stems[0].silent
    # the mix is the keys alone
    alone, _ = automix([("Keys.wav", Audio(_keys(), RATE))])
    assert np.allclose(mix.samples, alone.samples, atol=1e-6)


def test_a_constant_stem_gets_a_role_without_warnings():
    # its spectrum is all zero (Welch removes each segment's mean): 0/0 printed two
    # RuntimeWarnings on the user's terminal
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        role = detect_role_from_content(np.full((2, RATE), 0.25, dtype=np.float32), RATE)
        _, report = automix([("07.wav", Audio(np.full((1, 2 * RATE), 0.3, np.float32), RATE))])
    assert role in {"drums", "bass", "keys", "guitar", "pad", "lead", "vocal"}
    assert report.mix_lufs is None
