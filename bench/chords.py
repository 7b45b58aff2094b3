"""Chord suggestions for a melody: do they land in the tune's own key, and end where it ends?

    .venv/bin/python bench/chords.py [--collections oneills1850 essen ryans-mammoth] [--limit N]

Every held-out tune (the test split) of the folk collections that states its key is given to
`bandmate chords` (`compose.chords.suggest_for_melody`) with its chords removed. For the first
suggestion it counts:

- in the stated key: the suggestion's key has the tune's stated tonic and third (a G mixolydian
  tune's suggestion in G mixolydian or G major counts), rather than its relative;
- ends on the tonic chord: the suggestion's last chord has the tune's stated tonic as its root;
- sevenths: the suggestion has a major, minor or half-diminished seventh chord in it (a dominant
  seventh is a triad palette's chord too). These are plain folk tunes, which a musician sets
  with triads; a low figure is better;
- time per tune.

Side by side, in the same run: the ranking as shipped and without the final-note preferences
(`compose.chords.FINAL_TONIC_BONUS` and `theory.harmony.FINAL_TONIC_PREFERENCE` at 0); and both
again with the tune's key withheld (as from a MIDI file with no key signature), so that the key
is estimated from the notes. Also printed: how many tunes end on their stated tonic at all.
It asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import time
from unittest import mock

from bandmate.compose import chords
from bandmate.corpus.ledger import training_items
from bandmate.theory import harmony
from bandmate.theory.chart import parse_chart

SEVENTHS = ("maj7", "m7", "m7b5")


def tunes(collections: list[str], limit: int | None) -> list:
    """The test split's tunes that state a key, their chords removed; `limit` per collection."""
    out = []
    for collection in collections:
        found = [
            score.replace(chords=())
            for _, score in training_items([collection], "test")
            if score.key is not None and harmony.melody_notes(score)
        ]
        out += found[:limit]
    return out


def first_suggestion(score):
    start = time.perf_counter()
    best = chords.suggest_for_melody(score, count=1)[0]
    return best, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--collections", nargs="*", default=["oneills1850", "essen", "ryans-mammoth"]
    )
    parser.add_argument("--limit", type=int, default=None, help="tunes per collection at most")
    args = parser.parse_args()
    pieces = tunes(args.collections, args.limit)
    variants = {  # name: (the key withheld, the preferences on)
        "as shipped": (False, True),
        "no final-note preference": (False, False),
        "key withheld, as shipped": (True, True),
        "key withheld, no preference": (True, False),
    }
    counts = {v: {"key": 0, "cadence": 0, "sevenths": 0, "seconds": []} for v in variants}
    ends_on_tonic = 0
    for score in pieces:
        stated = harmony.key_of(score)
        notes = harmony.melody_notes(score)
        last = max(notes, key=lambda n: (n.onset_ticks, n.pitch))
        ends_on_tonic += last.pitch % 12 == stated.tonic
        for name, (withheld, preferring) in variants.items():
            given = score.replace(keys=()) if withheld else score
            with (
                mock.patch.object(
                    chords, "FINAL_TONIC_BONUS", chords.FINAL_TONIC_BONUS * preferring
                ),
                mock.patch.object(
                    harmony, "FINAL_TONIC_PREFERENCE", harmony.FINAL_TONIC_PREFERENCE * preferring
                ),
            ):
                best, seconds = first_suggestion(given)
            chart = parse_chart(best.chart)
            # the same tonic and third: a suggestion in G major for a G mixolydian tune counts
            counts[name]["key"] += (chart.key.tonic, chart.key.is_minor) == (
                stated.tonic,
                stated.is_minor,
            )
            counts[name]["cadence"] += chart.bars[-1].chords[-1].symbol.root == stated.tonic
            counts[name]["sevenths"] += any(
                c.symbol.quality in SEVENTHS for bar in chart.bars for c in bar.chords
            )
            counts[name]["seconds"].append(seconds)
    n = len(pieces)
    print(f"{n} held-out tunes that state their key ({', '.join(args.collections)}); ", end="")
    print(f"{ends_on_tonic} ({ends_on_tonic / n:.1%}) end on their tonic")
    print(
        f"{'ranking':<28} {'in the stated key':>18} {'ends on its tonic':>18} "
        f"{'sevenths':>9} {'ms/tune':>8}"
    )
    for name, c in counts.items():
        print(
            f"{name:<28} {c['key'] / n:>18.1%} {c['cadence'] / n:>18.1%} "
            f"{c['sevenths'] / n:>9.1%} "
            f"{1000 * statistics.median(c['seconds']):>8.1f}"
        )


if __name__ == "__main__":
    main()
