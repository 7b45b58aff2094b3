"""Backing-track speed: a 3-minute song as MIDI only, and with rendered stems and a mix.

Targets (issue 3, on the 2-core reference machine): MIDI <= 0.5 s, audio <= 8 s. The audio job is
`bandmate backing`'s default: stems balanced to the style's levels, automixed mix.wav, mastered
master.wav, every file tagged and signed. It prints each stage's cost alone too, and the
arrangement checks for every style (bass root on beat 1, chord tones on beats, drum dropouts).

    .venv/bin/python bench/backing.py [--style rock] [--repeats 3]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from bandmate.arrange.analysis import analyse_arrangement
from bandmate.arrange.backing import backing
from bandmate.arrange.style import load_style, style_names
from bandmate.jobs.backing import BackingRequest, make_backing
from bandmate.memory import tune_allocator

# a 32-bar song form; choruses are added until the song lasts three minutes
CHART = """
(key: G)
[Verse]  | G | Em7 | Cmaj7 | D7 | G/B | C | Am7 D7 | G |
         | G | Em7 | Am7 | D7sus4 D7 | Bm7 | E7 | Am7 D7 | G |
[Chorus] | C | D | Bm7 | Em | Am7 | D7 | Gmaj7 | G7 |
         | C | Cm6 | Bm7 | E7b9 | Am7 | D7 | G Em7 | Am7 D7 |
"""


def choruses_for(seconds: float, tempo_bpm: float, meter: tuple[int, int]) -> int:
    bar_seconds = meter[0] * 4 / meter[1] * 60 / tempo_bpm
    return max(1, round(seconds / (32 * bar_seconds)))


def three_minutes(style) -> tuple[float, int]:
    """(tempo, choruses) for a song of 180 s: the choruses that come nearest at the style's
    default tempo, then the tempo nudged (within the style's range) so that the song, intro and
    ending included, lasts 180 s to the tenth of a second."""
    tempo = style.tempo_default
    choruses = choruses_for(180, tempo, style.meter)
    for _ in range(3):  # the length is beats / tempo, so one step nearly lands it
        song = backing(CHART, style=style, tempo_bpm=tempo, choruses=choruses, seed=1)
        tempo = round(tempo * song.duration_seconds / 180, 2)
        tempo = min(max(tempo, style.tempo_min), style.tempo_max)
    return tempo, choruses


def best_of(repeats: int, fn) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def stage_costs(score, style) -> None:
    """The audio job's stages one after another, each with its own threads, and their sum: what
    the job overlaps (it publishes each file in the background and writes MusicXML beside the
    rendering), so the sum less the job's time is what the overlap saved."""
    from bandmate.io.music21_write import write_musicxml
    from bandmate.jobs.backing import balance_stems
    from bandmate.mix.automix import automix
    from bandmate.mix.master import master
    from bandmate.render import render_stems
    from bandmate.rights.provenance import Provenance, Publisher

    def timed(fn):
        start = time.perf_counter()
        result = fn()
        return result, time.perf_counter() - start

    costs = {}
    with tempfile.TemporaryDirectory() as tmp:
        rendered, costs["render stems (FluidSynth)"] = timed(lambda: render_stems(score))
        levels = [style.part(t.name).level_db for t in score.tracks]
        (stems, _), costs["balance stems to the style's levels"] = timed(
            lambda: balance_stems(rendered, levels)
        )
        named = [(t.name, s) for t, s in zip(score.tracks, stems, strict=True)]
        (mixed, _), costs["automix"] = timed(lambda: automix(named))
        (mastered, _), costs["master"] = timed(lambda: master(mixed))
        _, costs["MusicXML (music21)"] = timed(
            lambda: write_musicxml(score, Path(tmp) / "song.musicxml")
        )

        def publish_all_audio():
            with Publisher(Provenance(command="backing", parameters={})) as publisher:
                for k, audio in enumerate([*stems, mixed, mastered]):
                    publisher.audio(audio, Path(tmp) / f"{k}.wav")

        _, costs[f"write, tag and sign {len(stems) + 2} WAVs"] = timed(publish_all_audio)
    print()
    print(f"{'stage, alone':44s} {'seconds':>8s}")
    for what, seconds in costs.items():
        print(f"{what:44s} {seconds:8.3f}")
    print(f"{'sum':44s} {sum(costs.values()):8.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--style", default="rock")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    tune_allocator()  # as `bandmate backing` runs it (bandmate.cli.main)

    style = load_style(args.style)
    tempo, choruses = three_minutes(style)
    score = backing(CHART, style=style, tempo_bpm=tempo, choruses=choruses, seed=1)
    print(
        f"song: {args.style} at {tempo:g} BPM, {choruses} choruses, "
        f"{score.duration_seconds:.0f} s, {len(score.tracks)} tracks, {score.note_count} notes"
    )

    midi_s = best_of(
        args.repeats,
        lambda: backing(CHART, style=style, tempo_bpm=tempo, choruses=choruses, seed=1),
    )
    with tempfile.TemporaryDirectory() as tmp:
        request = BackingRequest(
            chart=CHART, style=args.style, tempo_bpm=tempo, choruses=choruses, seed=1
        )
        audio_s = best_of(args.repeats, lambda: make_backing(request, Path(tmp), force=True))
        midi_only = BackingRequest(
            chart=CHART, style=args.style, tempo_bpm=tempo, choruses=choruses, seed=1, audio=False
        )
        files_s = best_of(args.repeats, lambda: make_backing(midi_only, Path(tmp), force=True))

    print()
    print(f"{'what':44s} {'seconds':>8s} {'target':>7s}")
    print(f"{'arrange (Score in memory)':44s} {midi_s:8.3f} {'0.5':>7s}")
    print(f"{'arrange + song.mid + song.musicxml + manifest':44s} {files_s:8.3f}")
    print(f"{'... + stems, mix.wav, master.wav, all signed':44s} {audio_s:8.3f} {'8':>7s}")
    print(f"audio job speed: {score.duration_seconds / audio_s:.1f}x real time")
    stage_costs(score, style)

    print()
    print(
        f"{'style':18s} {'bass on 1':>9s} {'chord tones':>11s} {'dropouts':>8s} {'arrange s':>9s}"
    )
    for name in style_names():
        s = load_style(name)
        n = choruses_for(180, s.tempo_default, s.meter)
        start = time.perf_counter()
        song = backing(CHART, style=s, tempo_bpm=s.tempo_default, choruses=n, seed=1)
        took = time.perf_counter() - start
        r = analyse_arrangement(song)
        print(
            f"{name:18s} {r.bass_on_one:9.1%} {r.chord_tones_on_beats:11.1%} "
            f"{len(r.drum_dropout_bars):8d} {took:9.3f}"
        )


if __name__ == "__main__":
    main()
