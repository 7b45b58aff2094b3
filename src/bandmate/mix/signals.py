"""Test signals: EBU Tech 3341's for checking a loudness meter (stepped tones and true-peak
sines), and a mix whose top octave is strong, for checking a master's true peak near Nyquist.

The tests and the benches (`bench/meter.py`, `bench/master.py`) synthesize their cases from
these, so both measure exactly the same signals. Audio is (channels, samples) at `rate` Hz.
"""

from __future__ import annotations

import numpy as np
import scipy.signal

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


def bright_mix(rng: np.random.Generator, rate: int, seconds: float = 4.0) -> Audio:
    """Chords, a little noise, and hi-hat-like 17-20 kHz bursts every 16th with two steady
    tones at 18.5 and 19.7 kHz, in stereo, peaking at -6 dBFS: the top octave holds about a
    quarter of the energy, where a 4x true-peak interpolator reads low."""
    t = np.arange(round(seconds * rate)) / rate
    chords = 0.1 * sum(np.sin(2 * np.pi * f * t) for f in (220.0, 277.2, 329.6))
    band = scipy.signal.butter(8, [17_000, 20_000], "bandpass", fs=rate, output="sos")
    hats = scipy.signal.sosfilt(band, rng.standard_normal((2, len(t))))
    hats *= 0.15 / np.std(hats) * np.exp(-(t % 0.25) / 0.05)
    tones = 0.05 * (np.sin(2 * np.pi * 18_500 * t) + np.sin(2 * np.pi * 19_700 * t + 1.0))
    x = chords + hats + tones + 0.03 * rng.standard_normal((2, len(t)))
    return Audio((0.5 * x / np.max(np.abs(x))).astype(np.float32), rate)
