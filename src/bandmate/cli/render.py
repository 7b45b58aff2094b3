"""`bandmate render`: a MIDI file to a WAV or FLAC mix, and optionally one file per track."""

from __future__ import annotations

import re
import sys
from pathlib import Path

SAMPLE_RATES = (44_100, 48_000, 88_200, 96_000)  # FluidSynth renders at up to 96 kHz
FORMATS = ("PCM_16", "PCM_24", "FLOAT")


def add_parser(sub) -> None:
    p = sub.add_parser(
        "render",
        help="render a MIDI file (or MusicXML, ABC) to audio with a General MIDI SoundFont",
        description="Play a MIDI, MusicXML or ABC file through FluidSynth and write the mix; "
        "with --stems, also one stereo file per track, named NN-track-name.wav after the track's "
        "position and name (the stems add up to the mix). The SoundFont is --soundfont, else "
        "$BANDMATE_SOUNDFONT, else the system's GM SoundFont.",
    )
    # neither is required by argparse, so that a mistyped option is reported as such first
    p.add_argument(
        "input", nargs="?", metavar="IN.mid", help="the MIDI (or MusicXML, ABC) file to render"
    )
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
    from bandmate.cli.convert import warn_of_controllers
    from bandmate.errors import InputFileError
    from bandmate.io.audio import display_name
    from bandmate.jobs.render import render_file
    from bandmate.progress import progress_bar

    if not args.input:
        raise InputFileError(
            "Give the MIDI file to render, as in `bandmate render song.mid -o song.wav`."
        )
    with progress_bar("Rendering") as progress:
        result = render_file(
            args.input,
            args.output,
            stems_dir=args.stems,
            sample_rate=args.sample_rate,
            soundfont=args.soundfont,
            subtype=args.format,
            force=args.force,
            progress=progress,
        )
    clipped = 0 if args.format == "FLOAT" else clipped_samples(result.mix)
    stems_note = (
        f" and {len(result.stems)} stems in {display_name(args.stems)}" if result.stems else ""
    )
    print(
        f"Wrote {display_name(result.mix)}{stems_note}: {result.duration_seconds:.1f} s at "
        f"{result.sample_rate} Hz, rendered at "
        f"{speed_text(result.duration_seconds, result.render_seconds)} real time."
    )
    warn_of_controllers(args.input, "render", "played", kept=True)
    if result.stems:
        warn_of_other_stems(result.stems)
    if clipped:
        # FLAC holds no floats: the advice names a WAV for it
        flac = Path(result.mix).suffix.lower() == ".flac"
        to = " to a .wav file" if flac else ""
        print(
            f"bandmate render: warning: the mix went over full scale and {clipped} samples were "
            f"clipped in {display_name(result.mix)}; render{to} with --format FLOAT to keep its "
            "peaks, then bring it down with `bandmate master`.",
            file=sys.stderr,
        )
    return 0


def speed_text(audio_seconds: float, render_seconds: float) -> str:
    """How many times faster than real time the rendering ran: "165x", "2.5x", "0.35x".

    Whole numbers alone said "0x" for a thousand-part file that rendered at a third of real time.
    """
    speed = audio_seconds / max(render_seconds, 1e-9)
    return f"{speed:.0f}x" if speed >= 10 else f"{speed:.2g}x"


def warn_of_other_stems(stems) -> None:
    """Say so when the stems' folder also holds stems this render did not write.

    A render into the folder of an earlier one (with --force, after a part was dropped or
    renamed) left the earlier stems beside the new ones, interleaved by number, and a DAW that
    imports the folder played both; they are not removed (nothing is, that was not asked for).
    """
    from bandmate.io.audio import display_name

    folder = stems[0].parent
    written = {p.name for p in stems}
    named = re.compile(r"\d{2,}-[a-z0-9-]+\.(wav|flac)")  # as render.stem_filenames names them
    others = sorted(
        p.name for p in folder.iterdir() if named.fullmatch(p.name) and p.name not in written
    )
    if others:
        more = f" and {len(others) - 1} more" if len(others) > 1 else ""
        print(
            f"bandmate render: warning: {display_name(folder)} also holds stems this render did "
            f"not write ({others[0]}{more}); remove them or use an empty folder, so that only "
            "this render's stems add up to the mix.",
            file=sys.stderr,
        )


def clipped_samples(path) -> int:
    """The samples of the PCM file at `path` held at full scale, as a mix that went over is
    written (its samples cut to the largest or smallest code).

    A score that is loud everywhere (six parts of chords at velocity 127) sums past 0 dBFS at
    FluidSynth's gain, and the 16/24-bit mix came out distorted without a word. A sample lands
    on full scale by chance only once in millions, so a count of two or more is reported.
    """
    import numpy as np
    import soundfile as sf

    bits = {"PCM_16": 16, "PCM_24": 24}.get(sf.info(str(path)).subtype)
    if bits is None:  # a float file keeps what is over full scale
        return 0
    top = 1 - 2.0 ** (1 - bits)  # the largest code; the smallest is -1 itself
    count = 0
    for block in sf.blocks(str(path), blocksize=1 << 16, dtype="float32", always_2d=True):
        count += int(np.count_nonzero((block >= top) | (block <= -1)))
    return count if count > 1 else 0
