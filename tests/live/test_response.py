"""The answer voice as a player hears it: the model answers a phrase on the beat, and yields.

Performances run on the virtual clock (`simulate`, or `Engine.handle` and `advance` by hand)
with the responder `synchronous`, so the answer comes at the virtual time it would come live.
The model runs in the shared worker process, started once for the module.
"""

from __future__ import annotations

import time
from collections import defaultdict

import pytest

from bandmate.live import Engine, InputEvent, simulate
from bandmate.live.response import GAP_BEATS, PART_NAME, Responder, worker
from bandmate.live.session import band_notes

TEMPO_BPM = 120.0
BEAT_S = 60 / TEMPO_BPM
G_MAJOR = {7, 9, 11, 0, 2, 4, 6}
PHRASE = (67, 71, 74, 72)  # G B D C, a beat each


@pytest.fixture(scope="module", autouse=True)
def warm_worker():
    assert worker().ready.result(timeout=120) is None  # the model loads once, here


def phrase_events(start_s: float, pitches=PHRASE, beat_s: float = BEAT_S) -> list[InputEvent]:
    events = []
    for i, pitch in enumerate(pitches):
        on = start_s + i * beat_s
        events += [InputEvent.note_on(on, pitch, 84), InputEvent.note_off(on + beat_s * 0.9, pitch)]
    return events


def answer_engine(**args) -> tuple[Engine, Responder]:
    engine = Engine("pop", **({"tempo_bpm": TEMPO_BPM, "play": ("answer",)} | args))
    responder = engine.voices[0]
    responder.synchronous = True
    return engine, responder


def run(events, until_s: float, **args):
    """Simulate `events`, the clock running on to `until_s` (a pedal lift there ends it)."""
    engine, responder = answer_engine(**args)
    events = sorted([*events, InputEvent.sustain(until_s, False)], key=lambda e: e.time_s)
    return engine, responder, simulate(events, engine)


def balanced(outputs) -> bool:
    count: dict[int, int] = defaultdict(int)
    for event, _ in outputs:
        count[event.pitch] += 1 if event.velocity else -1
    return not any(count.values())


def test_the_model_answers_the_phrase_on_the_beat_grid():
    engine, responder, result = run(phrase_events(0.0), until_s=10.0)
    assert responder.fallback_reason is None
    assert [a.source for a in responder.answers] == ["model"]
    answer = responder.answers[0].notes
    played = sorted(band_notes(result.outputs)[PART_NAME])
    assert len(played) == len(answer) >= 2
    phrase_end_s = 3 * BEAT_S + 0.9 * BEAT_S
    assert played[0][0] >= phrase_end_s + GAP_BEATS * BEAT_S - 1e-6  # after the player's silence
    for (on_beat, _, pitch, velocity), (on_s, _, played_pitch, _) in zip(
        answer, played, strict=True
    ):
        assert abs(on_beat * 12 - round(on_beat * 12)) < 1e-6  # the model's grid: 12 a beat
        assert on_s == pytest.approx(engine.beat.time_at(on_beat), abs=1e-6)
        assert pitch == played_pitch and velocity == 84  # the player's velocity
        assert 67 - 7 <= pitch <= 74 + 7  # the phrase's range
    assert answer[0][0] == int(answer[0][0])  # it starts on a beat
    in_key = sum(p % 12 in G_MAJOR for _, _, p, _ in answer) / len(answer)
    assert in_key >= 0.75
    assert balanced(result.outputs)


def test_the_same_seed_gives_the_same_answer():
    first = run(phrase_events(0.0), until_s=8.0, seed=5)[1].answers
    again = run(phrase_events(0.0), until_s=8.0, seed=5)[1].answers
    assert first == again and first[0].source == "model"


def test_the_player_takes_the_floor_back():
    events = phrase_events(0.0)
    engine, _ = answer_engine()
    # find when the answer starts, then play again inside it
    _, _, probe_result = run(events, until_s=10.0)
    start_s = min(on for on, _, _, _ in band_notes(probe_result.outputs)[PART_NAME])
    cut_s = start_s + 0.3
    events += phrase_events(cut_s, (69, 71, 72))
    _, responder, result = run(events, until_s=cut_s + 1.0)
    assert responder.cuts == 1
    answer_events = [(e, d) for e, d in result.outputs if e.part == PART_NAME]
    assert not any(e.velocity and e.time_s > cut_s for e, _ in answer_events)
    offs_after = [e for e, _ in answer_events if not e.velocity and e.time_s >= cut_s]
    assert offs_after and all(e.time_s <= cut_s + engine.lookahead_s for e in offs_after)
    assert balanced(result.outputs)  # every note it started has ended
    assert len(responder.answers) == 1  # the new phrase had no time to end before the stop


def test_stop_releases_the_answer():
    _, responder, result = run(phrase_events(0.0), until_s=3.9 * BEAT_S + 1.6)
    assert responder.answers  # it had started
    assert balanced(result.outputs)
    assert not responder.lane.sounding


def test_the_rules_answer_when_the_model_is_unavailable(tmp_path):
    engine, _ = answer_engine()
    responder = Responder(engine, engine.voices[0].channel, model=str(tmp_path / "missing"))
    assert responder.wait_idle(60) and not responder.model_ready
    responder.synchronous = True
    engine.voices = (responder,)
    events = sorted([*phrase_events(0.0), InputEvent.sustain(8.0, False)], key=lambda e: e.time_s)
    result = simulate(events, engine)
    assert [a.source for a in responder.answers] == ["rules"]
    assert "missing" in responder.fallback_reason
    notes = responder.answers[0].notes
    # C D B G (the phrase in retrograde) a fifth up, in G major (the key the phrase implies)
    assert [p % 12 for _, _, p, _ in notes] == [7, 9, 6, 2]
    assert all((on * 2) == int(on * 2) for on, _, _, _ in notes)  # eighths
    assert balanced(result.outputs)


def test_the_event_path_never_waits_for_the_model():
    """The left hand keeps playing while the model writes; its events stay fast."""
    engine, responder = answer_engine()
    responder.synchronous = False
    t = 0.0
    for event in phrase_events(0.0):
        while t < event.time_s:
            engine.advance(t)
            t += 0.002
        engine.handle(event)
    while responder._request is None:  # the silence after the phrase: the request goes out
        t += 0.002
        engine.advance(t)
    asked, future = time.perf_counter(), responder._request
    during = 0
    chords = ((43, 47, 50), (45, 48, 52), (41, 45, 48))
    while not future.done():
        t += 0.0005
        for p in chords[during % 3]:
            engine.handle(InputEvent.note_on(t, p, 70))
        for p in chords[during % 3]:
            engine.handle(InputEvent.note_off(t + 0.0001, p))
        during += 1
        assert time.perf_counter() - asked < 30
    model_s = time.perf_counter() - asked
    while not responder.answers:
        t += 0.002
        engine.advance(t)
    engine.stop(t)
    assert responder.answers[0].source == "model"
    assert during >= 5  # events were decided while the model wrote (bench/live.py times them)
    print(f"one answer: {model_s * 1000:.0f} ms; {6 * during} events decided meanwhile")


def test_a_key_struck_twice_without_a_release_is_answered():
    """Two keyboards merged (or a page's keys) can send note on twice before one note off; the
    earlier note ends where the second begins, and the phrase is still answered."""
    events = phrase_events(0.0)
    events.insert(1, InputEvent.note_on(0.3 * BEAT_S, PHRASE[0], 70))
    _, responder, result = run(events, until_s=10.0)
    assert [a.source for a in responder.answers] == ["model"]
    assert balanced(result.outputs)
