"""`bandmate evaluate`, run as a user runs it: a table, JSON, and one line for each mistake."""

from __future__ import annotations

import json

import pytest

from bandmate.corpus.jsb import load_jsb
from bandmate.io.midi import write_midi
from bandmate.score import ChordEvent, Role, Track
from bandmate.theory.chords import parse_chord
from bandmate.tokens.chorale import ChoraleTokenizer
from tests.builders import TPB, assert_user_error, make_score, notes, run_cli


@pytest.fixture(autouse=True)
def _own_ledger(tmp_path, monkeypatch):
    # reading a collection records it in the ledger: this test's, never the user's
    monkeypatch.setenv("BANDMATE_HOME", str(tmp_path / "home"))


def write_tunes(folder, count: int, *, chords: bool = True):
    """`count` four-bar tunes over C | F | G7 | C, each a little different."""
    folder.mkdir()
    chart = [(0, "C"), (4, "F"), (8, "G7"), (12, "C")]
    events = tuple(ChordEvent(b * TPB, parse_chord(name)) for b, name in chart) if chords else ()
    for i in range(count):
        line = [60, 64, 67, 64, 65, 69, 72, (69, 65)[i % 2], 67, 71, 74, 71, 72, 67, 64]
        line.append((60, 64, 67, 72)[i % 4])  # the tunes differ on weak beats only
        track = Track(
            "Melody", 73, role=Role.MELODY, notes=notes(*[(b, 1, p) for b, p in enumerate(line)])
        )
        write_midi(make_score(track, chords=events), folder / f"tune{i}.mid")
    return folder


def test_a_table_of_melodies_against_a_folder(tmp_path):
    generated = write_tunes(tmp_path / "generated", 3)
    reference = write_tunes(tmp_path / "reference", 4, chords=False)
    (generated / "lyrics.mid").write_text("these are my lyrics")
    result = run_cli("evaluate", generated, "--against", reference)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Generated: 3 pieces" in out and "reference: 4 pieces" in out
    for label in ("pitch-class histogram", "inter-onset intervals", "note-length histogram"):
        assert label in out
    scale = next(line for line in out.splitlines() if line.startswith("scale consistency"))
    assert scale.split()[-2:] == ["1.000", "1.000"]  # every tune is in C major
    strong = next(line for line in out.splitlines() if "strong beats" in line)
    assert strong.split()[-2] == "1.000"  # chord tones on every strong beat
    assert "PART-WRITING" not in out
    assert "skipped 1 generated file" in result.stderr and "lyrics.mid" in result.stderr


def test_json_of_chorales_against_jsb_reports_part_writing(tmp_path):
    folder = tmp_path / "chorales"
    folder.mkdir()
    for i, chorale in enumerate(load_jsb("valid")[:3]):
        write_midi(ChoraleTokenizer().steps_to_score(chorale), folder / f"chorale{i}.mid")
    result = run_cli("evaluate", folder, "--against", "jsb", "--max-items", "5", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["reference"]["pieces"] == 5
    assert report["reference"]["source"] == "collection jsb, test split"
    assert all(0 <= f["overlap_area"] <= 1 for f in report["features"].values())
    harmony = report["harmony"]
    assert harmony["generated"]["pieces"] == 3 and harmony["reference"]["pieces"] == 5
    assert harmony["generated"]["parallels_per_100_beats"] < 5  # Bach's, through MIDI


def test_mistakes_are_one_line(tmp_path):
    tunes = write_tunes(tmp_path / "tunes", 2)
    assert_user_error(run_cli("evaluate", tmp_path / "nowhere", "--against", "jsb"), "exist")
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("no music here")
    assert_user_error(run_cli("evaluate", empty, "--against", "jsb"), "no MIDI")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "song.mid").write_text("not MIDI")
    assert_user_error(run_cli("evaluate", broken, "--against", "jsb"), "could be read")
    assert_user_error(run_cli("evaluate", tunes, "--against", "no-such"), "Unknown collection")
    assert_user_error(run_cli("evaluate", tunes, "--against", "refs/"), "refs/", "exist")
    few = run_cli("evaluate", tunes, "--against", "jsb", "--max-items", "1")
    assert_user_error(few, "at least 2")
