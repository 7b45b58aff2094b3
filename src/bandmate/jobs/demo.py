"""The built-in demo: what `make demo` shows a newcomer.

Four jobs on built-in defaults:
- a Bach chorale from music21's bundled corpus through the file pipeline: MIDI, MusicXML, a
  FluidSynth rendering and a piano roll (`chorale.*`);
- the same chorale's soprano harmonized afresh by the shipped chorale model (`harmonized.mid`,
  Bach's own voices beside it in `chorale.mid`), checked for originality against the training
  data, with its provenance manifest;
- a backing track of a built-in 16-bar chart in the pop style: MIDI, MusicXML, stems, mix,
  master and manifest (`backing/`), with its piano roll (`backing.png`);
- a folk melody by the shipped melody model over that chart, with the band (`song.mid`,
  rendered to `song.wav`), checked, tagged and signed like the output of `bandmate melody`.
"""

from __future__ import annotations

import os
from pathlib import Path

from bandmate.io.files import check_outputs
from bandmate.progress import ProgressCallback, no_progress

DEMO_PIECE = "bach/bwv66.6"
DEMO_CHART = """(title: bandmate demo) (key: G)
[Verse] | G | Em7 | Cmaj7 | D7sus4 D7 | G/B | C | Am7 | D7 |
[Chorus] | C | D | Bm7 | Em7 | Am7 | D7 | G | % |
"""
DEMO_STYLE = "pop"


def demo_outputs(out_dir: str | os.PathLike) -> dict[str, Path]:
    out = Path(out_dir)
    return {
        "chorale midi": out / "chorale.mid",
        "chorale musicxml": out / "chorale.musicxml",
        "chorale wav": out / "chorale.wav",
        "chorale png": out / "chorale.png",
        "backing png": out / "backing.png",
        "harmonized midi": out / "harmonized.mid",
        "song midi": out / "song.mid",
        "song wav": out / "song.wav",
    }


def run_demo(
    out_dir: str | os.PathLike,
    *,
    force: bool = False,
    progress: ProgressCallback = no_progress,
) -> dict[str, Path]:
    """Write the demo's files into `out_dir` and return the main ones by kind."""
    from bandmate.io.audio import write_audio
    from bandmate.io.midi import read_midi, write_midi
    from bandmate.io.music21_io import load_corpus, write_musicxml
    from bandmate.jobs.backing import BackingRequest, make_backing
    from bandmate.plot.pianoroll import draw_pianoroll
    from bandmate.render import render
    from bandmate.rights.provenance import manifest_path, publish

    paths = demo_outputs(out_dir)
    generated = [paths[k] for k in ("harmonized midi", "song midi", "song wav")]
    check_outputs([*paths.values(), *map(manifest_path, generated)], force=force)
    score = load_corpus(DEMO_PIECE)
    write_midi(score, paths["chorale midi"])
    write_musicxml(score, paths["chorale musicxml"])
    _, mix = render(score)
    write_audio(mix, paths["chorale wav"])
    draw_pianoroll(score, paths["chorale png"])

    from bandmate.jobs.compose import harmonize_job

    soprano = score.replace(tracks=score.tracks[:1])
    harmonize_job(soprano, paths["harmonized midi"], seed=1, force=force,
                  parameters={"demo": "harmonized", "piece": DEMO_PIECE})  # fmt: skip

    request = BackingRequest(chart=DEMO_CHART, style=DEMO_STYLE, seed=1)
    backing = make_backing(request, Path(out_dir) / "backing", force=force, progress=progress)
    draw_pianoroll(read_midi(backing["midi"]), paths["backing png"])

    song = _melody_with_band(paths["song midi"], seed=1, force=force)
    _, mix = render(song.score)
    write_audio(mix, paths["song wav"])
    publish(paths["song wav"], song.provenance)
    return paths | {
        "backing mix": backing["mix"],
        "backing master": backing["master"],
        "backing midi": backing["midi"],
    }


def _melody_with_band(out: Path, seed: int, force: bool):
    """A folk melody over the demo chart, played with the demo's backing style, written to
    `out` with its provenance."""
    from bandmate.arrange.backing import prepare_chart
    from bandmate.compose.melody import MelodySettings
    from bandmate.jobs.compose import melody_job

    return melody_job(
        prepare_chart(DEMO_CHART, None),
        out,
        settings=MelodySettings(style="folk", seed=seed),
        tempo_bpm=100.0,
        with_backing=DEMO_STYLE,
        force=force,
        parameters={"demo": "song", "chart": DEMO_CHART, "style": "folk", "band": DEMO_STYLE},
    )
