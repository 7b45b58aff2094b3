"""Read and write a Score in whichever format a file's suffix names.

MIDI goes through mido (`io.midi`); MusicXML and ABC through music21 (`io.music21_io`), which is
imported only when such a file is read or written.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from bandmate.errors import InputFileError, OutputError
from bandmate.score.model import Score

MIDI_SUFFIXES = (".mid", ".midi")
# read too: karaoke files (a Standard MIDI File with lyrics) and Windows' RIFF MIDI
MIDI_READ_SUFFIXES = (*MIDI_SUFFIXES, ".kar", ".rmi")
MUSICXML_SUFFIXES = (".musicxml", ".xml", ".mxl")
ABC_SUFFIXES = (".abc",)
READ_SUFFIXES = MIDI_READ_SUFFIXES + MUSICXML_SUFFIXES + ABC_SUFFIXES
WRITE_SUFFIXES = MIDI_SUFFIXES + MUSICXML_SUFFIXES


def read_score(path: str | os.PathLike) -> Score:
    """Read a MIDI (.mid, .midi, .kar, .rmi), MusicXML (.musicxml, .xml, .mxl) or ABC (.abc)
    file.

    A file whose content is plainly another of these formats than its suffix says (a MIDI file
    saved as .abc, MusicXML saved as .mid) is a clear error that says how to rename it.
    """
    suffix = Path(path).suffix.lower()
    if suffix in READ_SUFFIXES and Path(path).is_file():
        with open(path, "rb") as f:
            check_content(f.read(4096), str(path))
    if suffix in MIDI_READ_SUFFIXES:
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


#: what each kind of content is called, and the suffix a file of it should have
_KINDS = {
    "midi": ("MIDI", MIDI_READ_SUFFIXES),
    "musicxml": ("MusicXML", MUSICXML_SUFFIXES),
    "abc": ("ABC", ABC_SUFFIXES),
}


def content_kind(head: bytes) -> str | None:
    """ "midi", "musicxml" or "abc" for the first bytes of a file that is plainly one of them
    ("musicxml" for a compressed .mxl too), else None (the reader of its suffix then decides)."""
    if head[:4] == b"MThd" or (head[:4] == b"RIFF" and head[8:12] == b"RMID"):
        return "midi"
    if head[:4] == b"PK\x03\x04":
        return "musicxml" if b"META-INF/container.xml" in head or b".musicxml" in head else None
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text[:1] == b"<":
        return "musicxml" if b"<score-partwise" in head or b"<score-timewise" in head else None
    if re.search(rb"(?m)^X:\s*\d", head) and re.search(rb"(?m)^K:", head):
        return "abc"
    return None


def check_content(head: bytes, name: str) -> None:
    """Raise an InputFileError when a file's first bytes `head` are plainly another format than
    its name's suffix says."""
    suffix = Path(name).suffix.lower()
    found = content_kind(head)
    expected = next((k for k, (_, suffixes) in _KINDS.items() if suffix in suffixes), None)
    if found is None or expected is None or found == expected:
        return
    label, suffixes = _KINDS[found]
    rename_to = ".mxl" if head[:4] == b"PK\x03\x04" else suffixes[0]
    raise InputFileError(
        f"{name!r} holds {label}, not {_KINDS[expected][0]} as its name says; rename it to end "
        f"in {rename_to} and try again."
    )


def check_writable_suffix(path: str | os.PathLike) -> None:
    """Raise the OutputError `write_score` would raise, before any work is done."""
    if Path(path).suffix.lower() not in WRITE_SUFFIXES:
        raise OutputError(
            f"Cannot write {str(path)!r}: bandmate writes score files ending in "
            f"{', '.join(WRITE_SUFFIXES)}."
        )
