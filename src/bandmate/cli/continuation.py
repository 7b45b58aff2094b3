"""`bandmate continue` and `bandmate infill`: more bars of a piece, or some bars written again."""

from __future__ import annotations


def _common(p) -> None:
    from bandmate.cli.generation import add_rights_arguments

    p.add_argument("-o", "--out", required=True, help="the file to write (.mid or .musicxml)")
    p.add_argument(
        "--style",
        help="folk, irish, fiddle or chorale (default: the one the model finds likeliest)",
    )
    p.add_argument("--seed", type=int, default=0, help="the same seed gives the same notes")
    p.add_argument("--temperature", type=float, default=0.9, help="0 = safest, 1 = the model's own")
    p.add_argument("--model", metavar="DIR", help="a melody model that `bandmate train` wrote")
    p.add_argument("--force", action="store_true", help="overwrite the output if it exists")
    add_rights_arguments(p)


def add_parser(sub) -> None:
    p = sub.add_parser(
        "continue",
        help="continue a tune (or a piece) for more bars",
        description="Continue the melody of a MIDI, MusicXML or ABC file for N bars with the "
        "melody model, in its key and meter, writing new chords as it goes. The output begins "
        "with the input unchanged; other parts repeat their last bar on the new chords (drums "
        "as they are), as an arranger keyboard plays a style.",
    )
    p.add_argument("input", help="the piece: .mid, .midi, .musicxml, .xml, .mxl or .abc")
    p.add_argument("--bars", type=int, required=True, help="how many bars to add")
    _common(p)
    p.set_defaults(run=run_continue)

    p = sub.add_parser(
        "infill",
        help="write some bars of a melody again, keeping the rest",
        description="Write the melody of bars A-B of a piece again under its own chords (labelled "
        "from the melody when the file has none); every other bar and every other part is kept.",
    )
    p.add_argument("input", help="the piece: .mid, .midi, .musicxml, .xml, .mxl or .abc")
    p.add_argument(
        "--bars",
        required=True,
        metavar="A-B",
        help="the bars to rewrite, e.g. 5-8, numbered as printed: a pickup bar is bar 0",
    )
    _common(p)
    p.set_defaults(run=run_infill)


def _settings(args):
    from bandmate.compose.melody import MelodySettings

    return MelodySettings(
        style=args.style, seed=args.seed, pitch_range=None, temperature=args.temperature
    )


def _read(args):
    from bandmate.cli.show import load_input
    from bandmate.jobs.compose import check_output_paths

    check_output_paths(args.out, [args.input], force=args.force)
    return load_input(args.input, None)


def _job_options(args) -> dict:
    from bandmate.cli.generation import job_options

    return {"settings": _settings(args), "inputs": [args.input], **job_options(args)}


def _check_style(args) -> None:
    from bandmate.arrange.style import style_word
    from bandmate.errors import UserError
    from bandmate.tokens.melody import MELODY_STYLES

    if args.style is not None and style_word(args.style) not in MELODY_STYLES:
        raise UserError(
            f"Unknown melody style {args.style!r}; choose one of {', '.join(MELODY_STYLES)}."
        )


def run_continue(args) -> int:
    from bandmate.cli.generation import report_originality
    from bandmate.jobs.compose import continue_job
    from bandmate.progress import progress_bar

    _check_style(args)
    piece = _read(args)
    with progress_bar("Continuing") as progress:
        written = continue_job(piece, args.out, args.bars, **_job_options(args), progress=progress)
    report_originality(written)
    print(f"Wrote {args.out}: the input and {args.bars} more bars.")
    return 0


def parse_bar_range(text: str) -> tuple[int, int]:
    from bandmate.errors import UserError

    first, sep, last = text.partition("-")
    if not (first.strip().isdigit() and (not sep or last.strip().isdigit())):
        raise UserError(f"--bars {text!r} is not a bar range; write it like 5-8 (bars from 1).")
    a = int(first)
    b = int(last) if sep else a
    if b < a:
        raise UserError(f"--bars {text!r} must count up, like 5-8.")
    return a, b


def first_printed_bar(score) -> int:
    """0 when `score` opens with a pickup (a short first bar), else 1: the number printed music
    (and `bandmate show`) gives its first bar."""
    if not score.time_signatures:
        return 1
    full = score.time_signatures[0].bar_ticks(score.ticks_per_beat)
    return 0 if score.bar_grid.bar_start(1) < full else 1


def bars_from_one(score, first: int, last: int) -> tuple[int, int]:
    """Printed bar numbers `first`..`last` as bars counted from 1 (a pickup is bar 1); a
    UserError, in printed numbers, when they are not bars of `score`."""
    from bandmate.errors import UserError

    opening = first_printed_bar(score)
    end = max((n.end_ticks for t in score.tracks for n in t.notes), default=0)
    final = opening + score.bar_grid.bar_count(end) - 1
    if not opening <= first <= last <= final:
        raise UserError(
            f"--bars {first}-{last} is outside the piece's bars {opening}-{final}"
            f"{' (bar 0 is its pickup)' if opening == 0 else ''}; give a range such as 5-8 "
            "inside it."
        )
    return first + 1 - opening, last + 1 - opening


def run_infill(args) -> int:
    from bandmate.cli.generation import report_originality
    from bandmate.jobs.compose import infill_job

    _check_style(args)
    from bandmate.progress import progress_bar

    first, last = parse_bar_range(args.bars)
    piece = _read(args)
    # numbered as printed and as `show` draws them: in a piece with a pickup, --bars 1-2 were
    # its pickup and first bar, one bar early
    counted = bars_from_one(piece, first, last)
    with progress_bar("Infilling") as progress:
        written = infill_job(piece, args.out, *counted, **_job_options(args), progress=progress)
    report_originality(written)
    print(f"Wrote {args.out}: bars {first}-{last} written again, the rest kept.")
    return 0
