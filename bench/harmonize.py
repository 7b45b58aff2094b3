"""Four-part harmonization of plain tunes: in the key, smooth, within the rules, well spaced?

    .venv/bin/python bench/harmonize.py [--collections oneills1850 essen ryans-mammoth]
        [--limit N] [--seeds 2] [--octave-up]

Held-out tunes (the test split) of the folk collections that state their key are given to
`bandmate harmonize` (`compose.harmonize.harmonize`, the shipped chorale model), `--limit`
per collection (default 6), each with `--seeds` seeds. Over all harmonizations it prints:

- outside the key: the alto, tenor and bass notes whose pitch class is outside the tune's
  stated key (in minor its natural, harmonic and melodic forms). Bach's chorales, modulations
  and all, have 6.0% (JSB test split); a plain tune wants fewer;
- the lower voices' mean move in semitones, and how many moves leap over a fifth;
- parallels and crossings (`compose.evaluate.score_part_writing`): the rules forbid them, so
  any here is a bug; and notes outside the SATB ranges (the melody's own, and the lower
  voices of a treble setting: the lower voices of an SATB one are held to them);
- wide spacing: of the 16th steps where soprano and alto (or alto and tenor) both sound, how
  many have them more than an octave apart;
- opening and closing: of the tunes whose first note is the tonic, how many harmonizations
  open over the tonic in the bass, and how many over the tonic chord's third (I6, a tonic chord
  still); of those whose last note is the tonic, how many close over the tonic
  (`compose.harmonize.final_chord` sees to that). There is no rule for the opening: measured
  on the first six beats of 26 such tunes x 2 seeds, 49 of 52 opened over the tonic, 2 over the
  third (F5 over A in F major) and 1 elsewhere (A5 over D in A major): too few for a rule,
  where 20 of 36 final chords missed the tonic before `final_chord`;
- time per harmonization.

With --octave-up every tune is first moved up by the octaves that put most of its notes above
G5, the soprano's highest (so `harmonize` sets it for treble voices; a tune that this takes
past C7 is left out), to check the spacing and the key there too. It asserts nothing.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import sys
import time
from pathlib import Path

import numpy as np

from bandmate.compose.evaluate import SATB_RANGES, score_part_writing
from bandmate.compose.harmonize import harmonize, melody_line
from bandmate.score import Role, Track

sys.path.insert(0, str(Path(__file__).parent))
from chords import tunes  # the same held-out tunes as bench/chords.py


def octave_up(score):
    """`score`'s melody alone, moved up until most of its notes are above G5; None when that
    takes a note past C7, the model's highest."""
    notes, _ = melody_line(score)
    highest = SATB_RANGES["soprano"][1]
    lift = 0
    while 2 * sum(n.pitch + lift > highest for n in notes) <= len(notes):
        lift += 12
    if max(n.pitch for n in notes) + lift > 96:
        return None
    moved = tuple(dataclasses.replace(n, pitch=n.pitch + lift) for n in notes)
    return score.replace(tracks=(Track("Tune", 73, role=Role.MELODY, notes=moved),))


def sounding(track, tick: int) -> int | None:
    return next((n.pitch for n in track.notes if n.onset_ticks <= tick < n.end_ticks), None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--collections", nargs="*", default=["oneills1850", "essen", "ryans-mammoth"]
    )
    parser.add_argument("--limit", type=int, default=6, help="tunes per collection at most")
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--octave-up", action="store_true", help="set every tune above G5")
    args = parser.parse_args()
    pieces = tunes(args.collections, args.limit)
    if args.octave_up:
        pieces = [moved for moved in map(octave_up, pieces) if moved is not None]
    outside = lower_total = broken = out_of_range = wide = pairs = 0
    opens = opens_tonic = opens_third = closes = closes_tonic = 0
    moves: list[int] = []
    seconds: list[float] = []
    for score in pieces:
        key = score.key
        scale = key.usual_pitch_classes()  # as the key lean reads it
        notes, _ = melody_line(score)
        first, last = (
            min(notes, key=lambda n: n.onset_ticks),
            max(notes, key=lambda n: n.onset_ticks),
        )
        for seed in range(args.seeds):
            start = time.perf_counter()
            satb, _ = harmonize(score, seed=seed)
            seconds.append(time.perf_counter() - start)
            bass = satb.tracks[3]
            for track in satb.tracks[1:]:
                pitches = [n.pitch for n in track.notes]
                lower_total += len(pitches)
                outside += sum(p % 12 not in scale for p in pitches)
                moves += [abs(a - b) for a, b in itertools.pairwise(pitches)]
            report = score_part_writing(satb)
            broken += report.parallels + report.crossings
            out_of_range += report.range_violations
            for tick in range(0, satb.end_ticks, satb.ticks_per_beat // 4):
                voices = [sounding(t, tick) for t in satb.tracks[:3]]
                for upper, lower in ((0, 1), (1, 2)):
                    if voices[upper] is not None and voices[lower] is not None:
                        pairs += 1
                        wide += voices[upper] - voices[lower] > 12
            if first.pitch % 12 == key.tonic:
                opens += 1
                low = sounding(bass, first.onset_ticks)
                opens_tonic += low is not None and low % 12 == key.tonic
                third = (key.tonic + (3 if key.is_minor else 4)) % 12
                opens_third += low is not None and low % 12 == third
            if last.pitch % 12 == key.tonic:
                closes += 1
                low = sounding(bass, last.onset_ticks)
                closes_tonic += low is not None and low % 12 == key.tonic
    runs = len(pieces) * args.seeds
    moves_array = np.array(moves)
    where = "set above G5 (treble voices)" if args.octave_up else "as written"
    print(f"{len(pieces)} tunes {where} x {args.seeds} seeds = {runs} harmonizations")
    print(
        f"lower-voice notes outside the key: {outside}/{lower_total} = {outside / lower_total:.1%}"
    )
    print(
        f"lower-voice moves: mean {moves_array.mean():.2f} semitones, "
        f"over a fifth {np.mean(moves_array > 7):.1%}"
    )
    print(f"parallels + crossings: {broken}; notes outside the SATB ranges: {out_of_range}")
    print(
        f"soprano-alto / alto-tenor more than an octave apart: {wide}/{pairs} = {wide / pairs:.1%}"
    )
    print(
        f"first note the tonic: {opens}; opens over the tonic in the bass: {opens_tonic}, "
        f"over its third: {opens_third}"
    )
    print(f"last note the tonic: {closes}; closes over the tonic in the bass: {closes_tonic}")
    print(f"time per harmonization: mean {np.mean(seconds):.2f} s, max {max(seconds):.2f} s")


if __name__ == "__main__":
    main()
