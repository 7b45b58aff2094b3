"""A generated MusicXML score shows a title in notation programs, as its MIDI does in players.

MuseScore titles a score from its `<work-title>` or `<movement-title>`; an untitled chart's
MusicXML had both empty, while the MIDI beside it was tagged `title: bandmate backing`.
"""

from __future__ import annotations

import dataclasses
import zipfile

from bandmate.io.music21_io import read_musicxml, write_musicxml
from bandmate.rights.tags import Tags, read_tags, write_tags
from tests.builders import run_cli


def titles(path) -> tuple[str, str]:
    """The texts of the score's work title and movement title, as a notation program reads them."""
    import xml.etree.ElementTree as ET

    if path.suffix == ".mxl":
        with zipfile.ZipFile(path) as archive:
            container = ET.fromstring(archive.read("META-INF/container.xml"))
            name = container.find("rootfiles/rootfile").get("full-path")
            root = ET.fromstring(archive.read(name))
    else:
        root = ET.fromstring(path.read_bytes())
    return (
        root.findtext("work/work-title", default=""),
        root.findtext("movement-title", default=""),
    )


def test_an_untitled_chart_s_score_carries_the_title_its_midi_is_tagged_with(tmp_path):
    out = tmp_path / "out"
    result = run_cli("backing", "| C | Am | F | G7 |", "--style", "rock", "--midi-only", "-o", out)
    assert result.returncode == 0, result.stderr
    title = read_tags(out / "song.mid")["title"]
    assert title == "bandmate backing"
    assert titles(out / "song.musicxml") == (title, title)
    assert read_musicxml(out / "song.musicxml").title == title


def test_an_untitled_score_takes_the_title_tag_and_a_new_tag_replaces_it(tmp_path, small_song):
    assert not small_song.title
    for name in ("song.musicxml", "song.mxl"):
        path = tmp_path / name
        write_musicxml(small_song, path)
        before = read_musicxml(path)
        write_tags(path, Tags(title="bandmate melody"))
        assert titles(path) == ("bandmate melody", "bandmate melody")
        write_tags(path, Tags(title="bandmate harmonize"))  # tagged again: ours is replaced
        assert titles(path) == ("bandmate harmonize", "bandmate harmonize")
        assert read_musicxml(path).title == "bandmate harmonize"
        # the notes, parts and chords are as they were
        assert dataclasses.replace(read_musicxml(path), title=None) == before


def test_a_score_s_own_title_is_kept(tmp_path, small_song):
    song = dataclasses.replace(small_song, title="Rainy Tuesday")
    for name in ("song.musicxml", "song.mxl"):
        path = tmp_path / name
        write_musicxml(song, path)
        before = titles(path)
        write_tags(path, Tags(title="bandmate backing"))
        write_tags(path, Tags(title="bandmate convert"))
        assert titles(path) == before
        assert read_musicxml(path).title == "Rainy Tuesday"
