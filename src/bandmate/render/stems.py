"""Stems after rendering: their mix, and the file names they are written under."""

from __future__ import annotations

import re
from collections.abc import Sequence

from bandmate.io.audio import Audio

STEM_NAME_MAX_CHARS = 40


def render_mix(stems: Sequence[Audio]) -> Audio:
    """The sum of `stems` (all of one sample rate, channel count and length)."""
    if not stems:
        raise ValueError("render_mix needs at least one stem")
    first = stems[0]
    for s in stems[1:]:
        if s.sample_rate != first.sample_rate or s.samples.shape != first.samples.shape:
            raise ValueError(f"stems differ in rate or shape: {first!r} and {s!r}")
    mix = first.samples.copy()
    for s in stems[1:]:
        mix += s.samples
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
