"""Tags written into generated files: they read back, and nothing audible changes."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from bandmate.errors import InputFileError
from bandmate.io.midi import read_midi, write_midi
from bandmate.rights.tags import Tags, read_tags, write_tags

TAGS = Tags(
    title="Rainy Tuesday",
    artist="bandmate",
    comment="a backing track",
    copyright="© 2026 Ada",
    licence="CC-BY-4.0",
    date="2026-11-24",
)


def noise_file(path, rng, subtype="PCM_24"):
    """Half a second of stereo noise at 48 kHz: every sample differs, so any change shows."""
    sf.write(path, rng.uniform(-0.9, 0.9, (24_000, 2)), 48_000, subtype=subtype)
    return path


def samples(path) -> np.ndarray:
    dtype = "float32" if sf.info(path).subtype == "FLOAT" else "int32"
    return sf.read(path, dtype=dtype)[0]


@pytest.mark.parametrize(
    ("name", "subtype"),
    [("a.wav", "PCM_16"), ("a.wav", "PCM_24"), ("a.wav", "FLOAT"), ("a.flac", "PCM_24")],
)
def test_audio_tags_read_back_and_samples_are_unchanged(tmp_path, rng, name, subtype):
    path = noise_file(tmp_path / name, rng, subtype)
    before = samples(path)
    write_tags(path, TAGS)
    tags = read_tags(path)
    assert tags["title"] == "Rainy Tuesday"
    assert tags["artist"] == "bandmate"
    assert tags["copyright"] == "© 2026 Ada"
    assert tags["date"] == "2026-11-24"
    assert tags["software"].startswith("bandmate ")
    assert tags["comment"].splitlines()[:2] == [
        "a backing track",
        "digital source type: trainedAlgorithmicMedia",
    ]
    # WAV's INFO chunk has no licence field: it is a line of the comment there
    assert tags.get("license") == "CC-BY-4.0" or "licence: CC-BY-4.0" in tags["comment"]
    info = sf.info(path)
    expected = "FLAC" if name.endswith(".flac") else "WAV"
    assert (info.format, info.subtype, info.samplerate) == (expected, subtype, 48_000)
    np.testing.assert_array_equal(samples(path), before)


def test_tagging_again_replaces_the_tags(tmp_path, rng):
    path = noise_file(tmp_path / "a.flac", rng)
    write_tags(path, TAGS)
    write_tags(path, Tags(title="Second"))
    tags = read_tags(path)
    assert tags["title"] == "Second"
    assert "copyright" not in tags


def test_midi_tags_read_back_and_the_music_is_unchanged(tmp_path, small_song):
    path = tmp_path / "song.mid"
    write_midi(small_song, path)
    before = read_midi(path)
    write_tags(path, TAGS)
    write_tags(path, TAGS)  # twice: no duplicate events
    assert read_tags(path) == {
        "copyright": "© 2026 Ada",
        "title": "Rainy Tuesday",
        "artist": "bandmate",
        "comment": "a backing track",
        "licence": "CC-BY-4.0",
        "date": "2026-11-24",
        "software": TAGS.software,
        "source_type": "trainedAlgorithmicMedia",
    }
    # notes, chords, tempo and title read back as before: no tag is taken for a chord symbol
    assert read_midi(path) == before


def test_a_file_of_another_kind_is_refused(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    with pytest.raises(InputFileError, match=r"\.mid, \.wav, \.flac and MusicXML"):
        write_tags(path, TAGS)


def test_musicxml_tags_read_back_and_the_score_is_unchanged(tmp_path, small_song):
    from bandmate.io.music21_io import read_musicxml, write_musicxml

    for name in ("song.musicxml", "song.mxl"):
        path = tmp_path / name
        write_musicxml(small_song, path)
        before = read_musicxml(path)
        write_tags(path, TAGS)
        write_tags(path, TAGS)  # again: replaced, not doubled
        tags = read_tags(path)
        assert tags["title"] == TAGS.title and tags["source_type"] == TAGS.source_type
        assert tags["copyright"] == TAGS.copyright and tags["software"].startswith("bandmate")
        # the untitled score shows the title tag as its title (test_musicxml_title), which is
        # read back as the label it is, not as the piece's title: the score is as it was
        assert read_musicxml(path) == before
        assert path.read_bytes().count(b"bandmate:title") in (0, 1)  # .mxl is compressed


def test_a_missing_file_is_refused(tmp_path):
    with pytest.raises(InputFileError, match="does not exist"):
        write_tags(tmp_path / "gone.wav", TAGS)


def test_midi_tags_in_a_script_latin1_lacks_read_back_as_written(tmp_path, small_song):
    # the writer puts such text in UTF-8 (it was '???'); the tags were read back as Latin-1, so a
    # title of "ギター練習" came back as mojibake
    path = tmp_path / "song.mid"
    write_midi(small_song, path)
    write_tags(path, Tags(title="ギター練習", copyright="© Мария"))
    tags = read_tags(path)
    assert tags["title"] == "ギター練習" and tags["copyright"] == "© Мария"
