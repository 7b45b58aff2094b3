"""Running the engine: live on a decision thread, or a recorded performance simulated.

**Live** (`LiveSession`): one decision thread takes whatever the transport has received, hands
it to the engine in one batch (so a flood of input is decided in batches and never queues up
behind one decision per event), then advances the engine to now; it wakes at least every
`tick_s`. Events go out through a `TimedDispatcher` when the transport cannot schedule them
itself. `stop` ends the thread, sends every note off at once and the transport's panic (all
notes off on every channel); an error in the engine does the same before it is raised again.

**Simulated** (`simulate`): the performance's events are played into the engine at their own
times. On the virtual clock (the default) nothing sleeps: between two events the clock steps
by `tick_s`, as the decision thread would wake, so the band's events are released and timed as
they would be live, and a 10-minute performance takes a few seconds. After each step the
engine `settle`s: work its voices do off the event path (the melody model writing an answer)
counts as instant, so a simulation gives the same session every run. With `realtime` the
performance is fed by a thread at its real times into a `LiveSession` on the in-process
transport, as a keyboard would send it; the session then also measures output jitter (when each
event was delivered against its timestamp).

The session is written (`session_score`) in the performance's time: the player's notes on a
track named "Player" (a note sounds until its key is released or, while the pedal is down,
until the pedal is lifted), each part of the band on a track named as in the style, and the
chords the engine heard as chord symbols.
"""

from __future__ import annotations

import contextlib
import io as _io
import signal
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bandmate.errors import EmptyScoreError, InputFileError
from bandmate.live.chords import CLUSTER_S
from bandmate.live.engine import Engine, LatencyStats, gc_paused
from bandmate.live.events import (
    NOTE_OFF,
    NOTE_ON,
    PEDAL_DOWN_FROM,
    SUSTAIN,
    SUSTAIN_CONTROLLER,
    InputEvent,
    OutputEvent,
    decode_midi,
)
from bandmate.live.transport import (
    Clock,
    InProcessTransport,
    TimedDispatcher,
    Transport,
    VirtualClock,
    session_clock,
)
from bandmate.score.model import ChordEvent, Note, Role, Score, TempoChange, TimeSignature, Track

TICK_S = 0.002  # how often the decision thread wakes with nothing to do
TAIL_BEATS = 1.0  # after the player's last note the band plays this long, then stops


class LiveSession:
    """The engine on its own decision thread, talking to `transport` (see the module docs)."""

    def __init__(
        self,
        engine: Engine,
        transport: Transport,
        clock: Clock,
        tick_s: float = TICK_S,
        *,
        record: bool = False,
    ):
        self.engine = engine
        self.transport = transport
        self.clock = clock
        self.tick_s = tick_s
        self.dispatcher = None if transport.schedules_ahead else TimedDispatcher(transport, clock)
        sink = transport.send if self.dispatcher is None else self.dispatcher.put
        # a recording keeps what the player played and what the band sent, for the session file
        self.inputs: list[InputEvent] | None = [] if record else None
        self.outputs: list[tuple[OutputEvent, float]] | None = [] if record else None
        if record:
            outputs = self.outputs

            def recorded(event: OutputEvent) -> None:
                outputs.append((event, event.time_s))
                sink(event)

            engine.sink = recorded
            engine.chord_log = []
        else:
            engine.sink = sink
        self.started_s: float | None = None
        self.stopped_s: float | None = None
        self.error: BaseException | None = None
        self.max_batch = 0
        self._running = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bandmate-decisions", daemon=True)

    def start(self) -> None:
        self.transport.open_parts(self.engine.parts)
        self.started_s = self.clock()
        self._running.set()
        self._thread.start()

    def _run(self) -> None:
        engine, transport, clock = self.engine, self.transport, self.clock
        try:
            while self._running.is_set():
                items = transport.receive(self.tick_s)
                if items:
                    self.max_batch = max(self.max_batch, len(items))
                    now = clock()
                    batch = [
                        (item if isinstance(item, InputEvent) else decode_midi(item, now), t)
                        for item, t in items
                    ]
                    if self.inputs is not None:
                        self.inputs.extend(e for e, _ in batch if isinstance(e, InputEvent))
                    engine.handle_batch(batch)
                engine.advance(clock())
        except BaseException as e:  # the engine stopped itself (all notes off); report it
            self.error = e
            self._running.clear()

    def stop(self) -> None:
        """Stop deciding; every note off now; the transport's panic. Raises an engine error."""
        self._running.clear()
        if self._thread.is_alive():
            self._thread.join()
        self.stopped_s = self.clock()
        self.engine.stop(self.stopped_s)
        if self.dispatcher is not None:
            self.dispatcher.close()
        self.transport.all_notes_off(sorted({part.channel for part in self.engine.parts}))
        if self.error is not None:
            raise self.error

    def result(self) -> SessionResult:
        """What a recording session played (`record=True`), once it has stopped."""
        if self.outputs is None or self.stopped_s is None:
            raise RuntimeError("only a stopped session that was recording has a result")
        return SessionResult(
            self.engine,
            self.outputs,
            self.engine.chord_log or [],
            self.stopped_s,
            realtime=True,
        )


def play_live(
    engine: Engine,
    transport: Transport,
    *,
    clock: Clock | None = None,
    seconds: float | None = None,
    record: bool = False,
    on_start: Callable[[], None] | None = None,
) -> LiveSession:
    """Run a live session until `seconds` pass, Ctrl-C or SIGTERM, then stop it (all notes off)
    and close the transport. Returns the stopped session (its `result()` when recording).

    `clock` must be the one the transport stamps its input with (default: a new session clock,
    for transports that stamp with `perf_counter` alone). SIGTERM (a service manager, `kill`)
    stops it as Ctrl-C does: a process started in the background inherits SIGINT ignored, and
    must still be able to end cleanly. Whatever interrupts it, the session is stopped before
    the transport is closed, so no note is left sounding.
    """
    clock = clock or session_clock()
    session = LiveSession(engine, transport, clock, record=record)
    stop = threading.Event()
    with _stopping_on_sigterm(stop):
        try:
            with gc_paused():
                session.start()
                if on_start is not None:
                    on_start()
                while (seconds is None or clock() < seconds) and not stop.is_set():
                    left = 0.1 if seconds is None else max(0.0, seconds - clock())
                    stop.wait(min(0.1, left))
                    if session.error is not None:
                        break
        except KeyboardInterrupt:
            pass
        finally:
            try:
                session.stop()
            finally:
                transport.close()
    return session


@contextlib.contextmanager
def _stopping_on_sigterm(stop: threading.Event):
    """Inside, SIGTERM sets `stop` (where signals can be handled: the main thread)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@dataclass
class SessionResult:
    """What a simulated session produced.

    outputs: every event the band sent, as (event, delivered_s on the session clock).
    chords: (time_s, chord) each time the engine's chord changed.
    jitter: delivery time minus timestamp of each output event (real time only), in a histogram.
    """

    engine: Engine
    outputs: list[tuple[OutputEvent, float]]
    chords: list[tuple[float, object]]
    end_s: float
    realtime: bool
    jitter: LatencyStats | None = None
    extra: dict = field(default_factory=dict)

    def report(self) -> dict:
        out = {
            **self.engine.report(),
            "output_events": len(self.outputs),
            "realtime": self.realtime,
        }
        if self.jitter is not None:
            out["jitter"] = self.jitter.to_dict()
        return out | self.extra


def simulate(
    events: Sequence[InputEvent],
    engine: Engine,
    *,
    realtime: bool = False,
    observe: Callable[[InputEvent, Engine], None] | None = None,
    tick_s: float = TICK_S,
) -> SessionResult:
    """Play `events` (sorted by time) into `engine` and stop the band after the last one."""
    if not events:
        raise EmptyScoreError("The performance has no notes; there is nothing to play along to.")
    end_s = events[-1].time_s + TAIL_BEATS * 60 / engine.tempo_bpm
    if realtime:
        return _simulate_realtime(events, engine, end_s, observe, tick_s)
    clock = VirtualClock(min(0.0, events[0].time_s))
    transport = InProcessTransport(clock)
    engine.sink = transport.send
    chords = engine.chord_log = []
    with gc_paused():
        for event in events:
            _step_to(engine, clock, event.time_s, tick_s)
            engine.handle(event)
            engine.settle()
            if observe is not None:
                observe(event, engine)
        _step_to(engine, clock, end_s, tick_s)
        engine.stop(end_s)
    return SessionResult(engine, transport.sent, chords, end_s, realtime=False)


def _step_to(engine: Engine, clock: VirtualClock, time_s: float, tick_s: float) -> None:
    t = clock.now
    while t + tick_s < time_s:
        t += tick_s
        clock.set(t)
        engine.advance(t)
        engine.settle()
    clock.set(time_s)


def _simulate_realtime(events, engine: Engine, end_s: float, observe, tick_s) -> SessionResult:
    clock = session_clock()
    jitter = LatencyStats()  # |delivered - timestamp| of every band event
    outputs: list[tuple[OutputEvent, float]] = []

    def record(event: OutputEvent, delivered: float) -> None:
        outputs.append((event, delivered))
        jitter.add(abs(delivered - event.time_s))

    offset = clock() + 0.05 - min(0.0, events[0].time_s)  # a moment to settle first

    def now() -> float:
        return clock() - offset

    transport = InProcessTransport(now, on_output=record)
    chords = engine.chord_log = []
    with gc_paused():
        session = LiveSession(engine, transport, now, tick_s)
        session.start()
        for event in events:
            sleep_until(now, event.time_s)
            transport.put(event._replace(time_s=now()))  # stamped on arrival, as a port does
            if observe is not None:
                observe(event, engine)
        sleep_until(now, end_s)
        session.stop()
    return SessionResult(engine, outputs, chords, end_s, realtime=True, jitter=jitter)


def sleep_until(clock: Clock, time_s: float, spin_s: float = 0.002) -> None:
    """Sleep, then spin the last `spin_s`, until `clock()` reads `time_s`."""
    left = time_s - clock()
    if left > spin_s:
        time.sleep(left - spin_s)
    while clock() < time_s:
        time.sleep(0)


# --- files --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Performance:
    """A recorded performance: its input events in seconds, and the file's clock to write in."""

    events: tuple[InputEvent, ...]
    ticks_per_beat: int
    tempos: tuple[TempoChange, ...]
    time_signatures: tuple[TimeSignature, ...]
    ignored: int  # messages that were neither notes nor the sustain pedal

    @property
    def tempo_bpm(self) -> float:
        return self.tempos[0].tempo_bpm


def read_performance(path: str | Path) -> Performance:
    """The note and sustain-pedal events of a MIDI file, in seconds, all tracks and channels but
    the drums' (see `decode_midi`: a drum track is not the player's keys)."""
    import mido

    from bandmate.io.midi import midi_from_bytes

    path = Path(path)
    if path.exists() and not path.is_file():
        raise InputFileError(
            f"Performance {str(path)!r} is not a file (a folder or a device); give a MIDI file."
        )
    if not path.is_file():
        raise InputFileError(f"Performance {str(path)!r} does not exist; check the path.")
    data = path.read_bytes()
    score = midi_from_bytes(data, str(path))  # a bad file is one InputFileError, as everywhere
    midi = mido.MidiFile(file=_io.BytesIO(data), clip=True)
    events, ignored, now = [], 0, 0.0
    for msg in midi:  # all tracks merged, delta times in seconds by the file's tempo map
        now += msg.time
        if msg.is_meta:
            continue
        if msg.type in ("note_on", "note_off") or (
            msg.type == "control_change" and msg.control == SUSTAIN_CONTROLLER
        ):
            event = decode_midi(msg.bytes(), now)
            if event is not None:
                events.append(event)
                continue
        ignored += 1
    if not any(e.kind == NOTE_ON for e in events):
        raise EmptyScoreError(f"{str(path)!r} has no notes; give a MIDI file of a performance.")
    return Performance(
        tuple(events), score.ticks_per_beat, score.tempos, score.time_signatures, ignored
    )


def player_notes(events: Sequence[InputEvent]) -> list[tuple[float, float, int, int]]:
    """(onset_s, end_s, pitch, velocity) of the player's notes, the pedal holding released keys."""
    notes, sounding = [], defaultdict(list)  # pitch -> [(onset, velocity)]
    pedal, held_by_pedal = False, set()
    last = events[-1].time_s if events else 0.0

    def end(pitch: int, time_s: float) -> None:
        for onset, velocity in sounding.pop(pitch, ()):
            notes.append((onset, max(time_s, onset + 1e-3), pitch, velocity))

    for time_s, kind, pitch, velocity in events:
        if kind == NOTE_ON:
            end(pitch, time_s)  # a key struck again ends its ringing note
            held_by_pedal.discard(pitch)
            sounding[pitch].append((time_s, velocity))
        elif kind == NOTE_OFF:
            if pedal:
                held_by_pedal.add(pitch)
            else:
                end(pitch, time_s)
        elif kind == SUSTAIN:
            pedal = velocity >= PEDAL_DOWN_FROM
            if not pedal:
                for p in held_by_pedal:
                    end(p, time_s)
                held_by_pedal.clear()
    for pitch in list(sounding):
        end(pitch, last)
    return sorted(notes)


def band_notes(outputs) -> dict[str, list[tuple[float, float, int, int]]]:
    """Each part's (onset_s, end_s, pitch, velocity) from the band's on and off events."""
    parts: dict[str, list] = defaultdict(list)
    sounding: dict[tuple[str, int], tuple[float, int]] = {}
    last = 0.0
    # in time, and as sent at one time: a lane sends a re-struck note's off before its on, and a
    # note cut as it starts (a chord changed again in the same moment) its on before its off
    for event, _delivered in sorted(outputs, key=lambda o: o[0].time_s):
        key = (event.part, event.pitch)
        last = max(last, event.time_s)
        if key in sounding:
            onset, velocity = sounding.pop(key)
            parts[event.part].append(
                (onset, max(event.time_s, onset + 1e-3), event.pitch, velocity)
            )
        if event.velocity:
            sounding[key] = (event.time_s, event.velocity)
    for (part, pitch), (onset, velocity) in sounding.items():
        parts[part].append((onset, max(last, onset + 1e-3), pitch, velocity))
    return parts


def session_score(
    result: SessionResult,
    events: Sequence[InputEvent],
    *,
    ticks_per_beat: int = 480,
    tempos: Sequence[TempoChange] | None = None,
    time_signatures: Sequence[TimeSignature] | None = None,
) -> Score:
    """The session as a Score in the performance's time (see the module docs)."""
    from bandmate.score.timing import TempoMap

    tempos = tuple(tempos or (TempoChange.from_bpm(0, 120.0),))
    tempo_map = TempoMap(tempos, ticks_per_beat)

    def ticks(seconds: float) -> int:
        return max(0, round(tempo_map.ticks_at(max(0.0, seconds))))

    def to_notes(notes) -> tuple[Note, ...]:
        out = []
        for onset, end, pitch, velocity in notes:
            start = ticks(onset)
            out.append(Note(start, max(1, ticks(end) - start), pitch, velocity))
        return tuple(out)

    style = result.engine.style
    played = band_notes(result.outputs)
    tracks = [Track("Player", program=0, role=Role.OTHER, notes=to_notes(player_notes(events)))]
    for part in result.engine.parts:
        tracks.append(
            Track(
                part.name,
                program=part.program,
                is_drum=part.is_drum,
                role=part.role,
                notes=to_notes(played.get(part.name, ())),
            )
        )
    # a chord's keys arrive one by one (Am, then Am7 a millisecond later): write what they made
    heard = [c for c in result.chords if c[1] is not None]
    chords = tuple(
        ChordEvent(ticks(time_s), chord)
        for i, (time_s, chord) in enumerate(heard)
        if i + 1 == len(heard) or heard[i + 1][0] - time_s > CLUSTER_S
    )
    return Score(
        tracks=tuple(tracks),
        ticks_per_beat=ticks_per_beat,
        tempos=tempos,
        time_signatures=tuple(time_signatures or (TimeSignature(0, *result.engine.meter),)),
        chords=chords,
        title=f"bandmate jam ({style.title})",
    )
