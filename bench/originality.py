"""The originality index against planted copies, new melodies and human tunes it never saw.

    .venv/bin/python bench/originality.py [--generated 200] [--plants 50] [--held-out 150]
                                         [--seed 1]

Reports (targets from issue 7):
- the shipped index: its size on disk, items, notes, and the time to load it and make its
  search tables;
- recall of `--plants` planted copies (target 100%): 8-16-note excerpts of training melodies
  (the index's own lines, which are the items the melody and chorale models learnt from),
  transposed by -5..+6 semitones (never 0), with a small rhythm change in every second one (a
  pair of neighbouring notes evened out, swapped or dotted; two pairs from 12 notes up). Each
  is checked alone and spliced into one of the generated melodies; "source found" counts
  plants whose reported match is the planted item;
- the share of `--generated` melodies written by the shipped melody model over 16-bar charts
  (four styles in turn) that are flagged, and why;
- false flags on human tunes of collections the models never saw (target <= 5%): up to
  `--held-out` pieces each of music21's airdsAirs, miscFolk and nottingham-dataset (ABC folk
  tunes) and of Palestrina (recorded in the ledger, never trained on), every line of a piece
  checked as `bandmate check` would;
- query time per piece, median and 95th percentile (target <= 50 ms), the search tables made,
  and per melody (a held-out piece's time over its lines: Palestrina's pieces have up to 8);
- the flagged shares of plants, generated melodies and held-out pieces under stricter rules
  (a longer passage, a higher threshold), for choosing the policy.

The threshold was chosen on the ledger's train and valid splits (see
`bandmate.rights.originality`), never on these held-out tunes.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

from bandmate.rights import originality as orig
from bandmate.score.model import Note, Role, Score, Track

CHARTS = (
    "| C | Am | F | G7 | C | F | G7 | C |",
    "| Dm7 | G7 | Cmaj7 | A7 | Dm7 | G7 | C | C |",
    "| Am | Dm | E7 | Am | F | Dm | E7 | Am |",
    "| G | C | D | G | Em | C | D7 | G |",
    "| D | G | A | D | Bm | G | A7 | D |",
    "| F | Bb | C7 | F | Dm | Gm | C7 | F |",
)
STYLES = ("folk", "irish", "fiddle", "chorale")
HELD_OUT = ("airdsAirs", "miscFolk", "nottingham-dataset", "palestrina")


def generated_melodies(count: int, seed: int) -> list[Score]:
    import torch

    from bandmate.compose.melody import MelodySettings, load_melody_model, melody_over_chart
    from bandmate.theory.chart import parse_chart

    torch.set_num_threads(2)
    model = load_melody_model()
    out = []
    for i in range(count):
        chart = parse_chart(CHARTS[i % len(CHARTS)])
        settings = MelodySettings(style=STYLES[i % len(STYLES)], seed=seed + i)
        out.append(melody_over_chart(chart, tempo_bpm=100, bars=16, settings=settings, model=model))
    return out


def melody_score(pitches, iois_steps, ticks_per_step: int = 40) -> Score:
    """A one-track Score from pitches and inter-onset intervals in 12ths of a beat."""
    onsets = np.concatenate([[0], np.cumsum(iois_steps)[:-1]]) * ticks_per_step
    notes = [
        Note(int(on), int(ioi) * ticks_per_step, int(p))
        for on, ioi, p in zip(onsets, iois_steps, pitches, strict=True)
    ]
    return Score(tracks=(Track("Melody", role=Role.MELODY, notes=tuple(notes)),))


def change_rhythm(iois: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A small rhythm change: one pair of neighbouring notes (two from 12 notes up) evened out,
    swapped, or dotted, keeping the pair's total length."""
    iois = iois.copy()
    for _ in range(1 if len(iois) < 12 else 2):
        i = int(rng.integers(0, len(iois) - 1))
        a, b = int(iois[i]), int(iois[i + 1])
        if a != b and (a + b) % 2 == 0:
            iois[i] = iois[i + 1] = (a + b) // 2
        elif a != b:
            iois[i], iois[i + 1] = b, a
        elif a % 2 == 0:
            iois[i], iois[i + 1] = a * 3 // 2, a // 2
        else:
            iois[i] = 2 * a
    return iois


def plants(index, count: int, rng) -> list[tuple[int, np.ndarray, np.ndarray, bool]]:
    """(item, pitches, iois, rhythm changed) of `count` planted excerpts."""
    a = index.arrays
    offsets = a["line_offsets"]
    out = []
    while len(out) < count:
        line = int(rng.integers(len(a["line_item"])))
        n = int(rng.integers(8, 17))
        start, end = int(offsets[line]), int(offsets[line + 1])
        if end - start < n + 1:
            continue
        s = int(rng.integers(start, end - n))
        shift = int(rng.choice([x for x in range(-5, 7) if x]))
        pitches = np.clip(a["pitches"][s : s + n] + shift, 0, 127)
        iois = np.diff(a["onset_steps"][s : s + n + 1])
        changed = len(out) % 2 == 1
        if changed:
            iois = change_rhythm(iois, rng)
        out.append((int(a["line_item"][line]), pitches, iois, changed))
    return out


def splice(host: Score, pitches, iois, rng) -> Score:
    """`host` with the excerpt put in after one of its notes; later notes move on."""
    track = host.tracks[0]
    notes = list(track.notes)
    at = int(rng.integers(2, max(3, len(notes) - 2)))
    onset = notes[at].onset_ticks
    step = host.ticks_per_beat // orig.STEPS_PER_BEAT
    shift = notes[at - 1].pitch - int(pitches[0]) + int(rng.choice([-2, -1, 1, 2]))
    inserted, t = [], onset
    for p, ioi in zip(pitches, iois, strict=True):
        inserted.append(Note(t, int(ioi) * step, int(np.clip(p + shift, 0, 127))))
        t += int(ioi) * step
    moved = [Note(n.onset_ticks + t - onset, n.duration_ticks, n.pitch) for n in notes[at:]]
    return host.replace(tracks=(track.with_notes(notes[:at] + inserted + moved),))


def held_out_pieces(per_collection: int) -> dict[str, list[Score]]:
    from music21 import converter, corpus, stream

    from bandmate.io.music21_io import corpus_names, score_from_music21

    out: dict[str, list[Score]] = {}
    for name in HELD_OUT:
        pieces: list[Score] = []
        for ref in corpus_names(name):
            if len(pieces) >= per_collection:
                break
            try:
                parsed = converter.parse(corpus.getWork(ref), forceSource=False)
            except Exception:  # a file music21 cannot read is left out
                continue
            opus = list(parsed.scores) if isinstance(parsed, stream.Opus) else [parsed]
            for work in opus[: per_collection - len(pieces)]:
                try:
                    score = score_from_music21(work)
                except Exception:  # a tune that does not fit a Score is left out
                    continue
                if score.note_count >= 8:
                    pieces.append(score)
        out[name] = pieces
    return out


def timed_check(score, index, times: list[float], per_line: list[float] | None = None):
    start = time.perf_counter()
    result = orig.check_score(score, index)
    took = time.perf_counter() - start
    times.append(took)
    if per_line is not None:
        per_line.append(took / max(1, len(orig.score_lines(score))))
    return result


# (passage notes N, common-material cut C bits, similarity threshold T bits); (8, 8, 20) is the
# issue's rule taken literally, (8, 35, 35) what ships
SWEEP = ((8, 8, 20), (8, 26, 26), (8, 30, 30), (8, 35, 35), (8, 40, 40), (8, 50, 50),
         (12, 40, 40), (16, 60, 60), (24, 80, 80))  # fmt: skip


def sweep(index, generated, planted, held_out) -> None:
    """Flagged shares under other rules: passage notes, common-material cut, threshold."""
    print("\nother rules (passage of N notes, common below C bits, threshold T): flagged share")
    print(f"  {'N':>3} {'C':>4} {'T':>4} {'plants':>8} {'generated':>10} {'held-out':>9}")
    m = orig.matching
    kept = m.HARD_RULE_NOTES, m.COMMON_PASSAGE_BITS
    plants_alone = [melody_score(p, i) for _, p, i, _ in planted]
    try:
        for notes, common, threshold in SWEEP:
            m.HARD_RULE_NOTES, m.COMMON_PASSAGE_BITS = notes, float(common)

            def share(pieces, threshold=threshold):
                flags = [orig.check_score(p, index, threshold=threshold).flagged for p in pieces]
                return sum(flags) / max(len(flags), 1)

            print(f"  {notes:>3} {common:>4} {threshold:>4} {share(plants_alone):>8.0%} "
                  f"{share(generated):>10.0%} {share(held_out):>9.0%}")  # fmt: skip
    finally:
        m.HARD_RULE_NOTES, m.COMMON_PASSAGE_BITS = kept


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generated", type=int, default=200)
    parser.add_argument("--plants", type=int, default=50)
    parser.add_argument("--held-out", type=int, default=150)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-sweep", dest="sweep", action="store_false", help="skip the sweep")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)

    folder = orig.index_folder()
    size = sum(p.stat().st_size for p in Path(folder).iterdir() if p.is_file())
    start = time.perf_counter()
    index = orig.OriginalityIndex.load(folder)
    loaded = time.perf_counter() - start
    index.melody, index.chord_tables, index.drum_tables  # noqa: B018 (make the tables)
    tables = time.perf_counter() - start - loaded
    print(f"index: {folder}, {size / 1e6:.2f} MB on disk, {index.card.get('items')} items, ")
    print(f"  {index.card.get('notes')} notes; loaded in {loaded:.2f} s, tables {tables:.2f} s")
    print(f"  threshold {orig.THRESHOLD_BITS} bits; hard rule {orig.HARD_RULE_NOTES} notes")
    times: list[float] = []

    started = time.perf_counter()
    generated = generated_melodies(args.generated, args.seed)
    gen_s = time.perf_counter() - started
    results = [timed_check(s, index, times) for s in generated]
    flagged = [r for r in results if r.flagged]
    reasons = Counter(r.reason for r in flagged)
    collections = Counter(r.longest_match.source.collection for r in flagged)
    print(f"\ngenerated melodies: {len(generated)} (16 bars, written in {gen_s:.0f} s)")
    print(f"  flagged {len(flagged)} ({len(flagged) / len(results):.1%}): {dict(reasons)}")
    print(f"  matched collections: {dict(collections)}")
    print(f"  score median {statistics.median(r.score for r in results):.1f} bits")
    print(f"  longest match median {statistics.median(_notes(r) for r in results)} notes")

    planted = plants(index, args.plants, rng)
    for where in ("alone", "spliced into a generated melody"):
        caught, found, by_kind = 0, 0, Counter()
        for k, (item, pitches, iois, changed) in enumerate(planted):
            if where == "alone":
                piece = melody_score(pitches, iois)
            else:
                piece = splice(generated[k % len(generated)], pitches, iois, rng)
            result = timed_check(piece, index, times)
            caught += result.flagged
            by_kind[changed] += result.flagged
            m = result.longest_match
            found += m is not None and m.source.item_id == index.source(item).item_id
        n_changed = sum(p[3] for p in planted)
        print(f"\nplants {where}: recall {caught}/{len(planted)} ({caught / len(planted):.0%}); ")
        print(f"  exact rhythm {by_kind[False]}/{len(planted) - n_changed}, rhythm changed "
              f"{by_kind[True]}/{n_changed}; source found {found}/{len(planted)}")  # fmt: skip

    print("\nheld-out human pieces (collections the models never saw):")
    total, total_flagged, per_line, everything = 0, 0, [], []
    for name, pieces in held_out_pieces(args.held_out).items():
        everything += pieces
        res = [timed_check(s, index, times, per_line) for s in pieces]
        n = sum(r.flagged for r in res)
        total, total_flagged = total + len(res), total_flagged + n
        scores = [r.score for r in res] or [0.0]
        print(f"  {name:<20} {n:>4}/{len(res):<4} flagged ({n / max(len(res), 1):.1%}), "
              f"score median {statistics.median(scores):.1f} bits")  # fmt: skip
    print(f"  all: {total_flagged}/{total} ({total_flagged / max(total, 1):.1%}; target <= 5%)")

    ms = np.asarray(times) * 1000
    print(f"\nquery time per piece: median {np.median(ms):.1f} ms, p95 "
          f"{np.percentile(ms, 95):.1f} ms over {len(ms)} checks (target <= 50 ms)")  # fmt: skip
    ms = np.asarray(per_line) * 1000
    print(f"  per melody (a held-out piece's time / its lines): median {np.median(ms):.1f} ms, "
          f"p95 {np.percentile(ms, 95):.1f} ms")  # fmt: skip
    if args.sweep:
        sweep(index, generated, planted, everything)
    return 0


def _notes(result) -> int:
    return result.longest_match.notes if result.longest_match else 0


if __name__ == "__main__":
    sys.exit(main())
