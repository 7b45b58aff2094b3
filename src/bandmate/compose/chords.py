"""Chord suggestions: progressions for a key and style, and chords that fit a melody.

Both print as charts that `bandmate backing` reads.

**For a key and style** (`suggest_for_key`): the stock progressions of the style
(`bandmate/data/progressions.toml`, Roman numerals over the tonic's major scale, weighted by how
idiomatic they are) are set in the key and laid over the bars asked for: repeated to fill them,
and when the bars end mid-progression the last bar becomes the tonic so the chart closes.

**For a melody** (`suggest_for_melody`): `theory.harmony` labels the melody in several flavours,
each a different palette and harmonic rhythm: triads a bar each, triads with changes at the half
bar, seventh chords, and the same in the relative key. Each is scored by how well its chords fit
the melody (the labeller's own total, per bar, less a cost for sevenths, for each seventh chord
whose seventh the melody does not sing (`unsounded_sevenths`) and for each change in mid-bar, so
that the simpler harmony wins a close call, and more for the key whose tonic the tune ends on)
and the distinct ones are ranked by it, each named by what its chart holds. The melody is read
as written (`compose.harmonize.as_written`): legato and a late release do not move its chords.
"""

from __future__ import annotations

import bisect
import dataclasses
import functools
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources

from bandmate.errors import UserError
from bandmate.score.model import ChordEvent, Note, Role, Score, Track
from bandmate.theory.chords import ChordSymbol, format_chord
from bandmate.theory.keys import Key

_NUMERAL = re.compile(
    r"^(?P<accidental>b|#)?(?P<degree>VII|VI|V|IV|III|II|I|vii|vi|v|iv|iii|ii|i)"
    r"(?P<quality>°7|°|ø7|ø|\+|maj7|7|6|sus4|sus2)?$"
)
_DEGREES = {"I": 0, "II": 2, "III": 4, "IV": 5, "V": 7, "VI": 9, "VII": 11}


@dataclass(frozen=True)
class Suggestion:
    """A ranked suggestion: the chart text, what it is, and its score (higher is better)."""

    chart: str
    name: str
    score: float


def numeral_chord(numeral: str, key: Key) -> ChordSymbol:
    """The chord of a Roman numeral in `key`: "V7" in C is G7, "bVII" in D is C, "iiø7" in C is
    Dm7b5. Upper case is major, lower case minor; the degree counts from the tonic's major scale.
    """
    match = _NUMERAL.match(numeral.strip())
    if match is None:
        raise ValueError(f"{numeral!r} is not a Roman numeral chord")
    degree = match["degree"]
    root = _DEGREES[degree.upper()] + {"b": -1, "#": 1, None: 0}[match["accidental"]]
    minor = degree.islower()
    extra = match["quality"] or ""
    quality = {
        "°": "dim",
        "°7": "dim7",
        "ø": "m7b5",
        "ø7": "m7b5",
        "+": "aug",
        "maj7": "maj7",
        "7": "m7" if minor else "7",
        "6": "m6" if minor else "6",
        "sus4": "sus4",
        "sus2": "sus2",
        "": "m" if minor else "maj",
    }[extra]
    flats = {"b": True, "#": False, None: key.prefers_flats}[match["accidental"]]
    return ChordSymbol(0, "C", quality).transpose((key.tonic + root) % 12, prefer_flats=flats)


def _table() -> dict:
    text = (resources.files("bandmate.data") / "progressions.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def _progressions() -> dict[str, list[dict]]:
    return {name: entries for name, entries in _table().items() if name != "backing"}


def progression_styles() -> list[str]:
    return sorted(_progressions())


def progression_family(style: str) -> str | None:
    """The progression style `style` names: itself, or for a backing style (`bandmate styles`)
    the family its harmony comes from; None for neither. Spelt as any style is ("POP", "Bossa
    Nova")."""
    from bandmate.arrange.style import style_word

    table = _table()
    style = style_word(style)
    if style in table and style != "backing":
        return style
    return table["backing"].get(style)


def spelled_in(chord: ChordSymbol, key: Key) -> ChordSymbol:
    """`chord` with a root (and slash bass) on a note of `key`'s scale named as the scale names
    it: IV in Gb major is Cb, not B; vii in F# major is E#dim. Other roots keep their names."""
    return _spelled(chord, key, str(key))  # F# and Gb major are equal Keys, spelt apart


@functools.lru_cache(maxsize=4096)
def _spelled(chord: ChordSymbol, key: Key, _key_name: str) -> ChordSymbol:
    changes = {}
    if not chord.is_no_chord and key.contains(chord.root):
        changes["root_name"] = key.spell(chord.root)
    if chord.bass is not None and key.contains(chord.bass):
        changes["bass_name"] = key.spell(chord.bass)
    return dataclasses.replace(chord, **changes) if changes else chord


def _bar_text(cell: str, key: Key) -> str:
    return " ".join(format_chord(spelled_in(numeral_chord(n, key), key)) for n in cell.split())


def _in_minor(cells: list[str]) -> bool:
    """Whether a progression's numerals are a minor key's: it has the minor tonic chord (i, i6,
    im7...), as "i bVI bVII i" and the minor ii-V-i "iiø7 V7 i6" do and "ii7 V7 Imaj7" does not."""
    return any(_NUMERAL.match(n)["degree"] == "i" for cell in cells for n in cell.split())


def request_key(melody_given: bool, key: str | None, key_hint: str = "") -> Key | None:
    """The key a request for suggestions names, parsed (None for none), refusing a request with
    neither a melody nor a key: there is then nothing to suggest chords for. `bandmate chords`
    and the studio's chords job both ask this first. The refusal names no flag or field, since
    each edge spells a key its own way; `key_hint` (e.g. "--key Bb") is added in brackets."""
    from bandmate.theory.keys import parse_key

    if not melody_given and key is None:
        hint = f" ({key_hint})" if key_hint else ""
        raise UserError(f"Give a melody file to harmonize, or a key such as Bb{hint}.")
    return None if key is None else parse_key(key)


# a stock progression in a mode (D dorian, G mixolydian) or a minor key is weighed down this much
# for each of its chords with a note outside the scale (in minor, its natural, harmonic and melodic
# forms: V7 and the jazz tonic i6 belong to it)
OUT_OF_MODE = 0.3

# A major-key progression asked for in a minor key is set in the relative major, from its vi (the
# minor tonic) when it has one; one with no vi never sounds the minor tonic at all, a chart in the
# relative major under a minor key's name, and is weighed by this much. At 0.8 it came first:
# E minor folk began | G | C | G | D |, E minor rock | G | F | C | G |, E minor blues | G7 | G7 |.
NO_MINOR_TONIC = 0.5


DEFAULT_BARS, DEFAULT_STYLE = 8, "pop"  # a progression asked for without them


def suggest_for_key(
    key: Key, bars: int | None = None, style: str | None = None, count: int = 5
) -> list[Suggestion]:
    """Up to `count` progressions of `style` in `key`, `bars` long, the most idiomatic first
    (None: `DEFAULT_BARS`, `DEFAULT_STYLE`).

    In a mode or a minor key, the progressions whose chords keep to its scale come first
    (`OUT_OF_MODE`), and in minor those that sound its tonic (`NO_MINOR_TONIC`)."""
    bars = DEFAULT_BARS if bars is None else bars
    style = style or DEFAULT_STYLE
    table = _progressions()
    family = progression_family(style)
    if family is None:
        raise UserError(
            f"Unknown chord style {style!r}; choose one of {', '.join(sorted(table))} "
            "or a backing style (see bandmate styles)."
        )
    if bars < 1:
        raise UserError(f"--bars must be at least 1, got {bars}.")
    # a mode is set as the major or minor key of its third, then held to its own scale
    modal = key.mode not in ("major", "minor")
    third = Key(key.tonic, "minor" if key.is_minor else "major") if modal else key
    out = []
    for entry in table[family]:
        cells = [c.strip() for c in entry["numerals"].split("|")]
        weight, home, tonic, name = float(entry["weight"]), third, "I", entry["name"]
        minor = _in_minor(cells)
        if third.mode == "minor" and not minor:
            # a major-key progression in a minor key: play it in the relative major, starting
            # from its vi (the minor tonic) when it has one, as "vi-IV-I-V" is "i-bVI-bIII-bVII"
            home, tonic = third.relative, "vi"
            starts = [i for i, c in enumerate(cells) if c.split()[0] in ("vi", "vi7")]
            if starts:
                cells = cells[starts[0] :] + cells[: starts[0]]
                name += ", from its vi"
            else:
                weight *= NO_MINOR_TONIC
        elif minor:
            tonic = "i"
            if third.mode != "minor":
                weight *= 0.5  # a minor-key progression asked for in a major key: a darker choice
        laid = [cells[i % len(cells)] for i in range(bars)]
        if bars % len(cells) and bars > 1:
            laid[-1] = tonic  # close on the tonic
        if modal or key.is_minor:
            # far less idiomatic for each chord that leaves the scale (D major's F# in D dorian,
            # D's F# in G mixolydian, the F of G mixolydian rock set for E minor)
            scale = key.usual_pitch_classes()
            chords = {numeral_chord(n, home) for cell in laid for n in cell.split()}
            outside = sum(not set(c.pitch_classes()) <= scale for c in chords)
            weight *= OUT_OF_MODE**outside
        body = " | ".join(_bar_text(cell, home) for cell in laid)
        out.append(Suggestion(f"(key: {key}) | {body} |", name, weight))
    out.sort(key=lambda s: -s.score)
    out = list({s.chart: s for s in reversed(out)}.values())[::-1]  # the best of equal charts
    return out[:count]


# Seventh chords hold four of the twelve pitch classes, triads three, so a seventh flavour always
# "fits" more notes, and changing at every half bar always fits more than once a bar; these costs
# (nats per bar, per extra chord) rank the simpler harmony first when the fits are close.
SEVENTHS_COST, CHANGE_COST = 0.4, 0.5

# A seventh chord whose seventh the melody never sounds while it lasts is colour an arranger adds,
# not harmony the tune asks for: its extra note only lets it "fit" notes of another chord (Em7
# over "G B D" is a G chord), so a plain diatonic tune came out as | Gmaj7 | Em7 Gmaj7 | Cmaj7
# Am7 |..., ranked above its triads, where a musician expects | G | G | C | D |. Each such chord
# costs this much (nats, over the bars, as a mid-bar change does twice over); a seventh the tune
# sings (the C over D7, the B over Cmaj7) costs nothing, so a tune that outlines sevenths still
# gets them first.
UNSOUNDED_SEVENTH_COST = 1.0

# A tune ends on its tonic far more often than on any other note (76% of the held-out folk tunes
# below), and a harmonization in the relative key fits the same notes about as well: Amazing
# Grace in G fits E minor's chords (B7 under "B A") a little better than G's, and ends on an E
# minor chord under the tune's final G. A key whose tonic the tune ends on is preferred by this
# much (nats per bar, as the ranks). Over the 592 held-out tunes of O'Neill's, Essen and Ryan's
# that state a key (`bench/chords.py`), the first suggestion is in the stated key for 68.8% of
# them without it, 81.6% at 0.2, 88.0% at 0.5 and 88.3% at 1.
FINAL_TONIC_BONUS = 0.5

# the flavours of labelling a melody: (name, palette changes, half-bar changes allowed)
_FLAVOURS = (
    ("triads", "triads", False),
    ("triads", "triads", True),
    ("seventh chords", "sevenths", False),
    ("seventh chords", "sevenths", True),
)


def unsounded_sevenths(chords: Sequence[ChordEvent], notes: Sequence[Note]) -> int:
    """How many of `chords` (in onset order) are seventh chords the melody does not ask for while
    the chord lasts (from its onset to the next chord's, the last one to the melody's end).

    A seventh chord holds a triad on its root and one on its third (Em7: Em and G), and is asked
    for only when the melody sounds what tells it from them: its seventh, and its root too when
    the triad on its third is major or minor (Em7 over "G B D" is a G chord, Cmaj7 over "E G B"
    an Em). A dominant seventh's upper triad is diminished, so its seventh alone asks for it
    (the C over D7). A chord written again after one that was asked for is that chord held (the
    last bar's Am7 under a lone A, after a bar that sang A C E G)."""
    ordered = sorted(notes, key=lambda n: n.onset_ticks)
    onsets = [n.onset_ticks for n in ordered]
    longest = max(n.duration_ticks for n in notes)
    ends = [c.onset_ticks for c in chords[1:]] + [max(n.end_ticks for n in notes)]
    count, before, asked_before = 0, None, False
    for chord, end in zip(chords, ends, strict=True):
        intervals = chord.symbol.intervals()
        asked = len(intervals) < 4 or (chord.symbol == before and asked_before)
        if not asked:
            # the notes that start before the chord ends, back to the first that ends after
            # it begins (held notes reach back at most as far as the longest note)
            last = bisect.bisect_left(onsets, end)
            first = bisect.bisect_left(onsets, chord.onset_ticks - longest)
            sounded = {n.pitch % 12 for n in ordered[first:last] if n.end_ticks > chord.onset_ticks}
            root, seventh = chord.symbol.root, (chord.symbol.root + intervals[3]) % 12
            upper = tuple(i - intervals[1] for i in intervals[1:4])
            needs_root = upper in ((0, 3, 7), (0, 4, 7))
            asked = seventh in sounded and (root in sounded or not needs_root)
        count += not asked
        before, asked_before = chord.symbol, asked
    return count


def suggest_for_melody(score: Score, count: int = 5, key: Key | None = None) -> list[Suggestion]:
    """Chord charts that fit the melody of `score`, the best fit first: in `key` when it is
    given, else in the key the score states or its notes suggest (`harmony.key_of`), or that
    key's relative. A score that states several keys (a tune that modulates) gets charts in
    those keys passage by passage, each stated where it begins, or in their relatives.

    The melody is found as harmonize and continue find it (`compose.harmonize.melody_line`):
    its MELODY part with notes, else its only part, else the top voice. An empty vocal staff
    above the tune (a score template's) was taken as the melody, and the tune had no chords.
    The chords fit every pitched note the piece holds (`_heard`): a bass or a piano part under
    the tune says which chord it is, where the tune's notes alone leave it open."""
    from bandmate.compose.harmonize import as_written, melody_line
    from bandmate.theory import harmony

    # as written: a keyboard player's legato and late release moved the chords and added a bar
    line = melody_line(score)[0]
    notes = as_written(score, line)
    heard = _heard(score, line, notes)
    whole, score = score, score.replace(tracks=(Track("Melody", role=Role.MELODY, notes=heard),))
    if key is None:
        stated = harmony.passage_keys(whole)
        choices = [stated, [(onset, k.relative) for onset, k in stated]]
    else:
        choices = [[(0, key)]]
    final = harmony.final_pitch_class(notes)
    found: dict[str, Suggestion] = {}
    for passages in choices:
        k = passages[-1][1]  # the key the tune ends in
        for name, palette, halves in _FLAVOURS:
            chords, total = harmony.label_chords_scored(
                score, passages, sevenths=palette == "sevenths", half_bars=halves
            )
            text = _chart_of(score, chords, passages)
            bars = max(1, score.bar_grid.bar_count(max(n.end_ticks for n in heard)))
            changes = len(chords) - bars  # chords beyond one a bar
            unsounded = unsounded_sevenths(chords, heard)
            rank = (total - CHANGE_COST * changes - UNSOUNDED_SEVENTH_COST * unsounded) / bars
            rank -= SEVENTHS_COST if palette == "sevenths" else 0
            rank += FINAL_TONIC_BONUS if final == k.tonic else 0.0
            # named by what the chart holds: a half-bar labelling that kept a chord a bar was
            # offered as "changing at the half bar" without a change in it
            name = f"{name}{', changing at the half bar' if changes > 0 else ', a chord a bar'}"
            label = f"{name} in {' then '.join(str(k) for _, k in passages)}"
            if text not in found or found[text].score < rank:
                found[text] = Suggestion(text, label, rank)
    ranked = sorted(found.values(), key=lambda s: -s.score)
    return ranked[:count]


def _heard(score: Score, line: Sequence[Note], written: tuple[Note, ...]) -> tuple[Note, ...]:
    """The notes the chords must fit: the melody `line` as `written` (`as_written`) when it is
    all the score's pitched notes, else every pitched note, cut where the piece ends as written. A
    piano part's block chords C F G C, given as the melody, were charted by their top notes
    alone (E A B E), first as | Am | Am | E | Am |; an accompaniment states its harmony."""
    from bandmate.compose.harmonize import played_end

    pitched = [n for t in score.tracks if not t.is_drum for n in t.notes]
    if len(pitched) == len(line) and set(pitched) == set(line):
        return written
    end = played_end(score, max(n.end_ticks for n in pitched))
    return tuple(
        sorted(
            (
                Note(n.onset_ticks, min(n.end_ticks, end) - n.onset_ticks, n.pitch, n.velocity)
                for n in pitched
                if n.onset_ticks < end
            ),
            key=lambda n: (n.onset_ticks, n.pitch),
        )
    )


def _chart_of(score: Score, chords, passages: list[tuple[int, Key]]) -> str:
    """Chart text of chord events on the score's bars: a cell per bar, split where it changes,
    in the keys of `passages` ((onset tick, key) each), each stated at the bar it begins in.

    The chart states each bar's meter where it changes, as the bar's own length: a pickup of a
    beat in 4/4 is a bar of (1/4), then (4/4). Stating only the first meter, a tune with a
    pickup or a change to 3/4 came out as a chart whose bars `bandmate backing` played in the
    wrong places from that bar on."""
    grid = score.bar_grid
    cells: dict[int, list[tuple[int, ChordSymbol]]] = {}
    for event in chords:
        cells.setdefault(grid.bar_at(event.onset_ticks), []).append(
            (event.onset_ticks, event.symbol)
        )
    head, texts = f"(key: {passages[0][1]})", []
    changes = {grid.bar_at(onset): k for onset, k in passages[1:]}
    current = (4, 4)
    for bar in range(max(cells) + 1 if cells else 0):
        names = [
            format_chord(
                spelled_in(symbol, [k for at, k in passages if at <= onset or at == 0][-1])
            )
            for onset, symbol in cells.get(bar, [])
        ]
        text = " ".join(names) if names else "%"
        if bar in changes:
            text = f"(key: {changes[bar]}) {text}"
        meter = _bar_meter(score, bar)
        if meter != current and bar == 0:
            head += f" ({meter[0]}/{meter[1]})"
        elif meter != current:
            text = f"({meter[0]}/{meter[1]}) {text}"
        current = meter
        texts.append(text)
    return f"{head} | " + " | ".join(texts) + " |"


def _bar_meter(score: Score, bar: int) -> tuple[int, int]:
    """(beats, beat unit) of bar `bar` as it is: its meter, or for a short bar (a pickup, a
    last bar that completes it) its length in the meter's beat unit, or a finer one."""
    grid = score.bar_grid
    start = grid.bar_start(bar)
    meter = grid.meter_at(start)
    length = grid.bar_start(bar + 1) - start
    if length == meter.bar_ticks(score.ticks_per_beat):
        return meter.numerator, meter.denominator
    whole = 4 * score.ticks_per_beat
    for unit in (meter.denominator, 8, 16, 32, 64):
        if unit >= meter.denominator and (length * unit) % whole == 0:
            return length * unit // whole, unit
    return meter.numerator, meter.denominator
