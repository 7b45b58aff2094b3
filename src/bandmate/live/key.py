"""The key the player is in, estimated online from a fading histogram of what they play.

Each key press adds its velocity (as a share of 127) to its pitch class; once a bar the
histogram fades by `0.5 ** (bar_beats / half_life_beats)`, so that the last few bars count most
and a modulation is heard within a phrase. The key is re-estimated at each bar line, off the
note path, with the Krumhansl-Kessler profiles of `bandmate.theory.harmony` (`key_scores`), and
changes only when the new key leads the current one by `HYSTERESIS` in correlation, so that one
chromatic bar does not flip it.

The key spells chord names (flats in F major) and is the key the bass's scale approaches use.
"""

from __future__ import annotations

import numpy as np

from bandmate.theory.harmony import key_scores
from bandmate.theory.keys import Key

HYSTERESIS = 0.05
MIN_WEIGHT = 4.0  # about four notes before a first guess


class KeyTracker:
    def __init__(self, half_life_beats: float = 16.0):
        self.half_life_beats = half_life_beats
        self.weights = np.zeros(12)
        self.key: Key | None = None

    def note_on(self, pitch: int, velocity: int) -> None:
        self.weights[pitch % 12] += velocity / 127  # a NumPy scalar add: no allocation

    def bar_line(self, bar_beats: float) -> Key | None:
        """Fade the histogram by one bar and re-estimate; returns the key (None until known)."""
        if self.weights.sum() >= MIN_WEIGHT:
            scores = key_scores(self.weights)
            best_score, best = scores[0]
            current = next((s for s, k in scores if k == self.key), None)
            if current is None or best_score > current + HYSTERESIS:
                self.key = best
        self.weights *= 0.5 ** (bar_beats / self.half_life_beats)
        return self.key
