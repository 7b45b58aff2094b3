"""`bandmate check` as a user runs it: a verdict with its source, exit 0 / 1, and 2 for bad input.

The cases call `main` in this process against the shipped index (loaded once, about a second).
"""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest

from bandmate.cli import main
from bandmate.io.midi import write_midi
from bandmate.rights.originality import shipped_index
from bandmate.score import Role, Track
from tests.builders import make_score, notes


def check(capsys, *args) -> subprocess.CompletedProcess:
    code = main(["check", *map(str, args)])
    out = capsys.readouterr()
    return subprocess.CompletedProcess(args, code, out.out, out.err)


def melody_file(path, pitches, iois_beats):
    onsets = np.concatenate([[0.0], np.cumsum(iois_beats)[:-1]])
    spec = [
        (float(o), float(d), int(p)) for o, d, p in zip(onsets, iois_beats, pitches, strict=True)
    ]

    write_midi(make_score(Track("Melody", role=Role.MELODY, notes=notes(*spec))), path)
    return path


@pytest.fixture(scope="module")
def copied_tune():
    """Twelve notes of an O'Neill's tune the melody model learnt from, a fourth lower."""
    index = shipped_index()
    a = index.arrays
    line = next(k for k, item in enumerate(a["line_item"]) if index.items[item][0] == "oneills1850")
    start = int(a["line_offsets"][line]) + 4
    pitches = a["pitches"][start : start + 12] - 5
    iois = np.diff(a["onset_steps"][start : start + 13]) / 12
    return pitches, iois


def test_a_copy_is_flagged_with_its_source_and_licence(capsys, tmp_path, copied_tune):
    result = check(capsys, melody_file(tmp_path / "copy.mid", *copied_tune))
    assert result.returncode == 1, result.stderr
    assert "flagged" in result.stdout
    assert "oneills1850" in result.stdout or "ryans-mammoth" in result.stdout
    assert "licence" in result.stdout and "threshold" in result.stdout


def test_json_says_the_same(capsys, tmp_path, copied_tune):
    result = check(capsys, melody_file(tmp_path / "copy.mid", *copied_tune), "--json")
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert data["verdict"] == "flagged" and data["file"].endswith("copy.mid")
    match = data["longest_match"]
    assert match["notes"] >= 12 and match["source"]["licence_class"]
    assert data["threshold"] > 0


def test_a_scale_is_original(capsys, tmp_path):
    scale = [60, 62, 64, 65, 67, 69, 71, 72, 71, 69, 67, 65, 64, 62, 60]
    result = check(capsys, melody_file(tmp_path / "scale.mid", scale, [0.5] * 15))
    assert result.returncode == 0, result.stdout
    assert "original" in result.stdout


def test_a_drum_part_is_compared_by_its_drums_and_never_flagged(capsys, tmp_path):
    from bandmate.arrange.backing import backing

    band = backing("| C | F | G | C | C | F | G | C |", style="rock", seed=1)
    path = tmp_path / "drums.mid"
    write_midi(band.replace(tracks=tuple(t for t in band.tracks if t.is_drum), chords=()), path)
    result = check(capsys, path)
    assert result.returncode == 0, result.stderr
    assert "original" in result.stdout and "rock.toml" in result.stdout


def test_a_piece_with_neither_melody_nor_drums_is_a_user_error(capsys, tmp_path):
    path = tmp_path / "one.mid"
    write_midi(make_score(Track("Tune", role=Role.MELODY, notes=notes((0, 1, 60)))), path)
    result = check(capsys, path)
    assert result.returncode == 2
    assert "no melody" in result.stderr and "Traceback" not in result.stderr


def test_a_file_that_is_not_midi_is_a_user_error(capsys, tmp_path):
    path = tmp_path / "song.mid"
    path.write_text("not a MIDI file")
    result = check(capsys, path)
    assert result.returncode == 2
    assert "not a MIDI file" in result.stderr


def test_a_missing_file_is_a_user_error(capsys, tmp_path):
    result = check(capsys, tmp_path / "nowhere.mid")
    assert result.returncode == 2 and result.stderr.count("\n") == 1
