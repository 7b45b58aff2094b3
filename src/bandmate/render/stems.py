"""Stems after rendering: their mix, and the file names they are written under."""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence

import numpy as np

from bandmate.io.audio import Audio

STEM_NAME_MAX_CHARS = 40
MIX_STEP = 2.0**-40  # the mix's resolution while it is summed: -241 dBFS
_ADD_FRAMES = 8_192  # stems are added in pieces of this many frames, to keep the temporaries small


class MixSum:
    """The running sum of stems, the same whatever order their samples are added in.

    Stems rendered in parallel finish in no fixed order, and float32 addition rounds, so a float32
    sum would differ in its last bits from one run to the next. Here each sample is added as a
    whole number of MIX_STEP (2**-40, 2**17 times finer than a 24-bit file's step) in int64,
    where addition is exact, and the sum is rounded to float32 once, when it is read: the mix is
    the same on every run and whatever the number of threads, and closer to the exact sum than a
    float32 sum (within half a float32 step, plus 2**-41 per stem). The price is 8 bytes per
    sample, twice a float32 mix; sums must stay below 2**23 in magnitude (138 dB over full scale).

    `add` may be called from several threads at once.
    """

    def __init__(self, channels: int, frames: int):
        self._sum = np.zeros((channels, frames), dtype=np.int64)
        self._lock = threading.Lock()

    @staticmethod
    def bytes_per_frame(channels: int) -> int:
        """The memory a sum of `channels` takes per frame."""
        return channels * np.dtype(np.int64).itemsize

    @property
    def frames(self) -> int:
        return self._sum.shape[1]

    def add(self, samples: np.ndarray, start_frame: int = 0) -> None:
        """Add float32 `samples` (channels, frames) to the sum from `start_frame` on."""
        for offset in range(0, samples.shape[1], _ADD_FRAMES):
            piece = samples[:, offset : offset + _ADD_FRAMES]
            steps = np.rint(piece * np.float32(1 / MIX_STEP)).astype(np.int64)  # exact: 2**40
            at = start_frame + offset
            with self._lock:
                self._sum[:, at : at + piece.shape[1]] += steps

    def read(self, start_frame: int = 0, stop_frame: int | None = None) -> np.ndarray:
        """The sum from `start_frame` to `stop_frame`, as float32 (channels, frames)."""
        steps = self._sum[:, start_frame:stop_frame]
        out = np.empty(steps.shape, dtype=np.float32)
        # in float64, rounded to float32 as it is stored: no float64 copy of the whole
        return np.multiply(steps, MIX_STEP, out=out, casting="same_kind")


def render_mix(stems: Sequence[Audio]) -> Audio:
    """The sum of `stems` (all of one sample rate, channel count and length), rounded once to
    float32 (see `MixSum`), so that it does not depend on the order of the stems."""
    if not stems:
        raise ValueError("render_mix needs at least one stem")
    first = stems[0]
    for s in stems[1:]:
        if s.sample_rate != first.sample_rate or s.samples.shape != first.samples.shape:
            raise ValueError(f"stems differ in rate or shape: {first!r} and {s!r}")
    mix = np.empty_like(first.samples)
    step = 8 * _ADD_FRAMES  # a piece at a time, so that the int64 sum is never a whole stem's
    for start in range(0, first.frames, step):
        piece = MixSum(first.channels, min(step, first.frames - start))
        for s in stems:
            piece.add(s.samples[:, start : start + step])
        mix[:, start : start + step] = piece.read()
    return Audio(mix, first.sample_rate)


def stem_filenames(track_names: Sequence[str], suffix: str = ".wav") -> list[str]:
    """A file name per track: `NN-name.wav`, NN its 1-based position in the score.

    The name is the track's name in lower case, every run of characters other than ASCII letters
    and digits made one hyphen, cut to 40 characters (`"Lead Vox (Verse)"` -> `lead-vox-verse`,
    an empty or all-symbol name -> `track`). The number keeps the score's order in a folder
    listing and makes every name unique, even for tracks of the same name; it has two digits,
    or more for a score with 100 tracks or more.
    """
    width = max(2, len(str(len(track_names))))
    names = []
    for number, name in enumerate(track_names, start=1):
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower())[:STEM_NAME_MAX_CHARS].strip("-")
        names.append(f"{number:0{width}d}-{slug or 'track'}{suffix}")
    return names
