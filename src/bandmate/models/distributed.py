"""Training on several processes or machines: PyTorch DistributedDataParallel over gloo.

    torchrun --nproc_per_node 2 -m bandmate.models.distributed --task chorale --out ckpt/

runs `bandmate.models.train.train` in every process with `distributed=True`; on several
machines, run the same line on each with `--nnodes N --node_rank R --rdzv-endpoint HOST:PORT`
(see docs/scaling.md). The training loop is the one of `train`; what is distributed:

- **Data.** The training stream is a pure function of (seed, step) (see `train`), so every rank
  builds the same global batch of `batch_size` pieces and keeps rows `rank, rank + world, ...`
  of it. This is what a `DistributedSampler` does for a map-style dataset (each rank a disjoint
  share of every global batch), done on the stream `train` already has, so the data order is the
  same at any number of processes and a run resumes from the step counter alone.
- **Loss.** Each rank's loss is the sum of its tokens' losses over the *global* token count, times
  the world size; DDP averages gradients over ranks, so the update is the gradient of the mean
  over every token of the global batch: the single-process update, whatever the ranks' shares
  of padding. The loss shown is that global mean (an all-reduce of one number per step).
- **Rank 0** evaluates, writes the checkpoint, the resume state and the model card, and shows
  progress; the others wait at the next step's all-reduce. Resuming reads `out/resume/` on
  every rank, so on several machines `--out` must be on a shared file system.
- **Time.** With a time budget (`--minutes`) the learning rate and the end follow rank 0's clock,
  broadcast each step, so that every rank takes the same decisions.

Dropout draws differ per rank (each rank seeds its own generator), so with dropout the curve is
the single-process one only in distribution; without dropout it is the same to float rounding
(tests/models/test_ddp.py).
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys

import torch

BACKEND = "gloo"  # CPU training; NCCL would be the choice on GPUs


def rank_and_world() -> tuple[int, int]:
    """(rank, world size) of this process, (0, 1) when no process group is running."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def shard_rows(tensors, rank: int, world: int):
    """Rows `rank, rank + world, ...` of each (B, ...) tensor: this rank's share of a batch."""
    return tuple(t[rank::world] for t in tensors)


def global_mean(value: float) -> float:
    """The sum over ranks of `value` (each rank's share of a global mean): the global mean."""
    import torch.distributed as dist

    total = torch.tensor([value], dtype=torch.float64)
    dist.all_reduce(total)
    return float(total.item())


def rank0_value(value: float) -> float:
    """Rank 0's `value`, on every rank (so that every rank decides alike)."""
    import torch.distributed as dist

    shared = torch.tensor([value], dtype=torch.float64)
    dist.broadcast(shared, src=0)
    return float(shared.item())


def barrier() -> None:
    import torch.distributed as dist

    dist.barrier()


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m bandmate.models.distributed",
        description="Train like `bandmate train`, one process per rank, under torchrun.",
    )
    p.add_argument("--task", choices=("chorale", "melody", "drums"), required=True)
    p.add_argument("--data", nargs="+", metavar="COLLECTION")
    p.add_argument("--commercial", action="store_true")
    p.add_argument("--out", required=True, metavar="DIR")
    p.add_argument("--steps", type=int)
    p.add_argument("--minutes", type=float)
    p.add_argument("--batch-size", type=int, help="global batch, in pieces (default: recipe's)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1, help="CPU threads per process (default 1)")
    p.add_argument("--resume", action="store_true")
    return p


def main(argv: list[str] | None = None) -> int:
    """The torchrun entry point: join the process group, train, leave it."""
    import torch.distributed as dist

    from bandmate.errors import UserError
    from bandmate.models.train import run_config, train, write_card

    args = _parser().parse_args(argv)
    if "RANK" not in os.environ:
        print("run this under torchrun, e.g. torchrun --nproc_per_node 2 -m "
              "bandmate.models.distributed --task chorale --out DIR", file=sys.stderr)  # fmt: skip
        return 2
    dist.init_process_group(BACKEND)
    rank = dist.get_rank()
    try:
        config = run_config(
            args.task,
            args.out,
            resume=args.resume,
            seed=args.seed,
            threads=args.threads,
            steps=args.steps,
            minutes=args.minutes,
            batch_size=args.batch_size,
        )

        def report(record) -> None:
            print(f"step {record['step']}: loss {record['loss']:.3f}, valid "
                  f"{record['valid_nll']:.4f} nats/token", file=sys.stderr)  # fmt: skip

        result = train(
            args.task,
            args.out,
            config,
            data=args.data,
            commercial_only=args.commercial,
            resume=args.resume,
            steps=args.steps if args.resume else None,
            report=report,
            distributed=True,
        )
        if rank == 0:
            command = "torchrun ... -m bandmate.models.distributed " + shlex.join(sys.argv[1:])
            write_card(result, command=command, world_size=dist.get_world_size())
            print(f"best valid NLL {result.best_valid_nll:.4f} at step {result.best_step}; "
                  f"model in {result.out_dir}")  # fmt: skip
    except UserError as e:
        print(f"rank {rank}: error: {e}", file=sys.stderr)
        return 2
    finally:
        dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
