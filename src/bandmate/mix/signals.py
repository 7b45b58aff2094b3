"""Test signals of EBU Tech 3341 for checking a loudness meter: stepped tones and true-peak sines.

The meter's tests and `bench/meter.py` synthesize the conformance cases from these, so both
measure exactly the same signals. Audio is (channels, samples) float32 at `rate` Hz.
"""

from __future__ import annotations

import numpy as np

from bandmate.io.audio import Audio


def tone(*segments, rate: int = 48_000, channels: int = 2, freq_hz: float = 1000.0) -> Audio:
    """A sine whose peak level steps through (dBFS or None for silence, seconds) segments."""
    ends = np.cumsum([round(seconds * rate) for _, seconds in segments])
    gains = np.zeros(ends[-1])
    start = 0
    for (level, _), end in zip(segments, ends, strict=True):
        gains[start:end] = 0.0 if level is None else 10 ** (level / 20)
        start = end
    x = gains * np.sin(2 * np.pi * freq_hz * np.arange(len(gains)) / rate)
    return Audio(np.tile(x, (channels, 1)), rate)


def sine_tp(freq_hz: float, phase_deg: float, amplitude: float, rate: int, seconds: float = 2.0):
    """Tech 3341's true-peak signals: a sine with 10 ms fades at both ends, in stereo."""
    n = round(seconds * rate)
    x = amplitude * np.sin(2 * np.pi * freq_hz * np.arange(n) / rate + np.deg2rad(phase_deg))
    fade = np.linspace(0, 1, rate // 100, endpoint=False)
    x[: len(fade)] *= fade
    x[-len(fade) :] *= fade[::-1]
    return Audio(np.tile(x, (2, 1)), rate)
