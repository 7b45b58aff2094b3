"""`bandmate render`: a MIDI file to a WAV or FLAC mix, and optionally one file per track."""

from __future__ import annotations

SAMPLE_RATES = (44_100, 48_000)
FORMATS = ("PCM_16", "PCM_24", "FLOAT")


def add_parser(sub) -> None:
    p = sub.add_parser(
        "render",
        help="render a MIDI file to audio with a General MIDI SoundFont",
        description="Play a MIDI file through FluidSynth and write the mix; with --stems, also "
        "one stereo file per track, named NN-track-name.wav after the track's position and name "
        "(the stems add up to the mix). The SoundFont is --soundfont, else $BANDMATE_SOUNDFONT, "
        "else the system's GM SoundFont.",
    )
    # neither is required by argparse, so that a mistyped option is reported as such first
    p.add_argument("input", nargs="?", metavar="IN.mid", help="the MIDI file to render")
    p.add_argument(
        "-o",
        "--output",
        metavar="OUT.wav",
        help="the mix, .wav or .flac (default: IN.wav, beside the input)",
    )
    p.add_argument("--stems", metavar="DIR", help="also write one file per track into this folder")
    p.add_argument(
        "--sample-rate",
        type=int,
        choices=SAMPLE_RATES,
        default=44_100,
        help="sample rate in Hz (default: 44100)",
    )
    p.add_argument("--soundfont", metavar="PATH", help="the .sf2/.sf3 SoundFont to use")
    p.add_argument(
        "--format",
        choices=FORMATS,
        default="PCM_24",
        help="sample format of the files written (default: PCM_24; FLOAT needs .wav)",
    )
    p.add_argument("--force", action="store_true", help="overwrite files that exist")
    p.set_defaults(run=run)


def run(args) -> int:
    import time
    from pathlib import Path

    from bandmate.errors import AudioFormatError, InputFileError, OutputError
    from bandmate.io.audio import FORMATS as AUDIO_FORMATS
    from bandmate.io.audio import write_audio
    from bandmate.io.files import check_inputs, check_outputs
    from bandmate.io.midi import read_midi
    from bandmate.progress import progress_bar
    from bandmate.render import render, stem_filenames

    if not args.input:
        raise InputFileError(
            "Give the MIDI file to render, as in `bandmate render song.mid -o song.wav`."
        )
    inputs = [args.input] + ([args.soundfont] if args.soundfont else [])
    check_inputs([args.input])
    out = Path(args.output) if args.output else Path(args.input).with_suffix(".wav")
    check_outputs([out], inputs, force=args.force)
    if out.is_dir():
        raise OutputError(f"Output {str(out)!r} is a folder; give the path of a .wav file.")
    suffix = out.suffix.lower()
    if suffix not in AUDIO_FORMATS:
        raise AudioFormatError(
            f"Cannot write audio as {suffix or 'a file without suffix'!r}; name the output "
            "*.wav or *.flac."
        )
    if AUDIO_FORMATS[suffix] == "FLAC" and args.format == "FLOAT":
        raise AudioFormatError("FLAC cannot hold float samples; use .wav or a 16/24-bit format.")

    score = read_midi(args.input)
    stem_paths = []
    if args.stems:
        folder = Path(args.stems)
        if folder.exists() and not folder.is_dir():
            raise OutputError(f"--stems {str(folder)!r} is a file; give a folder for the stems.")
        stem_paths = [folder / n for n in stem_filenames([t.name for t in score.tracks], suffix)]
        if any(p.resolve() == out.resolve() for p in stem_paths):
            raise OutputError(f"The mix {str(out)!r} would be overwritten by a stem; move one.")
        check_outputs(stem_paths, inputs, force=args.force)

    with progress_bar("Rendering") as progress:
        start = time.perf_counter()
        stems, mix = render(
            score, sample_rate=args.sample_rate, soundfont=args.soundfont, progress=progress
        )
        seconds = time.perf_counter() - start
    write_audio(mix, out, subtype=args.format)
    for stem, path in zip(stems, stem_paths, strict=False):
        write_audio(stem, path, subtype=args.format)

    stems_note = f" and {len(stem_paths)} stems in {args.stems}" if stem_paths else ""
    print(
        f"Wrote {out}{stems_note}: {mix.duration_seconds:.1f} s at {mix.sample_rate} Hz, "
        f"rendered at {mix.duration_seconds / seconds:.0f}x real time."
    )
    return 0
