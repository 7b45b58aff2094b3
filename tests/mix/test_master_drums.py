"""Mastering drum-only material: EQ and compression must not cost the master its loudness target.

A kick's octave balance is mostly its body, with its attack alone in the bands above; moving that
toward a mix's target curve boosts the attack, and the compressor lets each attack through while
it turns the body down. The signals are generated: a kick (a sine swept down from about 165 Hz
to 55 Hz, decaying) on every beat, alone or over steady chords.
"""

from __future__ import annotations

import numpy as np

from bandmate.io.audio import Audio
from bandmate.mix.master import master
from bandmate.mix.meter import measure_loudness

RATE = 44_100


def kick(frames: int) -> np.ndarray:
    t = np.arange(frames) / RATE
    return np.sin(2 * np.pi * 55 * t * (1 + 2 * np.exp(-t * 30))) * np.exp(-t * 8)


def kicks(seconds: float, beat_s: float, *, chords: bool = False, hats: bool = False) -> Audio:
    """Kicks every `beat_s` at 0.8 of full scale, with quiet sustained chords if `chords` and a
    noise hi-hat between the kicks if `hats`."""
    x = np.zeros(round(seconds * RATE))
    hit = 0.8 * kick(round(0.4 * RATE))
    t = np.arange(len(hit)) / RATE
    hat = 0.3 * np.random.default_rng(0).standard_normal(len(hit)) * np.exp(-t * 60)
    for start in np.arange(0, seconds - 0.4, beat_s):
        i = round(start * RATE)
        x[i : i + len(hit)] += hit
        j = round((start + beat_s / 2) * RATE)
        if hats and j + len(hat) <= len(x):
            x[j : j + len(hat)] += hat
    if chords:
        t = np.arange(len(x)) / RATE
        x += 0.05 * sum(np.sin(2 * np.pi * f * t) for f in (261.6, 329.6, 392.0, 523.3))
    return Audio(np.stack([x, x]).astype(np.float32), RATE)


def test_a_kick_loop_lands_on_the_target_without_heavy_limiting():
    # at intensity 1 the EQ boosted the attack 6 dB and the limiter took 13 dB off every kick,
    # yet the master stayed 1.5 LU under -14 LUFS; loudness alone meets it with no limiting
    loop = kicks(6.0, 0.5)
    out, report = master(loop, target_lufs=-14.0, ceiling_dbtp=-1.0)
    measured = measure_loudness(out)
    assert abs(measured.integrated_lufs + 14.0) <= 0.2
    assert measured.true_peak_dbtp <= -1.0 + 0.1
    assert report.reached
    assert float(np.max(report.limiter_reduction_db)) < 3.0
    assert any("EQ and compression were left out" in note for note in report.notes)


def test_kicks_and_hats_are_not_crushed_to_meet_the_target():
    # the target was met, but the EQ's boost of the attacks had the limiter take 15.7 dB off
    # every kick (9.2 LU of the loudness) where the plain chain took 3.1 dB (0.05 LU)
    loop = kicks(6.0, 0.5, hats=True)
    out, report = master(loop, target_lufs=-14.0, ceiling_dbtp=-1.0)
    assert abs(measure_loudness(out).integrated_lufs + 14.0) <= 0.2
    assert report.limiter_loss_lu < 1.0
    assert float(np.max(report.limiter_reduction_db)) < 6.0
    # (with the low band stage, the chain with EQ and compression takes its loudness partly
    # there and ends out of reach: left out either way, the note says which)
    assert any("EQ and compression were left out" in note for note in report.notes)


def test_a_single_drum_hit_is_not_turned_down_below_the_mix():
    # one kick, 1 s: the compressor took 14.5 dB off its attack and the master came out at
    # -21.5 LUFS, quieter than the -17.3 LUFS mix it was asked to raise to -14
    hit = kicks(1.0, 2.0)
    out, report = master(hit, target_lufs=-14.0, ceiling_dbtp=-1.0)
    measured = measure_loudness(out)
    assert measured.integrated_lufs > report.before.loudness.integrated_lufs
    assert abs(measured.integrated_lufs + 14.0) <= 0.2
    assert measured.true_peak_dbtp <= -1.0 + 0.1


def test_kicks_under_chords_keep_their_eq_and_compression():
    # where shaping costs the limiter little, nothing is left out
    mix = kicks(6.0, 0.5, chords=True)
    _, report = master(mix, target_lufs=-14.0, ceiling_dbtp=-1.0)
    assert report.tone.active
    assert report.compressor_threshold_db is not None
    assert not any("left out" in note for note in report.notes)
    assert abs(report.loudness_error_lu) <= 0.2
