"""The live band as a player hears it: it follows chords and tempo, ignores garbage, stops clean.

Everything runs on the in-process transport and the virtual clock (`simulate`), so no test
waits for real time.
"""

from __future__ import annotations

import pytest

from bandmate.live import Engine, InputEvent, decode_midi, recognize_chord, simulate
from bandmate.live.chords import ChordTracker, single_finger_chord
from bandmate.live.performance import perform_chart
from bandmate.live.session import band_notes
from bandmate.live.tempo import BeatTracker
from bandmate.theory.chords import parse_chord


def chord_events(time_s: float, pitches, hold_s: float) -> list[InputEvent]:
    return [InputEvent.note_on(time_s, p, 80) for p in pitches] + [
        InputEvent.note_off(time_s + hold_s, p) for p in pitches
    ]


def play(events, **engine_args):
    engine = Engine("pop", **({"tempo_bpm": 120} | engine_args))
    return engine, simulate(sorted(events), engine)


def sounding_at(result, part: str, time_s: float) -> set[int]:
    return {p for on, off, p, _ in band_notes(result.outputs)[part] if on <= time_s < off}


@pytest.mark.parametrize(
    ("pitches", "name"),
    [((48, 52, 55), "C"), ((45, 48, 52, 55), "Am7"), ((52, 55, 60), "C"), ((43, 47, 50, 53), "G7"),
     ((50, 53, 57, 60, 76), "Dm7"), ((48, 51, 54, 57), "Cdim7"), ((48, 53, 55), "Csus4")],
)  # fmt: skip
def test_chords_are_recognized_from_held_keys(pitches, name):
    assert recognize_chord(pitches) == parse_chord(name)


def test_clusters_are_not_chords():
    assert recognize_chord((60, 61, 62)) is None
    assert recognize_chord((60, 64)) is None


def test_single_finger_fingerings():
    d = 50
    assert single_finger_chord([d]) == parse_chord("D")
    assert single_finger_chord([d - 4, d]) == parse_chord("Dm")  # Bb below: a black key
    assert single_finger_chord([d - 2, d]) == parse_chord("D7")  # C below: a white key
    assert single_finger_chord([d - 4, d - 2, d]) == parse_chord("Dm7")


def test_split_mode_reads_only_the_left_hand():
    tracker = ChordTracker("split", split_note=55)
    for p in (60, 64, 67):  # right hand: a C chord, but it is the melody's side
        assert tracker.note_on(0.0, p) is None
    for p in (45, 48, 52):
        tracker.note_on(0.1, p)
    assert tracker.chord == parse_chord("Am")


def test_full_mode_ignores_single_melody_notes():
    tracker = ChordTracker("full")
    for p in (48, 52, 55):
        tracker.note_on(0.0, p)
    for t, p in ((0.5, 62), (0.7, 65), (0.9, 69)):  # D F A one by one: not a Dm chord
        tracker.note_on(t, p)
    assert tracker.chord == parse_chord("C")


def test_a_chord_change_is_followed_within_a_beat():
    beat = 0.5
    events = chord_events(0.0, (36, 40, 43), 3.9) + chord_events(4.0, (41, 45, 48), 3.9)
    _, result = play(events)
    assert parse_chord("C") in {c for _, c in result.chords}
    late = 4.0 + beat
    piano = sounding_at(result, "Piano", late - 0.01) | sounding_at(result, "Pad", late - 0.01)
    assert piano and all(p % 12 in (5, 9, 0, 2, 7, 4) for p in piano)  # F chord tones, tensions
    assert 5 in {p % 12 for p in piano} or 9 in {p % 12 for p in piano}


def test_the_bass_plays_the_detected_chords_root():
    events = chord_events(0.0, (43, 47, 50), 1.95) + chord_events(2.0, (45, 48, 52), 1.95)
    _, result = play(events)
    bass = sorted(band_notes(result.outputs)["Bass"])
    first = next(n for n in bass if n[0] >= 0.0)
    assert first[2] % 12 == 7  # G
    at_change = [n for n in bass if abs(n[0] - 2.0) < 0.03]
    # the A sounds within the look-ahead; what was already released (G) is cut as short
    assert any(n[2] % 12 == 9 and n[1] - n[0] > 0.2 for n in at_change)
    assert all(n[1] - n[0] <= 0.011 for n in at_change if n[2] % 12 != 9)


def test_tempo_follows_a_player_who_speeds_up():
    perf = perform_chart("| C | F | G7 | C |", tempo_bpm=100, choruses=8, drift=0.0, noise_ms=10)
    faster = [e._replace(time_s=e.time_s * (1 if e.time_s < 20 else 1 - (e.time_s - 20) / 200))
              for e in perf.events]  # fmt: skip
    engine, _ = play(sorted(faster, key=lambda e: e.time_s), tempo_bpm=100)
    assert engine.tempo_bpm > 104


def test_beat_tracker_locks_to_noisy_onsets():
    tracker = BeatTracker(120)
    tracker.start(0.0)
    period = 60 / 126  # the player is 5% faster than the tracker's start
    for k in range(1, 33):
        tracker.onset(k * period + (0.015 if k % 2 else -0.015))
    assert tracker.tempo_bpm == pytest.approx(126, rel=0.02)


def test_garbage_input_is_counted_and_ignored():
    engine = Engine("pop", tempo_bpm=120)
    garbage = [decode_midi(b, 0.1) for b in (b"\xff\x00", b"\x90\x80\x10", b"\x90", b"abc")]
    assert garbage == [None] * 4
    for event in (
        *garbage,
        "note",
        InputEvent(float("nan"), 1, 60, 80),
        InputEvent(0.2, 1, 300, 80),
    ):
        engine.handle(event)
    assert engine.ignored == 7
    for e in chord_events(0.3, (36, 40, 43), 1.0):
        engine.handle(e)
    assert engine.started and engine.chord == parse_chord("C")


def test_stop_releases_every_note():
    events = chord_events(0.0, (36, 40, 43), 10.0)[:3]  # keys never released: a stuck chord
    _, result = play(events)
    on: dict[tuple[int, int], int] = {}
    for event, _ in result.outputs:
        key = (event.channel, event.pitch)
        on[key] = on.get(key, 0) + (1 if event.velocity else -1)
    assert result.outputs and all(v == 0 for v in on.values())


def test_decision_latency_is_reported():
    perf = perform_chart("| C | Am | F | G7 |", tempo_bpm=110, choruses=2)
    _, result = play(perf.events, tempo_bpm=110)
    report = result.report()
    assert report["decisions"] == len(perf.events)
    assert 0 < report["p50_ms"] <= report["p99_ms"] <= report["max_ms"]


def test_live_session_on_its_thread_stops_clean():
    """Real time, briefly: the decision thread plays, and stop sends every off and the panic."""
    from bandmate.live import InProcessTransport, LiveSession, session_clock

    clock = session_clock()
    transport = InProcessTransport(clock)
    engine = Engine("pop", tempo_bpm=240)
    session = LiveSession(engine, transport, clock)
    session.start()
    for p in (36, 40, 43):
        transport.put(InputEvent.note_on(clock(), p, 90))
    transport.put(b"\xf3garbage")
    import time

    time.sleep(0.4)
    session.stop()
    assert engine.ignored == 1 and transport.panics
    balance: dict[int, int] = {}
    for event, delivered in transport.sent:
        balance[event.pitch] = balance.get(event.pitch, 0) + (1 if event.velocity else -1)
        assert delivered >= event.time_s - 0.002
    assert transport.sent and not any(balance.values())


@pytest.mark.parametrize("late_beats", [0.3, 0.5, 1.9, 4.0])
def test_a_player_back_from_a_pause_in_their_own_time_gets_the_bar_lines_back(late_beats):
    """A recording made without the band: the player stops for two bars and comes back
    `late_beats` off the band's bar lines. The beat tracker places onsets on the nearest eighth,
    so it kept the old bar lines and the band's downbeats fell half a beat from the player's
    chords for the rest of the song; the chord after the pause now starts a bar."""
    import numpy as np

    perf = perform_chart("| C | Am | F | G |", tempo_bpm=100, choruses=4, drift=0.0,
                         noise_ms=10, seed=1)  # fmt: skip
    beat_s = 0.6
    stop_s, back_s = perf.beat_times[24], perf.beat_times[32]  # bars 7 and 8 are not played
    shift_s = late_beats * beat_s
    events = [
        e._replace(time_s=e.time_s + (shift_s if e.time_s >= back_s else 0.0))
        for e in perf.events
        if not stop_s <= e.time_s < back_s
    ]
    engine, result = play(events, tempo_bpm=100)
    kicks = np.array([o.time_s for o, _ in result.outputs
                      if o.part == "Drums" and o.velocity and o.pitch == 36])  # fmt: skip
    chords_after = [at + shift_s for _, _, at in perf.changes if at >= back_s][1:]
    errors_s = [np.abs(kicks - at).min() for at in chords_after]
    assert np.median(errors_s) < 0.03, np.median(errors_s)
    assert sorted({o.part for o, _ in result.outputs}) == sorted(p.name for p in engine.parts)


@pytest.mark.parametrize("rushed", [0.055, 0.06])
def test_a_player_who_rushes_a_two_bar_rest_gets_the_beat_back(rushed):
    """The player plays four bars, rests two and comes back early, having counted the rest
    `rushed` faster than they play (as a band following a drifting player is often a few
    percent off their tempo when they stop). The rest fell just under the two bars after which
    the band starts a bar again, the beat tracker placed the returning chord on the nearest
    eighth, the off-beat, and the band's downbeats fell between the player's chords from then
    on. After a bar's rest, a chord near a beat now re-syncs the beat to it."""
    import numpy as np

    rng = np.random.default_rng(1)
    beat_s = 0.6
    left_hand = ((36, 40, 43), (45, 48, 52), (41, 45, 48), (43, 47, 50))  # C Am F G

    def bars(start_s: float, count: int) -> list[InputEvent]:
        """Chords on 1 and 3 under straight eighths, +-10 ms."""
        events = []
        for bar in range(count):
            chord = left_hand[bar % 4]
            onsets = [(0, chord, 0.5), (2, chord, 0.5)]
            onsets += [(b / 2, (72 + b,), 0.08) for b in range(8)]
            for at, keys, hold_s in onsets:
                time_s = start_s + (bar * 4 + at) * beat_s + rng.uniform(-0.01, 0.01)
                events += chord_events(time_s, keys, hold_s)
        return events

    back_s = 16 * beat_s + 8 * beat_s * (1 - rushed)
    _, result = play(bars(0.0, 4) + bars(back_s, 6), tempo_bpm=100)
    kicks = np.array([o.time_s for o, _ in result.outputs
                      if o.part == "Drums" and o.velocity and o.pitch == 36])  # fmt: skip
    downbeats = back_s + 4 * beat_s * np.arange(1, 5)
    errors_s = [np.abs(kicks - at).min() for at in downbeats]
    assert np.median(errors_s) < 0.03, errors_s


@pytest.mark.parametrize(
    ("chart", "meter", "style"),
    [("(7/8) | C | Am | F | G |", (7, 8), "pop"), ("(12/8) | C | Am | F | G |", (12, 8), "pop"),
     ("(3/4) | C | Am | F | G |", (3, 4), "rock"), ("(5/4) | C | Am | F | G |", (5, 4), "funk")],
)  # fmt: skip
def test_the_band_plays_in_the_players_meter(chart, meter, style, tmp_path):
    """A player in 7/8 (or 12/8, 3/4, 5/4) with a 4/4 style: the session was written in 7/8
    but the band played 4/4 bars, its downbeats wandering through the player's bars. The band
    now plays the player's bars, the style's groove fitted to them as the backing-track
    arranger fits it (beat for beat in 12/8), with a kick on every one of the player's bar
    lines; the session file is in the player's meter."""
    import numpy as np

    from bandmate.io.midi import read_midi, write_midi
    from bandmate.live.performance import write_performance
    from bandmate.live.session import read_performance, session_score

    perf = perform_chart(chart, tempo_bpm=110, choruses=4, drift=0.0, noise_ms=10, seed=2)
    write_performance(tmp_path / "in.mid", perf.events, tempo_bpm=110, meter=meter)
    recorded = read_performance(tmp_path / "in.mid")
    engine = Engine(style, tempo_bpm=110, meter=meter)
    result = simulate(recorded.events, engine)
    bar_beats = meter[0] * 4 / meter[1]
    bars = int((len(perf.beat_times) - 2) / bar_beats)
    kicks = np.array([o.time_s for o, _ in result.outputs
                      if o.part == "Drums" and o.velocity and o.pitch == 36])  # fmt: skip
    offsets_ms = [np.abs(kicks - perf.time_of(b * bar_beats)).min() * 1000 for b in range(bars)]
    assert max(offsets_ms) < 30, offsets_ms
    score = session_score(result, recorded.events, time_signatures=recorded.time_signatures)
    write_midi(score, tmp_path / "session.mid")
    written = read_midi(tmp_path / "session.mid").time_signatures[0]
    assert (written.numerator, written.denominator) == meter
