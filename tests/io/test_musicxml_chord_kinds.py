"""Chord symbols in MusicXML carry a `kind` (and `degree`s) that notation programs read as notes.

MuseScore, Finale and Dorico build a chord from its `<kind>` and `<degree>` elements, so every
quality bandmate knows has to be written as the MusicXML kind that is right for it, with the
degrees that add, take away or alter its notes; a 7b9 written as `major` shows as a major triad.
"""

import xml.etree.ElementTree as ET

import pytest
from music21 import converter, harmony

from bandmate.io.music21_io import musicxml_bytes, read_musicxml
from bandmate.score import ChordEvent
from bandmate.theory.chords import QUALITIES, ChordSymbol, parse_chord
from tests.builders import make_score, piano

# The kinds MusicXML defines (kind-value in the MusicXML 4.0 schema).
MUSICXML_KINDS = {
    "major", "minor", "augmented", "diminished", "dominant", "major-seventh", "minor-seventh",
    "diminished-seventh", "augmented-seventh", "half-diminished", "major-minor", "major-sixth",
    "minor-sixth", "dominant-ninth", "major-ninth", "minor-ninth", "dominant-11th", "major-11th",
    "minor-11th", "dominant-13th", "major-13th", "minor-13th", "suspended-second",
    "suspended-fourth", "Neapolitan", "Italian", "French", "German", "pedal", "power", "Tristan",
    "other", "none",
}  # fmt: skip
_THIRTEENTHS = {"dominant-13th", "major-13th", "minor-13th"}


def _written(symbols: list[ChordSymbol]) -> bytes:
    score = make_score(
        piano((0, len(symbols) * 2, 60)),
        chords=tuple(ChordEvent(i * 960, s) for i, s in enumerate(symbols)),
    )
    return musicxml_bytes(score)


@pytest.fixture(scope="module")
def every_quality():
    """(symbol, <harmony> element, music21's reading of it) for every quality, on root Eb."""
    symbols = [ChordSymbol(3, "Eb", quality) for quality in QUALITIES]
    data = _written(symbols)
    elements = ET.fromstring(data).findall(".//harmony")
    read = list(converter.parse(data, format="musicxml").recurse().getElementsByClass("Harmony"))
    assert len(elements) == len(read) == len(symbols)
    return list(zip(symbols, elements, read, strict=True))


def test_every_quality_has_a_musicxml_kind_and_no_other_is_written_major(every_quality):
    for symbol, element, _ in every_quality:
        kind = element.find("kind")
        assert kind.text in MUSICXML_KINDS, symbol
        assert kind.get("text", "") == ("" if symbol.quality == "maj" else symbol.quality)
        intervals = set(symbol.intervals())
        if kind.text == "major":  # a major triad, perhaps with a note added; no 6th or 7th
            assert {4} <= intervals and not intervals & {9, 10, 11}, symbol


def test_every_quality_is_written_with_its_own_notes(every_quality):
    """What a notation program reads from kind + degrees is the chord's notes (a 13th kind may
    keep the natural 11th it has by definition, as notation programs write a 13 chord)."""
    for symbol, element, read in every_quality:
        expected = set(symbol.pitch_classes())
        got = {p.pitchClass for p in read.pitches}
        eleventh = (symbol.root + 5) % 12
        if element.find("kind").text in _THIRTEENTHS and eleventh not in expected:
            got.discard(eleventh)
        assert got == expected, f"{symbol}: {element.find('kind').text} gives {sorted(got)}"


def test_degrees_are_not_printed_twice(every_quality):
    """The kind text ("7b9") already spells the degrees, so they are written print-object="no"."""
    degrees = [d for _, element, _ in every_quality for d in element.findall("degree")]
    assert degrees
    assert all(d.get("print-object") == "no" for d in degrees)


def test_altered_dominants_are_dominants():
    symbols = [parse_chord(s) for s in ("G7b9", "G7#9", "G7alt", "G7#11", "G9b13", "G13#9")]
    kinds = [h.find("kind").text for h in ET.fromstring(_written(symbols)).findall(".//harmony")]
    assert kinds == [
        "dominant",
        "dominant",
        "dominant",
        "dominant",
        "dominant-ninth",
        "dominant-13th",
    ]
    read = converter.parse(_written([parse_chord("Bm9b5")]), format="musicxml")
    (chord,) = read.recurse().getElementsByClass(harmony.ChordSymbol)
    assert chord.chordKind == "half-diminished-seventh"


def test_every_quality_reads_back_as_written(tmp_path):
    symbols = [
        ChordSymbol(root, name, quality)
        for root, name in ((0, "C"), (6, "F#"), (10, "Bb"))
        for quality in QUALITIES
    ]
    symbols += [parse_chord("C7b9/E"), parse_chord("Bbm9b5/Ab"), parse_chord("C(b5)/Gb")]
    path = tmp_path / "chords.musicxml"
    path.write_bytes(_written(symbols))
    assert [c.symbol for c in read_musicxml(path).chords] == symbols
