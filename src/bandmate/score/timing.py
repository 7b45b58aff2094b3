"""Ticks, beats, bars and seconds.

`TempoMap` turns ticks into seconds and back through a piecewise-constant tempo; `BarGrid` turns
ticks into bars and beats through the time-signature map. A beat here is a quarter note, as in
MIDI (`ticks_per_beat`); `BarGrid.beat_ticks` gives the length of the meter's own beat (an eighth
note in 6/8) where a musician's count is wanted.

Both accept scalars or NumPy arrays, so that a whole track converts in one call.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

import numpy as np

from bandmate.score.model import TempoChange, TimeSignature


class TempoMap:
    """Seconds at any tick, from a tempo map that starts at tick 0."""

    def __init__(self, tempos: Sequence[TempoChange], ticks_per_beat: int):
        assert tempos and tempos[0].onset_ticks == 0, "a tempo map starts at tick 0"
        self.ticks_per_beat = ticks_per_beat
        self._onsets = np.array([t.onset_ticks for t in tempos], dtype=np.int64)
        # seconds per tick in each segment, and seconds elapsed at each segment's start
        self._sec_per_tick = np.array([t.us_per_beat for t in tempos], dtype=np.float64) / (
            1e6 * ticks_per_beat
        )
        spans = np.diff(self._onsets) * self._sec_per_tick[:-1]
        self._start_seconds = np.concatenate([[0.0], np.cumsum(spans)])

    def seconds_at(self, ticks):
        """Seconds from the start at `ticks` (scalar or array)."""
        t = np.asarray(ticks, dtype=np.float64)
        i = np.searchsorted(self._onsets, t, side="right") - 1
        i = np.clip(i, 0, len(self._onsets) - 1)
        out = self._start_seconds[i] + (t - self._onsets[i]) * self._sec_per_tick[i]
        return float(out) if np.ndim(out) == 0 else out

    def ticks_at(self, seconds):
        """The (fractional) tick position at `seconds` from the start (scalar or array)."""
        s = np.asarray(seconds, dtype=np.float64)
        i = np.searchsorted(self._start_seconds, s, side="right") - 1
        i = np.clip(i, 0, len(self._onsets) - 1)
        out = self._onsets[i] + (s - self._start_seconds[i]) / self._sec_per_tick[i]
        return float(out) if np.ndim(out) == 0 else out

    def beats_at(self, ticks):
        """Quarter-note beats from the start at `ticks`."""
        return np.asarray(ticks, dtype=np.float64) / self.ticks_per_beat

    def ticks_of_beats(self, beats) -> int:
        return round(beats * self.ticks_per_beat)


class BarGrid:
    """Bars and beats from a time-signature map that starts at tick 0.

    A time signature that falls inside a bar starts a new bar there (as notation programs do).
    Bars are numbered from 0 here; the CLI speaks of bars from 1.
    """

    def __init__(self, time_signatures: Sequence[TimeSignature], ticks_per_beat: int):
        assert time_signatures and time_signatures[0].onset_ticks == 0
        self.ticks_per_beat = ticks_per_beat
        self._meters = list(time_signatures)
        self._onsets = [m.onset_ticks for m in self._meters]
        # bar index at the start of each meter segment
        self._first_bar = [0]
        for prev, nxt in zip(self._meters, self._meters[1:], strict=False):
            span = nxt.onset_ticks - prev.onset_ticks
            bars = -(-span // prev.bar_ticks(ticks_per_beat))  # a partial bar counts as one
            self._first_bar.append(self._first_bar[-1] + bars)

    def meter_at(self, ticks: int) -> TimeSignature:
        return self._meters[bisect.bisect_right(self._onsets, ticks) - 1]

    def bar_at(self, ticks: int) -> int:
        """Index (from 0) of the bar that contains `ticks`."""
        k = bisect.bisect_right(self._onsets, ticks) - 1
        m = self._meters[k]
        return self._first_bar[k] + (ticks - m.onset_ticks) // m.bar_ticks(self.ticks_per_beat)

    def bar_start(self, bar: int) -> int:
        """Tick at which bar `bar` (from 0) begins; bars past the end continue the last meter."""
        if bar < 0:
            raise ValueError(f"bar numbers start at 0, got {bar}")
        k = bisect.bisect_right(self._first_bar, bar) - 1
        m = self._meters[k]
        return m.onset_ticks + (bar - self._first_bar[k]) * m.bar_ticks(self.ticks_per_beat)

    def bar_starts(self, end_ticks: int) -> list[int]:
        """The start tick of every bar that begins before `end_ticks`."""
        starts, bar = [], 0
        while (tick := self.bar_start(bar)) < end_ticks:
            starts.append(tick)
            bar += 1
        return starts

    def bar_count(self, end_ticks: int) -> int:
        """How many bars it takes to hold music that ends at `end_ticks`."""
        return 0 if end_ticks <= 0 else self.bar_at(end_ticks - 1) + 1

    def beat_ticks(self, ticks: int) -> int:
        """Length of the meter's own beat at `ticks` (a quarter in 4/4, an eighth in 6/8)."""
        return self.ticks_per_beat * 4 // self.meter_at(ticks).denominator
