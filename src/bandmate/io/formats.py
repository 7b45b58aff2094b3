"""Read and write a Score in whichever format a file's suffix names.

MIDI goes through mido (`io.midi`); MusicXML and ABC through music21 (`io.music21_io`), which is
imported only when such a file is read or written.
"""

from __future__ import annotations

import os
from pathlib import Path

from bandmate.errors import InputFileError, OutputError
from bandmate.score.model import Score

MIDI_SUFFIXES = (".mid", ".midi")
MUSICXML_SUFFIXES = (".musicxml", ".xml", ".mxl")
ABC_SUFFIXES = (".abc",)
READ_SUFFIXES = MIDI_SUFFIXES + MUSICXML_SUFFIXES + ABC_SUFFIXES
WRITE_SUFFIXES = MIDI_SUFFIXES + MUSICXML_SUFFIXES


def read_score(path: str | os.PathLike) -> Score:
    """Read a MIDI (.mid, .midi), MusicXML (.musicxml, .xml, .mxl) or ABC (.abc) file."""
    suffix = Path(path).suffix.lower()
    if suffix in MIDI_SUFFIXES:
        from bandmate.io.midi import read_midi

        return read_midi(path)
    if suffix in MUSICXML_SUFFIXES:
        from bandmate.io.music21_io import read_musicxml

        return read_musicxml(path)
    if suffix in ABC_SUFFIXES:
        from bandmate.io.music21_io import read_abc

        return read_abc(path)
    raise InputFileError(
        f"Cannot read {str(path)!r}: bandmate reads score files ending in "
        f"{', '.join(READ_SUFFIXES)}."
    )


def write_score(score: Score, path: str | os.PathLike, *, midi_type: int = 1) -> None:
    """Write `score` atomically as MIDI (.mid, .midi; type `midi_type`) or MusicXML (.musicxml,
    .xml, or compressed .mxl)."""
    check_writable_suffix(path)
    if Path(path).suffix.lower() in MIDI_SUFFIXES:
        from bandmate.io.midi import write_midi

        write_midi(score, path, midi_type=midi_type)
    else:
        from bandmate.io.music21_io import write_musicxml

        write_musicxml(score, path)


def check_writable_suffix(path: str | os.PathLike) -> None:
    """Raise the OutputError `write_score` would raise, before any work is done."""
    if Path(path).suffix.lower() not in WRITE_SUFFIXES:
        raise OutputError(
            f"Cannot write {str(path)!r}: bandmate writes score files ending in "
            f"{', '.join(WRITE_SUFFIXES)}."
        )
