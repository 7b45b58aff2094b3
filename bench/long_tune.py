"""Benchmark: how reading a user's long MIDI file for training grows with its length.

`bandmate train` and `bandmate corpus add` read each file of a user's folder, label its chords
(`theory.harmony.with_chords`) and encode it for the melody model. Labelling weighed every chord
slot against every note of the tune, so its time grew with the square of the length: 1,000 bars
took 2.5-3.9 s and a 10,000-bar file stalled training for over 10 minutes. Each slot now gets only
the notes that sound in it. This prints, for a seeded random melody of each length, the seconds
each step takes; each step should grow in proportion to the bars.

    .venv/bin/python bench/long_tune.py [--bars 100 1000 10000]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

from bandmate.io.formats import read_score, write_score
from bandmate.models.tasks import make_task
from bandmate.score.model import Note, Role, Score, Track
from bandmate.theory.harmony import with_chords

TICKS_PER_BAR = 4 * 480


def melody(bars: int, seed: int = 0) -> Score:
    """A random C major line of eighths, quarters and halves, `bars` bars of 4/4."""
    rng, notes, t = random.Random(seed), [], 0
    while t < bars * TICKS_PER_BAR:
        length = rng.choice([240, 480, 480, 960])
        notes.append(Note(t, length, rng.choice([60, 62, 64, 65, 67, 69, 71, 72])))
        t += length
    return Score(tracks=(Track("Melody", program=73, role=Role.MELODY, notes=tuple(notes)),))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bars", type=int, nargs="+", default=[100, 1000, 10000])
    args = parser.parse_args()
    task = make_task("melody")
    print(f"{'bars':>7} {'read s':>8} {'chords s':>9} {'encode s':>9} {'tokens':>8}")
    with tempfile.TemporaryDirectory() as folder:
        for bars in args.bars:
            path = Path(folder) / f"long-{bars}.mid"
            write_score(melody(bars), path)
            start = time.perf_counter()
            score = read_score(path)
            read = time.perf_counter()
            labelled = with_chords(score)
            labels = time.perf_counter()
            tokens = task.tokenizer.encode(labelled)
            done = time.perf_counter()
            print(
                f"{bars:>7} {read - start:>8.2f} {labels - read:>9.2f} {done - labels:>9.2f} "
                f"{len(tokens):>8}",
                flush=True,
            )


if __name__ == "__main__":
    main()
