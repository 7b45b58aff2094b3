"""A click must not count as the programme's tonal balance (`mix.analysis`, and through it the
master's EQ), while sharp drums still count in full.

A 2-sample spike near full scale, as an edit without a crossfade leaves one, in a quiet, dark mix
held as much 8-16 kHz energy as the whole programme: the octave shares there rose by 6 to 22 dB
and the master's EQ in those bands moved by up to 6 dB.
"""

from __future__ import annotations

import numpy as np
import pytest

from bandmate.io.audio import Audio
from bandmate.mix.analysis import _ClickBridge, analyze
from bandmate.mix.master import master
from bandmate.mix.signals import tone
from tests.mix.test_master import music

RATE = 44_100


def shares(audio: Audio) -> np.ndarray:
    return np.array([s for _, s in analyze(audio).octave_bands_db])


@pytest.mark.parametrize("lufs, tilt", [(-30.0, 1.0), (-36.0, 1.2), (-24.0, 0.8)])
def test_a_click_in_a_quiet_dark_mix_moves_neither_the_balance_nor_the_eq(rng, lufs, tilt):
    mix = music(rng, lufs=lufs, tilt=tilt, rate=RATE)
    clicked = mix.samples.copy()
    at = int(rng.integers(RATE, 7 * RATE))
    clicked[:, at : at + 2] = rng.choice([-1, 1]) * 0.98
    clicked = Audio(clicked, RATE)
    assert np.max(np.abs(shares(clicked) - shares(mix))) <= 0.2
    _, plain = master(mix)
    _, with_click = master(clicked)
    assert plain.tone.active  # the EQ does move these mixes toward the curve
    moved = np.array(with_click.tone.achieved_db) - np.array(plain.tone.achieved_db)
    assert np.max(np.abs(moved)) <= 0.5


def percussion(rng, seconds=6.0) -> np.ndarray:
    """Claves, cowbell, rimshot and hi-hat, each hit starting at full amplitude out of silence."""
    n, t = round(seconds * RATE), np.arange(round(0.2 * RATE)) / RATE
    crest = np.pi / 2  # the first sample is the crest: a step from zero, as steep as a drum gets
    square = lambda f: np.sign(np.sin(2 * np.pi * f * t + crest))  # noqa: E731
    hits = [
        np.sin(2 * np.pi * 2500 * t + crest) * np.exp(-t / 0.02),
        (square(540) + square(800)) / 2 * np.exp(-t / 0.05),
        (0.5 * rng.standard_normal(len(t)) + np.sin(2 * np.pi * 1700 * t + crest))
        * np.exp(-t / 0.008),
        0.5 * np.diff(rng.standard_normal(len(t) + 1)) * np.exp(-t / 0.03),
    ]
    x = np.zeros(n)
    for k, start in enumerate(range(0, n - len(t), RATE // 3)):
        x[start : start + len(t)] += rng.uniform(0.2, 0.9) * hits[k % len(hits)]
    return x


def test_sharp_percussion_out_of_silence_is_measured_as_it_is(rng):
    x = np.stack([percussion(rng), percussion(rng)])
    bridge = _ClickBridge(RATE, 2)
    out = np.concatenate([bridge.process(x[:, :50_000]), bridge.process(x[:, 50_000:])], axis=1)
    out = np.concatenate([out, bridge.process(None)], axis=1)
    np.testing.assert_array_equal(out, x)
    # and a click among them is bridged, whatever the blocks it arrives in
    x[:, 100_001:100_003] = 0.98
    for size in (100_002, 77_777):
        bridge = _ClickBridge(RATE, 2)
        parts = [bridge.process(x[:, i : i + size]) for i in range(0, x.shape[1], size)]
        out = np.concatenate([*parts, bridge.process(None)], axis=1)
        assert out.shape == x.shape and np.max(np.abs(out[:, 100_001:100_003])) < 0.3
        changed = np.flatnonzero(np.any(out != x, axis=0))
        assert changed.min() >= 100_001 - RATE // 1000 and changed.max() <= 100_003 + RATE // 1000


def test_a_short_last_block_does_not_splash_an_abrupt_end_over_every_band():
    # 10.03 s: the last 10 s block holds 30 ms. The last frame was taken from what the spectrum
    # still held, shorter than a frame, and zero-padded: the sine's end cut off mid-waveform
    # spread 68 dB under it over every other band (a whole frame of its last samples: 120 dB)
    bands = dict(analyze(tone((-20, 10.03), freq_hz=1000.0)).octave_bands_db)
    assert max(share for center, share in bands.items() if center != 1000) < -100


@pytest.mark.parametrize("first", [0, 1, 100])
def test_a_click_on_the_first_sample_is_bridged_as_any_other(first):
    # the bridge judged each sample's step from the one before it, and the first had none: a
    # file of ticks that opened on one was given that tick's balance, and the EQ moved by 8 dB
    x = np.zeros((2, 6 * RATE))
    x[:, first :: RATE // 2] = 0.9
    assert all(share is None for _, share in analyze(Audio(x, RATE)).octave_bands_db)
    # a sine that starts at its crest in the first sample is music, measured as it is
    crest = 0.1 * np.cos(2 * np.pi * 1000.0 * np.arange(5 * RATE) / RATE)
    bands = dict(analyze(Audio(np.stack([crest, crest]), RATE)).octave_bands_db)
    assert bands[1000] > -0.1 and max(v for c, v in bands.items() if c != 1000) < -20
