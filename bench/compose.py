"""Composition quality and speed: melodies against held-out tunes, harmonizations against Bach.

    .venv/bin/python bench/compose.py [--pieces 100] [--chorales 20] [--melody-model DIR]
                                      [--chorale-model DIR] [--seed 0]

Melodies: `--pieces` held-out tunes (the test split of the melody model's training collections,
taken in turn from each, so every style is in the set) each give their bars, meter and chords
(the labelled chords the model learnt with) and their collection's style; the model writes a new
melody over them. The generated set and the held-out tunes are compared the MGEval way
(`compose.evaluate.compare_feature_sets`: overlap area and KL divergence per feature, target
OA >= 0.8), and by the chord-tone ratio on strong beats (target: at or above the held-out tunes'
own rate) and scale consistency (target: within 0.02 of theirs).

Harmonizations: the sopranos of `--chorales` JSB test chorales are harmonized and counted by
the same part-writing code as Bach's own chorales of the whole test split: parallel fifths and
octaves per 100 beats, crossings, range violations.

Speed: a 32-bar melody over a 4-bar chart, and a 16-bar SATB harmonization, median of 5, on
this CPU with 2 threads (targets: <= 1 s and <= 5 s).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import torch

from bandmate.compose.continuation import lead_sheet
from bandmate.compose.evaluate import (
    FEATURES,
    SATB_RANGES,
    chord_tone_ratio,
    compare_feature_sets,
    parallels_per_100_beats,
    part_writing,
    piece_features,
    scale_consistency,
)
from bandmate.compose.harmonize import harmonize_steps, load_chorale_model
from bandmate.compose.melody import (
    CHORD_TONE_BIAS,
    MelodySettings,
    load_melody_model,
    melody_over_chart,
    melody_over_lead_sheet,
)
from bandmate.corpus.jsb import load_jsb
from bandmate.corpus.ledger import Ledger
from bandmate.models.tasks import DEFAULT_COLLECTIONS, MELODY_STYLE_OF_COLLECTION
from bandmate.theory.chart import parse_chart
from bandmate.theory.harmony import melody_notes


def held_out_tunes(collections: list[str], count: int, tokenizer) -> list[tuple[str, object]]:
    """(style, lead sheet) of `count` test-split tunes, taken in turn from each collection
    (tunes the tokenizer cannot write, such as a 3/1 meter, are left out as training left
    them out)."""
    ledger = Ledger()
    queues = {c: ledger.items([c], split="test") for c in collections}
    out, index = [], 0
    while len(out) < count and any(index < len(q) for q in queues.values()):
        for name, entries in queues.items():
            if index < len(entries) and len(out) < count:
                try:
                    score = ledger.read_item(entries[index])[0]
                    notes = melody_notes(score)
                    if len(notes) >= 8:
                        style = MELODY_STYLE_OF_COLLECTION.get(name, "folk")
                        sheet = lead_sheet(score, notes)
                        tokenizer.encode(sheet)
                        out.append((style, sheet))
                except Exception:  # an unreadable test item is skipped, as training skips it
                    pass
        index += 1
    return out


def mean(values) -> float:
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else float("nan")


def bench_melodies(trained, pieces: int, seed: int, bias: float = CHORD_TONE_BIAS) -> None:
    data = trained.card.get("training", {}).get("data", {})
    names = [c["name"] for c in data.get("collections", [])] or list(DEFAULT_COLLECTIONS["melody"])
    tunes = held_out_tunes(names, pieces, trained.tokenizer)
    generated, seconds = [], 0.0
    for i, (style, sheet) in enumerate(tunes):
        started = time.perf_counter()
        tempo = sheet.tempo_bpm
        settings = MelodySettings(style=style, seed=seed + i, chord_tone_bias=bias)
        generated.append(
            melody_over_lead_sheet(sheet, tempo_bpm=tempo, settings=settings, model=trained)
        )
        seconds += time.perf_counter() - started
    reference = [sheet for _, sheet in tunes]
    print(f"\nMelodies: {len(generated)} generated over the chords of {len(reference)} held-out")
    print(f"tunes of {', '.join(names)} (test split), {seconds / len(generated):.2f} s each")
    comparison = compare_feature_sets(
        [piece_features(s) for s in generated], [piece_features(s) for s in reference]
    )
    print(f"\n  {'feature':<28} {'overlap area':>12} {'KL':>8}")
    for feature in FEATURES:
        c = comparison[feature]
        flag = "" if c.overlap_area >= 0.8 else "   < 0.8"
        print(f"  {feature:<28} {c.overlap_area:>12.3f} {c.kl_divergence:>8.3f}{flag}")
    strong_gen = mean(chord_tone_ratio(s, strong_beats_only=True) for s in generated)
    strong_ref = mean(chord_tone_ratio(s, strong_beats_only=True) for s in reference)
    all_gen = mean(chord_tone_ratio(s) for s in generated)
    all_ref = mean(chord_tone_ratio(s) for s in reference)
    scale_gen = mean(scale_consistency(s) for s in generated)
    scale_ref = mean(scale_consistency(s) for s in reference)
    print(f"\n  {'':<34} {'generated':>10} {'held-out':>10}")
    print(f"  {'chord-tone ratio, strong beats':<34} {strong_gen:>10.3f} {strong_ref:>10.3f}")
    print(f"  {'chord-tone ratio, all notes':<34} {all_gen:>10.3f} {all_ref:>10.3f}")
    print(f"  {'scale consistency':<34} {scale_gen:>10.3f} {scale_ref:>10.3f}")


def _written_range_violations(steps) -> int:
    """Notes of alto, tenor and bass (runs of one pitch) outside SATB_RANGES."""
    count = 0
    for voice, name in ((1, "alto"), (2, "tenor"), (3, "bass")):
        low, high = SATB_RANGES[name]
        line = [step[voice] for step in steps]
        starts = [p for i, p in enumerate(line) if p >= 0 and (i == 0 or line[i - 1] != p)]
        count += sum(1 for p in starts if not low <= p <= high)
    return count


def bench_harmonizations(trained, chorales: int, seed: int) -> None:
    test = load_jsb("test")
    bach = parallels_per_100_beats(test)
    ours = []
    for i, chorale in enumerate(test[:chorales]):
        soprano = [step[0] for step in chorale]
        ours.append(harmonize_steps(soprano, model=trained, seed=seed + i))
    generated = [part_writing(steps) for steps in ours]
    beats = sum(p.beats for p in generated)
    parallels = sum(p.parallel_fifths + p.parallel_octaves for p in generated)
    crossings = sum(p.crossings for p in generated)
    violations = sum(p.range_violations for p in generated)
    written = sum(_written_range_violations(steps) for steps in ours)
    kept = all([s[0] for s in ours[i]] == [step[0] for step in test[i]] for i in range(len(ours)))
    print(f"\nHarmonizations of {len(ours)} JSB test sopranos ({beats:g} beats):")
    print(
        f"  parallel fifths and octaves per 100 beats: {100 * parallels / beats:.3f} "
        f"(Bach, all {len(test)} test chorales, same code: {bach:.3f})"
    )
    print(
        f"  crossings: {crossings}, range violations: {written} in the voices written "
        f"({violations} counting Bach's given sopranos), soprano kept: {kept}"
    )


def bench_speed(melody_model, chorale_model) -> None:
    chart = parse_chart("| C | Am | F | G7 |")
    times = []
    for seed in range(5):
        started = time.perf_counter()
        melody_over_chart(
            chart, tempo_bpm=100, bars=32, settings=MelodySettings(seed=seed), model=melody_model
        )
        times.append(time.perf_counter() - started)
    melody_s = statistics.median(times)
    soprano = [s[0] for s in load_jsb("test")[0]]
    soprano = (soprano * 4)[:256]  # 16 bars of 16ths
    times = []
    for seed in range(5):
        started = time.perf_counter()
        harmonize_steps(soprano, model=chorale_model, seed=seed)
        times.append(time.perf_counter() - started)
    satb_s = statistics.median(times)
    print("\nSpeed (median of 5, 2 threads):")
    print(f"  32-bar melody:             {melody_s:.2f} s (target <= 1 s)")
    print(f"  16-bar SATB harmonization: {satb_s:.2f} s (target <= 5 s)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pieces", type=int, default=100)
    parser.add_argument("--chorales", type=int, default=20)
    parser.add_argument("--melody-model", default=None)
    parser.add_argument("--chorale-model", default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--chord-tone-bias", type=float, default=CHORD_TONE_BIAS)
    parser.add_argument("--only", choices=("speed", "harmony", "melody"), help="one part only")
    args = parser.parse_args(argv)
    torch.set_num_threads(2)
    melody_model = load_melody_model(args.melody_model)
    chorale_model = load_chorale_model(args.chorale_model)
    print(f"melody model: {melody_model.path}\nchorale model: {chorale_model.path}")
    if args.only in (None, "speed"):
        bench_speed(melody_model, chorale_model)
    if args.only in (None, "harmony"):
        bench_harmonizations(chorale_model, args.chorales, args.seed)
    if args.only in (None, "melody"):
        bench_melodies(melody_model, args.pieces, args.seed, args.chord_tone_bias)
    return 0


if __name__ == "__main__":
    sys.exit(main())
