"""`bandmate loop`: seamless loops of a style for a sample pack."""

from __future__ import annotations


def add_parser(sub) -> None:
    p = sub.add_parser(
        "loop",
        help="make seamless loops of a style (MIDI and WAV, per part and full)",
        description="Write COUNT distinct loops, each as MIDI and as WAV per part and full, named "
        "like funk_100bpm_Em_01_drums.wav. A loop's length in samples is exact and what rings past "
        "its end is folded back to its start.",
    )
    p.add_argument(
        "--style",
        required=True,
        help="a style name (see `bandmate styles`) or a style file of your own (.toml)",
    )
    p.add_argument("--tempo", type=float, help="tempo in BPM, 20-400 (default: the style's)")
    p.add_argument("--key", help="key, e.g. C, Em, Bb (default: the key of --chords, else C)")
    p.add_argument(
        "--chords",
        help="a chord chart to loop, or a file holding it (default: a stock progression)",
    )
    p.add_argument(
        "--energy",
        choices=("low", "high"),
        help="the style's verse (low) or chorus (high) groove (default: as the chords' sections "
        "say, else low)",
    )
    p.add_argument("--bars", type=int, choices=(1, 2, 4, 8, 16), default=4)
    p.add_argument("--count", type=int, default=1, help="how many distinct loops")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--sample-rate", type=int, choices=(44100, 48000), default=44100)
    p.add_argument("-o", "--out", required=True, metavar="DIR", help="output folder")
    p.add_argument("--force", action="store_true", help="overwrite files that exist")
    p.set_defaults(run=run)


def run(args) -> int:
    from bandmate.jobs.loops import LoopRequest, make_loops
    from bandmate.progress import progress_bar

    request = LoopRequest(
        style=args.style,
        tempo_bpm=args.tempo,
        key=args.key,
        chords=args.chords,
        bars=args.bars,
        count=args.count,
        seed=args.seed,
        sample_rate=args.sample_rate,
        energy=args.energy,
    )
    with progress_bar("Rendering loops") as progress:
        files = make_loops(request, args.out, force=args.force, progress=progress)
    print(f"wrote {len(files)} files to {args.out}")
    return 0
