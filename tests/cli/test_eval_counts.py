"""What `bandmate eval` and `bandmate evaluate` say of how many pieces they read: one piece is
"1 piece", not "1 pieces"."""

from __future__ import annotations

import json
import re

from tests.builders import folder_by_split, run_cli
from tests.conftest import untrained_model


def test_eval_of_a_split_of_one_piece_says_one_piece(tmp_path, monkeypatch):
    monkeypatch.setenv("BANDMATE_HOME", str(tmp_path / "home"))
    folder_by_split(tmp_path / "tunes", {"train": 12, "valid": 1, "test": 2})
    added = run_cli("corpus", "add", tmp_path / "tunes", "--name", "mine", "--licence", "CC0")
    assert added.returncode == 0, added.stderr
    # the card is what `bandmate eval` reads the collections from; training one through the CLI
    # took half a minute, and the counts do not depend on what the weights learnt
    out = untrained_model("melody", tmp_path / "model")
    data = {"items": 12, "commercial": True, "collections": [{"name": "mine", "licence": "CC0"}]}
    (out / "card.json").write_text(json.dumps({"training": {"data": data}}), encoding="utf-8")
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
