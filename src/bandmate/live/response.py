"""The answer voice: call and response, as in Magenta's AI Duet.

The player plays a phrase; when they stop, the melody model continues it and the answer plays
on the beat grid; when they play again, the answer stops at once: the player always has the
floor.

    hear: melody key ─► the phrase (onset and end in beats, pitch, velocity)
    advance: silence ≥ GAP_BEATS after ≥ MIN_NOTES notes ─► request ─► worker process
             (the melody model: `continue_piece` of the phrase for ANSWER_BARS bars)
    advance: answer ready ─► Lane, from the next beat ─► sink (released a little ahead)

**The phrase.** Every melody key (`engine.is_melody`) is recorded in beats of the engine's beat
tracker (`engine.beat.beat_at`), so the answer is written on the grid the band keeps, and the
chords the engine heard during it are kept with it. The phrase ends when no melody key is down
and none has been for `GAP_BEATS` (one beat); a phrase of fewer than `MIN_NOTES` (3) notes is
not answered (a stray key is not a call).

**The model, in another process.** The request is a small lead sheet: the phrase's notes in
ticks (480 a beat) from the bar line before it, the session's meter, the heard chords (else the
model's labelling of the tune, as in `bandmate continue`). `continue_piece` continues it for
`ANSWER_BARS` (2) bars, in the style the model finds likeliest, in the phrase's own range, and
the notes it adds are the answer. It runs in a worker *process* (`AnswerWorker`: a child
Python started with the first Responder and shared by later ones, the model loaded there once
when it starts, and a first answer written to warm it), not a thread: measured on the 2-core
reference machine, a model answer on a thread beside a busy decision thread took 0.3-6 s instead
of 20 ms (each torch call gives up the GIL and waits up to the 5 ms switch interval to get it
back), and the decision thread's events waited up to 25 ms for the GIL. In a process the
answer takes its 10-40 ms on the other core and the event path never waits on it. The worker
runs at a lower priority (`nice` 5) and on one torch thread, so the decision thread keeps its
core.

**Playing the answer.** A finished answer is picked up by `advance` and moved by whole beats so
that its first note falls on or after the first beat the look-ahead has not reached (so a note
on the beat stays on the beat, an off-beat pickup stays off the beat); it goes into a `Lane`,
which releases it `engine.lookahead_s` ahead and times each note with the beat tracker's
mapping at release (a tempo change reaches it). It is moved by octaves to the phrase's range
(the model was asked for that range, this keeps a stray octave in it) and played at the
phrase's mean velocity.

**The floor.** A melody key while the answer plays cuts it: every sounding note ends then and
pending ones are dropped (`Lane.release_all`); an answer still being written is abandoned (its
result is dropped when it comes).

**When the model is unavailable** (no checkpoint, torch missing, the model raising), the answer
is made by rule, as a call-and-response player would vary the call: the phrase in retrograde,
its pitches moved up a fifth (folded into the phrase's range) and onto the key's scale, its
rhythm quantized to eighths. `fallback_reason` says why the rules were used (None while the
model answers).

**Determinism.** Answer k of a session is sampled with seed `engine seed + k`, so a simulated
session with the same input gives the same answers.

**Simulating.** On a virtual clock a performance runs faster than the model can answer; set
`synchronous` (or call `settle()` after each step) and `advance` waits for the answer it has
asked for, so the answer comes at the virtual time it would live. `wait_idle()` waits for the
worker to be ready and for any answer in flight.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from bandmate.live.events import NOTE_OFF, NOTE_ON
from bandmate.live.scheduler import Lane
from bandmate.live.voices import Part
from bandmate.score.model import Role

PART_NAME = "Answer"
PROGRAM = 11  # GM Vibraphone: a clear voice apart from the player's piano
GAP_BEATS = 1.0  # silence that ends a phrase
MIN_NOTES = 3  # the fewest notes answered
ANSWER_BARS = 2
QUANTUM_BEATS = 0.5  # the rule answer's grid
TICKS = 480
WORKER_NICE = 5

# (onset_beats, end_beats, pitch, velocity)
PhraseNote = tuple[float, float, int, int]


@dataclass(frozen=True)
class Request:
    """What the worker needs to answer: the phrase (beats from `origin_beat`, a bar line), the
    chords heard ((beat from origin, ChordSymbol)), the meter, tempo, key (tonic, mode) and
    seed."""

    notes: tuple[PhraseNote, ...]
    chords: tuple
    origin_beat: float
    meter: tuple[int, int]
    tempo_bpm: float
    key: tuple[int, str] | None
    seed: int
    bars: int = ANSWER_BARS


@dataclass(frozen=True)
class Answer:
    """One answer played: where it came from ("model" or "rules"), and its notes in engine
    beats as scheduled."""

    source: str
    notes: tuple[PhraseNote, ...]


# --- the worker process -------------------------------------------------------------------------

_MODEL = None  # in the worker: the loaded melody model
_LOAD_ERROR: str | None = None
_workers: dict[str | None, AnswerWorker] = {}
_workers_lock = threading.Lock()


class AnswerWorker:
    """The melody model in a child process (`python -c ... _serve()`), asked by `submit`.

    Requests and answers are pickled over the child's stdin and stdout; a reader thread in this
    process sets each answer's Future. `ready` is a Future that is done once the child has
    loaded the model and written a warm-up answer (it holds the load error otherwise). A plain
    child process rather than `multiprocessing`: spawn would run the parent's main script
    again in the child (a script without a main guard would play twice), and fork copies a
    process that already runs threads.
    """

    def __init__(self, model_path: str | None = None):
        import os
        import subprocess
        import sys

        import bandmate

        src = os.path.dirname(os.path.dirname(os.path.abspath(bandmate.__file__)))
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, (src, env.get("PYTHONPATH"))))
        code = "import sys; from bandmate.live.response import _serve; _serve(sys.argv[1])"
        self._process = subprocess.Popen(
            [sys.executable, "-c", code, model_path or ""],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )
        self._lock = threading.Lock()
        self._pending: dict[int, concurrent.futures.Future] = {}
        self._next_id = 1
        self.ready: concurrent.futures.Future = concurrent.futures.Future()
        self._pending[0] = self.ready
        self._reader = threading.Thread(target=self._read, name="bandmate-answers", daemon=True)
        self._reader.start()

    def submit(self, request: Request) -> concurrent.futures.Future:
        import pickle

        future: concurrent.futures.Future = concurrent.futures.Future()
        with self._lock:
            if self._process.poll() is not None:
                future.set_exception(RuntimeError("the answer worker has stopped"))
                return future
            ident, self._next_id = self._next_id, self._next_id + 1
            self._pending[ident] = future
            try:
                pickle.dump((ident, request), self._process.stdin, protocol=pickle.HIGHEST_PROTOCOL)
                self._process.stdin.flush()
            except OSError as e:
                del self._pending[ident]
                future.set_exception(RuntimeError(f"the answer worker has stopped ({e})"))
        return future

    def _read(self) -> None:
        import pickle

        stdout = self._process.stdout
        try:
            while True:
                ident, ok, value = pickle.load(stdout)
                with self._lock:
                    future = self._pending.pop(ident, None)
                if future is not None:
                    if ok:
                        future.set_result(value)
                    else:
                        future.set_exception(RuntimeError(value))
        except Exception:  # EOF or a broken pipe: the child has ended
            with self._lock:
                pending, self._pending = self._pending, {}
            for future in pending.values():
                future.set_exception(RuntimeError("the answer worker has stopped"))

    def close(self) -> None:
        """End the child (it also ends by itself when this process does)."""
        if self._process.poll() is None:
            self._process.stdin.close()
            self._process.wait(5)


def _serve(model_path: str = "") -> None:
    """The child's loop: load the model, warm it, then answer each request on stdin."""
    import os
    import pickle
    import sys

    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # anything printed must not corrupt the answers
    _init_worker(model_path or None)
    try:
        _warm_up()
        reply = (0, True, None)
    except Exception as e:
        reply = (0, False, f"{type(e).__name__}: {e}")
    try:
        pickle.dump(reply, stdout)
        stdout.flush()
    except (BrokenPipeError, OSError):
        os._exit(0)
    while True:
        try:
            ident, request = pickle.load(stdin)
        except EOFError:
            os._exit(0)
        try:
            reply = (ident, True, _model_answer(request))
        except Exception as e:
            reply = (ident, False, f"{type(e).__name__}: {e}")
        try:
            pickle.dump(reply, stdout, protocol=pickle.HIGHEST_PROTOCOL)
            stdout.flush()
        except (BrokenPipeError, OSError):  # the session ended while it was answering
            os._exit(0)


def _init_worker(model_path: str | None) -> None:
    """Load the model once, in the worker process; a failure is kept to be reported."""
    global _MODEL, _LOAD_ERROR
    import os

    with contextlib.suppress(OSError):
        os.nice(WORKER_NICE)
    try:
        import torch

        torch.set_num_threads(1)
        from bandmate.compose.melody import load_melody_model

        _MODEL = load_melody_model(model_path)
    except Exception as e:  # reported with every request, which then falls back to rules
        _LOAD_ERROR = f"{type(e).__name__}: {e}"


def _warm_up() -> None:
    """Write one answer, so the first real one pays no first-call costs; raises on failure."""
    _model_answer(
        Request(((0.0, 1.0, 67, 80), (1.0, 2.0, 71, 80), (2.0, 3.0, 74, 80)), (), 0.0, (4, 4),
                120.0, None, 0)
    )  # fmt: skip


def worker(model_path: str | None = None) -> AnswerWorker:
    """The shared answer worker for `model_path` (None: the shipped model), started once and
    started again if its process has ended."""
    with _workers_lock:
        found = _workers.get(model_path)
        if found is None or found._process.poll() is not None:
            found = _workers[model_path] = AnswerWorker(model_path)
        return found


def _model_answer(request: Request) -> list[PhraseNote]:
    """The notes the melody model adds to the phrase, in beats from the origin, fitted to it."""
    if _MODEL is None:
        raise RuntimeError(_LOAD_ERROR or "the melody model is not loaded")
    from bandmate.compose.continuation import continue_piece
    from bandmate.compose.melody import MelodySettings
    from bandmate.score.model import ChordEvent, Note, Score, TempoChange, TimeSignature, Track

    notes = tuple(
        Note(round(on * TICKS), max(1, round((end - on) * TICKS)), pitch, velocity)
        for on, end, pitch, velocity in request.notes
    )
    chords = tuple(ChordEvent(max(0, round(beat * TICKS)), chord) for beat, chord in request.chords)
    score = Score(
        tracks=(Track("Player", role=Role.MELODY, notes=notes),),
        ticks_per_beat=TICKS,
        tempos=(TempoChange.from_bpm(0, request.tempo_bpm),),
        time_signatures=(TimeSignature(0, *request.meter),),
        chords=chords,
    )
    settings = MelodySettings(style=None, seed=request.seed, pitch_range=None)
    out, _ = continue_piece(score, request.bars, settings=settings, model=_MODEL)
    added = out.tracks[0].notes[len(notes) :]
    answer = [(n.onset_ticks / TICKS, n.end_ticks / TICKS, n.pitch, n.velocity) for n in added]
    if not answer:
        raise RuntimeError("the melody model wrote no notes")
    return fit_answer(answer, request.notes)


# --- shaping answers ----------------------------------------------------------------------------


def fit_answer(answer: Sequence[PhraseNote], phrase: Sequence[PhraseNote]) -> list[PhraseNote]:
    """The answer in one voice (each note ends by the next one's onset), moved by octaves so
    that its mean pitch is nearest the phrase's, each note folded by octaves into the phrase's
    range widened by a fifth, at the phrase's mean velocity."""
    answer = sorted(answer)
    low, high = min(n[2] for n in phrase), max(n[2] for n in phrase)
    mean = sum(n[2] for n in phrase) / len(phrase)
    velocity = max(1, min(127, round(sum(n[3] for n in phrase) / len(phrase))))
    answer_mean = sum(n[2] for n in answer) / len(answer)
    shift = 12 * round((mean - answer_mean) / 12)
    out = []
    for i, (on, end, pitch, _) in enumerate(answer):
        if i + 1 < len(answer):
            end = min(end, answer[i + 1][0])
        if end <= on:
            continue
        pitch += shift
        while pitch > high + 7 and pitch - 12 >= 0:
            pitch -= 12
        while pitch < low - 7 and pitch + 12 <= 127:
            pitch += 12
        out.append((on, end, pitch, velocity))
    return out


def rule_answer(request: Request) -> list[PhraseNote]:
    """The rule-based answer (see the module docs), in beats from the origin, starting right
    after the phrase."""
    from bandmate.theory.keys import MODES

    phrase = request.notes
    start = phrase[0][0]
    rhythm = [
        (
            round((on - start) / QUANTUM_BEATS) * QUANTUM_BEATS,
            max(QUANTUM_BEATS, round((end - on) / QUANTUM_BEATS) * QUANTUM_BEATS),
        )
        for on, end, _, _ in phrase
    ]
    if request.key is not None:
        tonic, mode = request.key
    else:  # no key yet: the major key holding most of the phrase, the first note's on a tie
        pcs = [n[2] % 12 for n in phrase]
        tonic, mode = (
            max(
                range(12),
                key=lambda t: (sum((pc - t) % 12 in MODES["major"] for pc in pcs), t == pcs[0]),
            ),
            "major",
        )
    scale = {(tonic + s) % 12 for s in MODES[mode]}
    low, high = min(n[2] for n in phrase), max(n[2] for n in phrase)
    after = math.ceil(max(end for _, end, _, _ in phrase) / QUANTUM_BEATS) * QUANTUM_BEATS
    out = []
    for (on, length), (_, _, pitch, velocity) in zip(rhythm, reversed(phrase), strict=True):
        pitch += 7
        while pitch > high + 2:
            pitch -= 12
        while pitch < low - 5:
            pitch += 12
        pitch = next((pitch + d for d in (0, -1, 1) if (pitch + d) % 12 in scale), pitch)
        out.append((after + on, after + on + length, pitch, velocity))
    return fit_answer(out, phrase)


# --- the voice ----------------------------------------------------------------------------------


class Responder:
    """Answers the player's phrases with the melody model (see the module docs).

    model: a checkpoint path for the melody model (None: the shipped one).
    answers: every answer played, in order. fallback_reason: why the last answer came from the
    rules, None when it came from the model. cuts: answers the player cut short.
    """

    def __init__(self, engine, channel: int, *, model: str | None = None):
        self.channel = channel
        self.parts = (Part(PART_NAME, channel, PROGRAM, Role.MELODY),)
        self.lane = Lane(PART_NAME, channel)
        self.synchronous = False
        self.fallback_reason: str | None = None
        self.answers: list[Answer] = []
        self.cuts = 0
        self.seed = _engine_seed(engine)
        self.meter = tuple(engine.meter)
        self._phrase: list[list] = []  # [onset_beat, end_beat or None, pitch, velocity]
        self._down: dict[int, list] = {}  # melody keys down -> their phrase entry
        self._last_end = float("-inf")
        self._chords: list[tuple[float, object]] = []  # (beat, chord) heard, the latest last
        self._request: concurrent.futures.Future | None = None
        self._asked: Request | None = None
        try:
            self._worker = worker(model)
            self._ready = self._worker.ready
        except Exception as e:  # no processes here: every answer comes from the rules
            self._worker = None
            self._ready = None
            self.fallback_reason = f"{type(e).__name__}: {e}"

    # --- the event path

    def hear(self, event, engine) -> None:
        time_s, kind, pitch, velocity = event
        if not engine.started:
            return
        chord = engine.chords.chord
        if chord is not None and (not self._chords or self._chords[-1][1] is not chord):
            self._chords.append((engine.beat.beat_at(time_s), chord))
            if len(self._chords) > 64:
                del self._chords[:-32]
        if not engine.is_melody(pitch):
            return
        if kind == NOTE_ON:
            self._take_floor(time_s, engine.sink)
            beat = engine.beat.beat_at(time_s)
            if pitch in self._down:  # struck again without a release (two keyboards merged)
                self._down[pitch][1] = beat
            entry = [beat, None, pitch, velocity]
            self._phrase.append(entry)
            self._down[pitch] = entry
        elif kind == NOTE_OFF and pitch in self._down:
            entry = self._down.pop(pitch)
            entry[1] = engine.beat.beat_at(time_s)
            self._last_end = entry[1]

    def _take_floor(self, time_s: float, sink) -> None:
        """The player plays: the answer stops now, and one being written is abandoned."""
        lane = self.lane
        if lane.sounding or lane.next < len(lane.events):
            lane.release_all(time_s, sink)
            self.cuts += 1
        self._request = None
        self._asked = None

    # --- the clock path

    def advance(self, now_s: float, engine) -> None:
        beat = engine.beat
        if (
            self._request is None
            and self._phrase
            and not self._down
            and beat.beat_at(now_s) - self._last_end >= GAP_BEATS
        ):
            self._ask(engine)
        if self._request is not None and (self.synchronous or self._request.done()):
            self._schedule(now_s, engine)
        self.lane.emit_until(
            beat.beat_at(now_s + engine.lookahead_s), beat.time_at, now_s, engine.sink
        )

    def _ask(self, engine) -> None:
        phrase, self._phrase = self._phrase, []
        if len(phrase) < MIN_NOTES:
            return  # a stray key or two is not a call
        origin = math.floor(phrase[0][0] / engine.bar_beats) * engine.bar_beats
        notes = _one_voice(
            [(on - origin, end - origin, p, v) for on, end, p, v in phrase if end is not None]
        )
        heard = [(b - origin, c) for b, c in self._chords if b < phrase[-1][1]]
        before = [c for b, c in heard if b <= 0]  # the chord in force at the bar line
        chords = [(0.0, before[-1])] if before else []
        chords += [(b, c) for b, c in heard if b > 0]
        key = engine.keys.key
        request = Request(
            notes=tuple(notes),
            chords=tuple(chords),
            origin_beat=origin,
            meter=self.meter,
            tempo_bpm=engine.tempo_bpm,
            key=None if key is None else (key.tonic, key.mode),
            seed=self.seed + len(self.answers),
        )
        self._asked = request
        if self._worker is None:
            done: concurrent.futures.Future = concurrent.futures.Future()
            done.set_exception(RuntimeError(self.fallback_reason or "no worker"))
            self._request = done
        else:
            self._request = self._worker.submit(request)

    def _schedule(self, now_s: float, engine) -> None:
        request, future = self._asked, self._request
        self._request = self._asked = None
        try:
            notes, source = future.result(), "model"
            self.fallback_reason = None
        except Exception as e:  # the model is unavailable or failed: the rules answer
            notes, source = rule_answer(request), "rules"
            self.fallback_reason = f"{type(e).__name__}: {e}"
        if not notes:
            return
        ready = engine.beat.beat_at(now_s + engine.lookahead_s)
        first = request.origin_beat + notes[0][0]
        start = request.origin_beat + max(0, math.ceil(ready - first))
        self.lane.add(start, notes)
        self.answers.append(
            Answer(source, tuple((start + a, start + b, p, v) for a, b, p, v in notes))
        )

    def stop(self, now_s: float, sink) -> None:
        self.lane.release_all(now_s, sink)
        self._request = self._asked = None
        self._phrase.clear()
        self._down.clear()

    # --- waiting, for tests and simulations

    def settle(self, timeout_s: float | None = 60.0) -> None:
        """Wait for the answer being written, if any (a simulation's step hook)."""
        if self._request is not None:
            concurrent.futures.wait([self._request], timeout_s)

    def wait_idle(self, timeout_s: float | None = 60.0) -> bool:
        """Wait until the worker is ready and no answer is being written; whether it is."""
        pending = [f for f in (self._ready, self._request) if f is not None]
        _, not_done = concurrent.futures.wait(pending, timeout_s)
        return not not_done

    @property
    def model_ready(self) -> bool:
        """Whether the worker has loaded the model and written its warm-up answer."""
        ready = self._ready
        return ready is not None and ready.done() and ready.exception() is None


def _engine_seed(engine) -> int:
    seed = getattr(engine, "seed", None)
    if seed is None:
        seed = getattr(getattr(engine, "band", None), "seed", 0)
    return int(seed or 0)


def _one_voice(notes: list[PhraseNote]) -> list[PhraseNote]:
    """The phrase as one voice: keys struck together keep the highest, each note ends by the
    next onset (the model reads a melody)."""
    notes = sorted(notes, key=lambda n: (n[0], -n[2]))
    out: list[PhraseNote] = []
    for on, end, pitch, velocity in notes:
        if out and on - out[-1][0] < 0.05:
            continue
        if out and out[-1][1] > on:
            out[-1] = (out[-1][0], on, *out[-1][2:])
        out.append((max(on, 0.0), end, pitch, velocity))
    return out


__all__ = ["Answer", "Request", "Responder", "fit_answer", "rule_answer", "worker"]
