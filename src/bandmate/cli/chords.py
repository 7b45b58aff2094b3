"""`bandmate chords`: ranked chord progressions for a melody, or for a key and style."""

from __future__ import annotations


def add_parser(sub) -> None:
    p = sub.add_parser(
        "chords",
        help="suggest chord progressions for a melody, or for a key and style",
        description="Suggest chord progressions, best first, each printed as a chart that "
        "`bandmate backing` reads. Given a melody file: charts whose chords fit it (triads or "
        "sevenths, a chord a bar or changing at the half bar, in its key or the relative key). "
        "Given --key: the style's stock progressions in that key, laid over --bars bars.",
    )
    p.add_argument("melody", nargs="?", help="a melody: .mid, .midi, .musicxml, .xml, .mxl, .abc")
    p.add_argument(
        "--key",
        help="a key such as Bb or F#m: the progressions' key, or, with a melody, its key in place "
        "of the one the file states or its notes suggest",
    )
    p.add_argument("--bars", type=int, help="bars per progression (default: 8)")
    p.add_argument(
        "--style",
        help="pop, rock, jazz, blues, folk, gospel, ballad, or a backing style (bossa-nova...)",
    )
    p.add_argument("--count", type=int, default=5, help="how many suggestions (default: 5)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=run)


def run(args) -> int:
    import json
    import sys

    from bandmate.compose.chords import request_key, suggest_for_key, suggest_for_melody
    from bandmate.errors import UserError

    if args.count < 1:
        raise UserError("--count must be at least 1.")
    key = request_key(args.melody is not None, args.key, key_hint="--key Bb")
    if args.melody is not None and (args.style is not None or args.bars is not None):
        raise UserError(  # they were ignored without a word
            "--style and --bars are for progressions in a key; with a melody give only --key, "
            "if the file's key is wrong."
        )
    if args.melody is not None:
        from bandmate.cli.show import load_input
        from bandmate.theory.harmony import key_doubt

        score = load_input(args.melody, None)
        suggestions = suggest_for_melody(score, args.count, key)
        doubt = None if key is not None else key_doubt(score)
        if doubt is not None:  # on stderr: stdout may be JSON
            print(f"bandmate chords: warning: {doubt}", file=sys.stderr)
    else:
        suggestions = suggest_for_key(key, args.bars, args.style, args.count)
    if args.json:
        print(json.dumps([s.__dict__ for s in suggestions], indent=2))
        return 0
    for rank, s in enumerate(suggestions, 1):
        print(f"{rank}. {s.name} (score {s.score:.2f})")
        print(f"   {s.chart}")
    return 0
