"""Chord voicings and voice leading for the comping and pad players.

A voicing is a tuple of MIDI pitches, lowest first. Each kind (`KINDS`, chosen by a part's
`voicing` field) is one function that lists the chord's shapes: semitones above the root in some
octave, e.g. (0, 7, 16, 23) for root-5-3-7 spread. `voicings` places every shape in every octave
that fits the part's range and keeps those that sound clear; `voice_lead` picks the one nearest
the previous voicing.

Kinds:

* `close`: the chord tones (root, 3rd or sus, 5th, 7th or 6th) in every inversion inside an
  octave; triads have 3 notes, seventh and sixth chords 4.
* `triad`: 3-note inversions for guitar chops and reggae skanks; on a seventh or sixth chord the
  triad is 3-5-7 (the bass player has the root), which keeps 3rd and 7th.
* `shell`: root-3-7 and root-7-3 (the 6th, else the 5th, where there is no 7th).
* `rootless`: Bill Evans A (3-5-7-9) and B (7-9-3-5). Dominants with a named 13th use it for the
  5th, altered dominants the alterations they name (7alt: 3-b13-b7-#9 or b9); triads and sixth
  chords use the 6th and 9th where the chord allows them, else the root.
* `spread`: drop-2-and-4 of the close 4-note voicings, about two octaves wide (root-5-3-7,
  3-7-5-root...), for pads and strings.
* `power`: root-5-octave.
* `drop2`: close 4-note voicings with the second voice from the top dropped an octave.

Every note is a chord tone (`ChordSymbol.pitch_classes()`, less a slash bass that is not one) or
one of the chord's usual tensions (`ChordSymbol.tensions()`). Two rules keep voicings clear:
no minor 9th between any two voices (except on chords that name a b9), and the low-interval
limits (`LOW_INTERVAL_LIMITS`): the lowest pitch at which two adjacent voices may lie a given
interval apart, so seconds and thirds do not muddy the low register.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import pairwise

from bandmate.theory.chords import ChordSymbol

# interval in semitones -> lowest MIDI pitch its lower note may have (the arrangers' table of
# low-interval limits: m2 E3, M2 Eb3, m3 C3, M3 Bb2, P4 Bb2, tritone B2, P5 Bb1, m6 G2, M6-M7 F2)
LOW_INTERVAL_LIMITS = {
    1: 52,
    2: 51,
    3: 48,
    4: 46,
    5: 46,
    6: 47,
    7: 34,
    8: 43,
    9: 41,
    10: 41,
    11: 41,
}
# Voice leading: a candidate's cost is its motion (semitones) from the previous voicing plus
# DRIFT_WEIGHT * (semitones its mean pitch lies beyond DRIFT_FREE of the range centre) squared.
# The penalty is quadratic so that it outgrows the cost of re-inverting the chord: a linear one
# charges the smooth path and the corrective jump nearly the same and lets the comping drift.
DRIFT_FREE = 3.0
DRIFT_WEIGHT = 0.5

Shape = tuple[int, ...]  # semitones above the root, ascending


def allowed_pitch_classes(chord: ChordSymbol) -> frozenset[int]:
    """The pitch classes a voicing of `chord` may use: chord tones and usual tensions.

    A slash bass that is not a chord tone is left to the bass player (C/D: no D in the voicing).
    """
    pcs = set(chord.pitch_classes()) | set(chord.tensions())
    if chord.bass is not None and chord.bass not in {
        (chord.root + i) % 12 for i in chord.intervals()
    }:
        pcs.discard(chord.bass)
    return frozenset(pcs)


def has_flat_nine(chord: ChordSymbol) -> bool:
    """Whether the symbol names a b9 (7b9, 13b9, 7alt...), which licenses minor 9ths."""
    return 13 in chord.intervals()


# ---------------------------------------------------------------------------------------------
# The chord's degrees, as semitones above the root (0-11)


def _degrees(chord: ChordSymbol) -> dict[str, int | None]:
    """third (3rd or sus note), fifth (5th, b5, #5, or a named b13 where there is no 5th),
    true_fifth (only a 5th, b5 or #5), seventh (7th, or 6th / bb7)."""
    iv = chord.intervals()
    low = [i for i in iv if i < 12]
    third = next((i for i in (4, 3, 5, 2) if i in low), None)
    true_fifth = next((i for i in (7, 6, 8) if i in low), None)
    fifth = true_fifth if true_fifth is not None else (8 if 20 in iv else None)
    seventh = next((i for i in (10, 11, 9) if i in low), None)
    return {"third": third, "fifth": fifth, "true_fifth": true_fifth, "seventh": seventh}


def _allowed_intervals(chord: ChordSymbol) -> set[int]:
    return {(pc - chord.root) % 12 for pc in allowed_pitch_classes(chord)}


def _core(chord: ChordSymbol) -> list[int]:
    """Root, 3rd, 5th, 7th as far as the chord has them (at least root and one more)."""
    d = _degrees(chord)
    tones = [0] + [d[k] for k in ("third", "fifth", "seventh") if d[k] is not None]
    return tones if len(tones) > 1 else [0, 7]


def _stack(intervals: Sequence[int]) -> Shape:
    """Intervals (mod 12) stacked upward from the first, each the next such note above."""
    shape = [intervals[0] % 12]
    for iv in intervals[1:]:
        shape.append(shape[-1] + ((iv - shape[-1]) % 12 or 12))
    return tuple(shape)


def _inversions(cycle: Sequence[int], size: int) -> list[Shape]:
    """Close voicings of `size` notes taken round the cycle of chord tones (doubling if short)."""
    return [
        _stack([cycle[(start + j) % len(cycle)] for j in range(size)])
        for start in range(len(cycle))
    ]


def _drop(shape: Shape, from_top: Sequence[int]) -> Shape:
    """Drop the voices numbered `from_top` (1 = top voice) an octave."""
    n = len(shape)
    return tuple(sorted(p - 12 if n - i in from_top else p for i, p in enumerate(shape)))


# ---------------------------------------------------------------------------------------------
# One function per kind: chord -> shapes


def close_shapes(chord: ChordSymbol) -> list[Shape]:
    core = _core(chord)
    return _inversions(core, max(3, len(core)))


def triad_shapes(chord: ChordSymbol) -> list[Shape]:
    d = _degrees(chord)
    if d["third"] is None:
        cycle = [0, d["fifth"] if d["fifth"] is not None else 7]
    elif d["seventh"] is None:
        cycle = [0, d["third"]] + ([d["fifth"]] if d["fifth"] is not None else [])
    elif d["fifth"] is not None:
        cycle = [d["third"], d["fifth"], d["seventh"]]
    else:
        cycle = [0, d["third"], d["seventh"]]
    return _inversions(cycle, 3)


def shell_shapes(chord: ChordSymbol) -> list[Shape]:
    d = _degrees(chord)
    if d["third"] is None:
        return power_shapes(chord)
    top = next(x for x in (d["seventh"], d["fifth"], 0) if x is not None)
    return [_stack([0, d["third"], top]), _stack([0, top, d["third"]])]


def rootless_shapes(chord: ChordSymbol) -> list[Shape]:
    d = _degrees(chord)
    third = d["third"]
    if third is None:
        return close_shapes(chord)
    iv, ok = chord.intervals(), _allowed_intervals(chord)
    if 20 in iv:
        fifth = 8  # named b13
    elif 21 in iv:
        fifth = 9  # named 13th stands in for the 5th
    elif d["fifth"] is not None:
        fifth = d["fifth"]
    else:
        fifth = 0
    seventh = d["seventh"] if d["seventh"] is not None else (9 if 9 in ok else 0)
    ninths = [i - 12 for i in (15, 13) if i in iv]  # named #9 / b9
    if not ninths:
        used = {third, fifth, seventh}
        ninths = [2 if 2 in ok and 2 not in used else 0]
    shapes = []
    for ninth in ninths:
        degrees = [third, fifth, seventh, ninth]
        if len(set(degrees)) < 4:  # a slot fell back to a note already there
            degrees = list(dict.fromkeys(degrees))
        a = degrees
        b = degrees[2:] + degrees[:2]
        shapes += [_stack(a), _stack(b)]
    return shapes


def spread_shapes(chord: ChordSymbol) -> list[Shape]:
    return [_drop(s, (2, 4)) for s in _inversions(_core(chord), 4)]


def power_shapes(chord: ChordSymbol) -> list[Shape]:
    d = _degrees(chord)
    fifth = next((x for x in (d["true_fifth"], d["third"]) if x is not None), 7)
    return [(0, fifth, 12)]


def drop2_shapes(chord: ChordSymbol) -> list[Shape]:
    return [_drop(s, (2,)) for s in _inversions(_core(chord), 4)]


KINDS: dict[str, Callable[[ChordSymbol], list[Shape]]] = {
    "close": close_shapes,
    "triad": triad_shapes,
    "shell": shell_shapes,
    "rootless": rootless_shapes,
    "spread": spread_shapes,
    "power": power_shapes,
    "drop2": drop2_shapes,
}


# ---------------------------------------------------------------------------------------------
# Placing shapes in a range


def is_clear(pitches: Sequence[int], chord: ChordSymbol | None = None) -> bool:
    """No adjacent voices below their low-interval limit; no minor 9th unless `chord` names b9."""
    voices = sorted(pitches)
    for a, b in pairwise(voices):
        if b == a or a < LOW_INTERVAL_LIMITS.get(b - a, 0):
            return False
    if chord is not None and has_flat_nine(chord):
        return True
    return not any(
        (b - a) > 12 and (b - a) % 12 == 1 for i, a in enumerate(voices) for b in voices[i + 1 :]
    )


def _place(chord: ChordSymbol, shapes: list[Shape], low: int, high: int, clear: bool) -> list:
    out: dict[tuple[int, ...], None] = {}
    for shape in shapes:
        base = chord.root + 12 * ((low - chord.root - shape[0]) // 12)
        while base + shape[0] <= high:
            pitches = tuple(base + s for s in shape)
            if (
                pitches[0] >= low
                and pitches[-1] <= high
                and (not clear or is_clear(pitches, chord))
            ):
                out[pitches] = None
            base += 12
    return list(out)


def voicings(chord: ChordSymbol, kind: str, low: int, high: int) -> list[tuple[int, ...]]:
    """Every clear voicing of `chord` of this kind with all notes in [low, high] (MIDI pitches).

    Where none fits (a narrow range), falls back to close voicings, then to close voicings that
    break the clarity rules, then to single guide tones; () for N.C.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown voicing {kind!r}; use one of {', '.join(KINDS)}")
    if chord.is_no_chord:
        return []
    for shapes, clear in ((KINDS[kind](chord), True), (close_shapes(chord), True),
                          (close_shapes(chord), False)):  # fmt: skip
        found = _place(chord, shapes, low, high, clear)
        if found:
            return found
    d = _degrees(chord)
    guide = [d["third"], d["seventh"], 0, d["fifth"]]
    return _place(chord, [(g,) for g in guide if g is not None], low, high, False)


def motion(previous: Sequence[int], voicing: Sequence[int]) -> int:
    """Total semitones the voices move: sorted voice to sorted voice where the counts agree,
    else each new voice from the nearest old one."""
    a, b = sorted(previous), sorted(voicing)
    if len(a) == len(b):
        return sum(abs(x - y) for x, y in zip(a, b, strict=True))
    return sum(min(abs(x - y) for x in a) for y in b)


def voice_lead(
    previous: tuple[int, ...] | None,
    chord: ChordSymbol,
    kind: str,
    low: int,
    high: int,
    rng=None,
) -> tuple[int, ...]:
    """The voicing of `chord` that moves least from `previous`, kept near the range's centre.

    With no previous voicing, the one whose mean pitch is nearest the centre. `rng` (a numpy
    Generator), if given, breaks exact ties at random; without it the first wins. () for N.C.
    """
    candidates = voicings(chord, kind, low, high)
    if not candidates:
        return ()
    centre = (low + high) / 2

    def drift(v: tuple[int, ...]) -> float:
        return abs(sum(v) / len(v) - centre)

    if not previous:
        costs = [drift(v) for v in candidates]
    else:
        costs = [
            motion(previous, v) + DRIFT_WEIGHT * max(0.0, drift(v) - DRIFT_FREE) ** 2
            for v in candidates
        ]
    best = min(costs)
    ties = [v for v, c in zip(candidates, costs, strict=True) if c - best < 1e-9]
    if rng is not None and len(ties) > 1:
        return ties[int(rng.integers(len(ties)))]
    return ties[0]
