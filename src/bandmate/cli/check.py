"""`bandmate check`: is a piece original, or does it copy something the models learnt from?"""

from __future__ import annotations


def add_parser(sub) -> None:
    p = sub.add_parser(
        "check",
        help="compare a piece with everything bandmate's models learnt from",
        description="Compare a MIDI, MusicXML or ABC file with the originality index: every tune "
        "the shipped melody and chorale models learnt from, their chord progressions, and the "
        "drum patterns of bandmate's styles. Prints the strongest melodic match (its notes, "
        "bars, and the source item with its collection and licence), the similarity score "
        "with the threshold used, and a verdict. A piece is flagged when it shares 8 or more "
        "consecutive notes (intervals and rhythm, in any key) with one item, unless that "
        "passage is common material such as a scale, or when its score reaches the threshold. "
        "Exit code 0: original; 1: flagged; 2: the file cannot be checked.",
    )
    p.add_argument("file", help="the piece to check (.mid, .musicxml, .mxl, .abc)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument(
        "--model",
        metavar="DIR",
        help="also compare with what this model learnt from (a folder `bandmate train` wrote, "
        "trained on your own collections)",
    )
    p.set_defaults(run=run)


def run(args) -> int:
    from bandmate.io.formats import read_score
    from bandmate.rights.originality import check_against, indexes_for, result_rows

    index = None
    if args.model:
        from bandmate.models.registry import load
        from bandmate.rights.provenance import model_use

        index = indexes_for(model_use(load(args.model))["collections"])
    result = check_against(read_score(args.file), index)
    if args.json:
        import json

        print(json.dumps({"file": str(args.file), **result.to_dict()}, indent=2))
    else:
        rows = [("file", str(args.file)), *result_rows(result)]
        width = max(len(label) for label, _ in rows)
        for label, value in rows:
            print(f"{label:<{width}}  {value}")
    return 1 if result.flagged else 0
