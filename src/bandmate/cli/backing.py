"""`bandmate backing`: a band from a chord chart, as MIDI, MusicXML, stems and a mix."""

from __future__ import annotations


def add_parser(sub) -> None:
    p = sub.add_parser(
        "backing",
        help="make a backing track from a chord chart",
        description="Arrange a chord chart for a band in a style and write song.mid, "
        "song.musicxml, stems/NN-part.wav (the parts as played), mix.wav (the stems automixed at "
        "the style's levels, as `bandmate mix` does given them with --level; manifest.json lists "
        "them), master.wav (the mix mastered, as `bandmate master` does) and manifest.json to "
        "OUTDIR.",
    )
    p.add_argument("chart", help="chart text such as '| C | Am | F | G7 |', or a file holding it")
    p.add_argument(
        "--style",
        required=True,
        help="a style name (see `bandmate styles`) or a style file of your own (.toml)",
    )
    p.add_argument("--tempo", type=float, help="tempo in BPM, 20-400 (default: the style's)")
    p.add_argument("--key", help="play in this key (transposes a chart that names its own key)")
    p.add_argument("--choruses", type=int, default=1, help="passes through the chart")
    p.add_argument("--seed", type=int, default=0, help="the same seed gives the same notes")
    p.add_argument("--no-intro", action="store_true", help="start straight at bar 1")
    p.add_argument("--no-ending", action="store_true", help="stop at the chart's last bar")
    p.add_argument("--groove", metavar="DRUMS.mid", help="take timing and accents from this MIDI")
    p.add_argument("--sample-rate", type=int, choices=(44100, 48000), default=44100)
    p.add_argument("--midi-only", action="store_true", help="write no audio (fast)")
    p.add_argument(
        "--target-lufs", type=float, default=-14.0, help="the master's loudness (default -14)"
    )
    p.add_argument(
        "--ceiling-dbtp", type=float, default=-1.0, help="the master's true-peak ceiling (-1)"
    )
    p.add_argument("-o", "--out", required=True, metavar="OUTDIR", help="output folder")
    p.add_argument("--force", action="store_true", help="overwrite files that exist")
    p.set_defaults(run=run)


def run(args) -> int:
    import json

    from bandmate.io.files import check_inputs
    from bandmate.jobs.backing import BackingRequest, make_backing
    from bandmate.progress import progress_bar

    if args.groove:
        check_inputs([args.groove])
    request = BackingRequest(
        chart=args.chart,
        style=args.style,
        tempo_bpm=args.tempo,
        key=args.key,
        choruses=args.choruses,
        seed=args.seed,
        intro=not args.no_intro,
        ending=not args.no_ending,
        groove_file=args.groove,
        sample_rate=args.sample_rate,
        audio=not args.midi_only,
        target_lufs=args.target_lufs,
        ceiling_dbtp=args.ceiling_dbtp,
    )
    with progress_bar("Rendering") as progress:
        paths = make_backing(request, args.out, force=args.force, progress=progress)
    if request.audio:  # what `bandmate master` would say of the master (a target out of reach)
        for note in json.loads(paths["manifest"].read_text())["master"]["notes"]:
            print(note)
    print(f"wrote {len(paths)} files to {args.out}")
    return 0
