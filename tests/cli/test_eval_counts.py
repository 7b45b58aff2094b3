"""What `bandmate eval` and `bandmate evaluate` say of how many pieces they read: one piece is
"1 piece", not "1 pieces"."""

from __future__ import annotations

import random
import re

from bandmate.corpus.ledger import split_for
from bandmate.io.midi import write_midi
from bandmate.score import Role, Track
from tests.builders import make_score, notes, run_cli, sha256


def folder_by_split(folder, counts: dict[str, int]) -> None:
    """Different 16-note tunes, as many in each split (by their hashes) as `counts` says."""
    folder.mkdir()
    wanted = dict(counts)
    seed = 0
    while any(wanted.values()):
        rng = random.Random(seed)
        pitches = [rng.randrange(55, 80) for _ in range(16)]
        track = Track(
            "Tune", 73, role=Role.MELODY, notes=notes(*[(b, 1, p) for b, p in enumerate(pitches)])
        )
        path = folder / f"tune{seed:03}.mid"
        write_midi(make_score(track), path)
        split = split_for(sha256(path))
        if wanted.get(split, 0) > 0:
            wanted[split] -= 1
        else:
            path.unlink()
        seed += 1


def test_eval_of_a_split_of_one_piece_says_one_piece(tmp_path, monkeypatch):
    monkeypatch.setenv("BANDMATE_HOME", str(tmp_path / "home"))
    folder_by_split(tmp_path / "tunes", {"train": 12, "valid": 1, "test": 2})
    added = run_cli("corpus", "add", tmp_path / "tunes", "--name", "mine", "--licence", "CC0")
    assert added.returncode == 0, added.stderr
    out = tmp_path / "model"
    trained = run_cli(
        "train",
        "--task",
        "melody",
        "--data",
        "mine",
        "--steps",
        "2",
        "--threads",
        "1",
        "--out",
        out,
    )
    assert trained.returncode == 0, trained.stderr
    valid = run_cli("eval", "--checkpoint", out, "--split", "valid")
    assert valid.returncode == 0, valid.stderr
    assert re.search(r"\(1 piece, [0-9,]+ tokens, model ", valid.stdout), valid.stdout
    test = run_cli("eval", "--checkpoint", out, "--split", "test")
    assert test.returncode == 0, test.stderr
    assert re.search(r"\(2 pieces, [0-9,]+ tokens, model ", test.stdout), test.stdout


def test_evaluate_of_one_generated_piece_says_one_piece(tmp_path, monkeypatch):
    monkeypatch.setenv("BANDMATE_HOME", str(tmp_path / "home"))
    folder_by_split(tmp_path / "generated", {"train": 1})
    folder_by_split(tmp_path / "reference", {"train": 3})
    result = run_cli("evaluate", tmp_path / "generated", "--against", tmp_path / "reference")
    assert result.returncode == 0, result.stderr
    assert "Generated: 1 piece (folder " in result.stdout
    assert "reference: 3 pieces (folder " in result.stdout
