"""`bandmate chords`: suggestions that `bandmate backing` accepts, mistakes in one line."""

from __future__ import annotations

import json

from bandmate.io.midi import write_midi
from bandmate.score import Role, Track
from bandmate.score.model import KeyChange
from bandmate.theory.keys import Key
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


def test_a_key_signature_the_notes_deny_is_named_and_key_overrides_it(tmp_path):
    # an E minor tune (F#, D# leading to E) under the C major a DAW writes when no key was set
    path = tmp_path / "tune.mid"
    pitches = (64, 66, 67, 71, 71, 69, 67, 66, 64, 67, 71, 76, 75, 71, 66, 63, 64)
    tune = Track(
        "Tune", 73, role=Role.MELODY, notes=notes(*((i, 1, p) for i, p in enumerate(pitches)))
    )
    write_midi(make_score(tune, keys=(KeyChange(0, Key(0, "major")),)), path)
    result = run_cli("chords", path, "--count", "1")
    assert result.returncode == 0, result.stderr
    assert "key signature says C" in result.stderr and "--key Em" in result.stderr
    told = run_cli("chords", path, "--count", "1", "--key", "Em", "--json")
    assert told.returncode == 0 and told.stderr == ""
    assert json.loads(told.stdout)[0]["chart"].startswith("(key: Em) |")


def test_mistakes_are_one_line(tmp_path):
    assert_user_error(run_cli("chords"), "melody", "--key Bb")
    assert_user_error(run_cli("chords", "--key", "H"), "key")
    assert_user_error(run_cli("chords", "--key", "C", "--style", "polka"), "polka")
    assert_user_error(run_cli("chords", tmp_path / "none.mid"), "none.mid")


def test_a_drum_loop_given_as_the_melody_is_named_as_drums(tmp_path):
    # it was "The melody has no notes", of a file that holds sixteen
    path = tmp_path / "loop.mid"
    kit = Track(
        "Kit", 0, is_drum=True, role=Role.DRUMS, notes=notes(*[(b, 0.5, 36) for b in range(16)])
    )
    write_midi(make_score(kit), path)
    assert_user_error(run_cli("chords", path), "only drums")
