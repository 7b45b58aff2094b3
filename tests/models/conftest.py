"""Fixtures for model tests: tiny models and a few real chorales, all on the CPU."""

from __future__ import annotations

import pytest
import torch

from bandmate.corpus.jsb import load_jsb
from bandmate.models.tasks import make_task
from bandmate.models.transformer import DecoderTransformer, TransformerConfig


@pytest.fixture(autouse=True)
def _one_thread_and_own_ledger(tmp_path, monkeypatch):
    # one thread: `make test` runs two workers on two cores, and more threads than cores make
    # torch's thread pool spin against itself (10x slower, not 2x)
    torch.set_num_threads(1)
    # a run that records its training data writes to this ledger, never the user's
    monkeypatch.setenv("BANDMATE_HOME", str(tmp_path / "home"))


@pytest.fixture
def chorale_task():
    return make_task("chorale")


@pytest.fixture
def tiny_chorale_model(chorale_task) -> DecoderTransformer:
    """An untrained 2-layer model over the chorale vocabulary (seeded, so tests repeat)."""
    torch.manual_seed(0)
    config = TransformerConfig(
        vocab_size=chorale_task.tokenizer.vocab_size,
        d_model=32,
        n_layers=2,
        n_heads=2,
        d_ff=64,
        dropout=0.0,
        max_len=600,
        n_token_types=chorale_task.n_token_types,
    )
    return DecoderTransformer(config).eval()


@pytest.fixture(scope="session")
def short_chorales() -> tuple[list, list]:
    """(train, valid): 24 and 6 real JSB chorales, each cut to its first 48 steps (3 bars)."""
    train = [c[:48] for c in load_jsb("train")[:24]]
    valid = [c[:48] for c in load_jsb("valid")[:6]]
    return train, valid
