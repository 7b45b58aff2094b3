"""The browser as the player and the band: a WebSocket transport.

The page plays into the band and the band plays back into the page. Messages are JSON text
frames, except that a binary frame is one raw MIDI message (what Web MIDI hands the page):

    from the player   {"type": "note_on", "pitch": 60, "velocity": 90}
                      {"type": "note_off", "pitch": 60}
                      {"type": "sustain", "value": 127}
    to the player     {"type": "clock", "time": 12.345}          on connecting: the session's
                                                                 time now, to align clocks by
                      {"type": "parts", "parts": [{"name", "channel", "program", "is_drum"}]}
                      {"type": "note", "time", "part", "channel", "pitch", "velocity"}
                      {"type": "all_notes_off", "channels": [0, 1, 9]}

A "note" message with velocity 0 is a note off. Band notes go out as soon as the engine decides
them, stamped with their time on the session clock, ahead of it by the engine's lookahead: the
page schedules them on its audio clock (`schedules_ahead` True), so the network's jitter does
not reach the sound. `parse_message` and `event_message` are the whole format, so that a
FastAPI endpoint can speak it too.

Input is stamped on arrival, on the session clock as the InputEvent's time and by
`time.perf_counter` as the arrival the engine measures latency from. A text frame that is not
one of the player's messages (bad JSON, an unknown type, a pitch out of range) is counted in
`ignored` and dropped; a binary frame that is not a note or the pedal is passed on as its bytes,
which the engine counts and ignores, as from a MIDI port.

One player at a time: a second page is closed with code 1013 ("try again later") and a reason.
When the page goes away with keys or the pedal down, they are released for it, so that the band
does not hold the last chord forever. Sending runs on a thread of its own: the decision thread
only queues an event, and a slow page delays its own notes, never the band's decisions. The
server listens on 127.0.0.1 unless told otherwise, and takes pages from localhost only (or
clients that send no Origin, as scripts do), so that another web site open in the browser cannot
play or listen in.

Where to listen is given as `--websocket` takes it, [HOST:]PORT (`parse_address`): a port alone,
a host name or IPv4 address and a port, or an IPv6 address in brackets and a port, as in a URL
(`[::1]:8766`). An IPv6 address without brackets is refused rather than guessed at: in
`::1:8766` the last group could be the port or part of the address. An IPv6 address is
listened on with an IPv6 socket (the server's default is IPv4, which cannot bind one).
"""

from __future__ import annotations

import errno
import ipaddress
import json
import queue
import re
import socket
import threading
import time
from collections.abc import Iterable, Sequence

from bandmate.errors import UserError
from bandmate.live.events import (
    NOTE_OFF,
    NOTE_ON,
    PEDAL_DOWN_FROM,
    SUSTAIN,
    InputEvent,
    OutputEvent,
    decode_midi,
    is_valid,
)
from bandmate.live.transport import Clock, drain

DEFAULT_HOST = "127.0.0.1"
TRY_AGAIN_LATER = 1013  # the WebSocket close code for a server that is busy
BUSY_REASON = "bandmate already has a player; close the other page first"
MAX_MESSAGE_BYTES = 4096  # a player's message is tens of bytes
LOCAL_ORIGINS = (None, re.compile(r"https?://(localhost|127\.0\.0\.1|\[::1\])(:\d+)?"))
_STOP = object()


def parse_address(text: str) -> tuple[str, int]:
    """Where to listen, from [HOST:]PORT (see the module docs): (host, port), the host 127.0.0.1
    when only a port is given. Raises `UserError`, in one sentence, for anything else."""
    value = text.strip()
    host = DEFAULT_HOST
    if value.startswith("["):
        close = value.find("]")
        if close < 0 or not value[close + 1 :].startswith(":"):
            raise UserError(
                f"--websocket {text!r} has no port after the address in brackets; write it as "
                "[::1]:8766."
            )
        host, port_text = value[1:close], value[close + 2 :]
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise UserError(
                f"--websocket {text!r}: {host!r} in brackets is not an IPv6 address; write one "
                "such as [::1]:8766."
            ) from None
    elif value.count(":") > 1:
        raise UserError(
            f"--websocket {text!r} looks like an IPv6 address without brackets, where the port "
            "cannot be told from the address; write the address in brackets and the port after "
            "it, such as [::1]:8766."
        )
    elif ":" in value:
        named, port_text = value.split(":")
        host = named or DEFAULT_HOST
    else:
        port_text = value
    if not (port_text.isascii() and port_text.isdigit()) or int(port_text) > 65535:
        raise UserError(
            f"--websocket {text!r} has no port from 0 to 65535; give one such as 8766, "
            "127.0.0.1:8766 or [::1]:8766."
        )
    return host, int(port_text)


def _family(host: str) -> socket.AddressFamily:
    """The socket family to listen on `host` with: IPv6 for an IPv6 address (the server's
    default, IPv4, cannot bind one), else IPv4 (a host name as the system resolves it there)."""
    try:
        return socket.AF_INET6 if ipaddress.ip_address(host).version == 6 else socket.AF_INET
    except ValueError:
        return socket.AF_INET


def format_address(host: str, port: int) -> str:
    """HOST:PORT, an IPv6 host in brackets (as in a URL)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def parse_message(data: str | bytes, time_s: float) -> InputEvent | bytes | None:
    """The InputEvent a message from the player stands for, at `time_s` on the session clock.

    A binary frame that is not a note or the pedal is returned as bytes (for the engine to count
    and ignore); a text frame that is not a valid message gives None.
    """
    if isinstance(data, bytes | bytearray | memoryview):
        data = bytes(data)
        return decode_midi(data, time_s) or data
    try:
        message = json.loads(data)
    except (ValueError, TypeError, RecursionError):
        return None
    if not isinstance(message, dict):
        return None
    kind = message.get("type")
    if kind == "note_on":
        velocity = message.get("velocity", 90)
        # velocity 0 is a note off, as in MIDI
        event = InputEvent(
            time_s, NOTE_ON if velocity != 0 else NOTE_OFF, message.get("pitch"), velocity
        )
    elif kind == "note_off":
        event = InputEvent(time_s, NOTE_OFF, message.get("pitch"), 0)
    elif kind == "sustain":
        event = InputEvent(time_s, SUSTAIN, 0, message.get("value"))
    else:
        return None
    return event if is_valid(event) else None  # types (no bools, no floats) and ranges


def event_message(event: OutputEvent) -> dict:
    """The JSON message (as a dict) of a band event."""
    return {
        "type": "note",
        "time": event.time_s,
        "part": event.part,
        "channel": event.channel,
        "pitch": event.pitch,
        "velocity": event.velocity,
    }


def parts_message(parts: Sequence) -> dict:
    """The JSON message of the parts the band plays (`live.voices.Part`)."""
    return {
        "type": "parts",
        "parts": [
            {"name": p.name, "channel": p.channel, "program": p.program, "is_drum": p.is_drum}
            for p in parts
        ],
    }


CLOSE_WAIT_S = 2.0  # how long `close` waits for the writer and the server's threads


class WebSocketTransport:
    """A WebSocket server for one browser page, the player and the band (see the module docs).

    host, port: where to listen (an IPv6 host bare or in brackets); port 0 takes a free port,
    which `port` then holds. clock: the session clock, which input events and outgoing times
    are on.

    Raises `UserError` when the port cannot be listened on.
    """

    schedules_ahead = True

    def __init__(self, host: str = DEFAULT_HOST, port: int = 0, clock: Clock = time.perf_counter):
        from websockets.sync.server import serve

        if host.startswith("[") and host.endswith("]"):  # an IPv6 host written as in a URL
            host = host[1:-1]
        self.clock = clock
        self.ignored = 0  # text messages that were not a player's message
        self._inbox: queue.SimpleQueue = queue.SimpleQueue()
        self._outbox: queue.SimpleQueue = queue.SimpleQueue()  # for the writer thread
        self._lock = threading.Lock()
        self._client = None  # the connected page's connection
        self._closed = False
        self._parts: tuple = ()
        try:
            self._server = serve(
                self._handle,
                host,
                port,
                origins=list(LOCAL_ORIGINS),
                compression=None,  # messages are tiny; deflate would only add latency
                max_size=MAX_MESSAGE_BYTES,
                family=_family(host),
            )
        except OSError as e:
            where = format_address(host, port)
            if e.errno in (errno.EADDRINUSE, errno.EACCES):
                what = "another port with --websocket PORT"
            else:  # the address: not this machine's, or of a family it lacks (no IPv6)
                what = f"an address of this machine, such as 127.0.0.1:{port}"
            raise UserError(
                f"Cannot listen for the browser on {where} ({e.strerror or e}); give {what}."
            ) from e
        self.host = host
        self.port: int = self._server.socket.getsockname()[1]
        self._serving = threading.Thread(
            target=self._server.serve_forever, name="bandmate-websocket", daemon=True
        )
        self._writer = threading.Thread(target=self._write, name="bandmate-ws-out", daemon=True)
        self._serving.start()
        self._writer.start()

    @property
    def url(self) -> str:
        """Where pages connect: ws://HOST:PORT (an IPv6 host in brackets)."""
        return f"ws://{format_address(self.host, self.port)}"

    @property
    def connected(self) -> bool:
        return self._client is not None

    # --- the player's side, one handler thread per connection ---------------------------------
    def _handle(self, connection) -> None:
        from websockets.exceptions import ConnectionClosed

        with self._lock:
            busy = self._client is not None or self._closed
            if not busy:
                self._client = connection
        if busy:
            connection.close(TRY_AGAIN_LATER, BUSY_REASON)
            return
        self._outbox.put(connection)  # the writer greets it: clock, then parts
        held: set[int] = set()
        pedal = False
        try:
            for data in connection:
                arrived = time.perf_counter()
                item = parse_message(data, self.clock())
                if item is None:
                    self.ignored += 1
                    continue
                if isinstance(item, InputEvent):
                    if item.kind == NOTE_ON:
                        held.add(item.pitch)
                    elif item.kind == NOTE_OFF:
                        held.discard(item.pitch)
                    else:
                        pedal = item.velocity >= PEDAL_DOWN_FROM
                self._inbox.put((item, arrived))
        except ConnectionClosed:
            pass
        finally:
            with self._lock:
                self._client = None
            # the page went away: let go of what it held
            now, arrived = self.clock(), time.perf_counter()
            for pitch in sorted(held):
                self._inbox.put((InputEvent.note_off(now, pitch), arrived))
            if pedal:
                self._inbox.put((InputEvent.sustain(now, False), arrived))

    def receive(self, timeout_s: float) -> list[tuple[object, float]]:
        """What the player sent, waiting up to `timeout_s` for the first: [(InputEvent or
        bytes, perf_counter arrival)]."""
        return drain(self._inbox, timeout_s)

    # --- the band's side: queued here, sent by the writer thread -------------------------------
    def open_parts(self, parts: Sequence) -> None:
        self._parts = tuple(parts)
        self._outbox.put(parts_message(self._parts))

    def send(self, event: OutputEvent) -> None:
        self._outbox.put(event)

    def all_notes_off(self, channels: Iterable[int]) -> None:
        self._outbox.put({"type": "all_notes_off", "channels": list(channels)})

    def _write(self) -> None:
        from websockets.exceptions import ConnectionClosed

        while True:
            item = self._outbox.get()
            if item is _STOP:
                return
            if isinstance(item, OutputEvent):
                target, messages = self._client, [event_message(item)]
            elif isinstance(item, dict):
                target, messages = self._client, [item]
            else:  # a page that just connected; nothing was sent to it before
                target = item
                messages = [{"type": "clock", "time": self.clock()}]
                if self._parts:
                    messages.append(parts_message(self._parts))
            if target is None:
                continue  # nobody listening: the band plays to an empty room
            try:
                for message in messages:
                    target.send(json.dumps(message))
            except ConnectionClosed:
                pass

    def close(self) -> None:
        """Send what is queued, say goodbye to the page, stop listening (again is a no-op)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            client = self._client
        self._outbox.put(_STOP)
        # a page that stopped reading can hold the writer in a blocked send; it is a daemon
        # thread, and closing the connection below ends that send, so stopping never waits long
        self._writer.join(timeout=CLOSE_WAIT_S)
        if client is not None:
            client.close(1001, "bandmate stopped")
        self._server.shutdown()
        self._serving.join(timeout=CLOSE_WAIT_S)
