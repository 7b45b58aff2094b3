"""The render job: a MIDI file to a mix, and optionally one file per track."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from bandmate.progress import ProgressCallback, no_progress


@dataclass(frozen=True)
class RenderResult:
    mix: Path
    stems: tuple[Path, ...]
    duration_seconds: float
    sample_rate: int
    render_seconds: float


def render_file(
    midi_path: str | os.PathLike,
    output: str | os.PathLike | None = None,
    *,
    stems_dir: str | os.PathLike | None = None,
    sample_rate: int = 44_100,
    soundfont: str | os.PathLike | None = None,
    subtype: str = "PCM_24",
    force: bool = False,
    progress: ProgressCallback = no_progress,
) -> RenderResult:
    """Render `midi_path` to `output` (default: beside it as .wav) and stems into `stems_dir`.

    `midi_path` is a MIDI file or any score file bandmate reads (MusicXML, ABC: see
    `io.formats.read_score`); a tune written as ABC renders as it would once converted. A file
    without a score suffix is read as MIDI, as it always was ("song", "song.smf").

    Stems are named `NN-track-name` with the mix's suffix (see `render.stem_filenames`). Every
    output is checked before the rendering starts. The files are written as the tracks are
    rendered (`render.write_rendering`), so that memory does not grow with the number of tracks;
    `render_seconds` counts the writing too.
    """
    from bandmate.errors import OutputError
    from bandmate.io.audio import check_writable
    from bandmate.io.files import check_inputs, check_output_folder, check_outputs
    from bandmate.io.formats import READ_SUFFIXES, read_score
    from bandmate.io.midi import read_midi
    from bandmate.render import stem_filenames, write_rendering

    check_inputs([midi_path])
    inputs = [midi_path, *([soundfont] if soundfont else [])]
    out = Path(output) if output else Path(midi_path).with_suffix(".wav")
    check_outputs([out], inputs, force=force)
    if out.is_dir():
        raise OutputError(f"Output {str(out)!r} is a folder; give the path of a .wav file.")
    check_writable(out, subtype)

    suffix = Path(midi_path).suffix.lower()
    score = read_score(midi_path) if suffix in READ_SUFFIXES else read_midi(midi_path)
    stem_paths: list[Path] = []
    if stems_dir:
        folder = Path(stems_dir)
        if folder.exists() and not folder.is_dir():
            raise OutputError(f"--stems {str(folder)!r} is a file; give a folder for the stems.")
        if folder.resolve() == out.resolve():  # the stems would go in after the mix
            raise OutputError(
                f"--stems {str(folder)!r} is the mix's own path; give another folder for the stems."
            )
        check_output_folder(folder)  # one that cannot be made, before the rendering
        names = stem_filenames([t.name for t in score.tracks], out.suffix.lower())
        stem_paths = [folder / n for n in names]
        if any(p.resolve() == out.resolve() for p in stem_paths):
            raise OutputError(f"The mix {str(out)!r} would be overwritten by a stem; move one.")
        check_outputs(stem_paths, inputs, force=force)

    start = time.perf_counter()
    frames = write_rendering(
        score,
        out,
        stem_paths,
        sample_rate=sample_rate,
        soundfont=soundfont,
        subtype=subtype,
        progress=progress,
    )
    took = time.perf_counter() - start
    return RenderResult(out, tuple(stem_paths), frames / sample_rate, sample_rate, took)
