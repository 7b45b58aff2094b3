"""`bandmate train`: train a model for a task into a folder, resumably, on the CPU."""

from __future__ import annotations

TASKS = ("chorale", "melody", "drums")


def add_parser(sub) -> None:
    p = sub.add_parser(
        "train",
        help="train a chorale, melody or drum model",
        description="Train a transformer for a task on the corpus ledger's training items "
        "(chorales: the JSB Chorales train split with transposition augmentation). The best "
        "model on the valid split goes to --out (model.safetensors, config.json, card.json), "
        "the latest training state to --out/resume/, so --resume carries on exactly.",
    )
    p.add_argument("--task", choices=TASKS, required=True, help="what the model learns")
    p.add_argument(
        "--data",
        nargs="+",
        metavar="COLLECTION",
        help="collections of the corpus ledger to learn from (chorales: jsb, the default)",
    )
    p.add_argument(
        "--commercial",
        action="store_true",
        help="refuse data that is not cleared for commercial use",
    )
    p.add_argument("--out", required=True, metavar="DIR", help="folder for the checkpoint")
    p.add_argument("--steps", type=int, help="optimizer steps in all (default: the recipe's)")
    p.add_argument(
        "--minutes",
        type=float,
        help="a time budget: the learning rate decays over this much training time, and the "
        "run ends when it is spent (or at --steps, if given)",
    )
    p.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    p.add_argument("--threads", type=int, default=2, help="CPU threads (default: 2)")
    p.add_argument("--resume", action="store_true", help="continue the run saved in --out")
    p.set_defaults(run=run)


def run(args) -> int:
    import shlex
    import sys
    from dataclasses import replace

    from bandmate.errors import UserError
    from bandmate.models import checkpoint
    from bandmate.models.train import recipe, train, write_card
    from bandmate.progress import progress_bar

    if args.steps is not None and args.steps < 1:
        raise UserError("--steps must be at least 1.")
    if args.resume and not checkpoint.has_training_state(args.out):
        raise UserError(f"Nothing to resume in {args.out}; run once without --resume first.")
    if not args.resume and checkpoint.has_training_state(args.out):
        raise UserError(
            f"{args.out} already holds a training run; add --resume to continue it "
            "or choose another --out."
        )
    if args.threads < 1:
        raise UserError("--threads must be at least 1.")
    if args.minutes is not None and args.minutes <= 0:
        raise UserError("--minutes must be more than 0.")
    config = recipe(args.task, seed=args.seed, num_threads=args.threads, minutes=args.minutes)
    if args.steps is not None:
        config = replace(config, steps=args.steps)
    elif args.minutes is not None:
        config = replace(config, steps=1_000_000)  # the time budget ends the run

    def report(record) -> None:
        print(
            f"step {record['step']}: loss {record['loss']:.3f}, "
            f"valid {record['valid_nll']:.4f} nats/token, "
            f"{record['tokens_per_s']:,.0f} tokens/s",
            file=sys.stderr,
        )

    with progress_bar(f"training {args.task}") as progress:
        result = train(
            args.task,
            args.out,
            config,
            data=args.data,
            commercial_only=args.commercial,
            resume=args.resume,
            steps=args.steps if args.resume else None,
            progress=progress,
            report=report,
        )
    write_card(result, command="bandmate " + shlex.join(sys.argv[1:]))
    print(
        f"best valid NLL {result.best_valid_nll:.4f} nats/token at step {result.best_step}; "
        f"model in {result.out_dir}"
    )
    return 0
