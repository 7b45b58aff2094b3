"""Chord symbols: spellings, notes, tensions, transposition, errors, round trips."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bandmate.errors import ChordSymbolError, UserError
from bandmate.theory import (
    NO_CHORD,
    PITCH_CLASS_NAMES_FLAT,
    PITCH_CLASS_NAMES_SHARP,
    QUALITIES,
    QUALITY_ALIASES,
    ChordSymbol,
    format_chord,
    parse_chord,
)

# Every group of spellings must read as the first one.
SAME_CHORDS = [
    ["Cmaj7", "CM7", "CΔ7", "CΔ", "C^7", "Cma7", "CMaj7", "C^"],
    ["Cm7", "C-7", "Cmin7", "Cmi7"],
    ["Cm7b5", "Cø7", "Cø", "C-7b5", "Cmin7(b5)", "Cm7(b5)", "C-7-5"],
    ["Cdim", "C°", "Co"],
    ["Cdim7", "C°7", "Co7"],
    ["Caug", "C+", "C(#5)"],
    ["Cm", "Cmin", "C-", "Cmi"],
    ["C7b9", "C7(b9)", "C7-9"],
    ["Csus4", "Csus"],
    ["C6/9", "C69", "C6add9"],
    ["CmMaj7", "Cm(maj7)", "C-Δ7", "CmM7", "Cminmaj7", "C-maj7", "CmΔ"],
    ["C", "CM", "Cmaj"],
    ["C7#5", "Caug7", "C+7", "C7(#5)", "C7+5", "C7+"],
    ["C7sus4", "C7sus"],
    ["C9sus4", "C9sus"],
    ["C7#9b13", "C7(b13,#9)", "C7b13#9", "C7(#9)(b13)"],
    ["Cmaj7#11", "CΔ#11", "Cmaj7(#11)", "CM7#11"],
    ["Cmaj7#5", "C+M7", "Caugmaj7", "C+Δ"],
    ["Cadd9", "C(add9)", "Cadd2"],
    ["Cmadd9", "Cm(add9)", "C-add9"],
    ["C7alt", "Calt"],
    ["Bbmaj7", "B♭maj7", "BbΔ7"],
    ["F#m7", "F♯m7", "F#-7"],
    ["N.C.", "NC", "N.C", "n.c.", " N.C. "],
    # jazz, pop and Brazilian spellings that were refused as unknown qualities
    ["C13b9#11", "C13#11b9", "C13(b9,#11)"],
    ["C7sus4b9", "C7susb9", "C7sus4(b9)", "C7sus(b9)"],
    ["Cm11b5", "C-11b5", "Cm11(b5)"],
    ["Cm9b5", "Cm9(b5)"],
    ["C9b5", "C9(b5)"],
    ["Cmaj7b5", "CΔ7b5", "Cmaj7(b5)"],
    ["CdimMaj7", "Cdim(maj7)", "Co(maj7)", "C°maj7"],
    ["C(b5)", "C(♭5)"],
    ["Cm11", "Cm7(11)", "Cm7add11"],
    ["Cmaj7", "C7M"],
    ["Cadd9", "C2"],
    ["Dsus4", "D4"],
    # jazz and pop spellings that charts use and that were refused as unknown qualities
    ["C7sus4b9", "C7b9sus4", "C7b9sus", "C7(b9)sus4"],
    ["Csus4add9", "Csus4(add9)", "Csusadd9"],
    ["C7b5#9", "C7#9b5", "C7(b5,#9)"],
    ["C7b5b9", "C7(b5)(b9)"],
    ["C7#9#11", "C7#11#9", "C7(#9,#11)"],
    ["C9b13", "C9(b13)"],
    ["C13#9", "C13(#9)"],
    ["Cmaj7sus4", "CΔ7sus4"],
    ["Cmadd11", "Cm(add11)"],
    ["C9", "C7(9)"],
    ["C13", "C7(13)"],
    ["Cm9", "Cm7(9)"],
    ["Cmaj9", "Cmaj7(9)"],
    ["Cmaj13", "Cmaj7(13)"],
    ["C9sus4", "C7sus4(9)"],
    ["Cm9b5", "Cø9"],
    ["Cm11b5", "Cø11"],
    # the signs as a Mac, a word processor or a Brazilian keyboard types them
    ["Cmaj7", "C∆7", "C∆", "C△7"],
    ["Cm7b5", "C∅7", "C∅"],
    ["Cdim7", "Cº7", "C˚7"],
    ["Cdim", "Cº"],
    ["Cm7", "C–7", "C−7"],
    ["C7b9", "C7(–9)"],
    ["CmMaj7", "C−Δ7"],
]


@pytest.mark.parametrize("spellings", SAME_CHORDS, ids=lambda group: group[0])
def test_spellings_normalise_to_one_chord(spellings):
    canonical = parse_chord(spellings[0])
    assert str(canonical) == spellings[0].strip()
    for spelling in spellings[1:]:
        assert parse_chord(spelling) == canonical, spelling


# Intervals above the root that each quality must have (a musician's reading of the symbol).
EXPECTED_INTERVALS = {
    "maj": (0, 4, 7), "m": (0, 3, 7), "dim": (0, 3, 6), "aug": (0, 4, 8), "sus2": (0, 2, 7),
    "sus4": (0, 5, 7), "5": (0, 7), "6": (0, 4, 7, 9), "m6": (0, 3, 7, 9),
    "6/9": (0, 4, 7, 9, 14), "7": (0, 4, 7, 10), "maj7": (0, 4, 7, 11), "m7": (0, 3, 7, 10),
    "mMaj7": (0, 3, 7, 11), "m7b5": (0, 3, 6, 10), "dim7": (0, 3, 6, 9),
    "7sus4": (0, 5, 7, 10), "9": (0, 4, 7, 10, 14), "maj9": (0, 4, 7, 11, 14),
    "m9": (0, 3, 7, 10, 14), "m11": (0, 3, 7, 10, 14, 17), "13": (0, 4, 7, 10, 14, 21),
    "7b9": (0, 4, 7, 10, 13), "7#9": (0, 4, 7, 10, 15), "7#11": (0, 4, 7, 10, 18),
    "7b13": (0, 4, 7, 10, 20), "add9": (0, 4, 7, 14), "madd9": (0, 3, 7, 14),
    "7#5": (0, 4, 8, 10), "7b5": (0, 4, 6, 10), "maj7#11": (0, 4, 7, 11, 18),
    "7b9b13": (0, 4, 7, 10, 13, 20), "7#9b13": (0, 4, 7, 10, 15, 20),
    "7alt": (0, 4, 10, 13, 15, 20), "11": (0, 5, 7, 10, 14), "9sus4": (0, 5, 7, 10, 14),
    "13sus4": (0, 5, 7, 10, 14, 21), "m13": (0, 3, 7, 10, 14, 21), "maj13": (0, 4, 7, 11, 14, 21),
    "13b9#11": (0, 4, 7, 10, 13, 18, 21), "7sus4b9": (0, 5, 7, 10, 13),
    "m11b5": (0, 3, 6, 10, 14, 17), "m9b5": (0, 3, 6, 10, 14), "9b5": (0, 4, 6, 10, 14),
    "maj7b5": (0, 4, 6, 11), "dimMaj7": (0, 3, 6, 11), "(b5)": (0, 4, 6),
    "sus4add9": (0, 5, 7, 14), "madd11": (0, 3, 7, 17), "maj7sus4": (0, 5, 7, 11),
    "9b13": (0, 4, 7, 10, 14, 20), "13#9": (0, 4, 7, 10, 15, 21), "7b5b9": (0, 4, 6, 10, 13),
    "7b5#9": (0, 4, 6, 10, 15), "7#9#11": (0, 4, 7, 10, 15, 18),
}  # fmt: skip


@pytest.mark.parametrize("quality", sorted(EXPECTED_INTERVALS))
@pytest.mark.parametrize("root_name", ["C", "F#", "Bb", "E"])
def test_quality_pitch_classes(quality, root_name):
    suffix = "" if quality == "maj" else quality
    chord = parse_chord(root_name + suffix)
    assert chord.quality == quality
    assert chord.intervals() == EXPECTED_INTERVALS[quality]
    expected = tuple(dict.fromkeys((chord.root + i) % 12 for i in EXPECTED_INTERVALS[quality]))
    assert chord.pitch_classes() == expected
    assert chord.pitch_classes()[0] == chord.root


def test_a_few_chords_by_ear():
    assert parse_chord("Cm7").pitch_classes() == (0, 3, 7, 10)
    assert parse_chord("F#m7b5").pitch_classes() == (6, 9, 0, 4)
    assert parse_chord("Bb7").pitch_classes() == (10, 2, 5, 8)
    assert parse_chord("Ebmaj7").pitch_classes() == (3, 7, 10, 2)
    assert parse_chord("G13").pitch_classes() == (7, 11, 2, 5, 9, 4)


def test_slash_chords():
    c_over_e = parse_chord("C/E")
    assert (c_over_e.root, c_over_e.bass, c_over_e.bass_name) == (0, 4, "E")
    assert c_over_e.pitch_classes() == (0, 4, 7)  # E is already a chord tone
    assert c_over_e.bass_pc == 4
    assert parse_chord("C/D").pitch_classes() == (2, 0, 4, 7)  # a foreign bass goes first
    assert parse_chord("Am7/G").pitch_classes() == (9, 0, 4, 7)
    assert str(parse_chord("Bbmaj7/D")) == "Bbmaj7/D"
    assert parse_chord("D/F♯").bass_name == "F#"
    assert parse_chord("C").bass_pc == 0
    for bass in range(12):
        for name in (PITCH_CLASS_NAMES_SHARP[bass], PITCH_CLASS_NAMES_FLAT[bass]):
            assert parse_chord(f"G7/{name}").bass == bass


def test_six_nine_is_not_a_slash_chord():
    six_nine = parse_chord("C6/9")
    assert (six_nine.quality, six_nine.bass) == ("6/9", None)
    over_e = parse_chord("C6/9/E")
    assert (over_e.quality, over_e.bass_name) == ("6/9", "E")
    assert str(over_e) == "C6/9/E"
    assert parse_chord("Cm6/9").quality == "m6/9"


def test_no_chord():
    assert parse_chord("N.C.") is NO_CHORD
    assert NO_CHORD.is_no_chord and not parse_chord("C").is_no_chord
    assert format_chord(NO_CHORD) == str(NO_CHORD) == "N.C."
    assert NO_CHORD.pitch_classes() == NO_CHORD.chord_tones() == NO_CHORD.tensions() == ()
    assert NO_CHORD.transpose(5) == NO_CHORD


@pytest.mark.parametrize(
    ("symbol", "explanation"),
    [
        ("H7", "root note A to G; H is the German name for B"),
        ("Cmaj77", "'maj77' is not a chord quality"),
        ("", "empty"),
        ("   ", "empty"),
        ("C/X", "bass after '/' must be a note name"),
        ("C/e", "capital letter"),
        ("am7", "capital letter, A rather than a"),
        ("C7(b9", "parentheses do not pair up"),
        ("C,7", "commas go inside them"),
        ("Cm((maj7))", "parentheses do not pair up"),
        ("Cfoo", "'foo' is not a chord quality"),
        ("C7b9b9", "not a chord quality"),
        ("7", "root note A to G"),
        ("C maj7", "not a chord quality"),
    ],
)
def test_bad_symbols_raise_a_readable_error(symbol, explanation):
    with pytest.raises(ChordSymbolError) as caught:
        parse_chord(symbol)
    message = str(caught.value)
    assert explanation in message
    assert repr(symbol) in message or repr(symbol.strip()) in message
    assert "write it like" in message  # tells the person what to do
    assert isinstance(caught.value, UserError)


def test_guide_tones_and_tensions():
    cmaj7 = parse_chord("Cmaj7")
    assert cmaj7.chord_tones() == (0, 4, 7, 11)
    assert cmaj7.tensions() == (2, 6, 9)  # 9, #11, 13
    assert parse_chord("Dm7").tensions() == (4, 7, 11)  # 9, 11, 13
    assert parse_chord("G7").tensions() == (9, 4)  # 9, 13
    assert parse_chord("G7b9").tensions() == (8, 4)  # b9 replaces 9; 13 stays
    assert parse_chord("G7alt").chord_tones() == (7, 11, 5)  # no 5th on an altered dominant
    assert parse_chord("G7alt").tensions() == (8, 10, 1, 3)  # b9, #9, #11, b13
    assert parse_chord("C13").chord_tones() == (0, 4, 7, 10)
    assert parse_chord("C6/9").chord_tones() == (0, 4, 7, 9)
    assert parse_chord("C11").chord_tones() == (0, 5, 7, 10)  # 11 is played as 9sus4
    assert parse_chord("Bm7b5").tensions() == (1, 4, 7)  # 9, 11, b13


def test_quality_table_is_well_formed():
    for token, quality in QUALITIES.items():
        assert quality.intervals[0] == 0, token
        assert list(quality.intervals) == sorted(set(quality.intervals)), token
        assert all(13 <= t <= 23 for t in quality.tensions), token
        assert parse_chord("C" + ("" if token == "maj" else token)).quality == token
    assert set(QUALITY_ALIASES.values()) <= set(QUALITIES)


@pytest.mark.parametrize(
    ("symbol", "semitones", "prefer_flats", "expected"),
    [
        ("C7", 2, None, "D7"),
        ("C", 1, None, "Db"),
        ("C", 6, None, "F#"),
        ("F#m7", 1, None, "Gm7"),
        ("F#m7", 2, None, "G#m7"),
        ("Bbmaj7", 1, None, "Bmaj7"),
        ("Bbmaj7", 3, None, "Dbmaj7"),
        ("C/E", 2, None, "D/F#"),
        ("G/B", 1, None, "Ab/C"),
        ("C", 1, False, "C#"),
        ("Am7/G", -2, True, "Gm7/F"),
        ("Eb7", -12, None, "Eb7"),
    ],
)
def test_transpose(symbol, semitones, prefer_flats, expected):
    assert str(parse_chord(symbol).transpose(semitones, prefer_flats)) == expected


def test_chord_symbol_validates_itself():
    with pytest.raises(ValueError):
        ChordSymbol(1, "C", "maj")
    with pytest.raises(ValueError):
        ChordSymbol(0, "C", "maj77")
    with pytest.raises(ValueError):
        ChordSymbol(0, "C", "maj", bass=4)
    with pytest.raises(ValueError):
        ChordSymbol(0, "", "N.C.", bass=4, bass_name="E")


ROOT_NAMES = sorted(
    set(PITCH_CLASS_NAMES_SHARP + PITCH_CLASS_NAMES_FLAT) | {"Cb", "E#", "B#", "Fb"}
)
note_names = st.sampled_from(ROOT_NAMES)


@st.composite
def chord_symbols(draw):
    if draw(st.integers(0, 30)) == 0:
        return NO_CHORD
    root_name = draw(note_names)
    quality = draw(st.sampled_from(sorted(QUALITIES)))
    bass_name = draw(st.none() | note_names)
    bass = None if bass_name is None else parse_chord(bass_name).root
    return ChordSymbol(parse_chord(root_name).root, root_name, quality, bass, bass_name)


@settings(max_examples=300)
@given(chord_symbols())
def test_format_then_parse_is_identity(chord):
    text = format_chord(chord)
    assert str(chord) == text
    assert parse_chord(text) == chord
    assert parse_chord(f"  {text}\n") == chord


@settings(max_examples=200)
@given(chord_symbols(), st.integers(-24, 24), st.sampled_from([None, True, False]))
def test_transposition_moves_every_pitch_class(chord, semitones, prefer_flats):
    moved = chord.transpose(semitones, prefer_flats)
    assert moved.pitch_classes() == tuple((pc + semitones) % 12 for pc in chord.pitch_classes())
    assert moved.quality == chord.quality
    assert chord.transpose(12).pitch_classes() == chord.pitch_classes()
    assert moved.transpose(-semitones).pitch_classes() == chord.pitch_classes()
    assert parse_chord(str(moved)) == moved


@settings(max_examples=200)
@given(chord_symbols())
def test_tones_and_tensions_are_disjoint_pitch_classes(chord):
    tones, tensions = set(chord.chord_tones()), set(chord.tensions())
    assert not tones & tensions
    assert tones <= set(chord.pitch_classes())
    if not chord.is_no_chord:
        assert chord.chord_tones()[0] == chord.root
        assert chord.pitch_classes()[0] in (chord.root, chord.bass)


@pytest.mark.parametrize(
    ("symbol", "semitones", "flats", "moved"),
    [
        ("E/G#", -2, True, "D/F#"),  # the bass stays the chord's 3rd: F#, not Gb
        ("E/G#", 5, True, "A/C#"),
        ("D/F#", 1, True, "Eb/G"),
        ("Am7/G", 1, True, "Bbm7/Ab"),
        ("C/D", 3, True, "Eb/F"),  # a bass outside the chord keeps its distance too
        ("C/E", 1, False, "C#/F"),  # not E#, B#, Fb or Cb: those read as the white key
        ("G7/B", 1, False, "G#7/C"),
    ],
)
def test_a_slash_bass_is_spelled_from_its_root(symbol, semitones, flats, moved):
    assert str(parse_chord(symbol).transpose(semitones, prefer_flats=flats)) == moved
