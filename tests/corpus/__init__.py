"""Tests of `bandmate.corpus`; `make_music_folder` builds the user folder they share."""

from __future__ import annotations

from pathlib import Path

from bandmate.io.midi import midi_bytes, write_midi
from tests.builders import bass, make_score, piano

ABC_BOOK = "X:1\nT:One\nM:4/4\nL:1/4\nK:C\nCDEF|G4|\n\nX:2\nT:Two\nM:4/4\nL:1/4\nK:G\nGABc|d4|\n"
GOOD_FILES = ("good.mid", "book.abc", "sub/deeper/other.MID")
UNREADABLE_FILES = ("text.mid", "truncated.mid", "empty.mid")


def make_music_folder(folder: Path) -> Path:
    """A user's folder: three readable files, three unreadable ones, and files to ignore.

    Readable: a MIDI file, an ABC book of two tunes, a MIDI file two folders down with an
    upper-case suffix. Unreadable: a .mid that is text, a MIDI file cut in half, a MIDI file
    without notes. Ignored: a notes file, a hidden macOS resource fork.
    """
    (folder / "sub" / "deeper").mkdir(parents=True)
    song = make_score(piano((0, 1, 60), (1, 1, 64), (2, 2, 67)), bass((0, 4, 36)))
    write_midi(song, folder / "good.mid")
    write_midi(make_score(piano((0, 2, 62))), folder / "sub" / "deeper" / "other.MID")
    (folder / "book.abc").write_text(ABC_BOOK)
    (folder / "text.mid").write_text("these are my lyrics, not a MIDI file\n")
    data = midi_bytes(song)
    (folder / "truncated.mid").write_bytes(data[: len(data) // 2])
    write_midi(make_score(), folder / "empty.mid")
    (folder / "notes.txt").write_text("not music, and not a music suffix\n")
    (folder / "._good.mid").write_bytes(b"\x00\x05\x16\x07 AppleDouble")
    return folder


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under `folder` with its bytes and modification time, to show nothing changed."""
    return {
        p.relative_to(folder).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }
