"""`bandmate show` and `bandmate convert`, run as a user runs them, good inputs and bad."""

import pytest

from bandmate.io.formats import read_score
from bandmate.io.midi import write_midi
from bandmate.score import ChordEvent, Score, Section
from bandmate.theory.chords import parse_chord
from tests.builders import assert_user_error, bass, make_score, piano, run_cli, sha256


def notes_of(score: Score) -> list[list[tuple[int, int, int]]]:
    """(onset, duration, pitch) of every note, track by track."""
    return [[(n.onset_ticks, n.duration_ticks, n.pitch) for n in t.notes] for t in score.tracks]


ABC_TUNE = "X:1\nT:Tiny\nM:4/4\nL:1/4\nK:D\nD E F G | A4 |\n"


@pytest.fixture
def song_mid(tmp_path):
    path = tmp_path / "song.mid"
    score = make_score(
        piano((0, 4, 60), (0, 4, 64), (4, 4, 65), (4, 4, 69)),
        bass((0, 2, 36), (2, 2, 43), (4, 4, 41)),
        chords=(ChordEvent(0, parse_chord("C")), ChordEvent(1920, parse_chord("F"))),
        sections=(Section(0, "Verse"),),
        title="Song",
    )
    write_midi(score, path)
    return path


# --- show --------------------------------------------------------------------------------------
def test_show_draws_a_file(song_mid, tmp_path):
    out = tmp_path / "roll.png"
    result = run_cli("show", song_mid, "-o", out)
    assert result.returncode == 0, result.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_show_draws_a_corpus_piece(tmp_path):
    out = tmp_path / "bach.png"
    result = run_cli("show", "--corpus", "bach/bwv66.6", "-o", out)
    assert result.returncode == 0, result.stderr
    assert out.stat().st_size > 10_000


def test_show_lists_corpus_names():
    result = run_cli("show", "--list-corpus", "bach/bwv66")
    assert result.returncode == 0, result.stderr
    assert "bach/bwv66.6" in result.stdout.split()


def test_show_refuses_an_empty_score(tmp_path):
    empty = tmp_path / "empty.mid"
    write_midi(Score(), empty)
    before = sha256(empty)
    result = run_cli("show", empty, "-o", tmp_path / "roll.png")
    assert_user_error(result, "no notes")
    assert sha256(empty) == before
    assert not (tmp_path / "roll.png").exists()


def test_show_refuses_an_unknown_corpus_name(tmp_path):
    result = run_cli("show", "--corpus", "nobody/nothing", "-o", tmp_path / "roll.png")
    assert_user_error(result, "nobody/nothing", "--list-corpus")


def test_show_wants_a_png(song_mid, tmp_path):
    assert_user_error(run_cli("show", song_mid, "-o", tmp_path / "roll.jpg"), ".png")


def test_show_wants_an_output(song_mid):
    assert_user_error(run_cli("show", song_mid), "-o")


# --- convert -----------------------------------------------------------------------------------
def test_convert_midi_to_musicxml_and_back(song_mid, tmp_path):
    xml = tmp_path / "song.musicxml"
    result = run_cli("convert", song_mid, "-o", xml)
    assert result.returncode == 0, result.stderr
    back = tmp_path / "back.mid"
    result = run_cli("convert", xml, "-o", back, "--midi-type", "0")
    assert result.returncode == 0, result.stderr
    original, converted = read_score(song_mid), read_score(back)
    assert notes_of(converted) == notes_of(original)
    assert [str(c.symbol) for c in converted.chords] == ["C", "F"]


def test_convert_abc_and_corpus(tmp_path):
    abc = tmp_path / "tiny.abc"
    abc.write_text(ABC_TUNE)
    result = run_cli("convert", abc, "-o", tmp_path / "tiny.mid")
    assert result.returncode == 0, result.stderr
    [tune] = read_score(tmp_path / "tiny.mid").tracks
    assert [n.pitch for n in tune.notes] == [62, 64, 66, 67, 69]  # D E F# G A in D major
    result = run_cli("convert", "--corpus", "bach/bwv66.6", "-o", tmp_path / "bach.xml")
    assert result.returncode == 0, result.stderr
    assert len(read_score(tmp_path / "bach.xml").tracks) == 4


# --- mistakes: exit 2, one line, no traceback, the input untouched ------------------------------
@pytest.mark.parametrize("command", ["show", "convert"])
def test_missing_input(command, tmp_path):
    result = run_cli(command, tmp_path / "nothing.mid", "-o", tmp_path / "out.mid.png")
    assert_user_error(result, "does not exist")


@pytest.mark.parametrize("command", ["show", "convert"])
@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("notes.mid", b"shopping list", ("not a MIDI file",)),
        ("score.musicxml", b"<score-partwise><oops", ("not a readable MusicXML",)),
        ("song.docx", b"PK\x03\x04", ("cannot read", ".musicxml")),
    ],
)
def test_not_a_music_file(command, name, content, words, tmp_path):
    bad = tmp_path / name
    bad.write_bytes(content)
    out = tmp_path / ("roll.png" if command == "show" else "out.mid")
    result = run_cli(command, bad, "-o", out)
    assert_user_error(result, *words)
    assert bad.read_bytes() == content
    assert not out.exists()


def test_convert_unknown_output_suffix(song_mid, tmp_path):
    result = run_cli("convert", song_mid, "-o", tmp_path / "song.pdf")
    assert_user_error(result, "cannot write", ".musicxml")
    assert not (tmp_path / "song.pdf").exists()


@pytest.mark.parametrize("command", ["show", "convert"])
def test_existing_output_needs_force(command, song_mid, tmp_path):
    out = tmp_path / ("roll.png" if command == "show" else "out.musicxml")
    out.write_bytes(b"keep me")
    assert_user_error(run_cli(command, song_mid, "-o", out), "already exists", "--force")
    assert out.read_bytes() == b"keep me"
    result = run_cli(command, song_mid, "-o", out, "--force")
    assert result.returncode == 0, result.stderr
    assert out.read_bytes() != b"keep me"


def test_convert_output_is_the_input(song_mid):
    before = sha256(song_mid)
    assert_user_error(run_cli("convert", song_mid, "-o", song_mid, "--force"), "also an input")
    assert sha256(song_mid) == before


def test_convert_bad_midi_type(song_mid, tmp_path):
    result = run_cli("convert", song_mid, "-o", tmp_path / "x.mid", "--midi-type", "2")
    assert_user_error(result, "midi-type")


def test_chart_shows_where_the_key_changes():
    # `bandmate chart` printed the opening key only: a key change in the chart was not shown
    result = run_cli("chart", "(key: C) | C | G7 | (key: F#) F# | C#7 |")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "4 bars in 4/4, key C"
    assert lines[3] == "(key: F#)" and lines[4].split() == ["3", "4/4", "F#@1"]
