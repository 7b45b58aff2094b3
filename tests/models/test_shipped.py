"""The shipped models: cards that say what they learnt from, and figures that `bandmate eval`
reproduces (chorale: through the public scoring API too)."""

import json
import re

import numpy as np
import pytest

from bandmate.corpus.jsb import load_jsb
from bandmate.models import load
from bandmate.models.registry import shipped_model_dir, shipped_models
from tests.builders import run_cli


def test_a_chorale_model_ships_with_a_model_card():
    assert "chorale" in shipped_models()
    folder = shipped_model_dir("chorale")
    assert (folder / "model.safetensors").stat().st_size < 25 * 2**20
    card = json.loads((folder / "card.json").read_text())
    assert card["task"] == "chorale"
    data = json.dumps(card["training"]["data"])
    assert "jsb" in data and "Boulanger-Lewandowski" in data
    assert card["training"]["hardware"] and card["training"]["command"]
    assert card["metrics"]["valid_nll_nats_per_token"] < 0.73  # better than the n-gram of the issue


def test_scoring_api_and_eval_reproduce_the_card():
    card = json.loads((shipped_model_dir("chorale") / "card.json").read_text())
    expected = card["metrics"]["valid_nll_nats_per_token"]
    model = load("chorale")
    valid = load_jsb("valid")
    log_probs = [model.token_log_probs(steps) for steps in valid]
    assert all(len(lp) == 4 * len(steps) for lp, steps in zip(log_probs, valid, strict=True))
    nll = -float(np.concatenate(log_probs).mean())
    assert abs(nll - expected) < 0.005
    result = run_cli("eval", "--task", "chorale", "--split", "valid")
    assert result.returncode == 0, result.stderr
    printed = float(re.search(r"(\d+\.\d+)", result.stdout).group(1))
    assert abs(printed - expected) < 0.005


@pytest.mark.parametrize(
    ("task", "collections", "classes"),
    [
        ("melody", {"essen", "oneills1850", "ryans-mammoth", "bach-chorales"}, {"non-commercial"}),
        ("drums", {"bandmate-styles"}, {"own-work"}),
    ],
)
def test_melody_and_drum_models_ship_with_cards_that_eval_reproduces(task, collections, classes):
    folder = shipped_model_dir(task)
    card = json.loads((folder / "card.json").read_text())
    assert card["task"] == task
    learnt = {c["name"]: c for c in card["training"]["data"]["collections"]}
    assert set(learnt) == collections
    assert classes <= {c["licence_class"] for c in learnt.values()}
    sizes = sum(
        (shipped_model_dir(m) / "model.safetensors").stat().st_size for m in shipped_models()
    )
    assert sizes <= 25 * 2**20  # all shipped checkpoints together
    result = run_cli("eval", "--task", task, "--split", "valid", "--threads", "1")
    assert result.returncode == 0, result.stderr
    printed = float(re.search(r"(\d+\.\d+)", result.stdout).group(1))
    assert abs(printed - card["metrics"]["valid_nll_nats_per_token"]) < 0.005
