"""The shortcuts that automix and the backing job take agree with the full measures they replace:
the true peak alone, the loudness after a gain and a pan read from one measurement, and the
batched Welch spectrum."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal

from bandmate.io.audio import Audio
from bandmate.mix.balance import welch
from bandmate.mix.meter import measure_loudness, metered, true_peak_dbtp


def _music_like(rng, channels: int, frames: int) -> np.ndarray:
    """Noise with a rising envelope and some bright transients: peaks between the samples."""
    x = rng.standard_normal((channels, frames)) * np.linspace(0.02, 0.3, frames)
    hits = rng.integers(0, frames, 40)
    x[:, hits] = rng.choice([-0.9, 0.9], size=(channels, 40))
    return x.astype(np.float32)


@pytest.mark.parametrize("rate", [44_100, 48_000, 96_000])
@pytest.mark.parametrize("channels", [1, 2])
def test_true_peak_alone_is_the_meters_true_peak(rate, channels):
    rng = np.random.default_rng(rate + channels)
    audio = Audio(_music_like(rng, channels, 3 * rate + 17), rate)
    assert true_peak_dbtp(audio) == pytest.approx(measure_loudness(audio).true_peak_dbtp, abs=1e-9)


def test_true_peak_of_silence_is_minus_infinity():
    assert true_peak_dbtp(Audio(np.zeros((2, 48_000), np.float32), 48_000)) == -np.inf


@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize("left, right", [(0.5, 0.5), (1.2, 0.1), (0.0, 0.8)])
def test_loudness_after_gains_is_the_loudness_of_the_scaled_audio(channels, left, right):
    rng = np.random.default_rng(7)
    x = _music_like(rng, channels, 48_000 * 6)
    meter = metered(Audio(x, 48_000), true_peak=False)
    gains = np.array([left, right])
    spread = np.stack([x[0] * left, x[-1] * right])  # a mono stem spread over two channels
    expected = measure_loudness(Audio(spread, 48_000)).integrated_lufs
    got = meter.result(power_gains=gains**2).integrated_lufs
    assert got == pytest.approx(expected, abs=1e-4)
    assert meter.result().integrated_lufs == pytest.approx(
        measure_loudness(Audio(x, 48_000)).integrated_lufs, abs=1e-9
    )


@pytest.mark.parametrize("frames", [1, 2, 3, 4095, 4096, 10_001, 300_000])
def test_welch_is_scipys_welch(frames):
    x = np.random.default_rng(frames).standard_normal(frames) + 0.25
    freqs, power = welch(x, 44_100)
    want_f, want_p = scipy.signal.welch(x, 44_100, nperseg=min(4096, frames))
    np.testing.assert_allclose(freqs, want_f)
    np.testing.assert_allclose(power, want_p, rtol=1e-9, atol=1e-20)
