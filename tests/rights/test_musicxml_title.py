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
    # read back, the label is no title of the piece's: a job reading the file titles its own
    assert read_musicxml(out / "song.musicxml").title is None


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
        # the notes, parts and chords are as they were, and the label is not read as a title
        assert read_musicxml(path) == before


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


def test_a_job_reading_a_labelled_score_titles_its_output_as_its_own(tmp_path, small_song):
    """A melody that `bandmate melody` wrote (labelled "bandmate melody"), harmonized: the
    harmonization was titled "bandmate melody" in notation programs and in `bandmate info`."""
    melody = dataclasses.replace(small_song, tracks=small_song.tracks[:1])
    path = tmp_path / "melody.musicxml"
    write_musicxml(melody, path)
    write_tags(path, Tags(title="bandmate melody"))
    out = tmp_path / "harmonized.musicxml"
    result = run_cli("harmonize", path, "-o", out)
    assert result.returncode == 0, result.stderr
    assert titles(out) == ("bandmate harmonize", "bandmate harmonize")
