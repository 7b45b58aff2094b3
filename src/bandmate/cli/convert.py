"""`bandmate convert`: a score from one format to another (MIDI, MusicXML, ABC in; MIDI,
MusicXML out)."""

from __future__ import annotations

import sys
from pathlib import Path


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
    from bandmate.io.audio import display_name
    from bandmate.io.files import check_inputs, check_outputs
    from bandmate.io.formats import MIDI_SUFFIXES, check_writable_suffix, write_score

    inputs = [args.input] if args.input else []
    check_inputs(inputs)
    check_writable_suffix(args.out)
    check_outputs([args.out], inputs, force=args.force)
    score = load_input(args.input, args.corpus)
    write_score(score, args.out, midi_type=args.midi_type)
    if args.input:
        to_midi = Path(args.out).suffix.lower() in MIDI_SUFFIXES
        warn_of_controllers(
            args.input, "convert", f"carried into {display_name(args.out)}", kept=to_midi
        )
    print(args.out)
    return 0


def warn_of_controllers(path, command: str, fate: str, *, kept: bool) -> None:
    """Warn on stderr, in one line, of what `io.midi.controllers_left_out` finds in `path`."""
    from bandmate.io.audio import display_name
    from bandmate.io.midi import controllers_left_out

    left_out = controllers_left_out(path, kept=kept)
    if not left_out:
        return
    *first, last = left_out
    plural = bool(first) or last in ("pitch bends", "volume changes (CC7)")
    listed = f"{', '.join(first)} and {last}" if first else last
    verb = "are" if plural else "is"
    why = (
        "bandmate keeps the pedals, bends, volume, pan and expression, but plays each part's "
        "program from the General MIDI bank and keeps no aftertouch per key"
        if kept
        else "MusicXML holds the notes, programs, tempos and the sustain pedal but no other "
        "controllers"
    )
    print(
        f"bandmate {command}: warning: {display_name(path)} uses {listed}, which {verb} not "
        f"{fate}: {why}.",
        file=sys.stderr,
    )
