"""The engine: the player's events in, the band's timed note events out.

    InputEvent ─► handle ─► trackers (beat, key, chord) ─► accompanist ─► lanes ─► sink(OutputEvent)
                                                              ▲
    clock ─────► advance(now) ─► bar lines: render the next bar, re-estimate the key ┘

Two entry points, both cheap and both called from one thread (the decision thread when live):

- `handle(event)` updates the trackers. A key press that changes the chord re-plans every
  pitched part from the change on: the change is placed on the nearest eighth note of the beat
  grid (a chord played a little early lands on the beat it was meant for; one played late
  starts at once), the bar is re-rendered with the new chord from there, and the lanes splice
  it in. That is the only heavy step in the event path, and its render is usually cached.
- `advance(now)` releases everything due before `now + lookahead_s` (10 ms) and renders a bar
  when the band reaches it (the drums and the chord in force), off the event path.

The beat tracker hears each key that starts a cluster (`chords.CLUSTER_S`) as an onset, and the
keys struck with it make it a chord, which weighs more. A lone key followed by the others more
than `CHORD_SPREAD_S` later was a note of its own, a sixteenth or a grace note before the
chord: the chord's onset is then its second key. A chord's keys are struck within a few ms of
each other, a melody note leads them by 20-30 ms; a sixteenth at 200 BPM, 75 ms +-40 ms before
the chord, was given the chord's weight, and the beat tracker took the sixteenth for the beat.
The key after such a lone note is an onset of its own, a chord only once a key is struck with
it: two notes of a sixteenth run at 200 BPM, often under `CLUSTER_S` apart, were heard as a
chord on the second, which the tracker counts on a beat as far as its tolerance goes, and a
sixteenth a beat's fifth early pulled the band's beat that way.

Synchro start, as on an arranger keyboard: the band waits for the first chord, and that chord's
first key is beat 1 of bar 1. It then plays on at the followed tempo until `stop`, keeping the
last chord when the player pauses (chord memory). A chord struck after a pause of `PAUSE_BARS`
bars or more with no key down starts a bar again, at the tempo followed so far: a player who
comes back in their own time (a recording made without the band, a new phrase after a break)
is not left playing against the band's old bar lines, which the beat tracker, placing onsets on
the nearest eighth note, cannot find again by itself. The band moves to the bar line nearest
the chord, so a player who comes back on the band's beat 1 moves it by milliseconds. Not with
a fixed click.

A shorter rest, `RESYNC_BARS` bars or more, re-syncs the beat on the player's return: a chord
near a beat is on that beat. Over a rest the band plays on at the tempo followed last, and that
estimate is a few percent off (a drifting player, +-20 ms of noise on four beats of onsets), so
after two bars the band's beat may be a third of a beat or more from the player's: the tracker
placed the returning chord on the nearest eighth, the off-beat, and the band's downbeats fell
between the player's chords for the rest of the song. This bit a player resting two bars, whose
rest falls a little under `PAUSE_BARS` as the band, a few percent slower, counts it
(bench/live.py's "paused" player lost 17 of 144 runs). Near is the nearest beat when the
player's chords before the rest fell on beats (`RESYNC_ON_BEAT` of their weight): a left hand
that kept time comes back on a beat, and at 200 BPM a band 5% slow over two bars is as near
half a beat off. Otherwise it is as far as a tempo 5% off (`RESYNC_DRIFT_PER_BEAT`) takes the
beat over the rest: a chord further from the beat than that, after a bar's rest nearer the
off-beat (a pushed chord, the "and" of four, from a player who pushes them), keeps its eighth.

The meter is the session's (`meter`: `--meter`, a performance file's, else the style's) and
stays so: a player who moves to another meter during a jam (4/4 to 3/4) keeps the band on their
beat and gets each chord they change to from their change on, but the band's bar lines fall
where its own meter puts them (on the player's every fourth 3/4 bar; tests/live/
test_meter_change.py). The meter must be given (`--meter 3/4` or a style in 3/4) for the band
to play in it.

Decision latency is measured for every input event, from when it was received (the transport's
`perf_counter` stamp, or the start of `handle`) to when its output was handed to the sink, in a
fixed histogram (`LatencyStats`), so the engine's memory does not grow with the length of the
session.

Timing discipline: `gc_paused()` collects, freezes everything allocated in warm-up
(`gc.freeze()`: the style, the recognition table and the render cache stop being scanned) and
raises the gen-2 threshold so no full collection runs while the band plays; young collections
stay on and are short. `stop` (and any error inside `handle` or `advance`) releases every
sounding note.
"""

from __future__ import annotations

import contextlib
import gc
import time
from collections.abc import Callable, Iterator, Sequence

from bandmate.arrange.style import Style, load_style
from bandmate.errors import UserError
from bandmate.live.accompanist import DRUM_CHANNEL, TICKS_PER_BEAT, Accompanist, Spans
from bandmate.live.chords import CLUSTER_S, DEFAULT_SPLIT_NOTE, ChordTracker
from bandmate.live.events import (
    NOTE_OFF,
    NOTE_ON,
    PEDAL_DOWN_FROM,
    InputEvent,
    OutputEvent,
    is_valid,
)
from bandmate.live.key import KeyTracker
from bandmate.live.scheduler import Lane
from bandmate.live.tempo import CHORD_WEIGHT, BeatTracker, FixedClick
from bandmate.live.voices import PLAY_CHOICES, Part, make_voice
from bandmate.theory.chart import meter_problem
from bandmate.theory.chords import ChordSymbol

CHORD_SPREAD_S = 0.03  # a key this long after a lone key is struck with it (see the docstring)
CHORD_GRID_BEATS = 0.5  # chord changes are placed on eighth notes
PAUSE_BARS = 2.0  # a chord after this long with no input and no key down starts a bar again
RESYNC_BARS = 1.0  # a chord after a rest this long (under PAUSE_BARS) may re-sync the beat
RESYNC_DRIFT_PER_BEAT = 0.05  # ... when this near it per beat of rest (see the module docs)
RESYNC_MAX_BEATS = 0.45  # ... and at most this near
RESYNC_ON_BEAT = 0.75  # a player whose chords fell this much on beats comes back on one


class LatencyStats:
    """Decision latencies in a fixed histogram of 10 us bins up to 100 ms (and the maximum)."""

    BIN_S = 1e-5
    BINS = 10_000

    def __init__(self):
        self.counts = [0] * self.BINS
        self.n = 0
        self.max_s = 0.0

    def add(self, seconds: float) -> None:
        i = int(seconds / self.BIN_S)
        self.counts[i if i < self.BINS else self.BINS - 1] += 1
        self.n += 1
        if seconds > self.max_s:
            self.max_s = seconds

    def quantile_ms(self, q: float) -> float:
        """The `q` quantile in ms (the upper edge of its bin; the maximum in the last bin)."""
        if not self.n:
            return 0.0
        target, seen = q * self.n, 0
        for i, count in enumerate(self.counts):
            seen += count
            if seen >= target and count:
                return min((i + 1) * self.BIN_S, self.max_s) * 1000
        return self.max_s * 1000

    def to_dict(self) -> dict:
        return {
            "p50_ms": round(self.quantile_ms(0.5), 3),
            "p99_ms": round(self.quantile_ms(0.99), 3),
            "max_ms": round(self.max_s * 1000, 3),
            "decisions": self.n,
        }


@contextlib.contextmanager
def gc_paused(gen2_threshold: int = 1_000_000) -> Iterator[None]:
    """Collect and freeze what exists, and keep full collections from running, inside."""
    old = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(old[0], old[1], gen2_threshold)
    try:
        yield
    finally:
        gc.set_threshold(*old)
        gc.unfreeze()


class Engine:
    """A live band for one player (see the module docs).

    style: a style name or Style. mode: "full", "split" or "single" (see `live.chords`).
    tempo_bpm: the tempo to start from (default: the style's). follow: follow the player's
        tempo (False: a fixed click at `tempo_bpm`).
    meter: the player's time signature, (beats, beat unit) (default: the style's); the band
        plays its bars in it (see `live.accompanist`).
    play: what answers the player: "band" (the style), and the voices of `live.voices`
        ("answer", "chorale"), on free MIDI channels. Without the band, the engine starts on the
        player's first key rather than the first chord.
    sink: where output events go (a transport's `send`, or a list's `append`).
    lookahead_s: how far ahead events are released. What is released cannot be recalled, so a
        chord struck exactly on a beat may let the old chord's notes on that beat sound this
        long before they are cut; the decision thread wakes every 2 ms, so 10 ms leaves the
        dispatcher time to deliver on time.
    """

    def __init__(
        self,
        style: str | Style = "pop",
        *,
        mode: str = "split",
        split_note: int = DEFAULT_SPLIT_NOTE,
        tempo_bpm: float | None = None,
        meter: tuple[int, int] | None = None,
        follow: bool = True,
        sink: Callable[[OutputEvent], None] | None = None,
        lookahead_s: float = 0.01,
        seed: int = 0,
        play: Sequence[str] = ("band",),
    ):
        unknown = [name for name in play if name not in PLAY_CHOICES]
        if unknown or not play:
            raise UserError(
                f"Unknown part to play {', '.join(unknown) or '(none)'}; play one or more of "
                f"{', '.join(PLAY_CHOICES)}."
            )
        self.style = style if isinstance(style, Style) else load_style(style)
        tempo_bpm = float(tempo_bpm or self.style.tempo_default)
        self.beat = BeatTracker(tempo_bpm) if follow else FixedClick(tempo_bpm)
        self.chords = ChordTracker(mode, split_note)
        self.keys = KeyTracker()
        if meter is not None and (problem := meter_problem(tuple(meter))):
            raise UserError(f"The meter cannot be played: {problem}.")
        self.band = Accompanist(self.style, meter=meter, seed=seed)
        self.meter = self.band.meter
        # the band's lanes (none when it does not play: it still keeps the bar grid)
        self.lanes = tuple(
            Lane(part.name, channel)
            for part, channel in zip(self.style.parts, self.band.channels, strict=True)
            if "band" in play
        )
        self.sink = sink or (lambda event: None)
        self.lookahead_s = lookahead_s
        self.latency = LatencyStats()
        self.started = False
        self.stopped = False
        self.received = 0
        self.ignored = 0  # garbage and events the engine has no use for
        self.bar_beats = self.band.bar_beats
        self.rendered_bars = 0  # bars 0 .. rendered_bars-1 are in the lanes
        self.spans: dict[int, Spans] = {}  # the chords of each rendered bar
        self.level = "low"
        self._velocity_sum = 0.0
        self._velocity_count = 0
        self._cluster_start = float("-inf")  # the first key of the last chord (or note)
        self._cluster_keys = 0  # ... and how many keys it has
        self._pedal = False
        self._last_input_s = float("-inf")
        self._resumed_s: float | None = None  # the first key after a rest, until a chord comes
        self._rest_s = 0.0  # ... how long the rest before it was
        self._resumed_chord_s: float | None = None  # ... and the first key of the chord since
        self._change_at: float | None = None
        self._relocked = False
        self.chord_log: list | None = None  # a list here collects (time_s, chord) of each change
        self.split_note = split_note if mode == "split" else None
        self.voices = self._make_voices(play)
        self.parts = self._parts()
        self._warm_up()

    def _make_voices(self, play: Sequence[str]) -> tuple:
        used = set(self.band.channels) if self.lanes else set()
        free = (c for c in range(16) if c not in used and c != DRUM_CHANNEL)
        return tuple(make_voice(name, self, next(free)) for name in play if name != "band")

    def _parts(self) -> tuple[Part, ...]:
        """Every part the engine plays, the band's first."""
        band = tuple(
            Part(p.name, channel, p.program, p.role, p.generator == "drums")
            for p, channel in zip(self.style.parts, self.band.channels, strict=True)
            if self.lanes
        )
        return band + tuple(part for voice in self.voices for part in voice.parts)

    def is_melody(self, pitch: int) -> bool:
        """Whether a key is the player's melody: at or above the split in split mode, else any."""
        return self.split_note is None or pitch >= self.split_note

    def _warm_up(self) -> None:
        """Render a bar of every part once, so that the first chord pays no first-call costs
        (the players' modules are imported on first use; NumPy's generators start cold)."""
        from bandmate.theory.chords import parse_chord

        for index in range(len(self.lanes)):
            self.band.render_part(index, 0, ((0, parse_chord("C")),), None, "low")

    # --- state the player hears

    @property
    def chord(self) -> ChordSymbol | None:
        return self.chords.chord

    @property
    def tempo_bpm(self) -> float:
        return self.beat.tempo_bpm

    @property
    def key(self):
        return self.keys.key

    # --- the event path

    def handle(self, event: InputEvent, received_s: float | None = None) -> None:
        """Take one input event; `received_s` is its `perf_counter` time of arrival."""
        if received_s is None:
            received_s = time.perf_counter()
        self.handle_batch(((event, received_s),))

    def handle_batch(self, items) -> None:
        """Take several (event, received_s) at once: the trackers see every event, the band is
        re-planned once, for the chord they leave (a flood is decided in batches)."""
        decided = []
        now = None
        try:
            for event, received_s in items:
                self.received += 1
                if self.stopped or not is_valid(event):
                    self.ignored += 1
                    continue
                self._handle(event)
                decided.append(received_s)
                now = event.time_s
            if now is not None and self.started:
                if self._relocked:
                    self._catch_up(now)
                    self._relocked = False
                if self._change_at is not None:
                    self._change_chord(self._change_at, now)
                    self._change_at = None
                self.advance(now)
        except BaseException:
            self.stop(now if now is not None else 0.0)
            raise
        done = time.perf_counter()
        for received_s in decided:
            self.latency.add(done - received_s)

    def _handle(self, event: InputEvent) -> None:
        time_s, kind, pitch, velocity = event
        if kind == NOTE_ON:
            if self.started and not self.chords.held:
                rest_s = time_s - self._last_input_s
                if rest_s >= RESYNC_BARS * self.bar_beats * self.beat.period_s:
                    # a chord struck with this key starts a bar, or re-syncs the beat
                    self._resumed_s, self._rest_s = time_s, rest_s
                    self._resumed_chord_s = None
            resuming = self._resumed_s is not None and self._resumed_chord_s is None
            if resuming and not self.is_melody(pitch):
                self._resumed_chord_s = time_s  # the chord's first key (not a melody note)
            chord = self.chords.note_on(time_s, pitch)
            if self._resumed_s is not None and self.chords.read is not None:
                # the player is back with a chord (new, or the one the band kept)
                if time_s - self._resumed_s <= CLUSTER_S:
                    rest_beats = self._rest_s / self.beat.period_s
                    if rest_beats >= PAUSE_BARS * self.bar_beats:
                        self._restart_bar(self._resumed_s)
                    else:
                        # the chord's own time: a melody note struck before it is early
                        self._resync_beat(self._resumed_chord_s or time_s, rest_beats)
                self._resumed_s = None
            since_s = time_s - self._cluster_start
            if since_s > CLUSTER_S or (self._cluster_keys == 1 and since_s > CHORD_SPREAD_S):
                # a new onset; after a lone key, one struck more than CHORD_SPREAD_S later is
                # not struck with it (see the module docs): the lone key was a note of its own
                self._cluster_start = time_s
                self._cluster_keys = 1
                if self.started:
                    self._onset(time_s, 1.0)
            else:  # another key of a chord: the onset weighs more
                self._cluster_keys += 1
                if self.started:
                    self._onset(self._cluster_start, CHORD_WEIGHT)
            self.keys.note_on(pitch, velocity)
            self._velocity_sum += velocity
            self._velocity_count += 1
            if chord is not None:
                if self.chord_log is not None:
                    self.chord_log.append((time_s, chord))
                if self.started:
                    self._change_at = time_s  # decided once the batch is read
                else:
                    self._start(self._cluster_start)
            elif not self.started and not self.lanes:  # no band to wait for: the first key
                self._start(self._cluster_start)
        elif kind == NOTE_OFF:
            chord = self.chords.note_off(pitch, time_s)
            if chord is not None and self.started:  # the old chord's keys lifted (legato)
                strike_s = self.chords.strike_s  # the change is the new keys', made then
                if self.chord_log is not None:
                    self.chord_log.append((strike_s, chord))
                self._change_at = strike_s
        else:
            self._pedal = velocity >= PEDAL_DOWN_FROM  # the player's own sound; the band ignores it
        for voice in self.voices:
            voice.hear(event, self)
        self._last_input_s = time_s

    def _onset(self, time_s: float, weight: float) -> None:
        relocks = self.beat.relocks
        self.beat.onset(time_s, weight)
        if self.beat.relocks != relocks:
            self._relocked = True  # the band catches up once the batch is read

    def _catch_up(self, now_s: float) -> None:
        """The beat re-locked to a sudden new tempo and may have moved on at once: what the
        lanes hold for the beats it passed is dropped, not played late all together."""
        beat = self.beat.beat_at(now_s)
        while self.rendered_bars * self.bar_beats <= beat:
            self._plan_next_bar()
        for lane in self.lanes:
            lane.skip_until(beat, now_s, self.sink)

    def _start(self, time_s: float) -> None:
        self.started = True
        self.beat.start(time_s)

    def _restart_bar(self, time_s: float) -> None:
        """After a pause the player's chord at `time_s` starts a bar (see the module docs): the
        beat moves to the nearest bar line, and every part plays from that bar line on, as
        planned (the chord change, if the chord is new, is made after)."""
        if not isinstance(self.beat, BeatTracker):
            return  # a click keeps its time
        bar = round(self.beat.beat_at(time_s) / self.bar_beats)
        start = bar * self.bar_beats
        self.beat.restart_at(time_s, start)
        for index, lane in enumerate(self.lanes):
            notes = []
            for b in range(bar, self.rendered_bars):
                rendered = self.band.render_part(index, b, self.spans[b], self.key, self.level)
                offset = (b - bar) * self.bar_beats
                notes.extend((on + offset, off + offset, p, v) for on, off, p, v in rendered)
            lane.replace_from(start, notes, start)  # what was planned before it never sounds

    def _resync_beat(self, time_s: float, rest_beats: float) -> None:
        """After a rest of `rest_beats` the player's chord at `time_s`, when near a beat, is on
        it (see the module docs): the beat moves there, and what the band had planned for the
        beats it moves past is dropped; the bars stay as planned."""
        if not isinstance(self.beat, BeatTracker):
            return  # a click keeps its time
        heard = self.beat.beat_at(time_s)
        beat = round(heard)
        near = min(RESYNC_DRIFT_PER_BEAT * rest_beats, RESYNC_MAX_BEATS)
        on_beat = self.beat.chords_on_beat_share(time_s)  # before the chord itself
        if on_beat is not None and on_beat >= RESYNC_ON_BEAT:
            near = 0.5  # a left hand that kept time: the nearest beat
        if abs(heard - beat) > near or beat < 0:
            return  # a pushed chord, on an off-beat: the tracker places it
        self.beat.restart_at(time_s, beat)
        while self.rendered_bars * self.bar_beats <= beat:
            self._plan_next_bar()
        for lane in self.lanes:
            lane.skip_until(beat, time_s, self.sink)  # the beat's own notes still sound

    def _change_chord(self, time_s: float, now_s: float) -> None:
        """Re-plan the pitched parts from the change the player made at `time_s` (before
        `now_s` when the old chord's keys were lifted late, see `live.chords`)."""
        grid = CHORD_GRID_BEATS
        change = round(self.beat.beat_at(time_s) / grid) * grid
        bar = int(change // self.bar_beats)
        if bar >= self.rendered_bars:
            return  # the bar is not planned yet: it will be planned with this chord
        if bar not in self.spans and time_s < now_s:
            # a change made before its bar's plan was let go (a bar of a 32nd, passed in the
            # moment since the strike): the change is made now
            self._change_chord(now_s, now_s)
            return
        tick = round((change - bar * self.bar_beats) * TICKS_PER_BEAT)
        chord = self.chords.chord
        old = self.spans[bar]
        kept = tuple(s for s in old if s[0] < tick)
        spans = kept if kept and kept[-1][1] == chord else (*kept, (tick, chord))
        if spans == old:
            return
        self.spans[bar] = spans
        # what was released is not recalled: the new notes start after it, as they are released
        horizon = self.beat.beat_at(now_s + self.lookahead_s)
        cut = max(change, horizon)
        for index, lane in enumerate(self.lanes):
            if not self.band.is_pitched[index]:
                continue
            notes = []
            for b in range(bar, self.rendered_bars):
                if b > bar:
                    self.spans[b] = ((0, chord),)
                rendered = self.band.render_part(index, b, self.spans[b], self.key, self.level)
                start = (b - bar) * self.bar_beats
                notes.extend((on + start, off + start, p, v) for on, off, p, v in rendered)
            lane.replace_from(cut, notes, bar * self.bar_beats)

    # --- the clock path

    def advance(self, now_s: float) -> None:
        """Release what is due before `now_s + lookahead_s`; plan bars the band reaches."""
        if not self.started or self.stopped:
            return
        try:
            horizon = self.beat.beat_at(now_s + self.lookahead_s)
            while self.rendered_bars * self.bar_beats <= horizon:
                self._plan_next_bar()
            time_at, sink = self.beat.time_at, self.sink
            for lane in self.lanes:
                lane.emit_until(horizon, time_at, now_s, sink)
            for voice in self.voices:
                voice.advance(now_s, self)
        except BaseException:
            self.stop(now_s)
            raise

    def _plan_next_bar(self) -> None:
        bar = self.rendered_bars
        if bar:
            self.keys.bar_line(self.bar_beats)
            self.chords.prefer_flats = self.key is not None and self.key.prefers_flats
            if self._velocity_count:
                self.level = self.band.level(self._velocity_sum / self._velocity_count)
            self._velocity_sum, self._velocity_count = 0.0, 0
        spans = ((0, self.chords.chord),)
        self.spans[bar] = spans
        self.spans.pop(bar - 4, None)
        for index, lane in enumerate(self.lanes):
            lane.add(
                bar * self.bar_beats, self.band.render_part(index, bar, spans, self.key, self.level)
            )
        self.rendered_bars += 1

    def settle(self) -> None:
        """Wait for the voices' work off the event path (a model writing an answer) to finish.

        For simulations on a virtual clock, where no real time passes while a worker thinks:
        calling it after every step makes such a simulation treat that work as instant, and the
        same every run. Live sessions never call it.
        """
        for voice in self.voices:
            settle = getattr(voice, "settle", None)
            if settle is not None:
                settle()

    def stop(self, now_s: float) -> None:
        """All notes off, now; later events are ignored."""
        if self.stopped:
            return
        self.stopped = True
        for lane in self.lanes:
            lane.release_all(now_s, self.sink)
        for voice in self.voices:
            voice.stop(now_s, self.sink)

    def report(self) -> dict:
        """Counts and decision latency, as the latency report writes them."""
        return {
            **self.latency.to_dict(),
            "events_received": self.received,
            "events_ignored": self.ignored,
            "bars_played": self.rendered_bars,
            "bar_renders": self.band.renders,
            "tempo_bpm": round(self.tempo_bpm, 2),
            "chord": str(self.chord) if self.chord else None,
            "key": str(self.key) if self.key else None,
        }


__all__ = ["NOTE_OFF", "NOTE_ON", "Engine", "LatencyStats", "gc_paused"]
