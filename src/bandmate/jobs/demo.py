"""The built-in demo: what `make demo` shows a newcomer.

For now, a Bach chorale from music21's bundled corpus goes through the file pipeline: MIDI,
MusicXML, a FluidSynth rendering and a piano roll (`chorale.*`).
"""

from __future__ import annotations

import os
from pathlib import Path

from bandmate.io.files import check_outputs
from bandmate.progress import ProgressCallback, no_progress

DEMO_PIECE = "bach/bwv66.6"
def demo_outputs(out_dir: str | os.PathLike) -> dict[str, Path]:
    out = Path(out_dir)
    return {
        "chorale midi": out / "chorale.mid",
        "chorale musicxml": out / "chorale.musicxml",
        "chorale wav": out / "chorale.wav",
        "chorale png": out / "chorale.png",
    }


def run_demo(
    out_dir: str | os.PathLike,
    *,
    force: bool = False,
    progress: ProgressCallback = no_progress,
) -> dict[str, Path]:
    """Write the demo's files into `out_dir` and return the main ones by kind."""
    from bandmate.io.audio import write_audio
    from bandmate.io.midi import write_midi
    from bandmate.io.music21_io import load_corpus, write_musicxml
    from bandmate.plot.pianoroll import draw_pianoroll
    from bandmate.render import render

    paths = demo_outputs(out_dir)
    check_outputs(paths.values(), force=force)
    score = load_corpus(DEMO_PIECE)
    write_midi(score, paths["chorale midi"])
    write_musicxml(score, paths["chorale musicxml"])
    _, mix = render(score, progress=progress)
    write_audio(mix, paths["chorale wav"])
    draw_pianoroll(score, paths["chorale png"])

    return paths
