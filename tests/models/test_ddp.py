"""Two CPU processes under DistributedDataParallel (gloo) follow one process's loss curve.

Both runs see the same global batches (the stream is a function of seed and step; each rank takes
every other row), start from the same weights and take the same updates: the gradient of the mean
over every token of the global batch. What differs is only float32 summation order ((4, T)
batches instead of (8, T) in the matmuls, gloo adding the two ranks' gradients), about 1e-7
relative per operation; measured on this machine the curves differ by at most 7e-7 nats over 12
steps. The tolerance, 1e-4 nats, leaves two orders of magnitude for other CPUs and BLAS builds
and is still ~500x smaller than the loss moves in one step here (~0.05-0.1 nats), so a rank
training on other pieces than its share, or on a wrongly weighted loss, cannot pass.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from bandmate.models.train import TrainConfig, train

TINY_MODEL = {"d_model": 48, "n_layers": 2, "n_heads": 2, "d_ff": 96, "dropout": 0.0}
CONFIG = TrainConfig(
    steps=12,
    batch_size=8,
    seq_len=200,
    lr=3e-3,
    warmup_steps=4,
    eval_interval=1,  # a record (training loss, valid loss) after every step
    seed=1,
    num_threads=1,
)
TOLERANCE_NATS = 1e-4


def _rank(rank: int, world: int, rendezvous: str, out: str, pieces, config=CONFIG) -> None:
    """One rank of the distributed run (in a spawned process); a collective that never meets
    its partner fails after 60 s instead of hanging the suite."""
    torch.set_num_threads(1)
    dist.init_process_group(
        "gloo",
        init_method=rendezvous,
        rank=rank,
        world_size=world,
        timeout=timedelta(seconds=60),
    )
    try:
        train_pieces, valid_pieces = pieces
        result = train(
            "chorale",
            out,
            config,
            TINY_MODEL,
            train_pieces=train_pieces,
            valid_pieces=valid_pieces,
            distributed=True,
        )
        if rank == 0:
            with open(f"{out}/history.json", "w") as f:
                json.dump(result.history, f)
    finally:
        dist.destroy_process_group()


def test_two_processes_follow_the_single_process_loss_curve(tmp_path, short_chorales):
    mp.spawn(
        _rank,
        args=(2, f"file://{tmp_path}/rendezvous", str(tmp_path / "ddp"), short_chorales),
        nprocs=2,
        join=True,
    )
    ddp = json.loads((tmp_path / "ddp" / "history.json").read_text())
    train_pieces, valid_pieces = short_chorales
    single = train(
        "chorale",
        tmp_path / "single",
        CONFIG,
        TINY_MODEL,
        train_pieces=train_pieces,
        valid_pieces=valid_pieces,
    ).history
    assert [r["step"] for r in ddp] == [r["step"] for r in single] == list(range(1, 13))
    for key in ("loss", "valid_nll"):
        ours, theirs = [r[key] for r in ddp], [r[key] for r in single]
        assert ours == pytest.approx(theirs, abs=TOLERANCE_NATS), key
    assert single[-1]["loss"] < single[0]["loss"] - 0.3  # it did learn: the curve is a curve
    # rank 0 wrote the checkpoint and the resume state
    assert (tmp_path / "ddp" / "model.safetensors").exists()
    assert (tmp_path / "ddp" / "resume" / "state.json").exists()


def test_a_time_budget_keeps_the_ranks_in_step(tmp_path, short_chorales):
    """With --minutes, every rank reads rank 0's clock by a collective; rank 0's evaluations
    must not call it an extra time, or the ranks' collectives fall out of step and hang."""
    config = dataclasses.replace(CONFIG, steps=4, eval_interval=2, minutes=5.0)
    mp.spawn(
        _rank,
        args=(2, f"file://{tmp_path}/rendezvous", str(tmp_path / "ddp"), short_chorales, config),
        nprocs=2,
        join=True,
    )
    history = json.loads((tmp_path / "ddp" / "history.json").read_text())
    assert [r["step"] for r in history] == [2, 4]
