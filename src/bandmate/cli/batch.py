"""`bandmate batch`: master a folder, render a folder, or make loop packs, on Ray."""

from __future__ import annotations

import sys


def _common(p) -> None:
    p.add_argument(
        "--workers",
        type=int,
        help="items at once (default: every CPU here, or of the cluster at --address); at most "
        "one per CPU, and here fewer where memory is short (about 0.5 GB each): more would only "
        "add worker processes, so a larger number runs that many and says so",
    )
    p.add_argument(
        "--address",
        metavar="ADDR",
        help="a Ray cluster to run on, e.g. 10.0.0.5:6379 or auto (default: a local Ray)",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="overwrite files in the output folder that this batch did not make",
    )


def add_parser(sub) -> None:
    p = sub.add_parser(
        "batch",
        help="master, render or make loops for many items at once, on Ray",
        description="Run one of bandmate's commands over many items, one Ray task per item: on "
        "a local Ray with one worker per CPU by default, or on a cluster with --address. "
        "OUT_DIR/batch-report.json records each item (done, or failed with its error); a "
        "rerun skips what is done, so a batch that was stopped resumes, and a failed item "
        "does not stop the others (the exit status is then 1). A full disk (or a quota, or a "
        "read-only folder) would fail every later item too: the batch then starts no more "
        "items, says so and exits with status 2, and a rerun once there is room does the rest. "
        "One batch at a time writes to an output folder.",
    )
    kinds = p.add_subparsers(dest="batch_kind", metavar="KIND", parser_class=type(p))
    p.set_defaults(run=_no_kind)

    m = kinds.add_parser(
        "master",
        help="master every WAV and FLAC file under a folder",
        description="Master every WAV or FLAC file under IN_DIR (as `bandmate master` does) "
        "into the same relative path under OUT_DIR.",
    )
    m.add_argument("in_dir", metavar="IN_DIR")
    m.add_argument("out_dir", metavar="OUT_DIR")
    m.add_argument("--target-lufs", type=float, default=-14.0, help="integrated loudness")
    m.add_argument("--ceiling-dbtp", type=float, default=-1.0, help="true-peak ceiling")
    _common(m)
    m.set_defaults(run=run)

    r = kinds.add_parser(
        "render",
        help="render every MIDI file under a folder",
        description="Render every MIDI file under IN_DIR (as `bandmate render` does) to a WAV "
        "at the same relative path under OUT_DIR.",
    )
    r.add_argument("in_dir", metavar="IN_DIR")
    r.add_argument("out_dir", metavar="OUT_DIR")
    r.add_argument("--sample-rate", type=int, choices=(44_100, 48_000), default=44_100)
    _common(r)
    r.set_defaults(run=run)

    loops = kinds.add_parser(
        "loops",
        help="make COUNT loops of each style",
        description="Make COUNT loops of each style (as `bandmate loop` does), loop NN of a "
        "style in DIR/STYLE/NN/, its files named as `bandmate loop` names loop NN (like "
        "funk_100bpm_C_07_bass.wav), so that the files of a batch can be gathered into one "
        "folder. Loop NN is `bandmate loop --count NN --seed SEED`'s loop NN, so a pack can "
        "grow later without changing the loops it has.",
    )
    loops.add_argument("--styles", required=True, help="comma-separated styles, e.g. funk,rock")
    loops.add_argument("--count", type=int, required=True, help="loops per style")
    loops.add_argument("--key", default="C", help="key, e.g. C, Em, Bb (default: C)")
    loops.add_argument("--bars", type=int, choices=(1, 2, 4, 8, 16), default=4)
    loops.add_argument("--seed", type=int, default=0)
    loops.add_argument("--sample-rate", type=int, choices=(44_100, 48_000), default=44_100)
    loops.add_argument("-o", "--out", required=True, metavar="DIR", help="output folder")
    _common(loops)
    loops.set_defaults(run=run)


def _no_kind(args) -> int:
    from bandmate.errors import UserError

    raise UserError("Say what to batch: master, render or loops (see bandmate batch --help).")


def run(args) -> int:
    from bandmate.batch import plan_loops, plan_master, plan_render, run_batch
    from bandmate.batch.runner import local_worker_limit
    from bandmate.errors import UserError
    from bandmate.progress import progress_bar

    if args.workers is not None and args.workers < 1:
        raise UserError(f"--workers must be at least 1, not {args.workers}.")
    if args.workers is not None and args.address is None:
        limit, what = local_worker_limit()
        if args.workers > limit:
            print(
                f"bandmate batch: --workers {args.workers} is more than this machine has room "
                f"for ({what}); running {limit} at once.",
                file=sys.stderr,
            )
            args.workers = limit
    if args.batch_kind == "master":
        out = args.out_dir
        items = plan_master(
            args.in_dir, out, target_lufs=args.target_lufs, ceiling_dbtp=args.ceiling_dbtp
        )
    elif args.batch_kind == "render":
        out = args.out_dir
        items = plan_render(args.in_dir, out, sample_rate=args.sample_rate)
    else:
        out = args.out
        styles = [s.strip() for s in args.styles.split(",") if s.strip()]
        items = plan_loops(
            styles,
            args.count,
            out,
            key=args.key,
            bars=args.bars,
            seed=args.seed,
            sample_rate=args.sample_rate,
        )
    with progress_bar(f"batch {args.batch_kind}") as progress:
        summary = run_batch(
            items,
            out,
            workers=args.workers,
            address=args.address,
            force=args.force,
            progress=progress,
        )
    rate = f" with {summary.workers} workers in {summary.seconds:.1f} s" if summary.done else ""
    print(
        f"{summary.total} item{'' if summary.total == 1 else 's'}: {summary.done} done{rate}, "
        f"{summary.skipped} already done, "
        f"{len(summary.failed)} failed; report in {summary.report}"
    )
    for name, error in list(summary.failed.items())[:10]:
        print(f"failed: {name}: {error}", file=sys.stderr)
    if summary.stopped:
        print(
            f"bandmate batch: error: stopped with {summary.not_started} item"
            f"{'' if summary.not_started == 1 else 's'} not started, as {str(out)!r} cannot be "
            f"written ({summary.stopped}); free some space there and run the batch again to do "
            "the rest.",
            file=sys.stderr,
        )
        return 2
    return 1 if summary.failed else 0
