"""Seamless loops: what rings past a loop's end is folded back onto its start."""

from __future__ import annotations

import numpy as np

from bandmate.io.audio import Audio


def loop_frames(seconds: float, sample_rate: int) -> int:
    """A loop's exact length in samples (its length in seconds times the rate, rounded)."""
    return round(seconds * sample_rate)


def fold_tail(audio: Audio, frames: int) -> Audio:
    """`audio` cut to `frames` samples, with everything after added back from the start.

    Played in a loop, the result sounds as the original would have had it been repeated: the
    release and reverb of the last bar ring over the first, and there is no click at the seam.
    Audio shorter than `frames` is padded with silence.
    """
    out = np.zeros((audio.channels, frames), dtype=np.float32)
    for start in range(0, max(audio.frames, 1), frames):
        chunk = audio.samples[:, start : start + frames]
        out[:, : chunk.shape[1]] += chunk
    return Audio(out, audio.sample_rate)
