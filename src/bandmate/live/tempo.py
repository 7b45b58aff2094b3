"""The beat: where beats fall in time, followed from the player's onsets or fixed like a click.

Both trackers map between session seconds and beats (quarter notes, counted from 0 at the start
of the band's first bar):

    time_at(beat) = anchor_s + (beat - anchor_beat) * period_s + curve_s * (beat - anchor_beat)^2

the anchor being the newest onset that counted, and the last term (the tempo changing steadily,
see **Change** below) carried on for `CURVE_HORIZON_BEATS` past it, then held; before the
anchor the mapping is straight.

**Following** (`BeatTracker`): each onset the player makes is placed on the nearest eighth note
of the current grid; an onset further than `tolerance_beats` from every eighth (a 16th, a
triplet, a grace note) says nothing about the beat and is skipped. The placed onsets of the last
`window_beats` (at least `min_points` of them) are fitted by weighted least squares, time
against grid position: the slope is the beat period, the intercept the phase. Chords (several
keys struck together) weigh more than single notes, as a left hand usually keeps time, and
recent onsets more than old ones (half as much `FIT_HALF_LIFE_BEATS` before the newest), as a
drummer follows where the pianist is going: a sparse player's window reaches back twelve beats
or more (`min_points` onsets), and with equal weights the fit held the tempo of a rubato's last
swing. Half notes wandering +-5% over four bars fell a tenth of a beat off the grid, and the
band re-locked as if the player had jumped, at times a beat off the player's (bench/live.py's
"rubato (half notes)" player lost 17 of 144 runs, now 1).

Two onsets placed on the same eighth (a dotted rhythm's sixteenth, a little late, and the beat
after it) cannot both be on it: a chord is, else the one nearer it, both as heard on the grid
before either counted (the first has pulled the grid its way since). Counting whichever came
first took the sixteenth for the beat at 175-200 BPM, where with +-20 ms of noise and a grid
that lags a drifting tempo by a few hundredths of a beat it is often the nearer eighth, and
left the beat itself unheard; the grid then ran ahead, the next sixteenths fell nearer still,
and it settled a sixteenth ahead of the player for good.

When onsets are sparse (a left hand striking once a bar), the tolerance widens by
`DRIFT_PER_BEAT` for every beat since the last onset that counted, so that a tempo step between
two chords is still caught rather than losing the beat for good. An onset nearer a triplet (a
third of a beat) than its eighth and more than `TRIPLET_FROM` from the eighth is skipped however
wide the tolerance: a swung eighth falls at two thirds of the beat, and counting it as a late
straight eighth pulled the grid a sixth of a beat off the player's for as long as they swung.

While the player's off-beats fall on thirds (of the last `FEEL_ONSETS` onsets, at least
`THIRDS_MIN_ONSETS` off the beat and `FEEL_FIT` of those nearer a third than the half beat:
swung eighths, quarter-note triplets), a single note is not counted on the half beat at all.
Their notes lie a sixth of a beat from it, and with the grid a few hundredths of a beat off (a
player 4% off the tempo the band was given, before the chords have told the fit) and +-20 ms
of noise, many fell nearer it than the third: counted as eighths, they pulled the grid further
off, the chords on the beat fell outside the tolerance and were skipped, and the grid settled on
the triplets as straight eighths, at 3/4 of the player's tempo after a re-lock (quarter-note
triplets lost 41 of 144 runs in bench/live.py's players, swung eighths 29). A chord still counts
there (a syncopated left hand; on the beat, see below), and the onset being placed is not among
those that tell.

A chord nearest a beat counts though nearer a triplet, whatever the player's off-beats, and as
far as `MAX_TOLERANCE` however recent the last onset that counted: the left hand keeping time.
A player of half notes, or of a syncopated line over chords on the beat, 4% off the tempo the
band was given, has the grid run off between the chords, and once one fell a sixth of a beat
from it the triplet rule skipped it, and the next, however wide the tolerance had grown: with
nothing else to follow the grid ran on at its own tempo until it re-locked or counted the
chords on the wrong eighths (sparse players lost 19 of 144 runs in bench/live.py's players,
syncopated 13). At 175-200 BPM, where +-20 ms of noise is a fifteenth of a beat and the
tempo fitted to a few onsets a few percent off, the grid ran a sixth of a beat ahead of a clave
(3-3-2 sixteenths) or swing player within a bar: their late notes on the half beat fell nearer
the third and were skipped, so thirds seemed to be the feel and a chord nearer a triplet was
skipped too, as was one just past the tolerance a beat after the last onset counted; the next
dotted note, nearer the following beat than its sixteenth, was counted on it, and the band
settled a quarter of a beat or more ahead (clave lost 14 of 144 runs, swung eighths 8).

**Triplet feel.** A player who plays triplets throughout (triplet arpeggios, a 12/8 feel in 4/4)
would leave only every third note to the fit, and a first-third note played late would be taken
for an off-beat eighth and pull the grid off. So the tracker notes where in the beat its last
`FEEL_ONSETS` onsets fell, and counts onsets on the triplet grid (each third of a beat an exact
place, within `MAX_TOLERANCE` scaled to the thirds' spacing) while

- `FEEL_FIT` of them fall within `FEEL_TOLERANCE` of a third, `FEEL_MARGIN` more than fall on
  eighths, and nearer thirds than sixteenths;
- `FEEL_FIRSTS` of them fall on a first third: a swing player's off-beat eighths fall on the
  second third only, and as their swing varies (3:2 to 2:1) they stay skipped;
- every chord among them falls on the beat: a straight player who slows by a quarter at once
  plays eighths on thirds of the old beat, but moves their chords off it (the re-lock follows).

It goes back to eighths when eighths fit `FEEL_FIT` of them, thirds fit fewer than `FEEL_LEAVE`
or a chord falls off the beat, and on a re-lock. Sixteenths (`FEELS`) are not counted on their
own grid: a dotted eighth at 160-200 BPM with +-20 ms of noise is as near two thirds as three
quarters of a beat, and eighths after a sudden 30% slow-down fall near sixteenths of the old
beat. But while `FEEL_FIT` of the last onsets fall on sixteenths, nearer them than thirds, and
fewer on eighths (dotted rhythms, sixteenth runs), a single note nearer a sixteenth than its
eighth is skipped however wide the tolerance: a dotted eighth's short note counted as the next
beat when the grid ran a little late, and the tracker settled a sixteenth off the player's beat.
A chord still counts as far as the tolerance goes (a sparse player's left hand).

**Re-lock** (a sudden jump: a section taken 20-30% faster or slower). Onsets are placed on the
old grid's nearest eighth, and past about 15% the new tempo's onsets land on the wrong eighths:
the fit then holds the old tempo or runs the wrong way, and never finds the beat again. So the
tracker also keeps its last onsets (placed or not) with whether each fitted the grid of its
moment, and when two of the last six did not, it searches (at most every half beat) for a grid
that continues from one of its placed onsets (the anchor, whose place in the bar is trusted) at
another tempo, 0.68-0.93 or 1.07-1.36 times the one followed then (the fit follows smaller
changes by itself), in steps of 0.5%. It moves to the best such grid when that grid

- fits `RELOCK_FIT` of the onsets' weight since its anchor, within `RELOCK_TOLERANCE`, and
  `RELOCK_MARGIN` of that weight more than the followed grid fits;
- fits at least `RELOCK_MIN_WEIGHT` of onsets that missed the old grid (five notes, or two
  chords and a note) spread over `RELOCK_MIN_BEATS` of its beats;
- puts about as much of the player's chords on the beat as the chords before the anchor were
  (within `RELOCK_STYLE_SLACK`; of all their onsets, where no chords tell). This is what keeps
  swing and triplet players, who miss the eighth-note grid half the time, from re-locking:
  their notes do fit a straight grid at another tempo (triplets are eighths at 1.5 times it,
  and 1.2-1.3 times it fits most of them roughly), but only by moving their chords off the
  beat. The tolerance is tight (0.07 beats) for the same reason: at 0.1, a grid shifted by 0.08
  beats fits both a swing player's beats and their swung eighths;
- keeps chords that fell on even beats (1 and 3 of a 4/4 bar: all but `RELOCK_STYLE_SLACK` of
  their weight) on even beats, as a jump in tempo leaves the player's bar as it was. Chords
  on 1 and 3 read at 1.5 times the tempo fall every third beat, still on a beat, and swung
  eighths read so are straight: with rubato taking a swing player 5% slower while the fit
  still ran a few percent fast, that grid came within the search's reach, and the band
  re-locked to it, its kick across the player's bars (bench/live.py's "rubato (swung)" player
  re-locked in 3 of 144 runs at 175-200 BPM, now in none). A chord off by a whole beat fails
  it too.

The best grid is the one that explains the most onsets overall (those up to the anchor as they
fitted then); between equals the latest anchor, so that the first onset at the new tempo keeps
the place the old grid gave it and the beat count runs on without a jump. Skipped and missed
onsets alone never re-lock (a swing player skips half their notes), nor does a grid that only
fits them. The search is NumPy over (anchors, tempos, onsets), about 0.3 ms, on the event path
only when onsets miss the grid.

**Bend** (a ritardando, an accelerando: the tempo changing steadily). The fit takes the tempo as
steady over its window, so while the player slows it lags them, more every beat: their onsets
fall further behind the grid, are skipped once past the tolerance, and the fit, left with fewer,
lags further. The search found that as a jump, and the band re-locked to a steady tempo it then
lagged again: a player slowing to 60% of the tempo over the last two bars of a song made it
re-lock once or twice (bench/live.py's "final ritardando (eighths)" player: 67 of 72 runs, now
19), and its "ritardando (half notes)" player, slowing by a fifth over the last bars, lost 7 of
144 runs to a re-lock (now 2). So the search also tries grids that
continue from an anchor at the period followed there, that period changing by a steady
`BEND_RATES` share of itself each beat (time from the anchor `period * u + curve * u^2`, u its
beats, within `TEMPO_LIMITS` up to the newest onset), and takes the best of these under the same
tests as a jump, when it moves the newest onset no more than `BEND_MAX_SHIFT` from where the
followed grid has it (half notes in rubato at 150-200 BPM, read as a fast bend, fell a beat off
the player's in 5 of 144 runs at 0.5). Such a grid keeps the onsets before the anchor (the
player's tempo did not jump, it changed from there), counts the onsets since where it places
them, and is not a re-lock (`bends` counts them): the band's beat moves back to the player's at
once, by the tenth or two of a beat it had run ahead. Between equals a bend goes before a jump:
a jump slower by 15-20% is often met first by a bend, and the band is back on the player's beat
within a bar. The lower `TEMPO_LIMITS` leaves room for a final ritardando to 60%.

**Change** (the tempo changing steadily, followed without a search). A bend re-places onsets
once they have missed the grid; between bends the fit took the tempo as steady over its window,
so its period was the window's mean, several beats behind a player who kept slowing: a bar into
a slow-down to 60% over two bars the band's downbeat came 50-140 ms before the player's, and it
struck the last chord 100-450 ms before them, or re-locked on the way (bench/live.py's "final
ritardando (eighths)" player: 14 of 48 runs lost). So the fit also takes how fast the tempo
changes: over the onsets of the last `CURVE_SPAN_BEATS` (at least `CURVE_MIN_POINTS`), with the
fit's weights, the coefficient of v^2 in a weighted least-squares quadratic (v beats from the
newest onset); the line is then fitted to what is left, and the period is the slope at the
newest onset, not the window's mean. Told from noise how: the player's scatter is heard as how
far each counted onset fell from where the beat was foreseen (averaged over `SCATTER_ONSETS`,
each clipped to `SCATTER_CLIP` times the average, so a tempo change itself barely raises it),
and the change is shrunk towards nothing by `CURVE_SIGNIFICANCE` of its standard error (taken
whole where it stands far above it, not at all within it), and taken only where the fit before
found one the same way (one onset's scatter made a syncopated player at 200 BPM seem to speed up
by a tenth for one onset, enough to re-lock). Rubato is a tempo that changes too, and is
followed a little closer; jitter is not a change, and stays out of it. With it, the band
strikes the last chord of that ritardando within 30 ms of the player in most runs (median
about 20 ms early, was 165). A sparse player is followed as a steady tempo, as before: chords
two beats apart leave four onsets in the span, fewer than `CURVE_MIN_POINTS`, and with four the
change followed the swings of their rubato too eagerly (bench/live.py's "rubato (half notes)"
lost 5 of 96 runs, none without). So in the same slow-down they still leave the band behind
(its last chord 400-1400 ms early): their chords tell the change only once it is half done,
by which time the grid is a quarter of a beat off and the next chord falls on the wrong eighth.

The re-lock search judges the followed grid as it was fitted, the change included over the
last `CURVE_SPAN_BEATS` (`_fitted_beat_at`), not as `beat_at` has it before the anchor (a
straight line at the period of the newest onset). That line is slower than the player was a
few beats back: in a ritardando at 200 BPM the onsets 3-5 beats before the newest seemed to
miss it by 0.07-0.1 beats where the fit had them within 0.03, and a jump to a steady tempo,
which fitted them no better than the band did, won by the search's margin in the last beats
(bench/live.py's "ritardando (eighths)" lost 2 of 48 runs to it, none before the change was
fitted).

Why a sliding-window regression rather than a PLL or a Kalman filter: it has one setting that a
musician can read (how many beats of the past count), and it meets the issue's targets directly.
With +-20 ms of noise and about two onsets a beat, four beats of data pin the period to about
1%, so the tempo is within 3% four beats after a change; a drift of 8% over minutes is followed
with no lag worth hearing. A PLL with a fixed gain trades those two against each other. The fit
is a dozen multiply-adds in pure Python (about 10 us), so it runs on every onset.

The tracker must start close to the player's tempo (within about 10%: an eighth note's
tolerance), as an arranger keyboard's synchro start needs its tempo set; it is given the tempo
of the performance, `--tempo` or the style's. The re-lock is for changes after it has locked.

**Fixed** (`FixedClick`): the same mapping with a constant period, for playing to a click.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np

SUBDIVISION = 2  # onsets are placed on eighth notes
TEMPO_LIMITS = (0.55, 1.4)  # the followed tempo stays within these factors of the starting one
FIT_HALF_LIFE_BEATS = 4.0  # an onset this many beats before the newest weighs half in the fit
DRIFT_PER_BEAT = 0.04  # how much further (beats) an onset may be per beat since the last one
MAX_TOLERANCE = 0.24  # never as far as halfway between eighths
TRIPLET_FROM = 0.1  # an onset this far from its eighth and nearer a triplet is a triplet
THIRDS_MIN_ONSETS = 2  # off-beat onsets (of the last FEEL_ONSETS) that tell they fall on thirds
# re-lock after a sudden tempo change (see the module's docstring)
RELOCK_RATIOS = (0.68, 1.36)  # the tempo changes looked for, as factors of the followed one
RELOCK_FROM = 0.07  # ... from this far from it (the fit follows smaller changes by itself)
RELOCK_STEP = 0.005  # the step between the periods tried, as a fraction of the followed one
RELOCK_TOLERANCE = 0.07  # beats from an eighth note: an onset fits a grid
RELOCK_MISFITS = 2  # misfitting onsets among the last RELOCK_RECENT that start a search
RELOCK_RECENT = 6
RELOCK_MIN_WEIGHT = 5.0  # the onsets a new grid must fit that missed the old (a chord weighs 2)
RELOCK_MIN_BEATS = 3.0  # ... spread over at least this many of its beats
RELOCK_FIT = 0.85  # the share of that evidence the new grid must fit
RELOCK_MARGIN = 0.3  # ... and how much more of it than the followed grid fits
RELOCK_STYLE_SLACK = 0.15  # how much less of the chords' weight it may put on the beat
RELOCK_STYLE_SLACK_NOTES = 0.25  # ... of all onsets', where no chords tell (more of them vary)
RELOCK_STYLE_WEIGHT = 4.0  # the weight counted before an anchor that shows the player's rhythm
# ... or bend: the tempo changing steadily from an anchor, the period growing by this share of
# itself a beat (a ritardando to 60% over two bars: 8% and more), in steps of BEND_STEP
BEND_RATES = (-0.08, 0.12)
BEND_STEP = 0.01
BEND_MAX_SHIFT = 0.4  # beats a bend may move the newest onset from where the followed grid has it
# the tempo's steady change (see the module's docstring)
CURVE_MIN_POINTS = 6  # the fewest onsets a change of tempo is told from
CURVE_SIGNIFICANCE = 1.5  # standard errors of the change that its shrinkage takes away
CURVE_NOISE_FLOOR_S = 0.005  # the least timing scatter assumed of a player
SCATTER_START_S = 0.015  # ... and the scatter assumed before their onsets tell
SCATTER_ONSETS = 24  # the onsets the scatter is averaged over (exponentially)
SCATTER_CLIP = 2.5  # an onset further than this many times the scatter counts as this far
CURVE_SPAN_BEATS = 6.0  # beats before the newest onset whose onsets tell the change
CURVE_HORIZON_BEATS = 2.0  # beats past the newest onset that the change is carried on
CHORD_WEIGHT = 2.0  # an onset weighing this much is a chord (`live.engine` gives it)
# the player's subdivision (see the module's docstring): eighths, triplets or sixteenths
FEEL_ONSETS = 12  # the last onsets whose place in the beat tells
FEEL_MIN_ONSETS = 5  # ... at least this many
FEEL_TOLERANCE = 0.09  # beats from a subdivision: an onset fits it
FEEL_FIT = 0.8  # the share of the onsets a subdivision must fit to be taken
FEEL_MARGIN = 0.2  # ... more than eighths fit (finer grids fit more onsets by chance)
FEEL_LEAVE = 0.6  # a triplet or sixteenth feel is left when it fits less than this share
FEELS = (3,)  # the subdivisions taken besides eighths
FEEL_FIRSTS = 2  # onsets on a beat's first third (sixteenth) that tell triplets from swing


class FixedClick:
    """A steady beat: `tempo_bpm` from `start(time_s)` on; onsets change nothing."""

    relocks = 0  # a click never moves

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
    an eighth note an onset may be and still count. relocks: how many times it has re-locked.
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
        # (time in seconds, weight, whether it fitted the grid of its moment, the period then)
        # of every onset, for the re-lock
        self._onsets: deque[tuple[float, float, bool, float]] = deque(maxlen=max_points)
        self._searched_s = float("-inf")
        # the place in the beat (0-1) of the last onsets, and the subdivision they show
        self._phases: deque[tuple[float, float, float]] = deque(maxlen=FEEL_ONSETS)
        self.subdivision = SUBDIVISION
        self._sixteenths = False  # most recent onsets nearer sixteenths than thirds
        self._thirds = False  # most recent off-beat onsets nearer thirds than the half beat
        # the grid (anchor_s, anchor_beat, period_s, curve_s) before the last point was counted
        self._before: tuple[float, float, float, float] | None = None
        self.curve_s = 0.0  # the tempo's steady change past the anchor (see `time_at`)
        self._scatter2 = SCATTER_START_S**2  # the player's timing scatter (s^2), as heard
        # (the newest onset's beat, the change found before it counted, the change found now)
        self._told = (-1.0, 0.0, 0.0)
        self.onsets_used = 0
        self.onsets_skipped = 0
        self.relocks = 0
        self.bends = 0  # how many times it has found a gradual tempo change it had lost

    def beat_at(self, time_s: float) -> float:
        d = time_s - self.anchor_s
        curve, period = self.curve_s, self.period_s
        if curve == 0.0 or d <= 0.0:
            return self.anchor_beat + d / period
        h = CURVE_HORIZON_BEATS
        bent_s = period * h + curve * h * h
        if d <= bent_s:  # d = period * u + curve * u^2, solved for u (stable for any curve)
            return self.anchor_beat + _beats_over(d, period, curve)
        return self.anchor_beat + h + (d - bent_s) / (period + 2 * curve * h)

    def time_at(self, beat: float) -> float:
        u = beat - self.anchor_beat
        curve, period = self.curve_s, self.period_s
        if curve == 0.0 or u <= 0.0:
            return self.anchor_s + u * period
        h = CURVE_HORIZON_BEATS
        if u <= h:
            return self.anchor_s + u * (period + curve * u)
        return self.anchor_s + h * (period + curve * h) + (u - h) * (period + 2 * curve * h)

    def _fitted_beat_at(self, time_s: float) -> float:
        """`beat_at`, but before the anchor the fit's own curve (`_fit`: the tempo changing
        steadily over the last `CURVE_SPAN_BEATS`, steady before) rather than a straight line:
        the grid the onsets were followed on, as the re-lock search must judge it."""
        d = time_s - self.anchor_s
        curve, period = self.curve_s, self.period_s
        if curve == 0.0 or d >= 0.0:
            return self.beat_at(time_s)
        span = CURVE_SPAN_BEATS
        early = period - 2 * curve * span  # the period the fit has CURVE_SPAN_BEATS back
        if early <= 0.0:  # (no tempo: the curve cannot reach so far back)
            return self.beat_at(time_s)
        spanned_s = curve * span * span - period * span  # (negative: before the anchor)
        if d >= spanned_s:  # d = period * u + curve * u^2, u <= 0, solved for u
            return self.anchor_beat + _beats_over(d, period, curve)
        return self.anchor_beat - span + (d - spanned_s) / early

    def start(self, time_s: float) -> None:
        super().start(time_s)
        self.curve_s, self._told = 0.0, (-1.0, 0.0, 0.0)
        self._points.clear()
        self._before = None
        self._points.append((0.0, time_s, 2.0))
        self._onsets.clear()
        self._phases.clear()
        self.subdivision = SUBDIVISION
        self._sixteenths = self._thirds = False

    def restart_at(self, time_s: float, beat: float) -> None:
        """Beat `beat` is at `time_s`, the tempo kept: the player came back after a rest (see
        `live.engine`), and the onsets before it say nothing of where the beat is now."""
        self.anchor_s, self.anchor_beat = time_s, beat
        self.curve_s, self._told = 0.0, (-1.0, 0.0, 0.0)
        self._points.clear()
        self._before = None
        self._points.append((beat, time_s, 2.0))
        self._onsets.clear()
        self._phases.clear()  # placed on the old beat (the player's feel is kept)

    def onset(self, time_s: float, weight: float = 1.0) -> None:
        beat = self.beat_at(time_s)
        self._feel(time_s, beat, weight)
        sub = self.subdivision
        grid = round(beat * sub) / sub
        self._remember(time_s, weight, abs(beat - grid) <= RELOCK_TOLERANCE)
        points = self._points
        if points and grid == points[-1][0] and time_s != points[-1][1] and self._before:
            self._contest(time_s, weight, sub)
        elif sub == SUBDIVISION:
            self._place(time_s, weight, beat, grid)
        else:
            self._place_on(time_s, weight, beat, grid, sub)
        self._relock_if_lost(time_s)

    def _contest(self, time_s: float, weight: float, sub: int) -> None:
        """Another onset on the eighth the last counted one was placed on: the chord, else the
        nearer of the two on the grid before either counted, takes the place (see the module's
        docstring); the other is skipped."""
        points = self._points
        held = points.pop()
        now = (self.anchor_s, self.anchor_beat, self.period_s, self.curve_s)
        self.anchor_s, self.anchor_beat, self.period_s, self.curve_s = self._before
        held_dev = abs(self.beat_at(held[1]) - held[0])
        beat = self.beat_at(time_s)
        grid = round(beat * sub) / sub
        used, skipped = self.onsets_used, self.onsets_skipped
        if grid == held[0] and (
            weight > held[2] or (weight == held[2] and abs(beat - grid) < held_dev)
        ):
            if sub == SUBDIVISION:
                self._place(time_s, weight, beat, grid)
            else:
                self._place_on(time_s, weight, beat, grid, sub)
        if self.onsets_used == used:  # not counted: the last one stands
            points.append(held)
            self.anchor_s, self.anchor_beat, self.period_s, self.curve_s = now
        self.onsets_used, self.onsets_skipped = used, skipped + 1  # one of the two is skipped

    def _feel(self, time_s: float, beat: float, weight: float) -> None:
        """Note the onset's place in the beat, and take the subdivision the last onsets show:
        triplets when most fall on thirds of the beat, first thirds among them (a swing
        player's off-beat eighths fall on the second third only, and their swing varies);
        sixteenths when most fall on quarters of the beat, closer than to thirds; eighths when
        most fit eighths, or neither fits."""
        phases = self._phases
        # off the beat, nearer its thirds than its middle: swung eighths, quarter-note triplets
        # (this onset aside: the places of those before tell how to hear it)
        off_beat = [
            x for t, x, _ in phases if FEEL_TOLERANCE < x < 1 - FEEL_TOLERANCE and t != time_s
        ]
        thirds = sum(abs(x - 0.5) > min(abs(x - 1 / 3), abs(x - 2 / 3)) for x in off_beat)
        self._thirds = len(off_beat) >= THIRDS_MIN_ONSETS and thirds >= FEEL_FIT * len(off_beat)
        if phases and phases[-1][0] == time_s:  # another key of the same chord
            if weight > phases[-1][2]:
                phases[-1] = (*phases[-1][:2], weight)
            else:
                return
        else:
            phases.append((time_s, beat - math.floor(beat), weight))
        if len(phases) < FEEL_MIN_ONSETS:
            return
        share, dev = {}, {}
        for sub in (2, 3, 4):
            devs = [abs(x * sub - round(x * sub)) / sub for _, x, _ in phases]
            share[sub] = sum(d <= FEEL_TOLERANCE for d in devs) / len(devs)
            dev[sub] = sum(devs) / len(devs)
        # the first third or sixteenth of a beat: a swung or dotted eighth falls on neither
        firsts = {
            sub: sum(abs(x - 1 / sub) <= FEEL_TOLERANCE for _, x, _ in phases) for sub in (3, 4)
        }
        # a player's chords fall on the beat: eighths after a jump to 3/4 of the tempo fall on
        # thirds of the old beat too, but their chords do not
        chords_on_beat = all(
            min(x, 1 - x) <= FEEL_TOLERANCE for _, x, w in phases if w >= CHORD_WEIGHT
        )
        current = self.subdivision
        if current != SUBDIVISION and (share[current] < FEEL_LEAVE or not chords_on_beat):
            current = SUBDIVISION
        if share[SUBDIVISION] >= FEEL_FIT:
            current = SUBDIVISION
        elif current == SUBDIVISION:
            best = 3 if dev[3] <= dev[4] else 4  # the closer: 16ths are near thirds too
            fits = share[best] >= FEEL_FIT and share[best] >= share[SUBDIVISION] + FEEL_MARGIN
            fits &= chords_on_beat and firsts[best] >= FEEL_FIRSTS  # else swung or dotted
            if fits and best in FEELS:
                current = best
        self.subdivision = current
        self._sixteenths = (
            share[4] >= FEEL_FIT and dev[4] < dev[3] and share[SUBDIVISION] < FEEL_FIT
        )

    def _place_on(self, time_s: float, weight: float, beat: float, grid: float, sub: int):
        """Place an onset on the nearest triplet or sixteenth (each an exact fraction of the
        beat), within a tolerance below half their spacing."""
        since = beat - self._points[-1][0] if self._points else 0.0
        limit = MAX_TOLERANCE * SUBDIVISION / sub
        tolerance = min(self.tolerance_beats + DRIFT_PER_BEAT * since, limit)
        if abs(beat - grid) > tolerance or grid < 0:
            self.onsets_skipped += 1
            return
        self._add_point(time_s, weight, grid)

    def _place(self, time_s: float, weight: float, beat: float, grid: float) -> None:
        # the longer since an onset counted, the further the beat may have drifted: widen
        since = beat - self._points[-1][0] if self._points else 0.0
        tolerance = min(self.tolerance_beats + DRIFT_PER_BEAT * since, MAX_TOLERANCE)
        triplet = round(beat * 3) / 3
        nearer_a_triplet = (
            triplet != round(triplet)
            and abs(beat - triplet) < abs(beat - grid)
            and abs(beat - grid) > TRIPLET_FROM
        )
        # while the player's off-beats fall on thirds, a single note is not counted on the half
        # beat (see the module's docstring)
        on_the_half = grid == math.floor(beat) + 0.5
        nearer_a_triplet |= self._thirds and weight < CHORD_WEIGHT and on_the_half
        # a chord nearest a beat is the left hand keeping time: it counts as far as an eighth's
        # tolerance can go, however recent the last onset (see the module's docstring)
        if weight >= CHORD_WEIGHT and grid == round(grid):
            nearer_a_triplet = False
            tolerance = MAX_TOLERANCE
        # a single note nearer a sixteenth than its eighth (a dotted eighth's short note) is
        # skipped too; a chord (the left hand keeping time) may be as far as the tolerance
        nearer_a_sixteenth = self._sixteenths and weight < CHORD_WEIGHT and abs(beat - grid) > 0.125
        if abs(beat - grid) > tolerance or grid < 0 or nearer_a_triplet or nearer_a_sixteenth:
            self.onsets_skipped += 1
            return
        self._add_point(time_s, weight, grid)

    def _add_point(self, time_s: float, weight: float, grid: float) -> None:
        points = self._points
        if points and points[-1][0] == grid:
            # another key on the same eighth: the first placed it; a chord weighs more
            if weight > points[-1][2]:
                points[-1] = (grid, points[-1][1], weight)
                self._fit()
            return
        self._before = (self.anchor_s, self.anchor_beat, self.period_s, self.curve_s)
        if points:  # how far from where the beat was foreseen: the player's scatter
            miss = min((time_s - self.time_at(grid)) ** 2, SCATTER_CLIP**2 * self._scatter2)
            self._scatter2 += (miss - self._scatter2) / SCATTER_ONSETS
            self._scatter2 = max(self._scatter2, CURVE_NOISE_FLOOR_S**2)
        points.append((grid, time_s, weight))
        self.onsets_used += 1
        self._fit()

    def _remember(self, time_s: float, weight: float, fits: bool) -> None:
        onsets = self._onsets
        if onsets and onsets[-1][0] == time_s:  # another key of the same chord
            if weight > onsets[-1][1]:
                onsets[-1] = (time_s, weight, *onsets[-1][2:])
            return
        onsets.append((time_s, weight, fits, self.period_s))

    def _relock_if_lost(self, time_s: float) -> None:
        """Search for a new grid when several recent onsets missed the followed one (at most
        every half beat: a swing player misses it all the time, and must not pay for a search
        on every key), and move to it when it fits them far better: a jump re-locks, a bend
        (a steady change of tempo from an anchor) places the onsets since the anchor anew."""
        recent = list(self._onsets)[-RELOCK_RECENT:]
        if sum(not onset[2] for onset in recent) < RELOCK_MISFITS:
            return
        if time_s - self._searched_s < 0.5 * self.period_s:
            return
        self._searched_s = time_s
        found = self._search()
        if found is None:
            return
        anchor, placed, bend = found
        self._before = None
        if bend:  # the tempo changes from the anchor on: the onsets up to it stand
            kept = [p for p in self._points if p[1] <= anchor[1]]
            self._points.clear()
            self._points.extend(kept)
            self._points.extend(placed)
            self.bends += 1
            self._fit()
            return
        self._points.clear()
        self._points.append(anchor)
        self._points.extend(placed)
        self._phases.clear()  # their places in the old grid's beats tell nothing now
        self.subdivision = SUBDIVISION
        self._sixteenths = self._thirds = False
        self.relocks += 1
        self._fit()

    def _search(self):
        """The best grid continuing from a counted onset at another tempo (a jump), or at the
        tempo followed there changing steadily (a bend), when it fits the onsets since that one
        far better than the followed grid: (anchor point, placed points, whether a bend), or
        None."""
        onsets = self._onsets
        period_at = {o[0]: o[3] for o in onsets}
        anchors = [p for p in self._points if p[1] in period_at][-12:]
        if not anchors:
            return None
        ga = np.array([p[0] for p in anchors])
        ta = np.array([p[1] for p in anchors])
        t = np.array([o[0] for o in onsets])
        w = np.array([o[1] for o in onsets])
        # the tempos tried from each anchor: around the one followed when it was played (the
        # onsets since may have dragged the fit away), within the tracker's limits
        ratios = np.arange(RELOCK_RATIOS[0], RELOCK_RATIOS[1] + 1e-9, RELOCK_STEP)
        ratios = ratios[np.abs(ratios - 1) >= RELOCK_FROM]  # smaller changes: the fit follows
        periods = np.array([period_at[x] for x in ta])[:, None] / ratios[None, :]
        low, high = TEMPO_LIMITS
        periods = np.clip(periods, self.start_period_s / high, self.start_period_s / low)
        # ... and the bends: from the period followed at the anchor, changing steadily, where
        # the time from the anchor is d = period * u + curve * u^2 (u its beats)
        rates = np.arange(BEND_RATES[0], BEND_RATES[1] + 1e-9, BEND_STEP)
        rates = rates[np.abs(rates) >= BEND_STEP / 2]
        bent = np.array([period_at[x] for x in ta])[:, None]  # (anchors, 1)
        curves = rates[None, :] * bent / 2  # (anchors, rates)
        # (anchors, periods, onsets): where each onset falls on each candidate grid
        after = t[None, :] > ta[:, None] + 1e-6
        d = t[None, None, :] - ta[:, None, None]
        pos = ga[:, None, None] + d / periods[:, :, None]
        root = np.sqrt(np.maximum(bent[:, :, None] ** 2 + 4 * curves[:, :, None] * d, 1e-12))
        beats = 2 * d / (bent[:, :, None] + root)
        pos = np.concatenate([pos, ga[:, None, None] + beats], axis=1)
        is_bend = np.arange(pos.shape[1]) >= periods.shape[1]
        # a bend that has left the tempo's limits by the newest onset is none
        bent_now = bent + 2 * curves * beats[:, :, -1]
        inside = (bent_now >= self.start_period_s / high) & (bent_now <= self.start_period_s / low)
        # ... or moves the beat further than the grid can have drifted: a sparse player's
        # chords, read at a tempo changing fast enough, fall on other beats
        followed = np.array([self._fitted_beat_at(x) for x in t])
        inside &= np.abs(ga[:, None] + beats[:, :, -1] - followed[-1]) <= BEND_MAX_SHIFT
        inside = np.concatenate([np.ones(periods.shape, bool), inside], axis=1)
        dev = np.abs(pos - np.round(pos * SUBDIVISION) / SUBDIVISION)
        fit = (dev <= RELOCK_TOLERANCE) & after[:, None, :]
        score = (fit * w).sum(axis=2)
        total = (after * w).sum(axis=1)[:, None]
        spread = pos[:, :, -1] - ga[:, None]
        flags = np.array([o[2] for o in onsets])
        # the evidence: onsets that missed the grid followed then and fit this one
        news = (fit & ~flags).astype(float) @ w
        ok = (news >= RELOCK_MIN_WEIGHT) & (spread >= RELOCK_MIN_BEATS) & inside
        ok &= score >= RELOCK_FIT * total
        # the player's rhythm stays theirs: a grid that puts far fewer of their onsets on the
        # beat than the followed one did (a triplet or a swung eighth read as a straight eighth
        # at another tempo) is a misreading, not a new tempo
        on_beat = fit & (np.abs(pos - np.round(pos)) <= RELOCK_TOLERANCE)
        chords = np.where(w >= CHORD_WEIGHT, w, 0.0)
        chords_after = (after @ chords)[:, None]
        by_onsets = (on_beat * w).sum(axis=2) / np.maximum(total, 1e-9)
        by_chords = (on_beat @ chords) / np.maximum(chords_after, 1e-9)
        was_by_chords, was_by_onsets, was_even = self._on_beat_share(ta)
        use_chords = (was_by_chords <= 1)[:, None] & (chords_after >= CHORD_WEIGHT)
        share = np.where(use_chords, by_chords, by_onsets)
        was = np.where(use_chords, was_by_chords[:, None], was_by_onsets[:, None])
        ok &= share >= was - np.where(use_chords, RELOCK_STYLE_SLACK, RELOCK_STYLE_SLACK_NOTES)
        # ... and on the beats of the bar they fell on: a left hand on 1 and 3 (even beats)
        # read at 1.5 times the tempo (a swing player's eighths as straight ones) strikes
        # every third beat, still on the beat (checked for the grids still in the running
        # only: the search is on the event path)
        keeps = ok & use_chords & (was_even >= 1 - RELOCK_STYLE_SLACK)[:, None]
        if keeps.any():
            rows, cols = np.nonzero(keeps)
            kept = pos[rows, cols]
            even = on_beat[rows, cols] & (np.abs(kept - 2 * np.round(kept / 2)) <= RELOCK_TOLERANCE)
            by_even = (even @ chords) / np.maximum(chords_after[rows, 0], 1e-9)
            ok[rows, cols] = by_even >= was_even[rows] - RELOCK_STYLE_SLACK
        if not ok.any():
            return None
        # the change comes where the onsets fit best overall: those up to the anchor as they
        # fitted the grid followed then, those after it the new grid. Between equals, the
        # latest anchor (the change as late as the onsets allow: the first onset at the new
        # tempo keeps the place the old grid gave it), then the closest fit.
        before = ((~after) * flags * w).sum(axis=1)[:, None]
        mean_dev = (dev * fit).sum(axis=2) / np.maximum(fit.sum(axis=2), 1)
        latest = np.arange(len(anchors))[:, None] * 1e-3
        # between equals a bend before a jump: the tempo the player changes from, no jump in
        # the band's beat
        key = before + score + latest - 1e-4 * mean_dev + 1e-2 * is_bend[None, :]
        key = np.where(ok, key, -np.inf)
        a, k = np.unravel_index(int(np.argmax(key)), key.shape)
        followed_dev = np.abs(followed - np.round(followed * SUBDIVISION) / SUBDIVISION)
        followed_now = (followed_dev <= RELOCK_TOLERANCE) & after[a]
        followed_score = max(float(followed_now @ w), float((flags & after[a]) @ w))
        if score[a, k] - followed_score < RELOCK_MARGIN * total[a, 0]:
            return None
        grid = np.round(pos[a, k] * SUBDIVISION) / SUBDIVISION
        placed = [(float(grid[i]), float(t[i]), float(w[i])) for i in np.flatnonzero(fit[a, k])]
        return anchors[a], placed, bool(is_bend[k])

    def chords_on_beat_share(self, before_s: float) -> float | None:
        """The share of the weight of the chords counted before `before_s` (of the last
        `max_points` onsets) that fell on a beat: 1 for a left hand keeping time, None where too
        few chords tell."""
        share = float(self._on_beat_share([before_s - 1e-6])[0][0])
        return share if share <= 1 else None

    def _on_beat_share(self, anchor_times) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For each anchor time, the share of the counted chords' weight up to it that fell on
        a beat (rather than an eighth between), the same of every onset's, and the share of the
        chords' weight on an even beat (1 and 3 of a 4/4 bar); 2 (no grid passes) where there
        is too little weight to tell."""
        by_chords = np.full(len(anchor_times), 2.0)
        by_onsets = np.full(len(anchor_times), 2.0)
        by_even = np.full(len(anchor_times), 2.0)
        for i, anchor_s in enumerate(anchor_times):
            chords_on = chords_even = chords = onsets_on = onsets = 0.0
            for grid, time_s, weight in self._points:
                if time_s <= anchor_s:
                    on = grid == int(grid)
                    if weight >= CHORD_WEIGHT:
                        chords_on += weight * on
                        chords_even += weight * (on and int(grid) % 2 == 0)
                        chords += weight
                    onsets_on += weight * on
                    onsets += weight
            if chords >= RELOCK_STYLE_WEIGHT:
                by_chords[i] = chords_on / chords
                by_even[i] = chords_even / chords
            if onsets >= RELOCK_STYLE_WEIGHT:
                by_onsets[i] = onsets_on / onsets
        return by_chords, by_onsets, by_even

    def _fit(self) -> None:
        """Fit the window's onsets: time = anchor_s + period_s * v + curve_s * g(v), v beats
        from the newest, g(v) = v^2 over the last CURVE_SPAN_BEATS and straight before (the
        tempo steady, then changing steadily; see the module's docstring)."""
        points = self._points
        newest, newest_s = points[-1][0], points[-1][1]
        span = CURVE_SPAN_BEATS
        # the weights' sums of the basis (1, v, g) times each other and times r (seconds from
        # the newest onset), and of the squared weights' (for the change's uncertainty)
        s0 = s1 = sg = s11 = s1g = st = s1t = 0.0
        # ... and over the last CURVE_SPAN_BEATS, of (1, v, v^2), for the change
        c0 = c1 = c2 = c3 = c4 = ct = c1t = c2t = 0.0
        q0 = q1 = q2 = q3 = q4 = 0.0
        n = recent = 0
        for grid, time_s, weight in reversed(points):
            if n >= self.min_points and newest - grid > self.window_beats:
                break
            n += 1
            v, r = grid - newest, time_s - newest_s
            g = v * v if v >= -span else -span * (2 * v + span)
            w = weight * 0.5 ** (-v / FIT_HALF_LIFE_BEATS)  # the recent count more
            s0 += w
            s1 += w * v
            sg += w * g
            s11 += w * v * v
            s1g += w * v * g
            st += w * r
            s1t += w * v * r
            if v < -span:
                continue
            recent += 1
            vv = v * v
            c0 += w
            c1 += w * v
            c2 += w * vv
            c3 += w * vv * v
            c4 += w * vv * vv
            ct += w * r
            c1t += w * v * r
            c2t += w * vv * r
            w *= w
            q0 += w
            q1 += w * v
            q2 += w * vv
            q3 += w * vv * v
            q4 += w * vv * vv
        curve = 0.0
        if recent >= CURVE_MIN_POINTS:
            curve = self._curve((c0, c1, c2, c2, c3, c4), (ct, c1t, c2t), (q0, q1, q2, q2, q3, q4))
        # a change the fit before this onset found too: one onset's scatter can make it look
        # real once (the slope at the newest onset swung by a tenth for a syncopated player at
        # 200 BPM), a steady change goes on (a chord's other keys fit the same onset again)
        if newest != self._told[0]:
            self._told = (newest, self._told[2], self._told[2])
        self._told = (newest, self._told[1], curve)
        if curve * self._told[1] <= 0:
            curve = 0.0
        # the line through what is left once the change is taken out
        st -= curve * sg
        s1t -= curve * s1g
        mean_v, mean_r = s1 / s0, st / s0
        var_v = s11 / s0 - mean_v * mean_v
        low, high = TEMPO_LIMITS
        shortest, longest = self.start_period_s / high, self.start_period_s / low
        period = self.period_s
        if n >= 3 and var_v > 0.25:  # at least a beat's spread: the slope means something
            period = min(max((s1t / s0 - mean_v * mean_r) / var_v, shortest), longest)
        # ... through the weighted mean: phase from all the window's onsets at once
        at_s = newest_s + mean_r - period * mean_v
        # the change carried CURVE_HORIZON_BEATS past the newest onset stays within the limits
        h = CURVE_HORIZON_BEATS
        curve = min(max(curve, (shortest - period) / (2 * h)), (longest - period) / (2 * h))
        self.anchor_beat, self.anchor_s = newest, at_s
        self.period_s, self.curve_s = period, curve

    def _curve(self, sums, sums_t, sums_w2) -> float:
        """The tempo's steady change: the weighted least-squares coefficient of g(v) (seconds
        per beat squared; from the weights' sums of 1, v, g, v^2, v g, g^2, of 1, v, g times
        time, and the squared weights' of the first six), shrunk towards 0 by how little the
        player's scatter lets it be told from noise (see the module's docstring)."""
        m00, m01, m02, m11, m12, m22 = sums
        b0, b1, b2 = sums_t
        det = m00 * (m11 * m22 - m12 * m12) - m01 * (m01 * m22 - m12 * m02)
        det += m02 * (m01 * m12 - m11 * m02)
        if det <= 1e-12 * max(m00 * m11 * m22, 1e-300):
            return 0.0
        # the last row of the inverse: curve = r . [b0 b1 b2]
        r0 = (m01 * m12 - m02 * m11) / det
        r1 = (m01 * m02 - m00 * m12) / det
        r2 = (m00 * m11 - m01 * m01) / det
        curve = r0 * b0 + r1 * b1 + r2 * b2
        # its variance with every onset as scattered as the player's (the weights say how much
        # an onset counts, not how precise it is): scatter^2 * r' (X' W^2 X) r
        e00, e01, e02, e11, e12, e22 = sums_w2
        var = self._scatter2 * (
            r0 * (r0 * e00 + r1 * e01 + r2 * e02)
            + r1 * (r0 * e01 + r1 * e11 + r2 * e12)
            + r2 * (r0 * e02 + r1 * e12 + r2 * e22)
        )
        keep = 1.0 - CURVE_SIGNIFICANCE**2 * var / max(curve * curve, 1e-18)
        return curve * keep if keep > 0 else 0.0


def _beats_over(d: float, period: float, curve: float) -> float:
    """The beats u in which d seconds pass on a grid whose time is period * u + curve * u^2,
    solved in the form that stays exact as the curve goes to 0 (the re-lock search solves the
    same for arrays of grids)."""
    return 2 * d / (period + math.sqrt(period * period + 4 * curve * d))
