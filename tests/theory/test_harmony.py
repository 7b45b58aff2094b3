"""Key finding and chord labelling from a bare melody."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest

from bandmate.io.music21_io import read_abc
from bandmate.score import KeyChange, Role, TimeSignature, Track
from bandmate.theory import Key
from bandmate.theory.chart import parse_chart, transpose_chart
from bandmate.theory.chords import format_chord
from bandmate.theory.harmony import (
    estimate_key,
    harmonic_slots,
    key_doubt,
    key_of,
    key_of_chords,
    label_chords,
    melody_notes,
    palette,
    with_chords,
)
from tests.builders import make_score, notes


def tune(*spec, meter=(4, 4), **kwargs):
    track = Track("Tune", program=73, role=Role.MELODY, notes=notes(*spec))
    return make_score(track, meter=meter, **kwargs)


def bar_chords(score, key=None) -> list[tuple[int, str]]:
    grid = score.bar_grid
    return [
        (grid.bar_at(c.onset_ticks) + 1, format_chord(c.symbol)) for c in label_chords(score, key)
    ]


def arpeggios(bars: list[tuple[int, int, int]], beats: int = 4, base: int = 60):
    """One bar per (root, third, fifth) in semitones above `base`: the chord tones in turn."""
    spec = []
    for i, chord in enumerate(bars):
        for beat in range(beats):
            spec.append((i * beats + beat, 1, base + chord[beat % 3]))
    return spec


@pytest.mark.parametrize("tonic", [0, 2, 5, 10])
def test_an_arpeggiated_i_iv_v_i_is_labelled_as_such_in_any_key(tonic):
    spec = arpeggios([(0, 4, 7), (5, 9, 12), (7, 11, 14), (0, 4, 7)], base=60 + tonic)
    score = tune(*spec)
    labelled = [name for _, name in bar_chords(score)]
    key = Key(tonic)
    names = [key.spell((tonic + d) % 12) for d in (0, 5, 7, 0)]
    assert labelled[0] == names[0] and labelled[-1] == names[3]
    assert labelled[1] == names[1]
    assert labelled[2] in (names[2], names[2] + "7")


def test_a_minor_tune_gets_minor_chords_and_the_major_dominant():
    # A minor: i (A C E), V with its leading tone (E G# B), i
    spec = arpeggios([(0, 3, 7), (7, 11, 14), (0, 3, 7)], base=57)
    score = tune(*spec)
    assert key_of(score) == Key(9, "minor")
    assert [name for _, name in bar_chords(score)] in (
        ["Am", "E", "Am"],
        ["Am", "E7", "Am"],
    )


def test_every_bar_starts_with_a_chord_and_changes_only_fall_on_slots():
    spec = arpeggios([(0, 4, 7)] * 3 + [(7, 11, 14)], base=60)
    score = tune(*spec)
    events = label_chords(score)
    starts = {score.bar_grid.bar_start(b) for b in range(4)}
    assert starts <= {e.onset_ticks for e in events}
    half = 2 * 480
    assert all(e.onset_ticks % half == 0 for e in events)


def test_a_pickup_bar_is_one_slot_and_the_chords_follow_in_order():
    # a one-beat pickup (a short 4/4 bar) was cut in halves of a full bar, its second half in
    # bar 1: the chords came out of order and a chart cell read "B7 Am7 Cmaj7"
    spec = [(0, 1, 67)] + [(1 + b, 1, p) for b, p in enumerate((60, 64, 67, 64) * 2 + (62,) * 4)]
    score = tune(*spec).replace(time_signatures=(TimeSignature(0, 4, 4), TimeSignature(480, 4, 4)))
    onsets = [e.onset_ticks for e in label_chords(score)]
    assert onsets == sorted(set(onsets)) and onsets[0] == 0
    slots = harmonic_slots(score)
    assert slots[0].end == 480 and all(a.end == b.start for a, b in pairwise(slots))


def test_the_melody_is_the_part_with_the_tune_not_an_empty_voice_staff():
    voice = Track("Voice", program=52, role=Role.MELODY, notes=())
    violin = Track("Violin", program=40, role=Role.OTHER, notes=notes((0, 1, 67), (1, 1, 69)))
    assert [n.pitch for n in melody_notes(make_score(voice, violin))] == [67, 69]


def test_a_piano_on_two_staves_left_hand_first_is_read_from_its_right_hand():
    # a notation program's export: the left hand's staff first; its bass line was read as the
    # tune, for the chords and the final, where the tokenizer reads the right hand
    left = Track("Piano LH", program=0, notes=notes((0, 2, 36), (2, 2, 43)))
    right = Track("Piano RH", program=0, notes=notes((0, 1, 72), (1, 1, 74), (2, 2, 76)))
    assert [n.pitch for n in melody_notes(make_score(left, right))] == [72, 74, 76]


def test_a_tune_that_modulates_is_labelled_in_each_passages_key():
    # G for four bars, then D: the A major bars were labelled in G, Am under A C# E
    g = [(7, 11, 14), (0, 4, 7), (2, 6, 9), (7, 11, 14)]
    d = [(2, 6, 9), (9, 13, 16), (9, 13, 16), (2, 6, 9)]
    score = tune(*arpeggios(g + d, base=60), keys=(KeyChange(0, Key(7)), KeyChange(7680, Key(2))))
    labels = dict(bar_chords(score))
    assert labels[6] == "A" and labels[7] == "A"
    assert labels[1] == "G" and labels[8] == "D"


def test_a_stated_mode_is_kept_and_another_scale_counts_by_its_third():
    dorian = tune((0, 4, 62), keys=(KeyChange(0, Key(2, "dorian")),))
    assert key_of(dorian) == Key(2, "dorian")
    harmonic = tune((0, 4, 62), keys=(KeyChange(0, Key(2, "harmonic minor")),))
    assert key_of(harmonic) == Key(2, "minor")
    # a mode is never guessed from notes alone
    assert key_of(dorian.replace(keys=())).mode in ("major", "minor")


def abc_tune(tmp_path, key: str, body: str):
    """A 4/4 tune in quarter notes, read as `bandmate` reads an ABC file."""
    path = tmp_path / "tune.abc"
    path.write_text(f"X:1\nT:Tune\nM:4/4\nL:1/4\nK:{key}\n{body}\n")
    return read_abc(path)


def test_a_mixolydian_tune_gets_its_flat_seventh_chord_not_the_major_keys_dominant(tmp_path):
    # G mixolydian, K:Gmix: a held F natural on bar 2's downbeat and "c A F A" in bar 7 were
    # labelled D and D7 (G major's V, with F#), where a fiddler plays F or Dm
    score = abc_tune(
        tmp_path, "Gmix", "G B d B | F2 A F | G A B c | d2 G2 |\nG B d g | f2 d B | c A F A | G4 |"
    )
    assert key_of(score) == Key(7, "mixolydian")
    labels = bar_chords(score)
    assert {name for _, name in labels}.isdisjoint({"D", "D7"})
    downbeats = {bar: name for bar, name in reversed(labels)}  # each bar's first chord
    assert {downbeats[2], downbeats[6], downbeats[7]} <= {"F", "Dm"}
    assert downbeats[1] == "G" and labels[-1] == (8, "G")


def test_a_dorian_tune_gets_its_major_iv_and_no_leading_tone_dominant(tmp_path):
    # D dorian, K:Ddor: "G B d B" (B natural) was labelled Gm, and A7 (with C#) came before Dm
    score = abc_tune(
        tmp_path, "Ddor", "D F A F | G B d B | c A G E | D4 |\nA d d c | B G B d | c A G E | D4 |"
    )
    labels = dict(bar_chords(score))
    assert labels[2] == "G" and labels[6] == "G"
    assert "A7" not in {name for _, name in bar_chords(score)}
    assert labels[4] == "Dm" and labels[8] == "Dm"


@pytest.mark.parametrize(
    ("mode", "triads"),
    [
        ("mixolydian", ["G", "Am", "Bdim", "C", "Dm", "Em", "F", "D"]),
        ("dorian", ["Gm", "Am", "Bb", "C", "Dm", "Edim", "F", "D"]),
        ("phrygian", ["Gm", "Ab", "Bb", "Cm", "Ddim", "Eb", "Fm"]),
        ("lydian", ["G", "A", "Bm", "C#dim", "D", "Em", "F#m"]),
        # major and minor are as they were: V7 and, in minor, the harmonic-minor V
        ("major", ["G", "D", "D7", "C", "Em", "Am", "Bm", "F#dim"]),
        ("minor", ["Gm", "D", "D7", "Cm", "Bb", "Eb", "F", "Dm", "Adim"]),
    ],
)
def test_each_mode_takes_the_triads_of_its_own_scale_tonic_first(mode, triads):
    chords = palette(Key(7, mode))
    assert [format_chord(c) for c, _ in chords] == triads
    priors = [p for _, p in chords]
    assert priors[0] == max(priors)


def test_a_modes_characteristic_chords_are_its_likeliest_after_the_tonic():
    def likeliest(key: Key) -> set[str]:
        ranked = sorted(palette(key), key=lambda pair: -pair[1])[1:]
        return {format_chord(c) for c, p in ranked if p >= ranked[0][1] - 0.05}

    assert likeliest(Key(7, "mixolydian")) == {"F", "C"}  # bVII, IV
    assert likeliest(Key(2, "dorian")) == {"G", "C"}  # IV, bVII
    assert likeliest(Key(4, "phrygian")) == {"F"}  # bII
    assert likeliest(Key(5, "lydian")) == {"G", "C"}  # II, V
    sevenths = {format_chord(c) for c, _ in palette(Key(7, "mixolydian"), sevenths=True)}
    assert "G7" in sevenths and "Gmaj7" not in sevenths  # the mixolydian tonic has its flat 7th


def test_a_dorian_tune_on_its_relative_majors_notes_is_not_in_doubt(tmp_path):
    # D dorian holds C major's notes: that is what dorian is, not a wrong key signature
    score = abc_tune(
        tmp_path, "Ddor", "D F A c | B G E C | D E F G | A2 D2 |\nc B A G | F E D C | D4 |"
    )
    assert key_doubt(score) is None


def test_a_tune_without_a_key_is_heard_in_the_key_it_ends_in():
    # B2 B | A2 G | F#2 E | F#2 A | B2 A | G2 F# | E2 F# | G3: it lingers on E minor's notes,
    # and the key profiles alone call it E minor; it ends on G, as a tune in G does
    line = [(71, 2), (71, 1), (69, 2), (67, 1), (66, 2), (64, 1), (66, 2), (69, 1), (71, 2)]
    line += [(69, 1), (67, 2), (66, 1), (64, 2), (66, 1), (67, 3)]
    onsets = np.cumsum([0] + [d for _, d in line[:-1]])
    score = tune(*[(t, d, p) for t, (p, d) in zip(onsets, line, strict=True)], meter=(3, 4))
    assert key_of(score) == Key(7)


def test_key_profiles_find_the_key_of_a_scale():
    weights = np.zeros(12)
    for pc, w in zip((7, 9, 11, 0, 2, 4, 6), (4, 1, 2, 1, 3, 1, 1.5), strict=True):
        weights[pc] = w
    assert estimate_key(weights) == Key(7)


@pytest.mark.parametrize(
    ("chart", "key"),
    [
        # the dominant side's notes outweighed the tonic (G major, E minor) before
        ("| Dm7 | G7 | Cmaj7 | A7 |", "C"),
        ("| Em7 | A7 | Dm7 | G7 | Cmaj7 | Cmaj7 |", "C"),
        ("| Bm | G | D | A |", "Bm"),  # opens on its tonic (was D)
        ("| F#m | D | A | E |", "F#m"),
        ("| C | Ab | Bb | C |", "C"),  # borrowed chords (was C minor)
        ("| Am | F | C | G |", "Am"),
        ("| C | Am | F | G |", "C"),
        ("| C7 | F7 | C7 | C7 | F7 | F7 | C7 | C7 | G7 | F7 | C7 | G7 |", "C"),  # I7 -> IV7
        ("| Dm7b5 | G7 | Cm | Cm |", "Cm"),
        ("| Am | G | F | E7 |", "Am"),
    ],
)
def test_a_chart_is_in_the_key_its_tonic_chord_names_in_any_key(chart, key):
    stated = Key.parse(key)
    for move in range(12):
        moved = transpose_chart(parse_chart(chart), move)
        spans = [(float(e - s), c) for bar in moved.bars for s, e, c in bar.spans()]
        assert key_of_chords(spans) == Key((stated.tonic + move) % 12, stated.mode), (chart, move)


def test_with_chords_keeps_given_chords_and_labels_bare_tunes():
    score = tune(*arpeggios([(0, 4, 7), (5, 9, 12), (7, 11, 14), (0, 4, 7)]))
    labelled = with_chords(score)
    assert labelled.chords and labelled.key == Key(0)
    assert with_chords(labelled) is labelled
    assert label_chords(make_score()) == []


def long_tune(bars: int):
    """A tune of `bars` 4/4 bars: a scale walk in quarters and halves, a note held over a bar
    line every eighth bar, and a 3/4 stretch in the middle (a meter change)."""
    spec, beat = [], 0.0
    for bar in range(bars):
        for k, length in enumerate((1, 1, 2) if bar % 3 else (1, 1, 1, 1)):
            held = 3 if bar % 8 == 7 and k == 2 else length
            spec.append((beat, held, 60 + (bar * 5 + k * 2) % 12))
            beat += length
    track = Track("Tune", program=73, role=Role.MELODY, notes=notes(*spec))
    return make_score(track).replace(
        time_signatures=(TimeSignature(0, 4, 4), TimeSignature(bars * 480 * 2, 3, 4))
    )


def test_each_slot_is_weighed_only_on_the_notes_that_sound_in_it(monkeypatch):
    # a 10,000-bar file stalled `bandmate train` for over ten minutes: every slot was weighed
    # against every note of the piece, so the work grew with the square of its length
    import bandmate.theory.harmony as harmony

    score = long_tune(240)
    real_fit, seen = harmony._fit, []

    def counting_fit(notes, slot, chords, score):
        seen.append((slot, list(notes)))
        return real_fit(notes, slot, chords, score)

    monkeypatch.setattr(harmony, "_fit", counting_fit)
    labels = label_chords(score)
    assert len(seen) == len(harmonic_slots(score, score.end_ticks))
    for slot, given in seen:
        assert all(n.onset_ticks < slot.end and n.end_ticks > slot.start for n in given)
    # each note is weighed in the slots it overlaps, no more (a held note in two or three)
    melody = melody_notes(score)
    assert sum(len(given) for _, given in seen) < 1.2 * len(melody)
    assert labels[0].onset_ticks == 0 and len(labels) >= 240


def test_notes_by_slot_finds_every_note_that_overlaps_a_slot_in_the_melodys_order():
    from bandmate.theory.harmony import notes_by_slot

    score = long_tune(40)
    melody = melody_notes(score)
    slots = harmonic_slots(score, score.end_ticks)
    for slot, given in zip(slots, notes_by_slot(melody, slots), strict=True):
        assert given == [n for n in melody if n.onset_ticks < slot.end and n.end_ticks > slot.start]
