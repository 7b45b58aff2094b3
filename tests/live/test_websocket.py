"""The WebSocket transport: the message format, one page at a time, and a band heard in the page.

Each test runs a real server on a free port of 127.0.0.1 and talks to it with the websockets
client, as a browser page would.
"""

from __future__ import annotations

import contextlib
import json
import time

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from bandmate.errors import UserError
from bandmate.live.engine import Engine
from bandmate.live.events import NOTE_OFF, NOTE_ON, SUSTAIN, InputEvent, OutputEvent
from bandmate.live.session import LiveSession
from bandmate.live.transport import Transport, VirtualClock, session_clock
from bandmate.live.voices import Part
from bandmate.live.websocket import (
    TRY_AGAIN_LATER,
    WebSocketTransport,
    event_message,
    format_address,
    parse_address,
    parse_message,
)
from bandmate.score.model import Role


@pytest.fixture
def server():
    transport = WebSocketTransport("127.0.0.1", 0, VirtualClock(5.0))
    yield transport
    transport.close()


def received(transport, count: int, within_s: float = 2.0) -> list[tuple[object, float]]:
    items, deadline = [], time.monotonic() + within_s
    while len(items) < count and time.monotonic() < deadline:
        items += transport.receive(0.02)
    return items


def messages(client, count: int, within_s: float = 2.0) -> list[dict]:
    out, deadline = [], time.monotonic() + within_s
    while len(out) < count:
        out.append(json.loads(client.recv(timeout=max(0.0, deadline - time.monotonic()))))
    return out


def test_the_players_messages_parse_and_anything_else_does_not():
    assert parse_message('{"type": "note_on", "pitch": 60, "velocity": 90}', 1.5) == (
        InputEvent.note_on(1.5, 60, 90)
    )
    assert parse_message('{"type": "note_on", "pitch": 60, "velocity": 0}', 1.5) == (
        InputEvent.note_off(1.5, 60)
    )
    assert parse_message('{"type": "note_off", "pitch": 60}', 2.0) == InputEvent.note_off(2.0, 60)
    assert parse_message('{"type": "sustain", "value": 127}', 3.0) == InputEvent(
        3.0, SUSTAIN, 0, 127
    )
    assert parse_message(bytes((0x91, 64, 70)), 4.0) == InputEvent.note_on(4.0, 64, 70)
    assert parse_message(bytes((0xC0, 5)), 4.0) == bytes((0xC0, 5))  # for the engine to count
    for garbage in (
        "not json",
        "[1, 2]",
        '{"type": "note_on"}',
        '{"type": "note_on", "pitch": 128, "velocity": 90}',
        '{"type": "note_on", "pitch": 60.5, "velocity": 90}',
        '{"type": "note_on", "pitch": true, "velocity": 90}',
        '{"type": "sustain", "value": -1}',
        '{"type": "program", "value": 3}',
        '{"pitch": 60}',
        "[" * 100_000,
    ):
        assert parse_message(garbage, 0.0) is None, garbage


def test_a_band_event_is_one_json_message():
    event = OutputEvent(1.25, "Bass", 1, 40, 96)
    assert event_message(event) == {
        "type": "note",
        "time": 1.25,
        "part": "Bass",
        "channel": 1,
        "pitch": 40,
        "velocity": 96,
    }


def test_the_page_plays_and_garbage_is_counted_not_fatal(server):
    assert isinstance(server, Transport) and server.schedules_ahead is True
    assert server.port > 0
    with connect(f"ws://127.0.0.1:{server.port}") as page:
        assert messages(page, 1)[0] == {"type": "clock", "time": 5.0}
        page.send(json.dumps({"type": "note_on", "pitch": 48, "velocity": 80}))
        page.send("{oops")
        page.send(json.dumps({"type": "wobble"}))
        page.send(bytes((0x90, 52, 70)))
        page.send(json.dumps({"type": "sustain", "value": 127}))
        page.send(json.dumps({"type": "note_off", "pitch": 48}))
        items = received(server, 4)
    events = [item for item, _ in items]
    assert [e[1:] for e in events] == [
        (NOTE_ON, 48, 80),
        (NOTE_ON, 52, 70),
        (SUSTAIN, 0, 127),
        (NOTE_OFF, 48, 0),
    ]
    assert all(e.time_s == 5.0 for e in events)  # stamped on the session clock on arrival
    arrivals = [t for _, t in items]
    assert arrivals == sorted(arrivals) and all(abs(time.perf_counter() - t) < 2 for t in arrivals)
    assert server.ignored == 2


def test_the_band_reaches_the_page(server):
    server.open_parts([Part("Bass", 1, 33, Role.BASS), Part("Drums", 9, 0, Role.DRUMS, True)])
    with connect(f"ws://127.0.0.1:{server.port}") as page:
        hello = messages(page, 2)
        assert hello[0]["type"] == "clock"
        assert hello[1] == {
            "type": "parts",
            "parts": [
                {"name": "Bass", "channel": 1, "program": 33, "is_drum": False},
                {"name": "Drums", "channel": 9, "program": 0, "is_drum": True},
            ],
        }
        server.send(OutputEvent(5.1, "Bass", 1, 40, 90))
        server.all_notes_off([1, 9])
        assert messages(page, 2) == [
            event_message(OutputEvent(5.1, "Bass", 1, 40, 90)),
            {"type": "all_notes_off", "channels": [1, 9]},
        ]


def test_a_second_page_is_turned_away_and_the_first_keeps_playing(server):
    with connect(f"ws://127.0.0.1:{server.port}") as first:
        messages(first, 1)
        with connect(f"ws://127.0.0.1:{server.port}") as second:
            with pytest.raises(ConnectionClosed) as e:
                second.recv(timeout=2)
            assert e.value.rcvd.code == TRY_AGAIN_LATER and "already" in e.value.rcvd.reason
        first.send(json.dumps({"type": "note_on", "pitch": 50, "velocity": 60}))
        assert [item[1:] for item, _ in received(server, 1)] == [(NOTE_ON, 50, 60)]


def test_a_page_that_leaves_lets_go_of_its_keys_and_pedal(server):
    with connect(f"ws://127.0.0.1:{server.port}") as page:
        page.send(json.dumps({"type": "note_on", "pitch": 48, "velocity": 80}))
        page.send(json.dumps({"type": "note_on", "pitch": 55, "velocity": 80}))
        page.send(json.dumps({"type": "sustain", "value": 100}))
    events = [item for item, _ in received(server, 6)]
    assert [e[1:] for e in events[3:]] == [(NOTE_OFF, 48, 0), (NOTE_OFF, 55, 0), (SUSTAIN, 0, 0)]
    # and the next page may connect
    with connect(f"ws://127.0.0.1:{server.port}") as page:
        assert messages(page, 1)[0]["type"] == "clock"


def test_a_web_site_elsewhere_cannot_connect(server):
    with pytest.raises(Exception, match="403"):
        connect(f"ws://127.0.0.1:{server.port}", origin="https://example.com").close()
    with connect(f"ws://127.0.0.1:{server.port}", origin="http://localhost:8000") as page:
        assert messages(page, 1)[0]["type"] == "clock"


def test_a_port_in_use_is_one_sentence(server):
    from bandmate.errors import UserError

    with pytest.raises(UserError, match=f"127.0.0.1:{server.port}") as e:
        WebSocketTransport("127.0.0.1", server.port)
    assert "\n" not in str(e.value)


def test_a_chord_played_in_the_page_brings_the_band_in():
    clock = session_clock()
    transport = WebSocketTransport("127.0.0.1", 0, clock)
    session = LiveSession(Engine("pop"), transport, clock)
    try:
        session.start()
        with connect(f"ws://127.0.0.1:{transport.port}") as page:
            for pitch in (48, 52, 43):  # C major below the split point (G3, 55)
                page.send(json.dumps({"type": "note_on", "pitch": pitch, "velocity": 90}))
            band, deadline = [], time.monotonic() + 1.5
            while time.monotonic() < deadline:
                with contextlib.suppress(TimeoutError):
                    band.append(json.loads(page.recv(timeout=0.1)))
            for pitch in (48, 52, 43):
                page.send(json.dumps({"type": "note_off", "pitch": pitch}))
    finally:
        session.stop()
        transport.close()
    notes = [m for m in band if m["type"] == "note" and m["velocity"] > 0]
    assert len({m["channel"] for m in notes}) >= 2, band[:5]
    assert all(m["time"] >= 0 for m in notes)


@pytest.mark.parametrize(
    ("text", "address"),
    [("8766", ("127.0.0.1", 8766)), ("0.0.0.0:8766", ("0.0.0.0", 8766)),
     ("localhost:0", ("localhost", 0)), ("[::1]:8765", ("::1", 8765)),
     ("[::]:8766", ("::", 8766)), ("[fe80::1%eth0]:8766", ("fe80::1%eth0", 8766))],
)  # fmt: skip
def test_where_to_listen_is_read_as_a_url_writes_it(text, address):
    """--websocket takes [HOST:]PORT; an IPv6 host goes in brackets, as in a URL ('[::1]:8765'
    was read as the host '[::1]', which no machine has)."""
    assert parse_address(text) == address
    assert parse_address(format_address(*address)) == address


@pytest.mark.parametrize(
    "text", ["::1", "::1:8765", "[::1]", "[::1]8765", "[zz]:80", "host:", "70000", "[::1]:70000"]
)
def test_a_malformed_address_is_refused_in_one_sentence(text):
    with pytest.raises(UserError) as refused:
        parse_address(text)
    message = str(refused.value)
    assert repr(text) in message and message.endswith(".") and message.count(". ") == 0
    assert "[::1]:8766" in message or "8766" in message  # it shows what to write


def _has_ipv6_loopback() -> bool:
    import socket

    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not _has_ipv6_loopback(), reason="this machine has no IPv6 loopback (::1)")
@pytest.mark.parametrize("host", ["::1", "[::1]"])
def test_a_page_plays_over_ipv6(host):
    """The server listened on IPv4 only, so '::1' could not be bound ('address family not
    supported'); '[::1]' is the host as `bandmate jam --websocket [::1]:8766` hands it over."""
    transport = WebSocketTransport(host, 0, VirtualClock(5.0))
    try:
        assert transport.url.startswith("ws://[::1]:")
        with connect(transport.url) as client:
            assert messages(client, 1)[0]["type"] == "clock"
            client.send(json.dumps({"type": "note_on", "pitch": 60, "velocity": 90}))
            assert [e for e, _ in received(transport, 1)] == [InputEvent.note_on(5.0, 60, 90)]
    finally:
        transport.close()


def test_an_address_this_machine_does_not_have_is_named_with_what_to_give():
    """192.0.2.1 is kept for documentation: no machine has it. The sentence names the address
    (an IPv6 one in brackets) and asks for one of this machine's, not for another port."""
    with pytest.raises(UserError) as refused:
        WebSocketTransport("192.0.2.1", 8766, VirtualClock(0.0))
    assert "192.0.2.1:8766" in str(refused.value) and "address" in str(refused.value)
    if not _has_ipv6_loopback():
        with pytest.raises(UserError) as refused:
            WebSocketTransport("::1", 8766, VirtualClock(0.0))
        assert "[::1]:8766" in str(refused.value)
