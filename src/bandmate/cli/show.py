"""`bandmate show`: draw a score (a file or a piece of music21's corpus) as a piano-roll PNG."""

from __future__ import annotations


def add_parser(sub) -> None:
    p = sub.add_parser(
        "show",
        help="draw a MIDI, MusicXML or ABC file as a piano-roll PNG",
        description="Draw a score as a piano roll: one colour per track, bars numbered, chord "
        "symbols and sections along the top, drums in a lane of their own.",
    )
    p.add_argument(
        "input", nargs="?", help="a .mid, .midi, .kar, .rmi, .musicxml, .xml, .mxl or .abc file"
    )
    p.add_argument("-o", "--out", help="the PNG to write, e.g. roll.png")
    p.add_argument("--force", action="store_true", help="overwrite the output if it exists")
    p.add_argument(
        "--corpus",
        metavar="NAME",
        help="draw a piece of music21's bundled corpus instead of a file, e.g. bach/bwv66.6",
    )
    p.add_argument(
        "--list-corpus",
        nargs="?",
        const="",
        metavar="PREFIX",
        help="list the corpus pieces whose names start with PREFIX, and stop",
    )
    p.add_argument(
        "--width",
        type=int,
        metavar="PX",
        help="image width in pixels (default: about 110 per bar, 480 to 4000)",
    )
    p.add_argument("--title", help="title at the top (default: the score's own)")
    p.set_defaults(run=run)


def load_input(path: str | None, corpus: str | None):
    """The Score named on the command line: a file, or a corpus piece with --corpus."""
    from bandmate.errors import UserError

    if (path is None) == (corpus is None):
        raise UserError(
            "Give either an input file or --corpus NAME (such as --corpus bach/bwv66.6)."
            if path is None
            else "Give an input file or --corpus NAME, not both."
        )
    if corpus is not None:
        from bandmate.io.music21_io import load_corpus

        return load_corpus(corpus)
    from bandmate.io.files import check_inputs
    from bandmate.io.formats import read_score

    check_inputs([path])
    score = read_score(path)
    _warn_of_other_tunes(path, score)
    return score


def _warn_of_other_tunes(path: str, score) -> None:
    """Say on stderr that an ABC tune book gave its first tune only: the others were passed over
    without a word, and a user who wanted the second got the first harmonized or continued."""
    import sys
    from pathlib import Path

    from bandmate.io.formats import ABC_SUFFIXES
    from bandmate.io.music21_io import abc_tune_count

    if Path(path).suffix.lower() not in ABC_SUFFIXES:
        return
    count = abc_tune_count(path)
    if count > 1:
        name = f" ({score.title!r})" if score.title else ""
        print(
            f"warning: {path!r} holds {count} tunes; using the first{name}. Save the tune you "
            "want in a file of its own to use another.",
            file=sys.stderr,
        )


def run(args) -> int:
    from pathlib import Path

    from bandmate.errors import OutputError, UserError
    from bandmate.io.files import check_inputs, check_outputs

    if args.list_corpus is not None:
        from bandmate.io.music21_io import corpus_names

        names = corpus_names(args.list_corpus)
        if not names:
            raise UserError(f"No corpus piece starts with {args.list_corpus!r}; try bach/.")
        print("\n".join(names))
        return 0
    if not args.out:
        raise UserError("Give the PNG to write with -o, e.g. -o roll.png.")
    if Path(args.out).suffix.lower() != ".png":
        raise OutputError(f"Output {args.out!r} must be a .png file; e.g. -o roll.png.")
    inputs = [args.input] if args.input else []
    check_inputs(inputs)
    check_outputs([args.out], inputs, force=args.force)
    if args.width is not None and args.width <= 0:
        raise UserError(f"--width must be a positive number of pixels, not {args.width}.")

    from bandmate.plot.pianoroll import draw_pianoroll

    score = load_input(args.input, args.corpus)
    title = args.title if args.title is not None else score.title
    if title is None and args.input:
        title = Path(args.input).stem
    draw_pianoroll(score, args.out, width_px=args.width, title=title)
    print(args.out)
    return 0
