"""A simulated player: performances made from chord charts, with their ground truth.

The benchmark and the tests need a player whose intentions are known: which chord they meant
and when, where their beats really fell, when they changed tempo. `perform_chart` plays a chart
as an arranger-keyboard player would:

- the left hand strikes each chord of the chart where the chart puts it and holds it to just
  before the next: its chord tones in root position, as high as they fit below the split point
  (root position, because C6 and Am7 are the same keys and only the bass tells them apart),
  or, with `fingering="single"`, the single-finger fingering of
  `live.chords` (the chord reduced to major, minor, 7th or minor 7th);
- the right hand (`melody`) plays a line above middle C: on each beat a quarter, two eighths or
  a rest, chord tones on the beat and chord tones or tensions between;
- the tempo drifts slowly (a sine over 16 bars, half of `drift`) and steps every `step_bars`
  bars (up and down by half of `drift`), never further than `drift` from `tempo_bpm`; `jumps`
  adds sudden changes at given bars (a new section taken 20% faster);
- `swing` places the melody's eighth note between two beats (0.5 straight, 2/3 swung);
- every onset is moved by uniform noise of +-`noise_ms`; a chord's keys are struck within 6 ms
  of each other, in random order.

`write_performance` writes it as a MIDI file (notes and the sustain pedal), as a keyboard's
recorder would.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bandmate.live.chords import DEFAULT_SPLIT_NOTE
from bandmate.live.events import NOTE_OFF, NOTE_ON, SUSTAIN, InputEvent
from bandmate.theory.chart import Chart, parse_chart
from bandmate.theory.chords import ChordSymbol

SINGLE_FINGER_ROOTS = (43, 54)  # G2..F#3: the single-finger root key, room below for the others
MELODY_RANGE = (62, 81)
_BLACK = (1, 3, 6, 8, 10)


@dataclass(frozen=True)
class SimulatedPerformance:
    """A performance and what the player meant.

    events: the input events, sorted by time.
    beat_times: (beats + 1,) the true time of every quarter-note beat, seconds.
    changes: (beat, chord, time_s) of each chord the left hand plays: the chart's beat, the chord
        meant (as fingered: reduced for single finger), and the time it was struck.
    tempo_steps: the beats at which the tempo steps.
    meter: the chart's time signature.
    tempo_jumps: the beats at which the tempo jumps (`jumps`).
    """

    events: tuple[InputEvent, ...]
    beat_times: np.ndarray
    changes: tuple[tuple[float, ChordSymbol, float], ...]
    tempo_steps: tuple[int, ...]
    meter: tuple[int, int]
    tempo_jumps: tuple[int, ...] = ()

    def tempo_at_beat(self, beat: int) -> float:
        """The player's true tempo over beat `beat`, BPM."""
        return 60.0 / (self.beat_times[beat + 1] - self.beat_times[beat])

    def time_of(self, beat: float) -> float:
        i = min(int(beat), len(self.beat_times) - 2)
        return float(
            self.beat_times[i] + (beat - i) * (self.beat_times[i + 1] - self.beat_times[i])
        )

    def chord_at(self, beat: float) -> ChordSymbol | None:
        """The chord the player meant at `beat`."""
        current = None
        for at, chord, _ in self.changes:
            if at > beat:
                break
            current = chord
        return current


def reduce_to_single_finger(chord: ChordSymbol) -> ChordSymbol:
    """The chord a single-finger player plays for `chord`: major, minor, 7th or minor 7th."""
    minor = 3 in chord.intervals() and 4 not in chord.intervals()
    seventh = 10 in chord.intervals()
    quality = ("m7" if seventh else "m") if minor else ("7" if seventh else "maj")
    return ChordSymbol(chord.root, chord.root_name, quality)


def single_finger_keys(chord: ChordSymbol) -> list[int]:
    """Keys for the single-finger fingering of a major, minor, 7th or minor 7th chord."""
    low, high = SINGLE_FINGER_ROOTS
    root = next(p for p in range(low, high + 1) if p % 12 == chord.root)
    keys = [root]
    black = next(p for p in range(root - 1, 0, -1) if p % 12 in _BLACK)
    white = next(p for p in range(root - 1, 0, -1) if p % 12 not in _BLACK)
    if chord.quality in ("m", "m7"):
        keys.append(black)
    if chord.quality in ("7", "m7"):
        keys.append(white)
    return keys


def left_hand_keys(chord: ChordSymbol, split_note: int = DEFAULT_SPLIT_NOTE) -> list[int]:
    """The chord in root position, as high as it fits below the split point."""
    top = max(i for i in chord.intervals() if i < 12)
    root = split_note - 1 - top
    root -= (root - chord.root) % 12
    return [root + i for i in chord.intervals() if i < 12]


def _tempo_curve(beats: int, tempo_bpm: float, drift: float, step_beats: int) -> tuple:
    half = drift / 2
    steps = (1.0, 1 + half, 1.0, 1 - half)
    tempos = np.empty(beats)
    step_at = []
    for b in range(beats):
        k = b // step_beats
        if b and b % step_beats == 0 and steps[k % 4] != steps[(k - 1) % 4]:
            step_at.append(b)
        slow = 1 + half * math.sin(2 * math.pi * b / (4 * step_beats))
        tempos[b] = tempo_bpm * slow * steps[k % 4]
    return tempos, tuple(step_at)


def perform_chart(
    chart: Chart | str,
    *,
    tempo_bpm: float = 100.0,
    choruses: int = 1,
    drift: float = 0.08,
    noise_ms: float = 20.0,
    step_bars: int = 16,
    fingering: str = "full",
    melody: bool = True,
    pedal: bool = False,
    phrase_bars: int = 0,
    jumps: Sequence[tuple[int, float]] = (),
    swing: float = 0.5,
    seed: int = 0,
) -> SimulatedPerformance:
    """Play `chart` `choruses` times (see the module docs).

    phrase_bars: 0 plays the melody throughout; n plays it in n-bar phrases with n bars of rest
    between them (a player leaving room for an answer).
    jumps: (bar from 0, factor): from that bar on, the tempo is `factor` times what it was.
    swing: where the melody's eighth note between beats falls, in beats after the first.
    """
    chart = parse_chart(chart) if isinstance(chart, str) else chart
    rng = np.random.default_rng(seed)
    num, den = chart.meter
    quarters_per_bar = num * 4 / den
    quarters_per_unit = 4 / den
    bars = list(chart.bars) * choruses
    total_beats = math.ceil(len(bars) * quarters_per_bar) + 2
    step_beats = max(1, round(step_bars * quarters_per_bar))
    tempos, tempo_steps = _tempo_curve(total_beats, tempo_bpm, drift, step_beats)
    jump_beats = []
    for bar, factor in jumps:
        beat = round(bar * quarters_per_bar)
        tempos[beat:] *= factor
        jump_beats.append(beat)
    beat_times = np.concatenate([[0.0], np.cumsum(60.0 / tempos)])
    noise = noise_ms / 1000

    def jitter() -> float:
        return float(rng.uniform(-noise, noise))

    # the chords as the left hand plays them: (beat, chord), repeated chords merged
    planned: list[tuple[float, ChordSymbol]] = []
    for i, bar in enumerate(bars):
        for start, _end, chord in bar.spans():
            beat = i * quarters_per_bar + float(start) * quarters_per_unit
            if fingering == "single" and not chord.is_no_chord:
                chord = reduce_to_single_finger(chord)
            if not planned or planned[-1][1] != chord:
                planned.append((beat, chord))
    end_beat = len(bars) * quarters_per_bar
    meant = tuple((beat, chord, 0.0) for beat, chord in planned)
    perf = SimulatedPerformance((), beat_times, meant, tempo_steps, chart.meter, tuple(jump_beats))

    events: list[InputEvent] = []
    changes = []
    strikes = [perf.time_of(beat) + jitter() for beat, _ in planned]
    for k, (beat, chord) in enumerate(planned):
        struck = max(strikes[k], 0.0)
        until = strikes[k + 1] if k + 1 < len(planned) else perf.time_of(end_beat)
        release = until - float(rng.uniform(0.02, 0.06))
        if chord.is_no_chord:
            continue
        keys = single_finger_keys(chord) if fingering == "single" else left_hand_keys(chord)
        velocity = int(rng.integers(60, 90))
        for key in rng.permutation(keys):
            on = struck + float(rng.uniform(0, 0.006))
            events.append(InputEvent(on, NOTE_ON, int(key), velocity))
            events.append(InputEvent(max(release, on + 0.05), NOTE_OFF, int(key), 0))
        if pedal:
            events.append(InputEvent(struck + 0.08, SUSTAIN, 0, 127))
            events.append(InputEvent(max(release - 0.02, struck + 0.09), SUSTAIN, 0, 0))
        changes.append((beat, chord, struck))

    if melody:
        rest = _phrase_rests(phrase_bars, quarters_per_bar)
        events += _melody(perf, planned, end_beat, rng, jitter, rest, swing)
    events.sort(key=lambda e: (e.time_s, e.kind != NOTE_OFF))
    return SimulatedPerformance(
        tuple(events), beat_times, tuple(changes), tempo_steps, chart.meter, tuple(jump_beats)
    )


def _phrase_rests(phrase_bars: int, quarters_per_bar: float):
    """A test of a beat: True where an n-bar phrase rests (never when `phrase_bars` is 0)."""
    if phrase_bars <= 0:
        return lambda beat: False
    return lambda beat: int(beat // (phrase_bars * quarters_per_bar)) % 2 == 1


def _melody(perf, planned, end_beat: float, rng, jitter, rest, swing) -> list[InputEvent]:
    onsets: list[tuple[float, int]] = []  # (beat, pitch)
    pitch = 69
    low, high = MELODY_RANGE
    for beat in range(int(end_beat)):
        roll = rng.random()
        if rest(beat):
            continue
        positions = [] if roll < 0.1 else [beat] if roll < 0.45 else [beat, beat + swing]
        for x in positions:
            chord = perf.chord_at(x)
            if chord is None or chord.is_no_chord:
                continue
            pcs = chord.chord_tones() if x == int(x) else chord.chord_tones() + chord.tensions()
            options = [p for p in range(low, high + 1) if p % 12 in pcs and abs(p - pitch) <= 5]
            options = options or [p for p in range(low, high + 1) if p % 12 in pcs]
            pitch = int(rng.choice(options))
            onsets.append((x, pitch))
    events = []
    times = [perf.time_of(x) + jitter() for x, _ in onsets]
    for k, (x, pitch) in enumerate(onsets):
        on = max(times[k], 0.0)
        # a note is held to the next, unless a rest between phrases comes first
        legato = k + 1 < len(onsets) and not rest(x + 1)
        off = times[k + 1] if legato else perf.time_of(min(x + 1, end_beat))
        off = max(off - float(rng.uniform(0.02, 0.05)), on + 0.04)
        velocity = int(rng.integers(64, 100))
        events.append(InputEvent(on, NOTE_ON, pitch, velocity))
        events.append(InputEvent(off, NOTE_OFF, pitch, 0))
    return events


def write_performance(
    path: str | Path,
    events,
    *,
    tempo_bpm: float = 120.0,
    ticks_per_beat: int = 480,
    meter: tuple[int, int] | None = None,
) -> None:
    """Write input events as a one-track MIDI file at a constant `tempo_bpm`, in `meter` (a
    time signature event; none by default, which MIDI reads as 4/4)."""
    import mido

    from bandmate.io.files import atomic_path

    midi = mido.MidiFile(ticks_per_beat=ticks_per_beat)
    track = mido.MidiTrack()
    midi.tracks.append(track)
    track.append(mido.MetaMessage("set_tempo", tempo=round(60e6 / tempo_bpm), time=0))
    if meter is not None:
        track.append(
            mido.MetaMessage("time_signature", numerator=meter[0], denominator=meter[1], time=0)
        )
    ticks_per_s = ticks_per_beat * tempo_bpm / 60
    last = 0
    for time_s, kind, pitch, velocity in sorted(events):
        tick = max(last, round(time_s * ticks_per_s))
        delta, last = tick - last, tick
        if kind == NOTE_ON:
            track.append(mido.Message("note_on", note=pitch, velocity=velocity, time=delta))
        elif kind == NOTE_OFF:
            track.append(mido.Message("note_off", note=pitch, velocity=64, time=delta))
        elif kind == SUSTAIN:
            track.append(mido.Message("control_change", control=64, value=velocity, time=delta))
    with atomic_path(path) as tmp:
        midi.save(tmp)
