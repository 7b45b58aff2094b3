"""The jam WebSocket (`/api/jam`): a chord in, the band out; bad choices, other sites, the
token and the session limit refused; no session outlives its page."""

from __future__ import annotations

import threading
import time

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from bandmate.web.app import create_app

C_MAJOR_AND_MELODY = (36, 40, 43, 72)


@pytest.fixture(scope="module")
def jam_client(tmp_path_factory):
    """A client on a studio without workers (the jam needs none) allowing one session."""
    return TestClient(create_app(tmp_path_factory.mktemp("jam"), max_jam_sessions=1))


def receive_until(ws, seconds: float) -> list[dict]:
    """Every message for `seconds` (the band keeps playing, so messages keep coming)."""
    messages, deadline = [], time.monotonic() + seconds
    while time.monotonic() < deadline:
        messages.append(ws.receive_json())
    return messages


def decision_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "bandmate-decisions" and t.is_alive()]


def test_a_chord_brings_in_the_band_on_several_channels(jam_client):
    with jam_client.websocket_connect("/api/jam?style=pop&mode=split&play=band") as ws:
        clock = ws.receive_json()
        parts = ws.receive_json()
        assert clock["type"] == "clock" and parts["type"] == "parts"
        assert {p["channel"] for p in parts["parts"]} >= {0, 9}
        for pitch in C_MAJOR_AND_MELODY:
            ws.send_json({"type": "note_on", "pitch": pitch, "velocity": 96})
        ws.send_bytes(bytes([0x80, 72, 0]))  # raw MIDI works too
        messages = receive_until(ws, 1.0)
    notes = [m for m in messages if m["type"] == "note"]
    assert len({m["channel"] for m in notes if m["velocity"]}) >= 3
    assert all(m["time"] >= clock["time"] for m in notes)
    chords = [m for m in messages if m["type"] == "chord"]
    assert chords and chords[-1]["name"] == "C"
    # the band's bass plays C under a C chord
    bass = parts["parts"][[p["name"] for p in parts["parts"]].index("Bass")]["channel"]
    assert any(m["pitch"] % 12 == 0 for m in notes if m["channel"] == bass and m["velocity"])


def first_chord_message(jam_client, query: str) -> dict:
    """The first chord message of a session opened with `query`, the player holding C major."""
    with jam_client.websocket_connect(f"/api/jam?{query}&play=band") as ws:
        for pitch in C_MAJOR_AND_MELODY:
            ws.send_json({"type": "note_on", "pitch": pitch, "velocity": 96})
        deadline = time.monotonic() + 5
        while (message := ws.receive_json())["type"] != "chord":
            assert time.monotonic() < deadline, "no chord message"
    return message


@pytest.mark.parametrize(
    ("query", "meter"),
    [("style=pop&meter=7/8", "7/8"), ("style=pop&meter= 3 / 4", "3/4"), ("style=pop", "4/4"),
     ("style=waltz", "3/4")],
)  # fmt: skip
def test_the_band_plays_in_the_meter_asked_for_else_the_styles(jam_client, query, meter):
    """As `bandmate jam --meter`: a player in 7/8 has the band play 7/8 bars."""
    assert first_chord_message(jam_client, query)["meter"] == meter


@pytest.mark.parametrize(
    ("query", "tempo_bpm"),
    [("style=pop&tempo=72", 72), ("style=pop&tempo=92.5", 92.5), ("style=pop", 112),
     ("style=waltz", 144)],
)  # fmt: skip
def test_the_band_starts_at_the_tempo_asked_for_else_the_styles(jam_client, query, tempo_bpm):
    """As `bandmate jam --tempo`: a player who counts in at 72 has the band start at 72 BPM."""
    assert first_chord_message(jam_client, query)["tempo_bpm"] == tempo_bpm


def test_leaving_stops_the_session(jam_client):
    with jam_client.websocket_connect("/api/jam?play=band") as ws:
        ws.receive_json()
        ws.send_json({"type": "note_on", "pitch": 45, "velocity": 80})
        ws.receive_json()
        assert jam_client.app.state.jam.running == 1
    deadline = time.monotonic() + 3
    while (decision_threads() or jam_client.app.state.jam.running) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert jam_client.app.state.jam.running == 0
    assert not decision_threads()


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("style=polka-from-mars", "Unknown style"),
        ("mode=both-hands", "Unknown mode"),
        ("play=orchestra", "Play one or more"),
        ("tempo=fast", "The tempo 'fast' is not a number; give it in beats per minute."),
        # the bounds of bandmate jam --tempo and of a backing track (the page had 30-300)
        ("tempo=19.9", "Tempo 19.9 BPM is outside 20-400; give a tempo in that range."),
        ("tempo=401", "Tempo 401 BPM is outside 20-400"),
        ("tempo=nan", "Tempo nan BPM is outside 20-400"),
        ("meter=waltz", "The meter must be a time signature of two numbers, such as 3/4"),
        ("meter=4/5", "The meter 4/5 cannot be played: the bottom number"),
        ("meter=0/4", "The meter 0/4 cannot be played: a bar needs 1 to"),
    ],
)
def test_bad_choices_are_closed_with_a_reason(jam_client, query, words):
    with (
        jam_client.websocket_connect(f"/api/jam?{query}") as ws,
        pytest.raises(WebSocketDisconnect) as closed,
    ):
        ws.receive_json()
    assert closed.value.code == 1008
    assert words in closed.value.reason


def test_a_page_of_another_site_cannot_jam(jam_client):
    evil = {"Origin": "https://evil.example"}
    with (
        pytest.raises(WebSocketDisconnect) as closed,
        jam_client.websocket_connect("/api/jam", headers=evil),
    ):
        pass
    assert closed.value.code == 1008
    with jam_client.websocket_connect("/api/jam", headers={"Origin": "http://testserver"}) as ws:
        assert ws.receive_json()["type"] == "clock"


def test_a_second_session_beyond_the_limit_is_told_to_try_later(jam_client):
    with jam_client.websocket_connect("/api/jam") as first:
        first.receive_json()
        with (
            jam_client.websocket_connect("/api/jam") as second,
            pytest.raises(WebSocketDisconnect) as closed,
        ):
            second.receive_json()
        assert closed.value.code == 1013
        assert "try again later" in closed.value.reason


def test_the_token_is_needed_when_the_studio_has_one(tmp_path):
    client = TestClient(create_app(tmp_path, token="s3cret"))
    with pytest.raises(WebSocketDisconnect) as closed, client.websocket_connect("/api/jam"):
        pass
    assert closed.value.code == 1008
    with client.websocket_connect("/api/jam?token=s3cret") as ws:
        assert ws.receive_json()["type"] == "clock"
    with client.websocket_connect("/api/jam", headers={"Cookie": "bandmate_token=s3cret"}) as ws:
        assert ws.receive_json()["type"] == "clock"


def test_a_non_ascii_token_is_refused_not_a_crash(tmp_path):
    client = TestClient(create_app(tmp_path, token="s3cret"))
    for query in ("token=%C3%A9", "token=%FF"):
        with (
            pytest.raises(WebSocketDisconnect) as closed,
            client.websocket_connect(f"/api/jam?{query}"),
        ):
            pass
        assert closed.value.code == 1008


def test_the_outbox_is_bounded_and_the_end_always_gets_in(monkeypatch):
    import asyncio

    from bandmate.web import jam

    monkeypatch.setattr(jam, "MAX_OUTBOX", 3)

    async def main():
        transport = jam.JamTransport(asyncio.get_running_loop())
        for i in range(10):
            transport.post({"type": "clock", "time": i})
        await asyncio.sleep(0.01)  # let the loop run the posted callbacks
        assert transport.outbox.qsize() == 3 and transport.overflowed.is_set()
        transport.close()
        await asyncio.sleep(0.01)
        queued = [transport.outbox.get_nowait() for _ in range(transport.outbox.qsize())]
        assert queued[-1] is jam._STOP and len(queued) == 3

    asyncio.run(main())


def test_a_page_that_stops_reading_is_closed(tmp_path, monkeypatch):
    """The band's messages must not pile up in memory for a page that does not read them."""
    import asyncio

    from bandmate.web import jam

    async def stuck(websocket, transport):  # a page whose socket never drains
        await asyncio.Event().wait()

    monkeypatch.setattr(jam, "MAX_OUTBOX", 4)
    monkeypatch.setattr(jam, "_send_all", stuck)
    client = TestClient(create_app(tmp_path, max_jam_sessions=1))
    with client.websocket_connect("/api/jam?play=band") as ws:
        for pitch in C_MAJOR_AND_MELODY:
            ws.send_json({"type": "note_on", "pitch": pitch, "velocity": 96})
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
    assert closed.value.code == 1008
    assert closed.value.reason == jam.NOT_READING
    deadline = time.monotonic() + 3
    while client.app.state.jam.running and time.monotonic() < deadline:
        time.sleep(0.02)
    assert client.app.state.jam.running == 0
