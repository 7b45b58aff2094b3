"""`bandmate convert`: a score from one format to another (MIDI, MusicXML, ABC in; MIDI,
MusicXML out)."""

from __future__ import annotations


def add_parser(sub) -> None:
    p = sub.add_parser(
        "convert",
        help="convert between MIDI, MusicXML and ABC (writes MIDI or MusicXML)",
        description="Read a .mid, .midi, .kar, .rmi, .musicxml, .xml, .mxl or .abc file (or a "
        "corpus piece) and write it as MIDI (.mid, .midi) or MusicXML (.musicxml, .xml, .mxl). "
        "MusicXML output is quantized to 16ths and triplets so that it can be notated.",
    )
    p.add_argument("input", nargs="?", help="the score file to read")
    p.add_argument(
        "-o", "--out", required=True, help="the file to write; its suffix sets the format"
    )
    p.add_argument("--force", action="store_true", help="overwrite the output if it exists")
    p.add_argument(
        "--midi-type",
        type=int,
        choices=(0, 1),
        default=1,
        help="MIDI file type: 1 (a track per part, the default) or 0 (one track)",
    )
    p.add_argument(
        "--corpus",
        metavar="NAME",
        help="read a piece of music21's bundled corpus instead of a file, e.g. bach/bwv66.6",
    )
    p.set_defaults(run=run)


def run(args) -> int:
    from bandmate.cli.show import load_input
    from bandmate.io.files import check_inputs, check_outputs
    from bandmate.io.formats import check_writable_suffix, write_score

    inputs = [args.input] if args.input else []
    check_inputs(inputs)
    check_writable_suffix(args.out)
    check_outputs([args.out], inputs, force=args.force)
    score = load_input(args.input, args.corpus)
    write_score(score, args.out, midi_type=args.midi_type)
    print(args.out)
    return 0
