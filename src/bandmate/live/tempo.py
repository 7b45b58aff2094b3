"""The beat: where beats fall in time, followed from the player's onsets or fixed like a click.

Both trackers map between session seconds and beats (quarter notes, counted from 0 at the start
of the band's first bar):

    time_at(beat) = anchor_s + (beat - anchor_beat) * period_s

**Following** (`BeatTracker`): each onset the player makes is placed on the nearest eighth note
of the current grid; an onset further than `tolerance_beats` from every eighth (a 16th, a
triplet, a grace note) says nothing about the beat and is skipped. The placed onsets of the last
`window_beats` (at least `min_points` of them) are fitted by weighted least squares, time
against grid position: the slope is the beat period, the intercept the phase. Chords (several
keys struck together) weigh more than single notes, as a left hand usually keeps time.

When onsets are sparse (a left hand striking once a bar), the tolerance widens by
`DRIFT_PER_BEAT` for every beat since the last onset that counted, so that a tempo step between
two chords is still caught rather than losing the beat for good. An onset nearer a triplet (a
third of a beat) than its eighth and more than `TRIPLET_FROM` from the eighth is skipped however
wide the tolerance: a swung eighth falls at two thirds of the beat, and counting it as a late
straight eighth pulled the grid a sixth of a beat off the player's for as long as they swung.

Why a sliding-window regression rather than a PLL or a Kalman filter: it has one setting that a
musician can read (how many beats of the past count), and it meets the issue's targets directly.
With +-20 ms of noise and about two onsets a beat, four beats of data pin the period to about
1%, so the tempo is within 3% four beats after a change; a drift of 8% over minutes is followed
with no lag worth hearing. A PLL with a fixed gain trades those two against each other. The fit
is a dozen multiply-adds in pure Python (about 10 us), so it runs on every onset.

The tracker must start close to the player's tempo (within about 10%: an eighth note's
tolerance), as an arranger keyboard's synchro start needs its tempo set; it is given the tempo
of the performance, `--tempo` or the style's.

**Fixed** (`FixedClick`): the same mapping with a constant period, for playing to a click.
"""

from __future__ import annotations

from collections import deque

SUBDIVISION = 2  # onsets are placed on eighth notes
TEMPO_LIMITS = (0.7, 1.4)  # the followed tempo stays within these factors of the starting one
DRIFT_PER_BEAT = 0.04  # how much further (beats) an onset may be per beat since the last one
MAX_TOLERANCE = 0.24  # never as far as halfway between eighths
TRIPLET_FROM = 0.1  # an onset this far from its eighth and nearer a triplet is a triplet


class FixedClick:
    """A steady beat: `tempo_bpm` from `start(time_s)` on; onsets change nothing."""

    def __init__(self, tempo_bpm: float):
        if not 20 <= tempo_bpm <= 400:
            raise ValueError(f"tempo must be 20-400 BPM, got {tempo_bpm}")
        self.period_s = 60.0 / tempo_bpm
        self.anchor_s = 0.0
        self.anchor_beat = 0.0

    @property
    def tempo_bpm(self) -> float:
        return 60.0 / self.period_s

    def start(self, time_s: float) -> None:
        """Beat 0 is at `time_s`."""
        self.anchor_s, self.anchor_beat = time_s, 0.0

    def beat_at(self, time_s: float) -> float:
        return self.anchor_beat + (time_s - self.anchor_s) / self.period_s

    def time_at(self, beat: float) -> float:
        return self.anchor_s + (beat - self.anchor_beat) * self.period_s

    def onset(self, time_s: float, weight: float = 1.0) -> None:
        """A click does not listen."""

    def restart_at(self, time_s: float, beat: float) -> None:
        """A click keeps its time whatever the player does."""


class BeatTracker(FixedClick):
    """A beat that follows the player's onsets (see the module's docstring).

    tempo_bpm: where to start. window_beats: how much of the past the fit uses. min_points: the
    fewest onsets it fits (the window widens until it has them). tolerance_beats: how far from
    an eighth note an onset may be and still count.
    """

    def __init__(
        self,
        tempo_bpm: float,
        *,
        window_beats: float = 4.0,
        min_points: int = 6,
        tolerance_beats: float = 0.12,
        max_points: int = 32,
    ):
        super().__init__(tempo_bpm)
        self.start_period_s = self.period_s
        self.window_beats = window_beats
        self.min_points = min_points
        self.tolerance_beats = tolerance_beats
        # (grid position in beats, time in seconds, weight) of the onsets that counted
        self._points: deque[tuple[float, float, float]] = deque(maxlen=max_points)
        self.onsets_used = 0
        self.onsets_skipped = 0

    def start(self, time_s: float) -> None:
        super().start(time_s)
        self._points.clear()
        self._points.append((0.0, time_s, 2.0))

    def restart_at(self, time_s: float, beat: float) -> None:
        """Beat `beat` is at `time_s`, the tempo kept: the player came back after a pause in
        their own time (see `live.engine`), and the onsets before it say nothing of where the
        beat is now."""
        self.anchor_s, self.anchor_beat = time_s, beat
        self._points.clear()
        self._points.append((beat, time_s, 2.0))

    def onset(self, time_s: float, weight: float = 1.0) -> None:
        beat = self.beat_at(time_s)
        grid = round(beat * SUBDIVISION) / SUBDIVISION
        # the longer since an onset counted, the further the beat may have drifted: widen
        since = beat - self._points[-1][0] if self._points else 0.0
        tolerance = min(self.tolerance_beats + DRIFT_PER_BEAT * since, MAX_TOLERANCE)
        triplet = round(beat * 3) / 3
        nearer_a_triplet = (
            triplet != round(triplet)
            and abs(beat - triplet) < abs(beat - grid)
            and abs(beat - grid) > TRIPLET_FROM
        )
        if abs(beat - grid) > tolerance or grid < 0 or nearer_a_triplet:
            self.onsets_skipped += 1
            return
        points = self._points
        if points and points[-1][0] == grid:
            # another key on the same eighth: the first placed it; a chord weighs more
            if weight > points[-1][2]:
                points[-1] = (grid, points[-1][1], weight)
                self._fit()
            return
        points.append((grid, time_s, weight))
        self.onsets_used += 1
        self._fit()

    def _fit(self) -> None:
        points = self._points
        newest = points[-1][0]
        sw = sx = st = sxx = sxt = 0.0
        n = 0
        for grid, time_s, weight in reversed(points):
            if n >= self.min_points and newest - grid > self.window_beats:
                break
            n += 1
            sw += weight
            sx += weight * grid
            st += weight * time_s
            sxx += weight * grid * grid
            sxt += weight * grid * time_s
        mean_x, mean_t = sx / sw, st / sw
        var_x = sxx / sw - mean_x * mean_x
        if n >= 3 and var_x > 0.25:  # at least a beat's spread: the slope means something
            period = (sxt / sw - mean_x * mean_t) / var_x
            low, high = TEMPO_LIMITS
            self.period_s = min(max(period, self.start_period_s / high), self.start_period_s / low)
        # the line through the weighted mean: phase from all the window's onsets at once
        self.anchor_beat, self.anchor_s = mean_x, mean_t
