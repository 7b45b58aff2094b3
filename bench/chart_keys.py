"""The key of a chart with no key: does `theory.harmony.key_of_chords` name it as a musician would?

    .venv/bin/python bench/chart_keys.py

A chart with no `(key: ...)` gets its key from its chords; `bandmate melody` prompts its model
with that key, and `bandmate loop` names and plays its loops in it. Each progression below is
written with the key a musician names it in, and tried in all 12 keys. Two sets: the one the
preference (`CHORD_TONIC_PREFERENCE`) was chosen on, and one written afterwards and not used to
choose it. Side by side, in the same run: the profiles alone over the same notes (the preference
at 0). It prints the share named right and the misses in the written key, and asserts nothing.
"""

from __future__ import annotations

from unittest import mock

from bandmate.theory import harmony
from bandmate.theory.chart import parse_chart, transpose_chart
from bandmate.theory.keys import Key

CHOSEN_ON = (
    ("| C | Am | F | G |", "C"), ("| C | G | Am | F |", "C"), ("| C | F | G | C |", "C"),
    ("| Dm7 | G7 | Cmaj7 | Cmaj7 |", "C"), ("| Dm7 | G7 | Cmaj7 | A7 |", "C"),
    ("| Cmaj7 | Am7 | Dm7 | G7 |", "C"), ("| C | C7 | F | Fm | C | G7 | C | C |", "C"),
    ("| C | E7 | Am | F | G | C |", "C"), ("| F | G | C | Am |", "C"), ("| C | Bb | F | C |", "C"),
    ("| C | D7 | G7 | C |", "C"), ("| Em7 | A7 | Dm7 | G7 | Cmaj7 | Cmaj7 |", "C"),
    ("| C7 | F7 | C7 | C7 | F7 | F7 | C7 | C7 | G7 | F7 | C7 | G7 |", "C"),
    ("| G7 | G7 | C | C |", "C"), ("| Cmaj7 | Fmaj7 | Cmaj7 | Fmaj7 |", "C"),
    ("| C | Am | Dm | G7 |", "C"), ("| C/E | F | G | C |", "C"), ("| C | F/C | G/B | C |", "C"),
    ("| F | C | G | G |", "C"), ("| C | G/B | Am | Em/G | F | C/E | Dm | G |", "C"),
    ("| C | Eb | F | C |", "C"), ("| Am | Dm | E7 | Am |", "Am"), ("| Am | G | F | E7 |", "Am"),
    ("| Am | F | C | G |", "Am"), ("| Am7 | D7 | Gmaj7 | Cmaj7 | F#m7b5 | B7 | Em | Em |", "Em"),
    ("| Dm7b5 | G7 | Cm | Cm |", "Cm"), ("| Am | Am/G | F | E |", "Am"),
    ("| Em | C | D | Em |", "Em"), ("| Dm | Bb | C | Dm |", "Dm"),
    ("| Am | Dm | Am | E7 | Am |", "Am"), ("| Cm | Ab | Bb | Cm |", "Cm"),
    ("| Fm | Bbm | C7 | Fm |", "Fm"), ("| Am | G | Am | G |", "Am"),
    ("| Dm | C | Bb | A7 |", "Dm"), ("| Em | Am | B7 | Em |", "Em"),
)  # fmt: skip
HELD_OUT = (
    ("| D | A | Bm | G |", "D"), ("| G | Em | C | D |", "G"), ("| Bb | F | Gm | Eb |", "Bb"),
    ("| Gm7 | C7 | Fmaj7 | Dm7 | Gm7 | C7 | Fmaj7 | Fmaj7 |", "F"),
    ("| Cm7 | F7 | Bbmaj7 | Ebmaj7 | Am7b5 | D7 | Gm | Gm |", "Gm"), ("| E | B | C#m | A |", "E"),
    ("| Dm | Gm | A7 | Dm |", "Dm"), ("| Bm | G | D | A |", "Bm"), ("| A | D | E | A |", "A"),
    ("| Fmaj7 | Em7 | Dm7 | Cmaj7 |", "C"), ("| Em | D | C | B7 |", "Em"),
    ("| G | C | G | D | G | C | D | G |", "G"), ("| C | Ab | Bb | C |", "C"),
    ("| F#m | D | A | E |", "F#m"), ("| Cmaj7 | C6 | Dm7 | G7 |", "C"),
    ("| A7 | D7 | A7 | E7 |", "A"), ("| Ebmaj7 | Cm7 | Fm7 | Bb7 |", "Eb"),
)  # fmt: skip


def named(progressions) -> tuple[int, int, list[str]]:
    """(named right, tried, the misses in the written key)."""
    right, tried, misses = 0, 0, []
    for text, written in progressions:
        key = Key.parse(written)
        for move in range(12):
            chart = transpose_chart(parse_chart(text), move)
            spans = [(float(e - s), c) for bar in chart.bars for s, e, c in bar.spans()]
            got = harmony.key_of_chords(spans)
            tried += 1
            if got == Key((key.tonic + move) % 12, key.mode):
                right += 1
            elif move == 0:
                misses.append(f"{text} in {written}, named {got}")
    return right, tried, misses


def main() -> None:
    for label, progressions in (("chosen on", CHOSEN_ON), ("held out", HELD_OUT)):
        shipped = named(progressions)
        with mock.patch.object(harmony, "CHORD_TONIC_PREFERENCE", 0.0):
            alone = named(progressions)
        print(
            f"{label:10s} {len(progressions)} progressions x 12 keys: named right "
            f"{shipped[0] / shipped[1]:.1%} (the profiles alone {alone[0] / alone[1]:.1%})"
        )
        for miss in shipped[2]:
            print(f"    miss: {miss}")


if __name__ == "__main__":
    main()
