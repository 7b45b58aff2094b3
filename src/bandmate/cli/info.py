"""`bandmate info`: what a MIDI, MusicXML, ABC or audio file holds."""

from __future__ import annotations


def add_parser(sub) -> None:
    p = sub.add_parser(
        "info",
        help="describe a MIDI, MusicXML, ABC, WAV or FLAC file",
        description="Print what a score file (tracks, tempo, meter, key, chords) or an audio file "
        "(format, channels, sample rate, duration, peak) holds.",
    )
    p.add_argument("file", help="the file to describe")
    p.set_defaults(run=run)


def run(args) -> int:
    from bandmate.io.info import describe_file

    rows = describe_file(args.file)
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"{label:<{width}}  {value}")
    return 0
