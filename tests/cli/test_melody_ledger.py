"""`bandmate melody --model DIR` when the corpus ledger that knew the model's collections is
damaged or does not hold them: one sentence that says which, and what to do."""

from __future__ import annotations

import re

from tests.builders import assert_user_error, run_cli
from tests.cli.test_eval_counts import folder_by_split


def assert_one_sentence(result) -> str:
    assert_user_error(result)
    line = result.stderr.strip()
    # a sentence inside another ("... (The corpus ledger ... is damaged ...).); add ...") or
    # one after another
    assert not re.search(r"\.\)|[.;:] *\(?[A-Z][a-z]+ [a-z]", line.split("error: ", 1)[1]), line
    return line


def test_a_damaged_or_other_ledger_is_named_in_one_sentence(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("BANDMATE_HOME", str(home))
    folder_by_split(tmp_path / "tunes", {"train": 12, "valid": 1, "test": 1})
    added = run_cli("corpus", "add", tmp_path / "tunes", "--name", "mine", "--licence", "CC0")
    assert added.returncode == 0, added.stderr
    model = tmp_path / "model"
    trained = run_cli(
        "train", "--task", "melody", "--data", "mine", "--steps", "2", "--threads", "1",
        "--out", model,
    )  # fmt: skip
    assert trained.returncode == 0, trained.stderr
    ledger = home / "ledger.sqlite"
    ledger.write_bytes(b"not a database, but the first bytes of something else " * 20)
    melody = ["melody", "| C | F | G | C |", "--model", model, "-o"]
    damaged = run_cli(*melody, tmp_path / "a.mid")
    assert_user_error(damaged, "ledger", "damaged", "move it aside")
    assert "no longer holds" not in damaged.stderr  # it holds it, but cannot be read
    assert_one_sentence(damaged)
    assert not (tmp_path / "a.mid").exists()
    # another ledger (a fresh BANDMATE_HOME, or the damaged one moved aside) lacks the collection
    ledger.rename(tmp_path / "ledger.damaged")
    other = run_cli(*melody, tmp_path / "b.mid")
    assert_user_error(other, "'mine'", "bandmate corpus add", "--name mine")
    assert_one_sentence(other)
    assert not (tmp_path / "b.mid").exists()
    # `check --model` reads the model's collections the same way
    tune = next((tmp_path / "tunes").glob("*.mid"))
    assert_one_sentence(run_cli("check", tune, "--model", model))
