"""Stems balanced to a style's authored mix levels (`jobs.backing.balance_stems`)."""

from __future__ import annotations

import numpy as np
import pytest

from bandmate.io.audio import Audio
from bandmate.jobs.backing import balance_stems
from bandmate.mix.meter import integrated_lufs
from bandmate.render import render_mix

RATE = 44_100


def tone(hz: float, amplitude: float, seconds: float = 3.0, every_s: float | None = None):
    """A stereo sine; with `every_s`, 50 ms bursts of it at that interval (a sparse part)."""
    t = np.arange(round(seconds * RATE)) / RATE
    wave = amplitude * np.sin(2 * np.pi * hz * t)
    if every_s is not None:
        wave *= (t % every_s) < 0.05
    return Audio(np.stack([wave, wave]).astype(np.float32), RATE)


def test_stems_land_on_their_levels_and_their_sum_peaks_at_minus_1_dbfs(rng):
    noise = Audio((0.3 * rng.standard_normal((2, 3 * RATE))).astype(np.float32), RATE)
    stems = [tone(100, 0.01), tone(1000, 0.5, every_s=0.5), noise, tone(440, 0.0)]
    levels = [0.0, -6.0, -12.0, -3.0]
    out, gains = balance_stems(stems, levels)
    loudness = [integrated_lufs(s) for s in out]
    for got, want in zip(loudness[:3], levels[:3], strict=True):
        assert got - loudness[0] == pytest.approx(want, abs=0.1)
    assert not out[3].samples.any()  # silence stays silence
    assert 20 * np.log10(render_mix(out).peak()) == pytest.approx(-1.0, abs=0.01)
    for before, after, gain_db in zip(stems[:3], out[:3], gains[:3], strict=True):
        assert after.peak() / before.peak() == pytest.approx(10 ** (gain_db / 20), rel=1e-3)


def test_stems_too_short_to_measure_keep_their_balance():
    stems = [tone(220, 0.5, seconds=0.2), tone(330, 0.1, seconds=0.2)]
    out, gains = balance_stems(stems, [-20.0, 0.0])
    assert gains[0] == gains[1]
    assert out[0].peak() / out[1].peak() == pytest.approx(5.0, rel=1e-3)


def test_a_level_per_stem():
    with pytest.raises(ValueError, match="2 stems but 1 levels"):
        balance_stems([tone(220, 0.5), tone(330, 0.5)], [0.0])


def test_no_stem_peaks_above_minus_1_dbfs_where_the_others_push_against_it():
    # a bass in opposite phase to the kick: their sum is small, so a common gain that put the
    # sum at -1 dBFS wrote the kick clipped at +5 dBFS (`bandmate backing` had no guard)
    kick = tone(60, 0.5)
    bass = Audio(-kick.samples, RATE)
    stems, gains = balance_stems([kick, bass], [0.0, -6.0])
    ceiling_db = -1.0
    assert 20 * np.log10(max(s.peak() for s in stems)) == pytest.approx(ceiling_db, abs=0.01)
    assert 20 * np.log10(render_mix(stems).peak()) < ceiling_db - 5  # the sum is under it
    assert gains[0] - gains[1] == pytest.approx(6.0, abs=0.1)  # the balance holds
    for before, after, gain_db in zip([kick, bass], stems, gains, strict=True):
        assert after.peak() / before.peak() == pytest.approx(10 ** (gain_db / 20), rel=1e-3)
