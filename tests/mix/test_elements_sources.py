"""A source recorded more than one way ("Bass DI" and "Bass Amp") is one part of the mix."""

from __future__ import annotations

import numpy as np
import pytest

from bandmate.io.audio import Audio
from bandmate.mix.automix import AutomixConfig, automix
from bandmate.mix.elements import named_elements, taken_ways
from bandmate.mix.meter import measure_loudness
from bandmate.mix.roles import role_from_name

RATE = 44_100
SECONDS = 6


def _time() -> np.ndarray:
    return np.arange(SECONDS * RATE) / RATE


def _bass_di() -> np.ndarray:
    t = _time()
    freq = np.where((t % 2) < 1, 55.0, 73.4)
    return (0.4 * np.sin(2 * np.pi * np.cumsum(freq) / RATE)).astype(np.float32)


def _amp(di: np.ndarray, drive: float) -> np.ndarray:
    """The same performance through a driven amplifier: in phase with the DI, brighter."""
    return (0.5 * np.tanh(drive * di)).astype(np.float32)


def _keys() -> np.ndarray:
    t = _time()
    chord = sum(np.sin(2 * np.pi * f * t) for f in (261.6, 329.6, 392.0))
    return (0.15 * chord * (0.6 + 0.4 * np.exp(-(t % 1) * 3))).astype(np.float32)


def _guitar() -> np.ndarray:
    out = np.zeros(SECONDS * RATE)
    n = RATE // 2
    ring = np.arange(n) / RATE
    strum = np.exp(-ring * 8) * sum(np.sin(2 * np.pi * f * ring) for f in (196, 247, 294, 392))
    for start in range(0, len(out) - n, RATE // 4):
        out[start : start + n] += 0.1 * strum
    return out.astype(np.float32)


def _loudness(x: np.ndarray) -> float:
    return measure_loudness(Audio(x, RATE)).integrated_lufs


@pytest.mark.parametrize(
    ("name", "taken"),
    [
        ("Bass DI.wav", ("bass", "di")),
        ("03 Bass_Amp.flac", ("bass", "amp")),
        ("Gtr (Close)", ("gtr", "close")),
        ("Vox.Far", ("vox", "far")),
        ("Bass D.I.", ("bass", "di")),
        ("Bass", None),
        ("Dirty", None),
        ("Lead Vox", None),
    ],
)
def test_how_a_stem_was_taken_is_read_from_its_name(name, taken):
    assert taken_ways(name) == taken


def test_a_bass_as_di_and_amp_sits_where_the_one_bass_would():
    # each was balanced as a whole bass, and being one performance they add in phase: the bass
    # came out about 6 dB over the keys' balance
    di = _bass_di()
    amp = _amp(di, 4.0)
    keys = _keys()
    given = [("Bass DI.wav", Audio(di, RATE)), ("Bass Amp.wav", Audio(amp, RATE))]
    given.append(("Keys.wav", Audio(keys, RATE)))
    _, split = automix(given)
    gains = [10 ** (s.gain_db / 20) for s in split.stems]
    bass_after = _loudness(di * gains[0] + amp * gains[1])
    split_over_keys = bass_after - split.stems[2].loudness_after_lufs
    _, whole = automix([("Bass.wav", Audio(di + amp, RATE)), ("Keys.wav", Audio(keys, RATE))])
    want = whole.stems[0].loudness_after_lufs - whole.stems[1].loudness_after_lufs
    assert split_over_keys == pytest.approx(want, abs=1.0)
    # and a level may be given for the bass as a whole, by the name its stems share
    _, report = automix(given, config=AutomixConfig(levels={"bass": -6.0, "keys": 0.0}))
    gains = [10 ** (s.gain_db / 20) for s in report.stems]
    bass_after = _loudness(di * gains[0] + amp * gains[1])
    assert bass_after - report.stems[2].loudness_after_lufs == pytest.approx(-6.0, abs=0.3)


def test_a_guitar_as_di_and_amp_is_panned_to_one_place():
    # the two went to opposite sides, one guitar smeared across the stereo field
    gtr = _guitar()
    given = [
        ("Gtr DI.wav", Audio(gtr, RATE)),
        ("Gtr Amp.wav", Audio(_amp(gtr, 3.0), RATE)),
        ("Keys.wav", Audio(_keys(), RATE)),
        ("Bass.wav", Audio(_bass_di(), RATE)),
    ]
    _, report = automix(given)
    pans = [s.pan for s in report.stems]
    assert pans[0] == pans[1] != 0.0
    assert pans[2] * pans[0] < 0  # the keys balance the guitar on the other side


def test_two_mics_of_a_kit_piece_stay_in_the_kit():
    names = ["Kick In", "Kick Out", "Snare Top", "Snare Bottom", "Bass DI", "Bass Amp", "Keys"]
    roles = [role_from_name(n) for n in names]
    assert named_elements(names, roles) == {"drums": [0, 1, 2, 3], "bass": [4, 5]}
