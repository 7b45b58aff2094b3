"""`bandmate master`: a mix to a master on a loudness target under a true-peak ceiling."""

from __future__ import annotations

SUBTYPES = {"16": "PCM_16", "24": "PCM_24", "float": "FLOAT"}


def add_parser(sub) -> None:
    p = sub.add_parser(
        "master",
        help="master a mix: tonal balance, gentle compression, loudness target, true-peak limit",
        description="Master a WAV or FLAC mix: DC offset removed, EQ toward a reference's "
        "octave balance (or a target curve), gentle stereo-linked compression, then gain and "
        "a true-peak limiter so that the integrated loudness (ITU-R BS.1770) lands on the "
        "target without the true peak going over the ceiling. The output keeps the input's "
        "sample rate, channels and sample format unless --subtype says otherwise; 16-bit "
        "output is dithered.",
    )
    p.add_argument("input", help="the mix to master (mono or stereo WAV or FLAC)")
    p.add_argument("-o", "--output", required=True, help="the master to write (.wav or .flac)")
    p.add_argument(
        "--target-lufs", type=float, default=-14.0, help="integrated loudness (default -14)"
    )
    p.add_argument(
        "--ceiling-dbtp", type=float, default=-1.0, help="true-peak ceiling (default -1)"
    )
    p.add_argument("--reference", help="a finished master whose tonal balance to move toward")
    p.add_argument(
        "--curve",
        type=str.lower,
        help="the target curve when there is no reference: balanced (default), warm, bright, "
        "bass-heavy",
    )
    p.add_argument(
        "--intensity",
        type=float,
        default=1.0,
        help="0 to 1: how far EQ and compression act (0: no EQ or compression; DC removal, the "
        "low band's own limiter, loudness and limiting act at any intensity; default 1)",
    )
    p.add_argument(
        "--subtype", choices=sorted(SUBTYPES), help="sample format of the output: 16, 24 or float"
    )
    p.add_argument("--report", metavar="PNG", help="write a before/after picture")
    p.add_argument("--json", metavar="JSON", help="write every measurement as JSON")
    p.add_argument("--force", action="store_true", help="overwrite existing outputs")
    p.set_defaults(run=run)


def run(args) -> int:
    from bandmate.io.audio import display_name
    from bandmate.io.files import check_outputs
    from bandmate.mix.master import MasterConfig, master_file
    from bandmate.mix.report import (
        check_report_outputs,
        master_rows,
        stage_lines,
        write_master_json,
        write_master_png,
    )
    from bandmate.progress import progress_bar

    if args.reference and args.curve:
        from bandmate.errors import UserError

        raise UserError(
            "Give --reference or --curve, not both: the EQ moves toward the reference's balance, "
            "and a curve is the target only when there is no reference."
        )
    MasterConfig(  # refuse impossible settings before any work
        target_lufs=args.target_lufs, ceiling_dbtp=args.ceiling_dbtp, intensity=args.intensity
    )
    extras = check_report_outputs(args.output, args.report, args.json)
    inputs = [args.input] + ([args.reference] if args.reference else [])
    check_outputs(extras, inputs, force=args.force)
    with progress_bar("Mastering") as progress:
        report = master_file(
            args.input,
            args.output,
            target_lufs=args.target_lufs,
            ceiling_dbtp=args.ceiling_dbtp,
            reference_path=args.reference,
            intensity=args.intensity,
            genre_curve=args.curve,
            subtype=SUBTYPES[args.subtype] if args.subtype else None,
            force=args.force,
            progress=progress,
        )
    if args.report:
        write_master_png(report, args.report)
    if args.json:
        write_master_json(report, args.json)
    rows = [("", "before", "after", "target"), *master_rows(report)]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        print("  ".join(f"{cell:<{w}}" for cell, w in zip(row, widths, strict=True)).rstrip())
    for line in stage_lines(report) + list(report.notes):
        print(line)
    written = [args.output, args.report, args.json]  # (the charts and JSON too: said nowhere)
    print("wrote " + ", ".join(display_name(path) for path in written if path))
    return 0
