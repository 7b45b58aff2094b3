"""`bandmate harmonize`: a melody as the soprano of a four-part chorale."""

from __future__ import annotations


def add_parser(sub) -> None:
    p = sub.add_parser(
        "harmonize",
        help="harmonize a melody in four parts (SATB, Bach chorale style)",
        description="Write alto, tenor and bass under a melody with the chorale model. The melody "
        "is kept exactly as the soprano; the other voices stay in their ranges, never cross and "
        "never move in parallel fifths or octaves. Reads MIDI, MusicXML or ABC (a file with "
        "several voices is harmonized from its top voice); writes MIDI (one track per voice) or "
        "MusicXML (a four-part score) by the suffix of -o.",
    )
    p.add_argument("melody", help="the melody: .mid, .midi, .musicxml, .xml, .mxl or .abc")
    p.add_argument("-o", "--out", required=True, help="the file to write (.mid or .musicxml)")
    p.add_argument("--seed", type=int, default=0, help="the same seed gives the same voices")
    p.add_argument("--temperature", type=float, default=0.8, help="0 = safest, 1 = the model's own")
    p.add_argument("--model", metavar="DIR", help="a chorale model that `bandmate train` wrote")
    p.add_argument("--force", action="store_true", help="overwrite the output if it exists")
    p.set_defaults(run=run)


def run(args) -> int:
    import sys

    from bandmate.cli.show import load_input
    from bandmate.compose.harmonize import harmonize
    from bandmate.io.files import check_outputs
    from bandmate.io.formats import check_writable_suffix, write_score

    check_writable_suffix(args.out)
    check_outputs([args.out], [args.melody], force=args.force)
    melody = load_input(args.melody, None)
    score, warning = harmonize(
        melody, model=args.model, seed=args.seed, temperature=args.temperature
    )
    if warning:
        print(f"warning: {warning}", file=sys.stderr)
    write_score(score, args.out)
    beats = score.end_ticks / score.ticks_per_beat
    print(f"Wrote {args.out}: soprano, alto, tenor and bass over {beats:g} beats.")
    return 0
