"""Transports: how events reach the engine and how the band's events leave it.

A `Transport` is five calls, so that a MIDI port (python-rtmidi), a synth (FluidSynth), a
WebSocket or the tests' in-process queue plug in the same way:

    open_parts(parts)                                 # once, before the first event: what the
                                                      # engine plays (`live.voices.Part`: name,
                                                      # channel, program), so that a port can
                                                      # send program changes and a synth pick
                                                      # its instruments
    receive(timeout_s) -> [(item, received_s), ...]   # what arrived: InputEvents or raw MIDI
                                                      # bytes, with their perf_counter arrival
    send(event)                                       # one OutputEvent
    all_notes_off(channels)                           # the panic: CC 123 on every channel
    close()

and one attribute, `schedules_ahead`: True when `send` takes timestamped events early and plays
them on time itself (FluidSynth's sequencer, a browser's audio clock); False when whatever is
sent sounds at once (a raw MIDI port), in which case the session puts a `TimedDispatcher` in
front of it that hands each event over at its time.

Clocks are plain callables returning seconds. `session_clock()` is `time.perf_counter` from a
start; `VirtualClock` is set by hand, so that a recorded performance plays as fast as the engine
can take it with every decision still made at the performance's own times.

`TimedDispatcher` sleeps until `spin_s` before an event is due, then spins (yielding the GIL
with `sleep(0)`) to its time: sleeping alone wakes 0.1-1 ms late on a busy machine, spinning
alone burns a core and starves the decision thread of the GIL.
"""

from __future__ import annotations

import heapq
import itertools
import queue
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol, runtime_checkable

from bandmate.live.events import OutputEvent

Clock = Callable[[], float]


def session_clock() -> Clock:
    """Seconds since now, by `time.perf_counter`."""
    start = time.perf_counter()
    return lambda: time.perf_counter() - start


def drain(inbox: queue.SimpleQueue, timeout_s: float) -> list:
    """Everything in `inbox`, waiting up to `timeout_s` for the first item: every transport's
    `receive` (the decision thread takes what arrived in one batch)."""
    try:
        first = inbox.get(timeout=timeout_s) if timeout_s > 0 else inbox.get_nowait()
    except queue.Empty:
        return []
    items = [first]
    try:
        while True:
            items.append(inbox.get_nowait())
    except queue.Empty:
        return items


class VirtualClock:
    """A clock that reads what it was last set to (never going back)."""

    def __init__(self, start_s: float = 0.0):
        self.now = start_s

    def __call__(self) -> float:
        return self.now

    def set(self, time_s: float) -> None:
        if time_s > self.now:
            self.now = time_s


@runtime_checkable
class Transport(Protocol):
    schedules_ahead: bool

    def open_parts(self, parts: Sequence) -> None: ...

    def receive(self, timeout_s: float) -> list[tuple[object, float]]: ...

    def send(self, event: OutputEvent) -> None: ...

    def all_notes_off(self, channels: Iterable[int]) -> None: ...

    def close(self) -> None: ...


class InProcessTransport:
    """A transport inside the process: a queue in, a list (or a callback) out.

    `put(item)` is the player's side: an InputEvent or raw MIDI bytes. Everything `send` gets is
    recorded in `sent` as (event, delivered_s) on `clock`, or passed to `on_output(event,
    delivered_s)` instead when given (then nothing is kept). It sounds what it is sent at once,
    like a MIDI port (`schedules_ahead` False).
    """

    schedules_ahead = False

    def __init__(
        self,
        clock: Clock = time.perf_counter,
        on_output: Callable[[OutputEvent, float], None] | None = None,
    ):
        self.clock = clock
        self._inbox: queue.SimpleQueue = queue.SimpleQueue()
        self.on_output = on_output
        self.sent: list[tuple[OutputEvent, float]] = []
        self.panics: list[tuple[int, ...]] = []
        self.parts: tuple = ()
        self.closed = False

    def open_parts(self, parts: Sequence) -> None:
        self.parts = tuple(parts)

    def put(self, item: object) -> None:
        self._inbox.put((item, time.perf_counter()))

    def pending(self) -> int:
        return self._inbox.qsize()

    def receive(self, timeout_s: float) -> list[tuple[object, float]]:
        return drain(self._inbox, timeout_s)

    def send(self, event: OutputEvent) -> None:
        delivered = self.clock()
        if self.on_output is not None:
            self.on_output(event, delivered)
        else:
            self.sent.append((event, delivered))

    def all_notes_off(self, channels: Iterable[int]) -> None:
        self.panics.append(tuple(channels))

    def close(self) -> None:
        self.closed = True


class TimedDispatcher:
    """Hands timestamped events to `transport.send` at their time on `clock`, from its own thread.

    `put` may be called from any thread. `flush` sends everything still held at once (stop).
    """

    def __init__(self, transport: Transport, clock: Clock, spin_s: float = 0.002):
        self.transport = transport
        self.clock = clock
        self.spin_s = spin_s
        self._heap: list[tuple[float, int, OutputEvent]] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._running = True
        self._thread = threading.Thread(target=self._run, name="bandmate-output", daemon=True)
        self._thread.start()

    def put(self, event: OutputEvent) -> None:
        with self._cond:
            heapq.heappush(self._heap, (event.time_s, next(self._seq), event))
            if self._heap[0][2] is event:
                self._cond.notify()

    def _run(self) -> None:
        clock, cond, heap = self.clock, self._cond, self._heap
        while True:
            with cond:
                while self._running and (not heap or heap[0][0] - clock() > self.spin_s):
                    cond.wait(None if not heap else heap[0][0] - clock() - self.spin_s)
                if not self._running:
                    return
                due = heap[0][0]
            while clock() < due:
                time.sleep(0)  # spin, letting the decision thread run
            with cond:
                now = clock()
                while heap and heap[0][0] <= now:
                    self.transport.send(heapq.heappop(heap)[2])

    def flush(self) -> None:
        with self._cond:
            while self._heap:
                self.transport.send(heapq.heappop(self._heap)[2])

    def close(self) -> None:
        with self._cond:
            self._running = False
            self._cond.notify()
        self._thread.join()
        self.flush()


class Duplex:
    """Input from one transport, output to another: a keyboard's port in, the built-in synth out.

    `schedules_ahead` is the output's; closing closes both (the same one once).
    """

    def __init__(self, inbound: Transport, outbound: Transport):
        self.inbound = inbound
        self.outbound = outbound
        self.schedules_ahead = outbound.schedules_ahead

    def open_parts(self, parts: Sequence) -> None:
        self.outbound.open_parts(parts)

    def receive(self, timeout_s: float) -> list[tuple[object, float]]:
        return self.inbound.receive(timeout_s)

    def send(self, event: OutputEvent) -> None:
        self.outbound.send(event)

    def all_notes_off(self, channels: Iterable[int]) -> None:
        self.outbound.all_notes_off(channels)

    def close(self) -> None:
        self.inbound.close()
        if self.outbound is not self.inbound:
            self.outbound.close()
