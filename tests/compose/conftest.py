"""Fixtures for composition tests: small untrained models saved as checkpoints.

An untrained model writes nonsense, which is the point: whatever it prefers, the guides and
constraints must still give the chart's bars and chords, the range and the given notes.
"""

from __future__ import annotations

import pytest
import torch

from bandmate.models.checkpoint import save_model
from bandmate.models.tasks import make_task
from bandmate.models.transformer import DecoderTransformer, TransformerConfig


def untrained(task_name: str, out, max_len: int = 1024):
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
    return save_model(out, DecoderTransformer(config), task.tokenizer, task_name)


@pytest.fixture(scope="session")
def untrained_melody_model(tmp_path_factory):
    return untrained("melody", tmp_path_factory.mktemp("melody-model"))


@pytest.fixture(scope="session")
def short_melody_model(tmp_path_factory):
    """A melody model whose context holds only 160 tokens: long pieces need several windows."""
    return untrained("melody", tmp_path_factory.mktemp("short-melody-model"), max_len=160)
