"""`bandmate melody`: a melody over a chord chart, from the shipped melody model."""

from __future__ import annotations

MELODY_STYLES = ("folk", "irish", "fiddle", "chorale")


def add_parser(sub) -> None:
    from bandmate.cli.generation import add_rights_arguments

    p = sub.add_parser(
        "melody",
        help="write a melody over a chord chart",
        description="Write a melody over a chord chart with the melody model: the chart's bars "
        "and chords are kept exactly, the notes lean to chord tones on strong beats, and the "
        "style picks the kind of tune the model learnt from (folk: Essen folk songs; irish: "
        "O'Neill's; fiddle: Ryan's Mammoth Collection; chorale: Bach's soprano lines). Writes "
        "MIDI or MusicXML (by the suffix of -o); with --with-backing, a band plays the chart too.",
    )
    p.add_argument("chart", help="chart text such as '| C | Am | F | G7 |', or a file holding it")
    p.add_argument(
        "--style",
        help=f"{', '.join(MELODY_STYLES)} (default: folk, or with --model the first style the "
        "model learnt; none for a model of your own tunes)",
    )
    p.add_argument("--tempo", type=float, default=100.0, help="tempo in BPM (default: 100)")
    p.add_argument("--key", help="play in this key (transposes a chart that names its own key)")
    p.add_argument("--bars", type=int, help="bars to write: the chart repeated or cut to fit")
    p.add_argument("--seed", type=int, default=0, help="the same seed gives the same melody")
    p.add_argument(
        "--range",
        default="C4-C6",
        metavar="LOW-HIGH",
        help="the melody's pitch range, e.g. C4-C6 (default) or G3-E5",
    )
    p.add_argument(
        "--density",
        choices=("low", "mid", "high"),
        default="mid",
        help="fewer, longer notes (low) or more, shorter ones (high)",
    )
    p.add_argument("--temperature", type=float, default=0.9, help="0 = safest, 1 = the model's own")
    p.add_argument(
        "--with-backing",
        metavar="STYLE",
        help="add a backing band in this style (see `bandmate styles`)",
    )
    p.add_argument("--model", metavar="DIR", help="a melody model that `bandmate train` wrote")
    p.add_argument("-o", "--out", required=True, help="the file to write (.mid or .musicxml)")
    p.add_argument("--force", action="store_true", help="overwrite the output if it exists")
    add_rights_arguments(p)
    p.set_defaults(run=run)


def parse_range(text: str) -> tuple[int, int]:
    """(low, high) MIDI pitches from "C4-C6"."""
    from bandmate.errors import UserError
    from bandmate.theory.pitch import name_to_midi

    low, sep, high = text.partition("-")
    try:
        if not sep:
            raise ValueError(text)
        pitches = name_to_midi(low), name_to_midi(high)
    except ValueError:
        raise UserError(f"--range {text!r} is not a range; write two pitches like C4-C6.") from None
    if pitches[0] >= pitches[1]:
        raise UserError(f"--range {text!r} goes downwards; write the lower pitch first.")
    return pitches


def run(args) -> int:
    from bandmate.arrange.backing import prepare_chart
    from bandmate.cli.generation import job_options, report_originality
    from bandmate.compose.melody import MelodySettings, fit_chart
    from bandmate.io.charts import load_chart
    from bandmate.jobs.compose import check_output_paths, melody_job
    from bandmate.progress import progress_bar

    check_output_paths(args.out, force=args.force)
    settings = MelodySettings(
        style=args.style or (None if args.model else "folk"),  # None: the --model's own
        seed=args.seed,
        pitch_range=parse_range(args.range),
        density=args.density,
        temperature=args.temperature,
    )
    chart = fit_chart(prepare_chart(load_chart(args.chart), args.key), args.bars)
    with progress_bar("Writing the melody") as progress:
        written = melody_job(
            chart,
            args.out,
            settings=settings,
            tempo_bpm=args.tempo,
            with_backing=args.with_backing,
            progress=progress,
            **job_options(args),
        )
    notes, bars = len(written.score.tracks[0].notes), len(chart.bars)
    style = f"{settings.style}, " if settings.style else ""  # a --model's own style: unsaid
    print(f"Wrote {args.out}: {notes} notes over {bars} bars ({style}seed {args.seed}).")
    report_originality(written)
    return 0
