"""`bandmate harmonize`: a melody as the soprano of a four-part chorale."""

from __future__ import annotations


def add_parser(sub) -> None:
    from bandmate.cli.generation import add_rights_arguments

    p = sub.add_parser(
        "harmonize",
        help="harmonize a melody in four parts (SATB, Bach chorale style)",
        description="Write alto, tenor and bass under a melody with the chorale model. The melody "
        "is kept exactly as the soprano; the other voices stay in their ranges, never cross and "
        "never move in parallel fifths or octaves. A melody mostly above G5 is set for treble "
        "voices: the lower voices are moved up an octave (or two) to sit close under it. Reads "
        "MIDI, MusicXML or ABC (a file with several voices is harmonized from its top voice); "
        "writes MIDI (one track per voice) or MusicXML (a four-part score) by the suffix of -o.",
    )
    p.add_argument("melody", help="the melody: .mid, .midi, .musicxml, .xml, .mxl or .abc")
    p.add_argument("-o", "--out", required=True, help="the file to write (.mid or .musicxml)")
    p.add_argument("--seed", type=int, default=0, help="the same seed gives the same voices")
    p.add_argument("--temperature", type=float, default=0.8, help="0 = safest, 1 = the model's own")
    p.add_argument("--model", metavar="DIR", help="a chorale model that `bandmate train` wrote")
    p.add_argument("--force", action="store_true", help="overwrite the output if it exists")
    add_rights_arguments(p)
    p.set_defaults(run=run)


def run(args) -> int:
    from bandmate.cli.generation import job_options, report_originality
    from bandmate.cli.show import load_input
    from bandmate.jobs.compose import check_output_paths, harmonize_job
    from bandmate.progress import progress_bar

    check_output_paths(args.out, [args.melody], force=args.force)
    melody = load_input(args.melody, None)
    with progress_bar("Harmonizing") as progress:
        written = harmonize_job(
            melody,
            args.out,
            inputs=[args.melody],
            seed=args.seed,
            temperature=args.temperature,
            progress=progress,
            **job_options(args),
        )
    report_originality(written)
    print(f"Wrote {args.out}: soprano, alto, tenor and bass over {_length(written.score)}.")
    return 0


def _length(score) -> str:
    """The piece's length in bars as printed music counts them ("8 bars and a pickup"): in
    quarter notes it read "12 beats" for four bars of 6/8 and a pickup."""
    from bandmate.cli.continuation import first_printed_bar
    from bandmate.compose.harmonize import played_end

    pickup = first_printed_bar(score) == 0
    bars = score.bar_grid.bar_count(played_end(score, score.end_ticks)) - pickup
    return f"{bars} bar{'s' * (bars != 1)}{' and a pickup' if pickup else ''}"
