"""The jam page's WebSocket: a live band for one browser page, at `/api/jam`.

    ws://HOST:PORT/api/jam?style=pop&mode=split&play=band[,answer,chorale]&tempo=110&meter=7/8

The messages are `bandmate.live.websocket`'s (the page sends `note_on`, `note_off`, `sustain` or
raw MIDI bytes; it gets `clock`, `parts`, `note` and `all_notes_off`), plus one of this
endpoint's own, sent when what the band hears changes (polled every `STATE_EVERY_S`):

    {"type": "chord", "name": "Am7" | null, "key": "C major" | null, "tempo_bpm": 112.4,
     "meter": "7/8"}

Each connection is one `LiveSession`: an `Engine` built for the query's choices, and
`JamTransport`, which adapts the Transport protocol to the connection. Input is parsed on the
event loop and queued, stamped with its `perf_counter` arrival, for the decision thread; what
the decision thread sends is handed to the event loop with `call_soon_threadsafe` and written
by one sender task, so a slow page never holds up a decision. At most `MAX_OUTBOX` messages
wait for the page: a page that stops reading is closed with 1008 ("the page is not reading the
band's notes") rather than letting them pile up in memory. When the page goes away the session
is stopped (every note off) before the handler returns: no session outlives its page.

Checks, before the handshake is accepted (a refused handshake is an HTTP 403 to a browser):
the Origin, when sent, must be this server's own host (a page of another site open in the
browser must not play or listen in), and the studio's token, when it has one, must come as the
`bandmate_token` cookie, `Authorization: Bearer` or `?token=`. After accepting, a bad choice
(unknown style, mode or part, a tempo or meter that cannot be played) is closed with 1008 and
a reason the page shows, and a connection beyond `max_sessions` with 1013 ("try again later").
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import queue
import time
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

from fastapi import WebSocket
from starlette.websockets import WebSocketState

from bandmate.errors import UserError
from bandmate.live.events import InputEvent, OutputEvent
from bandmate.live.transport import Clock, drain, session_clock
from bandmate.live.websocket import (
    MAX_MESSAGE_BYTES,
    TRY_AGAIN_LATER,
    event_message,
    parse_message,
    parts_message,
)
from bandmate.web.security import _headers, same_token, token_ok

log = logging.getLogger(__name__)

POLICY_VIOLATION = 1008  # the WebSocket close code for a request the server will not serve
DEFAULT_MAX_SESSIONS = 2  # each session has a decision thread that wakes every 2 ms
STATE_EVERY_S = 0.1
MAX_REASON_BYTES = 123  # the WebSocket protocol's limit on a close reason
MAX_OUTBOX = 4096  # messages waiting for the page; a band sends a few hundred a second at most
NOT_READING = "the page is not reading the band's notes"
_STOP = object()


class JamTransport:
    """The Transport protocol (`bandmate.live.transport`) on one FastAPI WebSocket.

    `put(item, arrived_s)` is called on the event loop with what the page sent; `receive` is
    the decision thread's. `send`, `open_parts` and `all_notes_off` may be called from any
    thread: each hands a message (a dict) to `outbox`, an asyncio queue on `loop`, which the
    endpoint's sender task writes to the page. When `outbox` is full the message is dropped and
    `overflowed` is set: the endpoint then ends the session. The page schedules the notes on its
    own audio clock, so events go out as soon as they are decided (`schedules_ahead`).
    """

    schedules_ahead = True

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self.outbox: asyncio.Queue = asyncio.Queue(MAX_OUTBOX)
        self.overflowed = asyncio.Event()
        self._inbox: queue.SimpleQueue = queue.SimpleQueue()
        self.closed = False

    def put(self, item: InputEvent | bytes, arrived_s: float) -> None:
        self._inbox.put((item, arrived_s))

    def receive(self, timeout_s: float) -> list[tuple[object, float]]:
        return drain(self._inbox, timeout_s)

    def post(self, message) -> None:
        """Queue a message for the page, from any thread (dropped once the loop has gone)."""
        with contextlib.suppress(RuntimeError):  # the loop is closed: the page is long gone
            self.loop.call_soon_threadsafe(self._enqueue, message)

    def _enqueue(self, message) -> None:
        """On the loop: queue `message`, or note that the page has stopped reading."""
        if message is _STOP:
            if self.outbox.full():  # the sender is stuck or gone: the end must still get in
                self.outbox.get_nowait()
            self.outbox.put_nowait(_STOP)
        elif not self.overflowed.is_set():
            try:
                self.outbox.put_nowait(message)
            except asyncio.QueueFull:
                self.overflowed.set()

    def open_parts(self, parts: Sequence) -> None:
        self.post(parts_message(parts))

    def send(self, event: OutputEvent) -> None:
        self.post(event_message(event))

    def all_notes_off(self, channels: Iterable[int]) -> None:
        self.post({"type": "all_notes_off", "channels": list(channels)})

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.post(_STOP)


def handshake_problem(websocket: WebSocket, token: str | None) -> str | None:
    """Why the handshake must be refused (cross-site, or no token), or None."""
    headers = _headers(websocket.scope)
    if token is not None and not token_ok(token, headers):
        given = websocket.query_params.get("token")
        if given is None or not same_token(given, token):
            return "This studio needs its token."
    origin = headers.get("origin")
    if origin is not None and (
        origin == "null" or urlsplit(origin).netloc.lower() != headers.get("host", "").lower()
    ):
        return "Cross-site pages may not jam."
    return None


def choices(query) -> dict:
    """The Engine's options from the query; raises UserError naming a bad one."""
    from bandmate.arrange.backing import check_tempo
    from bandmate.arrange.style import style_names
    from bandmate.live.chords import MODES
    from bandmate.live.voices import PLAY_CHOICES
    from bandmate.theory.chart import read_meter

    style = query.get("style", "pop")
    if style not in style_names():
        raise UserError(f"Unknown style {style[:40]!r}; pick one of {', '.join(style_names())}.")
    mode = query.get("mode", "split")
    if mode not in MODES:
        raise UserError(f"Unknown mode {mode[:20]!r}; pick one of {', '.join(MODES)}.")
    play = tuple(dict.fromkeys(p.strip() for p in query.get("play", "band").split(",")))
    if not play or any(p not in PLAY_CHOICES for p in play):
        raise UserError(f"Play one or more of {', '.join(PLAY_CHOICES)}, comma-separated.")
    tempo = query.get("tempo")
    tempo_bpm = None
    if tempo:
        try:
            tempo_bpm = float(tempo)
        except ValueError:
            raise UserError(
                f"The tempo {tempo[:20]!r} is not a number; give it in beats per minute."
            ) from None
        check_tempo(tempo_bpm)  # the bounds every other tempo is held to
    meter = query.get("meter")
    return {
        "style": style,
        "mode": mode,
        "play": play,
        "tempo_bpm": tempo_bpm,
        "meter": read_meter(meter) if meter else None,  # None: the style's
    }


async def close_with(websocket: WebSocket, code: int, reason: str) -> None:
    reason = reason.encode()[:MAX_REASON_BYTES].decode(errors="ignore")
    await websocket.close(code, reason)


class JamSessions:
    """The jam endpoint's state: how many sessions run, and the limit."""

    def __init__(self, max_sessions: int = DEFAULT_MAX_SESSIONS, token: str | None = None):
        self.max_sessions = max_sessions
        self.token = token
        self.running = 0

    async def serve(self, websocket: WebSocket) -> None:
        """The whole life of one jam connection (see the module docs)."""
        problem = handshake_problem(websocket, self.token)
        if problem:
            await websocket.close(POLICY_VIOLATION, problem)  # before accepting: a 403
            return
        await websocket.accept()
        try:
            options = choices(websocket.query_params)
        except UserError as e:
            await close_with(websocket, POLICY_VIOLATION, str(e))
            return
        if self.running >= self.max_sessions:
            await close_with(
                websocket,
                TRY_AGAIN_LATER,
                f"The studio already has {self.max_sessions} jam sessions; try again later.",
            )
            return
        self.running += 1
        try:
            await self._play(websocket, options)
        finally:
            self.running -= 1

    async def _play(self, websocket: WebSocket, options: dict) -> None:
        from bandmate.live.engine import Engine
        from bandmate.live.session import LiveSession

        try:  # loading a style and warming up takes a moment: off the event loop
            engine = await asyncio.to_thread(Engine, **options)
        except UserError as e:
            await close_with(websocket, POLICY_VIOLATION, str(e))
            return
        clock = session_clock()
        transport = JamTransport(asyncio.get_running_loop())
        session = LiveSession(engine, transport, clock)
        transport.post({"type": "clock", "time": clock()})  # before the parts, to align clocks
        session.start()
        sender = asyncio.create_task(_send_all(websocket, transport))
        watcher = asyncio.create_task(_watch_state(engine, transport))
        receiver = asyncio.create_task(_receive_all(websocket, transport, clock))
        overflow = asyncio.create_task(transport.overflowed.wait())
        try:
            await asyncio.wait({receiver, overflow}, return_when=asyncio.FIRST_COMPLETED)
            if receiver.done():
                receiver.result()  # its error, if it had one
        finally:
            # Stopped here, before any await: a handler being cancelled (the server shutting
            # down) may not get past its next await, and the session must not outlive it. It
            # blocks the loop for one decision tick (2 ms) and the band's notes off.
            watcher.cancel()
            receiver.cancel()
            overflow.cancel()
            try:
                session.stop()  # every note off, sent to the page
            except Exception:
                log.exception("the jam session stopped with an error")
            transport.close()
            not_reading = transport.overflowed.is_set()
            if not_reading:
                sender.cancel()  # it may be stuck writing to a page that does not read
            await asyncio.wait({sender}, timeout=2.0)
            sender.cancel()
            if websocket.client_state == WebSocketState.CONNECTED:
                with contextlib.suppress(RuntimeError, TimeoutError):
                    await asyncio.wait_for(
                        websocket.close(
                            POLICY_VIOLATION if not_reading else 1000,
                            NOT_READING if not_reading else "bandmate stopped",
                        ),
                        2.0,
                    )


async def _receive_all(websocket: WebSocket, transport: JamTransport, clock: Clock) -> None:
    """Queue what the page plays until it goes away."""
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        arrived = time.perf_counter()
        data = message.get("text")
        if data is None:
            data = message.get("bytes")
        if data is None or len(data) > MAX_MESSAGE_BYTES:
            continue
        item = parse_message(data, clock())
        if item is not None:
            transport.put(item, arrived)


async def _send_all(websocket: WebSocket, transport: JamTransport) -> None:
    """Write the band's messages to the page until the transport closes."""
    while True:
        message = await transport.outbox.get()
        if message is _STOP:
            return
        try:
            await websocket.send_text(json.dumps(message))
        except Exception:  # the page went away (each server says so its own way)
            return  # the receiver notices and stops the session


async def _watch_state(engine, transport: JamTransport) -> None:
    """Post a `chord` message whenever the chord, key or (rounded) tempo the band plays to
    changes, with the meter it plays in. Reads the engine's state from the event loop: a few
    attribute reads, no locks."""
    last = None
    while True:
        chord, key = engine.chord, engine.key
        state = {
            "type": "chord",
            "name": str(chord) if chord is not None else None,
            "key": str(key) if key is not None else None,
            "tempo_bpm": round(engine.tempo_bpm, 1),
            "meter": "{}/{}".format(*engine.meter),
        }
        if state != last and engine.started:
            transport.post(state)
            last = state
        await asyncio.sleep(STATE_EVERY_S)


__all__ = ["JamSessions", "JamTransport", "choices", "handshake_problem"]
