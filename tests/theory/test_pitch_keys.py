"""Pitch names, MIDI names, keys and scales."""

from __future__ import annotations

import pytest

from bandmate.theory import (
    MODES,
    PITCH_CLASS_NAMES_FLAT,
    PITCH_CLASS_NAMES_SHARP,
    Key,
    midi_to_name,
    name_to_midi,
    parse_note_name,
    scale_pitches,
    spell_pitch_class,
)
from bandmate.theory.pitch import LETTERS


@pytest.mark.parametrize(
    ("name", "pc"),
    [
        ("C", 0), ("c", 0), ("c#", 1), ("Db", 1), ("B#", 0), ("Cb", 11), ("F##", 7),
        ("Ebb", 2), ("E♭", 3), ("F♯", 6), ("G𝄪", 9), ("B𝄫", 9), (" A ", 9), ("bb", 10),
    ],
)  # fmt: skip
def test_parse_note_name(name, pc):
    assert parse_note_name(name) == pc


@pytest.mark.parametrize("garbage", ["", "H", "C#b", "C###", "Cbbb", "X#", "C4", "do", "#"])
def test_parse_note_name_rejects_garbage(garbage):
    with pytest.raises(ValueError, match=r"not a note name|mix sharps and flats"):
        parse_note_name(garbage)


def test_spelling_tables_agree_with_parsing():
    for pc in range(12):
        assert parse_note_name(PITCH_CLASS_NAMES_SHARP[pc]) == pc
        assert parse_note_name(PITCH_CLASS_NAMES_FLAT[pc]) == pc
    assert spell_pitch_class(10) == "A#"
    assert spell_pitch_class(10, prefer_flats=True) == "Bb"
    assert spell_pitch_class(22) == "A#"  # any int is taken mod 12


@pytest.mark.parametrize(
    ("pitch", "name"), [(60, "C4"), (0, "C-1"), (127, "G9"), (69, "A4"), (58, "A#3"), (21, "A0")]
)
def test_midi_to_name(pitch, name):
    assert midi_to_name(pitch) == name
    assert name_to_midi(name) == pitch


def test_midi_names_round_trip_with_either_spelling():
    for pitch in range(128):
        assert name_to_midi(midi_to_name(pitch)) == pitch
        assert name_to_midi(midi_to_name(pitch, prefer_flats=True)) == pitch


@pytest.mark.parametrize(
    ("name", "pitch"), [("Bb3", 58), ("B#3", 60), ("Cb4", 59), ("c4", 60), ("E♭4", 63)]
)
def test_name_to_midi_reads_accidentals(name, pitch):
    assert name_to_midi(name) == pitch


@pytest.mark.parametrize("garbage", ["", "C", "H4", "C#b4", "Cb-1", "G#9", "C10", "4C"])
def test_name_to_midi_rejects_garbage_and_out_of_range(garbage):
    with pytest.raises(ValueError):
        name_to_midi(garbage)


@pytest.mark.parametrize("pitch", [-1, 128, 60.0, None])
def test_midi_to_name_rejects_out_of_range(pitch):
    with pytest.raises(ValueError):
        midi_to_name(pitch)


@pytest.mark.parametrize(
    ("text", "key", "short", "long"),
    [
        ("Bb", Key(10), "Bb", "Bb major"),
        ("Gm", Key(7, "minor"), "Gm", "G minor"),
        ("G minor", Key(7, "minor"), "Gm", "G minor"),
        ("F#m", Key(6, "minor"), "F#m", "F# minor"),
        ("D dorian", Key(2, "dorian"), "D dorian", "D dorian"),
        ("Ebmaj", Key(3), "Eb", "Eb major"),
        ("CM", Key(0), "C", "C major"),
        ("A aeolian", Key(9, "minor"), "Am", "A minor"),
        ("C Ionian", Key(0), "C", "C major"),
        ("g# harmonic  minor", Key(8, "harmonic minor"), "G# harmonic minor", "G# harmonic minor"),
        ("A#", Key(10), "Bb", "Bb major"),  # a key is a pitch class: spelled by its signature
    ],
)
def test_key_parse_and_names(text, key, short, long):
    parsed = Key.parse(text)
    assert parsed == key
    assert str(parsed) == short
    assert parsed.name == long


@pytest.mark.parametrize("garbage", ["", "H", "major", "C foo", "Cx", "C# dorianx", "Bbbb"])
def test_key_parse_rejects_garbage(garbage):
    with pytest.raises(ValueError, match="key"):
        Key.parse(garbage)


def test_every_key_round_trips_through_its_short_name():
    for tonic in range(12):
        for mode in MODES:
            key = Key(tonic, mode)
            assert Key.parse(str(key)) == key
            assert Key.parse(key.name) == key


def test_key_validates_itself():
    with pytest.raises(ValueError):
        Key(12)
    with pytest.raises(ValueError, match="unknown mode"):
        Key(0, "klingon")
    assert Key(0, "ionian") == Key(0, "major")


@pytest.mark.parametrize(
    ("key", "sharps"),
    [("C", 0), ("G", 1), ("F", -1), ("Bb", -2), ("E", 4), ("Db", -5), ("B", 5), ("Gb", -6),
     ("F#", 6), ("C#", 7), ("Cb", -7), ("A#", -2), ("Am", 0), ("Gm", -2), ("C#m", 4),
     ("G#m", 5), ("D#m", 6), ("Ebm", -6), ("A#m", 7), ("Abm", -7), ("D dorian", 0),
     ("E phrygian", 0), ("Bb mixolydian", -3), ("C harmonic minor", -3), ("A blues", 0)],
)  # fmt: skip
def test_key_signature(key, sharps):
    assert Key.parse(key).sharps == sharps
    assert Key.parse(key).prefers_flats == (sharps < 0)


def test_from_sharps_gives_the_circle_of_fifths():
    majors = [str(Key.from_sharps(s)) for s in range(-5, 6)]
    assert majors == ["Db", "Ab", "Eb", "Bb", "F", "C", "G", "D", "A", "E", "B"]
    assert Key.from_sharps(-3, minor=True) == Key.parse("Cm")
    for sharps in range(-7, 8):
        assert Key.from_sharps(sharps).sharps == sharps
        assert Key.from_sharps(sharps, minor=True).sharps == sharps
    assert [str(Key.from_sharps(s)) for s in (6, 7, -6, -7)] == ["F#", "C#", "Gb", "Cb"]


def test_a_key_keeps_the_spelling_it_was_given():
    # F# major was spelled Gb major (6 flats), so a chart or MIDI file in F# came out in Gb
    f_sharp, g_flat = Key.parse("F#"), Key.parse("Gb")
    assert (str(f_sharp), str(g_flat)) == ("F#", "Gb")
    assert f_sharp.spell(5) == "E#" and g_flat.spell(5) == "F"
    assert f_sharp == g_flat and hash(f_sharp) == hash(g_flat)  # the same key, enharmonically
    assert str(Key.parse(str(Key.parse("D#m")))) == "D#m"
    assert str(Key.parse("F#").relative) == "D#m" and str(Key.parse("Gb").relative) == "Ebm"
    assert str(Key(6)) == "Gb"  # a key built from a pitch class takes the fewest accidentals
    with pytest.raises(ValueError):
        Key.from_sharps(8)


def test_relative_keys_share_a_signature():
    assert Key.parse("C").relative == Key.parse("Am")
    assert Key.parse("Am").relative == Key.parse("C")
    assert Key.parse("D dorian").relative == Key.parse("C")
    for tonic in range(12):
        for mode in MODES:
            key = Key(tonic, mode)
            assert key.relative.sharps == key.sharps


def test_pitch_classes_contains_and_scale_pitches():
    g_major = Key.parse("G")
    assert g_major.pitch_classes() == (7, 9, 11, 0, 2, 4, 6)
    assert g_major.contains(6) and not g_major.contains(5)
    assert g_major.contains(18)  # F# an octave up
    assert scale_pitches(g_major, 60, 72) == [60, 62, 64, 66, 67, 69, 71, 72]
    assert scale_pitches(Key.parse("A minor pentatonic"), 57, 69) == [57, 60, 62, 64, 67, 69]
    assert scale_pitches(g_major, 70, 60) == []
    for mode, steps in MODES.items():
        assert steps[0] == 0 and list(steps) == sorted(set(steps)) and steps[-1] < 12, mode


@pytest.mark.parametrize(
    ("key", "pc", "name"),
    [("F", 10, "Bb"), ("D", 6, "F#"), ("C", 10, "Bb"), ("C", 6, "F#"), ("C", 3, "Eb"),
     ("C", 1, "Db"), ("Dm", 1, "C#"), ("Am", 8, "G#"), ("Am", 6, "F#"), ("Eb", 11, "Cb"),
     ("G# harmonic minor", 7, "F##"), ("C#m", 5, "E#"), ("Gb", 11, "Cb"), ("A blues", 3, "Eb"),
     ("C locrian", 6, "Gb")],
)  # fmt: skip
def test_spell_in_key(key, pc, name):
    assert Key.parse(key).spell(pc) == name


def test_seven_note_scales_use_each_letter_once():
    for tonic in range(12):
        for mode, steps in MODES.items():
            key = Key(tonic, mode)
            names = [key.spell(pc) for pc in key.pitch_classes()]
            assert [parse_note_name(n) for n in names] == list(key.pitch_classes())
            if len(steps) == 7:
                assert sorted(n[0] for n in names) == sorted(LETTERS), (key.name, names)


@pytest.mark.parametrize(
    ("text", "minor"),
    [
        ("Am", True), ("D dorian", True), ("E phrygian", True), ("B locrian", True),
        ("A harmonic minor", True), ("A minor pentatonic", True),
        ("C", False), ("G mixolydian", False), ("F lydian", False), ("C major pentatonic", False),
        ("A blues", False),  # the blue minor third over a dominant tonic: A7, not Am
    ],
)  # fmt: skip
def test_a_key_is_minor_by_its_tonic_triad(text, minor):
    assert Key.parse(text).is_minor == minor


def test_a_minor_key_uses_its_raised_sixth_and_seventh_as_its_own():
    assert Key.parse("Em").usual_pitch_classes() == {4, 6, 7, 9, 11, 0, 2, 1, 3}
    assert Key.parse("G").usual_pitch_classes() == set(Key.parse("G").pitch_classes())
    assert Key.parse("D dorian").usual_pitch_classes() == set(Key.parse("C").pitch_classes())
