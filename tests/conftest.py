"""Shared fixtures."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from hypothesis import settings

from bandmate.score import Score
from tests.builders import bass, drums, make_score, piano

# CI runs the property tests on fixed examples, so that a run passes or fails by the code alone;
# elsewhere each run draws new ones, and a failure it finds is a bug to fix and keep as a case
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20261124)


@pytest.fixture
def small_song() -> Score:
    """Two bars of piano, bass and drums at 100 BPM."""
    return make_score(
        piano((0, 4, 60), (0, 4, 64), (0, 4, 67), (4, 4, 65), (4, 4, 69), (4, 4, 72)),
        bass((0, 1, 36), (1, 1, 43), (2, 2, 36), (4, 2, 41), (6, 2, 48)),
        drums(*[(b / 2, 0.25, 42) for b in range(16)], (0, 0.5, 36), (2, 0.5, 38)),
        tempo_bpm=100,
    )


def untrained_model(task_name: str, out, max_len: int = 1024):
    """An untrained one-layer model of `task_name` saved as a checkpoint in `out`.

    An untrained model writes nonsense, which is the point for composition tests: whatever it
    prefers, guides and constraints must still give the chart's bars and chords, the range and
    the given notes.
    """
    import torch

    from bandmate.models.checkpoint import save_model
    from bandmate.models.tasks import make_task
    from bandmate.models.transformer import DecoderTransformer, TransformerConfig

    torch.manual_seed(0)
    task = make_task(task_name)
    config = TransformerConfig(
        vocab_size=task.tokenizer.vocab_size,
        d_model=32,
        n_layers=1,
        n_heads=2,
        d_ff=64,
        dropout=0.0,
        max_len=max_len,
        n_token_types=task.n_token_types,
    )
    folder = save_model(out, DecoderTransformer(config), task.tokenizer, task_name)
    # an untrained model's card: it learnt from nothing (a model with no card is refused)
    card = {"name": f"untrained-{task_name}", "training": {"data": {"items": 0, "collections": [],
            "commercial": True}}}  # fmt: skip
    (folder / "card.json").write_text(json.dumps(card), encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def untrained_melody_model(tmp_path_factory):
    return untrained_model("melody", tmp_path_factory.mktemp("melody-model"))


@pytest.fixture(scope="session")
def short_melody_model(tmp_path_factory):
    """A melody model whose context holds only 160 tokens: long pieces need several windows."""
    return untrained_model("melody", tmp_path_factory.mktemp("short-melody-model"), max_len=160)


@pytest.fixture(scope="session")
def untrained_chorale_model(tmp_path_factory):
    return untrained_model("chorale", tmp_path_factory.mktemp("chorale-model"))


@pytest.fixture(scope="session")
def short_chorale_model(tmp_path_factory):
    """A chorale model whose context holds 40 steps: a hymn needs several windows."""
    return untrained_model("chorale", tmp_path_factory.mktemp("short-chorale-model"), max_len=162)
