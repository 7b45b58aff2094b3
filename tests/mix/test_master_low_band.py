"""The master's low band stage (`mix.dynamics.LowBandLimiter`): it takes the low band's peaks down
on their own where they would make the limiter duck everything, and leaves the rest alone."""

from __future__ import annotations

import numpy as np
import pytest

from bandmate.mix.dynamics import LowBandLimiter, control_hop

RATE = 44_100


def run(x: np.ndarray, budget: float, block: int) -> np.ndarray:
    stage = LowBandLimiter(
        RATE, control_hop(RATE), budget=budget, crossover_hz=150.0, max_reduction_db=12.0,
        release_ms=60.0,
    )  # fmt: skip
    parts = [stage.process(x[:, i : i + block]) for i in range(0, x.shape[1], block)]
    return np.concatenate([*parts, stage.finish()], axis=1)


def tone_db(x: np.ndarray, freq: float) -> float:
    """The level of the sine at `freq` in the middle second (dB)."""
    middle = x[0, RATE : 2 * RATE] * np.hanning(RATE)
    spectrum = np.abs(np.fft.rfft(middle))
    k = round(freq)
    return float(20 * np.log10(spectrum[k - 2 : k + 3].max()))


def tones() -> np.ndarray:
    t = np.arange(3 * RATE) / RATE
    x = 0.8 * np.sin(2 * np.pi * 50 * t) + 0.1 * np.sin(2 * np.pi * 1000 * t)
    return np.stack([x, x]).astype(np.float32)


@pytest.mark.parametrize("block", [441_000, 7_777, 100])
def test_under_the_budget_it_gives_back_the_input_exactly(rng, block):
    x = (0.1 * rng.standard_normal((2, 50_000))).astype(np.float32)
    y = run(x, budget=1.0, block=block)
    assert y.shape == x.shape
    assert np.array_equal(y, x)


def test_a_loud_bass_is_taken_down_and_the_tone_over_it_is_not():
    x = tones()
    y = run(x, budget=0.5, block=441_000)
    assert y.shape == x.shape
    assert tone_db(y, 1000) == pytest.approx(tone_db(x, 1000), abs=0.05)
    assert (
        4.0 < tone_db(x, 50) - tone_db(y, 50) < 8.0
    )  # (0.5 less the tone, over 0.8): 6 dB at most
    assert np.abs(y[:, RATE : 2 * RATE]).max() < 0.5 * 1.05
    # one gain across the bass's cycles: no distortion to speak of (3rd harmonic)
    assert tone_db(y, 150) - tone_db(y, 50) < -60


def test_blocks_of_any_size_give_the_same_master():
    x = tones()
    whole = run(x, budget=0.5, block=x.shape[1])
    assert np.allclose(run(x, budget=0.5, block=10_007), whole, atol=1e-6)
