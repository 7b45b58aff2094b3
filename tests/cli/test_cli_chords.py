"""`bandmate chords`: suggestions that `bandmate backing` accepts, mistakes in one line."""

from __future__ import annotations

import json

from bandmate.io.midi import write_midi
from bandmate.score import Role, Track
from tests.builders import assert_user_error, make_score, notes, run_cli


def test_key_suggestions_feed_backing(tmp_path):
    result = run_cli("chords", "--key", "Bb", "--bars", "4", "--style", "jazz", "--json")
    assert result.returncode == 0, result.stderr
    suggestions = json.loads(result.stdout)
    assert len(suggestions) >= 3
    backing = run_cli(
        "backing", suggestions[0]["chart"], "--style", "jazz-swing", "--midi-only",
        "--no-intro", "--no-ending", "-o", tmp_path / "band",
    )  # fmt: skip
    assert backing.returncode == 0, backing.stderr


def test_melody_suggestions_print_ranked_charts(tmp_path):
    path = tmp_path / "tune.mid"
    spec = [
        (i, 1, (67, 71, 74, 71, 72, 69, 65, 69, 67, 71, 74, 79, 79, 74, 71, 67)[i])
        for i in range(16)
    ]
    write_midi(make_score(Track("Tune", 73, role=Role.MELODY, notes=notes(*spec))), path)
    result = run_cli("chords", path, "--count", "3")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("1. ") and lines[1].strip().startswith("(key: G)")
    assert len([line for line in lines if line[:2] in ("1.", "2.", "3.")]) == 3


def test_mistakes_are_one_line(tmp_path):
    assert_user_error(run_cli("chords"), "melody", "--key")
    assert_user_error(run_cli("chords", "--key", "H"), "key")
    assert_user_error(run_cli("chords", "--key", "C", "--style", "polka"), "polka")
    assert_user_error(run_cli("chords", tmp_path / "none.mid"), "none.mid")
