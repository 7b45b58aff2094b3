"""A tiny chorale model trains in seconds, its loss falls, and it loads, scores and samples."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest

from bandmate.models import load
from bandmate.models.nll import nll_nats_per_token
from bandmate.models.scoring import _windows
from bandmate.models.train import TrainConfig, learning_rate, train, write_card

TINY_MODEL = {"d_model": 48, "n_layers": 2, "n_heads": 2, "d_ff": 96, "dropout": 0.0}


@pytest.fixture(scope="module")
def trained(tmp_path_factory, short_chorales):
    out = tmp_path_factory.mktemp("tiny")
    config = TrainConfig(
        steps=80,
        batch_size=8,
        seq_len=200,
        lr=3e-3,
        warmup_steps=8,
        eval_interval=20,
        seed=1,
        num_threads=1,
    )
    train_pieces, valid_pieces = short_chorales
    shown: list[tuple[float, float, str]] = []
    result = train(
        "chorale",
        out,
        config,
        TINY_MODEL,
        train_pieces=train_pieces,
        valid_pieces=valid_pieces,
        progress=lambda done, total, status="": shown.append((done, total, status)),
    )
    result.shown_progress = shown
    return result, valid_pieces


def test_the_progress_bar_counts_the_steps_and_shows_a_falling_loss(trained):
    shown = trained[0].shown_progress
    assert [done for done, _, _ in shown] == list(range(1, 81))
    assert all(total == 80 for _, total, _ in shown)
    losses = [float(status.split("loss ")[1]) for _, _, status in shown]
    assert losses[-1] < losses[0] - 0.5, (losses[0], losses[-1])


def test_the_valid_loss_falls_well_below_a_uniform_guess(trained):
    result, _ = trained
    curve = [r["valid_nll"] for r in result.history]
    uniform = math.log(70)  # ~70 step tokens
    assert curve[0] < uniform
    assert curve[-1] < curve[0] - 0.5, curve
    assert result.best_valid_nll == min(curve)
    assert result.history[-1]["loss"] < result.history[0]["loss"]


def test_the_best_checkpoint_scores_as_training_measured(trained):
    result, valid = trained
    model = load(result.out_dir)
    log_probs = model.batch_log_probs(valid)
    assert [lp.shape for lp in log_probs] == [(4 * len(c),) for c in valid]
    assert all(np.all(lp <= 0) and np.all(np.isfinite(lp)) for lp in log_probs)
    assert nll_nats_per_token(log_probs, valid) == pytest.approx(result.best_valid_nll, abs=1e-5)
    single = model.token_log_probs(valid[0])
    np.testing.assert_allclose(single, log_probs[0], atol=1e-5)


def test_a_chorale_longer_than_the_context_is_scored_with_a_sliding_window(trained):
    result, valid = trained
    model = load(result.out_dir)  # max_len 200 tokens = 49 steps after <bos>
    long_chorale = valid[0] * 3  # 144 steps = 578 tokens
    log_probs = model.token_log_probs(long_chorale)
    assert log_probs.shape == (4 * 144,) and np.all(np.isfinite(log_probs))
    # each position scored exactly once, every window within the model's context
    spans = _windows(578, 200)
    scored = [p for _, end, first in spans for p in range(first, end)]
    assert scored == list(range(1, 578))
    assert all(end - start <= 200 for start, end, _ in spans)


def test_the_trained_model_harmonises_a_given_soprano(trained):
    result, _ = trained
    model = load(result.out_dir)
    soprano = [72] * 8 + [71] * 8 + [72] * 16
    steps = model.sample(32, soprano=soprano, pitch_classes={0, 2, 4, 5, 7, 9, 11}, seed=5)
    assert len(steps) == 32
    assert [s[0] for s in steps] == soprano
    assert all(p % 12 in {0, 2, 4, 5, 7, 9, 11} for s in steps for p in s[1:] if p >= 0)


def test_the_model_card_says_what_how_and_how_well(trained):
    result, _ = trained
    path = write_card(result, command="pytest")
    card = json.loads(path.read_text())
    assert card["task"] == "chorale"
    assert card["metrics"]["valid_nll_nats_per_token"] == result.best_valid_nll
    assert card["training"]["settings"]["steps"] == 80
    assert card["training"]["hardware"]["device"] == "cpu"
    assert card["model"]["parameters"] > 0


def test_the_learning_rate_warms_up_then_decays_to_its_floor():
    config = TrainConfig(steps=100, lr=1e-3, warmup_steps=10, min_lr_ratio=0.1)
    rates = [learning_rate(s, config) for s in range(100)]
    assert rates[0] == pytest.approx(1e-4) and rates[9] == pytest.approx(1e-3)
    assert all(a >= b for a, b in itertools.pairwise(rates[10:]))
    assert learning_rate(100, config) == pytest.approx(1e-4)


def test_with_a_time_budget_the_learning_rate_decays_over_time_not_steps():
    config = TrainConfig(steps=10**6, lr=1e-3, warmup_steps=10, min_lr_ratio=0.1, minutes=1.0)
    assert learning_rate(500, config, seconds=0.0) == pytest.approx(1e-3)
    assert learning_rate(500, config, seconds=30.0) == pytest.approx(0.55e-3)
    assert learning_rate(500, config, seconds=60.0) == pytest.approx(1e-4)


def test_a_time_budget_spent_before_the_warm_up_steps_still_ends_decayed():
    # on a busy machine `--minutes 1` could end in the warm-up's steps: the run stopped at up to
    # the full rate, never annealed; the warm-up now ends by a tenth of the budget at the latest
    config = TrainConfig(steps=10**6, lr=1e-3, warmup_steps=200, min_lr_ratio=0.05, minutes=1.0)
    assert learning_rate(0, config, seconds=0.0) == pytest.approx(1e-3 / 200)
    warm = learning_rate(10**5, config, seconds=3.0)  # past the warm-up's steps
    assert learning_rate(20, config, seconds=3.0) == pytest.approx(0.5 * warm)  # halfway by time
    rates = [learning_rate(s, config, seconds=6.0 + s / 2) for s in range(108)]  # 10 s to 60 s
    assert all(a >= b for a, b in itertools.pairwise(rates))
    assert learning_rate(107, config, seconds=60.0) == pytest.approx(5e-5)


def test_a_time_budget_ends_the_run(tmp_path, short_chorales):
    config = TrainConfig(
        steps=10**6, batch_size=2, seq_len=64, eval_interval=10**6, minutes=0.05, num_threads=1
    )
    result = train(
        "chorale",
        tmp_path,
        config,
        TINY_MODEL,
        train_pieces=short_chorales[0],
        valid_pieces=short_chorales[1][:1],
    )
    assert 1 <= result.steps_done < 10**6
    assert 3.0 <= result.seconds < 10.0  # 0.05 min = 3 s, plus one last evaluation
    assert result.history[-1]["lr"] < 0.1 * config.lr
