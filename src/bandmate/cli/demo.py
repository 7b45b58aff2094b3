"""`bandmate demo`: the main job on built-in defaults, written to a folder."""

from __future__ import annotations


def add_parser(sub) -> None:
    p = sub.add_parser(
        "demo",
        help="run the built-in demo (a Bach chorale and a backing track) into a folder",
        description="Take a Bach chorale from the bundled music21 corpus to MIDI, MusicXML, "
        "a rendered WAV and a piano-roll PNG, and make a backing track of a built-in chart "
        "(MIDI, MusicXML, stems, mix, manifest and a piano roll).",
    )
    p.add_argument("-o", "--out", default="out", help="output folder (default: out)")
    p.add_argument("--force", action="store_true", help="overwrite files that exist")
    p.set_defaults(run=run)


def run(args) -> int:
    from bandmate.jobs.demo import run_demo
    from bandmate.progress import progress_bar

    with progress_bar("Rendering the demo") as progress:
        paths = run_demo(args.out, force=args.force, progress=progress)
    for kind, path in paths.items():
        print(f"{kind:17s} {path}")
    return 0
