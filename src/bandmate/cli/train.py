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

    from bandmate.models.train import run_config, train, write_card
    from bandmate.progress import progress_bar

    config = run_config(
        args.task,
        args.out,
        resume=args.resume,
        seed=args.seed,
        threads=args.threads,
        steps=args.steps,
        minutes=args.minutes,
    )

    def report(record) -> None:
        print(
            f"step {record['step']}: loss {record['loss']:.3f}, "
            f"{record.get('scored_on', 'valid')} {record['valid_nll']:.4f} nats/token, "
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
            warn=lambda message: print(f"bandmate train: warning: {message}", file=sys.stderr),
            on_interrupt=lambda: print(
                "bandmate train: stopping once this step is done, and saving; Ctrl-C again "
                "stops at once, unsaved.",
                file=sys.stderr,
            ),
        )
    write_card(result, command="bandmate " + shlex.join(sys.argv[1:]))
    print(
        f"best {result.valid_split} NLL {result.best_valid_nll:.4f} nats/token at step "
        f"{result.best_step}; model in {result.out_dir}"
    )
    if result.interrupted:
        print(
            f"bandmate train: stopped by Ctrl-C at step {result.steps_done}, saved; run the "
            "same command with --resume to carry on.",
            file=sys.stderr,
        )
        return 130
    return 0
