"""The band under players as they really play: found in a sweep of `bandmate jam`.

Everything runs on the virtual clock (`simulate`), so no test waits for real time.
"""

from __future__ import annotations

import pytest

from bandmate.live import Engine, InputEvent, simulate
from bandmate.live.chords import ChordTracker
from bandmate.live.session import band_notes
from bandmate.theory.chords import parse_chord

BEAT_S = 0.5  # 120 BPM


def legato(chords, overlap_s: float, beats: int = 4) -> list[InputEvent]:
    """Each chord struck on its bar line and held into the next: its keys lifted `overlap_s`
    after the next chord's are struck; a key in both (a common tone) stays down."""
    events = []
    for i, keys in enumerate(chords):
        t = i * beats * BEAT_S
        before = chords[i - 1] if i else ()
        after = chords[i + 1] if i + 1 < len(chords) else ()
        events += [
            InputEvent.note_on(t + 0.003 * k, p, 80) for k, p in enumerate(keys) if p not in before
        ]
        end = t + beats * BEAT_S + (overlap_s if after else -0.05)
        events += [InputEvent.note_off(end, p) for p in keys if p not in after]
    return sorted(events, key=lambda e: (e.time_s, e.kind != 0))


def bass_from(result, time_s: float) -> int:
    """The pitch class of the bass note sounding at `time_s`, or else of the next one."""
    notes = sorted(band_notes(result.outputs)["Bass"])
    return next(p for on, off, p, _ in notes if off > time_s) % 12


@pytest.mark.parametrize("overlap_s", [0.015, 0.06, 0.2])
def test_a_legato_left_hand_gets_the_chords_it_moves_to(overlap_s):
    """C to Am with C-E-G still down for a moment read C6, Em over Cmaj7 Cmaj7, G7 after Dm
    Dm6: the band played the old root through the new chord's bar."""
    names = ["C", "Am", "F", "Em", "Dm", "G7", "C"]
    keys = [(36, 40, 43), (45, 48, 52), (41, 45, 48), (40, 43, 47), (38, 41, 45),
            (43, 47, 50, 53), (36, 40, 43)]  # fmt: skip
    engine = Engine("pop", tempo_bpm=120)
    result = simulate(legato(keys, overlap_s), engine)
    bar_s = 4 * BEAT_S
    for i, name in enumerate(names):
        heard = [c for t, c in result.chords if t <= i * bar_s + BEAT_S]  # within a beat
        assert heard[-1] == parse_chord(name), (i, name, heard[-1])
        # once the old keys are up, the bass is on the chord's root, not the old chord's
        assert bass_from(result, i * bar_s + overlap_s + 0.03) == parse_chord(name).root, name


def test_a_single_finger_player_moving_legato_gets_major_chords():
    """One finger: F struck with C still down read F7 (a white key below the root), C with G
    down read G7, until the next chord."""
    keys = [(36,), (41,), (43,), (36,), (45, 44)]  # C, F, G, C, Am (a black key below)
    engine = Engine("pop", tempo_bpm=120, mode="single")
    result = simulate(legato(keys, 0.04), engine)
    for i, name in enumerate(["C", "F", "G", "C", "Am"]):
        heard = [c for t, c in result.chords if t <= i * 2.0 + BEAT_S]
        assert heard[-1] == parse_chord(name), (i, name, heard[-1])


def test_lifting_a_key_of_the_chord_or_a_held_bass_keeps_the_chord():
    """Chord memory: only an old chord's key lifted just after the next strike re-reads it."""
    tracker = ChordTracker("split")
    for p in (45, 48, 52, 55 - 12):  # Am7 (A C E G), struck together
        tracker.note_on(0.0, p)
    assert tracker.chord == parse_chord("Am7")
    assert tracker.note_off(43, 0.1) is None and tracker.chord == parse_chord("Am7")
    # a rolled chord let go at once, its first key first: not a new chord (E-G-Bb, Edim)
    tracker = ChordTracker("split")
    for k, p in enumerate((36, 40, 43, 46)):
        tracker.note_on(0.06 * k, p)
    assert tracker.chord == parse_chord("C7")
    for p in (36, 40, 43, 46):
        tracker.note_off(p, 0.3)
    assert tracker.chord == parse_chord("C7")
    # a bass key held on (a pedal point) under the next chord, lifted two beats later
    tracker = ChordTracker("split")
    for p in (36, 40, 43):
        tracker.note_on(0.0, p)
    for p in (40, 43):
        tracker.note_off(p, 0.95)
    for p in (41, 45, 48):  # F over the held C
        tracker.note_on(1.0, p)
    assert tracker.chord == parse_chord("F")
    assert tracker.note_off(36, 2.0) is None and tracker.chord == parse_chord("F")


def test_every_note_the_band_plays_is_ended_whatever_the_player_does():
    """A burst of all 128 keys, keys left down at the end, the pedal held through changes:
    every note on the band sends has its note off, and no key is struck twice unreleased."""
    events = legato([(36, 40, 43), (45, 48, 52)], 0.03)
    events += [InputEvent.sustain(4.0, True)]
    events += [InputEvent.note_on(4.5 + k * 1e-4, k, 100) for k in range(128)]
    events += [InputEvent.note_off(5.0, k) for k in range(128)]
    events += [InputEvent.note_on(6.0, p, 5) for p in (41, 45, 48)]  # never lifted, very soft
    for mode in ("split", "full", "single"):
        engine = Engine("pop", tempo_bpm=120, mode=mode, play=("band", "chorale"))
        result = simulate(sorted(events, key=lambda e: (e.time_s, e.kind != 0)), engine)
        down: dict[tuple[int, int], int] = {}
        for event, _ in result.outputs:  # in the order they were sent
            key = (event.channel, event.pitch)
            down[key] = down.get(key, 0) + (1 if event.velocity else -1)
            assert down[key] in (0, 1), (mode, event)
        assert result.outputs and not any(down.values()), mode


def test_a_note_cut_as_it_starts_is_not_written_as_a_long_one():
    """A lane sends a note's on and off at one time when a chord changes again at once; the
    session file read the off first and wrote the note sounding until the pitch's next off."""
    from bandmate.live.events import OutputEvent

    sent = [
        OutputEvent(1.0, "Bass", 0, 36, 90),
        OutputEvent(1.0, "Bass", 0, 36, 0),
        OutputEvent(1.0, "Bass", 0, 40, 90),
        OutputEvent(1.5, "Bass", 0, 40, 0),
        OutputEvent(1.5, "Bass", 0, 40, 90),  # re-struck: its off first, as a lane sends it
        OutputEvent(2.0, "Bass", 0, 40, 0),
        OutputEvent(5.0, "Bass", 0, 36, 90),
        OutputEvent(5.5, "Bass", 0, 36, 0),
    ]
    notes = sorted(band_notes([(e, e.time_s) for e in sent])["Bass"])
    assert [(on, round(off, 3), p) for on, off, p, _ in notes] == [
        (1.0, 1.001, 36), (1.0, 1.5, 40), (1.5, 2.0, 40), (5.0, 5.5, 36)
    ]  # fmt: skip


@pytest.mark.parametrize("meter", [(1, 32), (1, 16), (7, 8)])
def test_a_legato_change_in_bars_shorter_than_the_overlap_is_made(meter):
    """A bar of a 32nd at 400 BPM passes in 4 ms: the bar the new chord was struck in is gone
    from the plan when the old keys are lifted 0.2 s later, and the band stopped on an error."""
    keys = [(36, 40, 43), (45, 48, 52), (41, 45, 48)]
    engine = Engine("pop", tempo_bpm=400, meter=meter)
    result = simulate(legato(keys, 0.2), engine)
    assert [c for _, c in result.chords][-1] == parse_chord("F")
    assert engine.received == len(legato(keys, 0.2)) and not engine.ignored
