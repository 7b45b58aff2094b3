"""`bandmate eval`: a model's negative log-likelihood on a split, in nats per token."""

from __future__ import annotations

SPLITS = ("valid", "test")


def add_parser(sub) -> None:
    p = sub.add_parser(
        "eval",
        help="score a model on the valid or test split (NLL in nats per token)",
        description="Score a chorale model on a JSB Chorales split under the published note-wise "
        "protocol: every S, A, T, B token of every chorale, each conditioned on all tokens "
        "before it, averaged over the split (lower is better; Coconet 0.436 and Music "
        "Transformer 0.335 on valid). Report test once, for the model chosen on valid.",
    )
    p.add_argument(
        "--task",
        choices=("chorale", "melody", "drums"),
        help="what to score (melody, drums: the split of the collections on the model's card; "
        "default: the task of --checkpoint, else chorale)",
    )
    p.add_argument("--split", choices=SPLITS, default="valid", help="the split (default: valid)")
    p.add_argument(
        "--checkpoint",
        metavar="DIR",
        help="a folder that `bandmate train` wrote (default: the shipped chorale model)",
    )
    p.add_argument("--threads", type=int, default=2, help="CPU threads (default: 2)")
    p.set_defaults(run=run)


def run(args) -> int:
    import torch

    from bandmate.errors import UserError, counted
    from bandmate.models import load

    if args.threads < 1:
        raise UserError("--threads must be at least 1.")
    torch.set_num_threads(args.threads)
    model = load(args.checkpoint or args.task or "chorale")
    if args.task is not None and model.task.name != args.task:
        raise UserError(
            f"{args.checkpoint} holds a {model.task.name} model, not a {args.task} model; "
            f"give --task {model.task.name} or another --checkpoint."
        )
    nll, pieces, tokens = model.split_nll(args.split)
    what = "chorale" if model.task.name == "chorale" else "piece"
    print(
        f"{args.split}: {nll:.4f} nats/token "
        f"({counted(pieces, what)}, {counted(tokens, 'token')}, model {model.path})"
    )
    return 0
