"""The CPU recipe for the chorale model: train on JSB train, keep the best on valid, write a card.

    .venv/bin/python bench/train_chorale.py [--task chorale|melody|drums] [--out DIR]
                                            [--minutes 60] [--steps N] [--resume] [--ship] [--test]

`--task melody` and `--task drums` train the other two shipped models the same way, on their
default collections (`models.tasks.DEFAULT_COLLECTIONS`) with their recipes
(`models.train.DEFAULT_TRAINING`): see their model cards for the runs that were shipped.

The recipe (`RECIPE`, `MODEL`: the defaults of `bandmate.models.train`): a 4-layer, d_model 128
transformer (0.8 M parameters) with rotary positions and a voice embedding; batches of 4 training
chorales, each transposed by a random -5..+6 semitones and cut to a random window of at most
1,024 tokens (64 bars of 16ths); AdamW, lr 2e-3, 200 warm-up steps, cosine decay to 5%, weight
decay 0.1, dropout 0.1; valid scored every 500 steps, the best kept. The model's context is its
1,024-token training window: chorales longer than that (26 of 76 in valid) are scored with a
sliding window that always keeps at least 512 tokens of context (`bandmate.models.scoring`).

`--minutes` (default 60) is the budget, evaluations included: unless `--steps` is given, the
cosine decay runs on training time rather than steps, so the learning rate has decayed when the
time is up however busy the machine is (about 12,000 steps on an idle 2-core machine, half that
when other work takes half the CPU). That makes a run depend on the machine's speed; `--steps N`
schedules by steps instead (repeatable to the bit), `--minutes` then only stops it.

How it was chosen (2-core AMD EPYC, torch 2.13 CPU, 2 threads; other work shared the CPU, the
load average is given). Throughput, training tokens/s, d_model 128 / 4 layers unless said:
batch 8 x 512 tokens 15,300; 4 x 1,024 12,400; 2 x 2,048 10,200; d_model 192: 7,800; d_model
256: 5,200; d_model 256 / 6 layers: 3,200 (attention dropout was dropped: on the CPU it forces
the unfused attention kernel and cost ~5x). Short runs, lr 2e-3, cosine over 4,000 steps, cut
at 10 minutes, valid NLL in nats/token:

    A  d128, 8 whole chorales/batch, load ~4 (others training)   200 steps  11 min  0.867
    B  d128, 4 crops of 1,024 tokens, load ~2                   2,039 steps 10 min  0.445
    C  d192, 4 crops of 1,024 tokens, load ~2                   1,231 steps 10 min  0.493
    D  d128, 4 whole chorales (2,562 tokens), load ~2           1,500 steps  9 min  0.527
                                                         (B at the same 9 min:  0.47)

B's curve (0.61 at 5 min, 0.50 at 7.4, 0.445 at 10, learning rate still at half its peak)
extrapolates to well under 0.40 within 60 minutes with the schedule decayed to its end; C learns
more per step but less per minute; whole chorales (D) give no gain for their cost. At a load
average of 4 (A) a step takes about 5x longer, which is why the step count is timed, not fixed.

Writes DIR/model.safetensors, config.json and card.json (task, training data from the corpus
ledger with licences, settings, hardware, training time, this command, valid NLL, date);
`--ship` copies those three files into the package (`bandmate/data/models/chorale/`), from where
`bandmate.models.load("chorale")` and `bandmate eval` load them. `--test` scores the chosen model
on the test split once and writes it to the card (report test for the final model only).
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch

from bandmate.models import checkpoint
from bandmate.models.registry import shipped_model_dir
from bandmate.models.train import DEFAULT_MODELS, recipe, train, write_card

MODEL = DEFAULT_MODELS["chorale"]  # d_model 128, 4 layers, 4 heads, d_ff 512, dropout 0.1
RECIPE = recipe("chorale")  # batches of 4 crops of <= 1,024 tokens, AdamW 2e-3, cosine, -5..+6


MAX_STEPS = 1_000_000  # with a time budget, the steps are only a cap


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="chorale", choices=sorted(DEFAULT_MODELS))
    parser.add_argument("--out", help="checkpoint folder (default: out/TASK-model)")
    parser.add_argument("--minutes", type=float, default=60.0, help="time budget (default 60)")
    parser.add_argument(
        "--steps",
        type=int,
        help="schedule by steps, not time (repeatable; --minutes then only stops the run)",
    )
    parser.add_argument("--seed", type=int, default=RECIPE.seed)
    parser.add_argument("--resume", action="store_true", help="continue the run in --out")
    parser.add_argument("--ship", action="store_true", help="copy the model into the package")
    parser.add_argument("--test", action="store_true", help="also score the test split once")
    args = parser.parse_args(argv)
    command = "python " + shlex.join(["bench/train_chorale.py", *sys.argv[1:]])
    args.out = args.out or f"out/{args.task}-model"
    base = recipe(args.task)

    if args.steps is None:  # the time budget sets the schedule: it ends annealed on time
        config = replace(base, steps=MAX_STEPS, minutes=args.minutes, seed=args.seed)
    else:  # a fixed number of steps, repeatable to the bit; --minutes only stops it
        config = replace(base, steps=args.steps, seed=args.seed)

    def report(record) -> None:
        print(
            f"step {record['step']:>6}  loss {record['loss']:.4f}  "
            f"valid {record['valid_nll']:.4f} nats/token  "
            f"{record['tokens_per_s']:,.0f} tokens/s  {record['seconds'] / 60:.1f} min",
            flush=True,
        )

    started = time.monotonic()
    result = train(
        args.task,
        args.out,
        config,
        DEFAULT_MODELS[args.task],
        resume=args.resume,
        max_minutes=args.minutes if args.steps is not None else None,
        report=report,
    )
    extra = {}
    if args.test:
        from bandmate.models import load

        extra["test_nll_nats_per_token"] = load(args.out).split_nll("test", result.data)[0]
    card = write_card(result, command=command, name=args.task, **extra)
    print(
        f"best valid {result.best_valid_nll:.4f} nats/token at step {result.best_step} of "
        f"{result.steps_done}; {result.num_parameters:,} parameters; "
        f"{(time.monotonic() - started) / 60:.1f} min this session; card {card}"
    )
    if args.ship:
        target = shipped_model_dir(args.task)
        target.mkdir(parents=True, exist_ok=True)
        for name in (checkpoint.WEIGHTS_FILE, checkpoint.CONFIG_FILE, checkpoint.CARD_FILE):
            shutil.copyfile(Path(args.out) / name, target / name)
        print(f"shipped to {target}")
    return 0


if __name__ == "__main__":
    torch.set_num_threads(2)
    sys.exit(main())
