"""Chord charts: the text a user types, parsed into pure data with repeats expanded.

Syntax (one example says most of it)::

    (title: Blue Tune)
    (key: Bb) (3/4)
    [Intro] | Bb | % |
    [Verse]
    |: Bb . Eb | F7 | Gm7 C7 | F :| x3
    (4/4) | Ebmaj7 . F7 Bb | N.C. |

* Bars are separated by `|`; the first and last bar lines are optional. Newlines are plain
  whitespace, and bar lines with nothing between them count as one, so a chart written one row
  per line ("| C | F |" then "| G | C |") has four bars. There are no empty bars: a bar holds at
  least one chord (write "N.C." for silence, "%" to hold the previous bar).
* A chart with no bar lines at all and no beat placeholders (below) is a bar a chord, as a
  progression is written in running text: "C G Am F" is four bars, as "| C | G | Am | F |" is
  (and "C G Am F" on one line, "C G F F" on the next, eight). "C . F G" is still one bar.
* Several chords in a bar share its beats as players read a chart (`chord_layout`): as evenly as
  whole beats allow, an earlier chord taking a beat left over. "C G" in 4/4 is two beats each,
  "C F G" two, one and one, "C G" in 3/4 two and one, in 5/4 three and two, in 7/8 four eighths
  and three; 6/8, 9/8 and 12/8 count dotted quarters ("C F G" in 12/8 is 6 + 3 + 3 eighths).
  More chords than beats split the bar evenly ("C D E F G" in 4/4, four fifths of a beat each).
  With `.` placeholders each token is one beat: "C . F G" in 4/4 puts C on beat 1, F on 3 and
  G on 4; such a bar must have exactly as many tokens as the meter has beats. One that starts
  with `.` holds the previous bar's last chord over ("| . . F . |"). A `/` is the same
  placeholder, as slash notation writes it ("C / F /"), and so is a `-` standing alone, as
  handwritten charts write it ("C - - -"; "C-" is still C minor).
* `%` repeats the previous bar (laid out again in the current meter); `%%` the previous two
  (two bars, as the two-bar repeat sign).
* `|: ... :|` plays its bars twice; `:| x3` (or `x 3`) three times in all; `:|:` ends one repeat
  and starts the next. Repeats do not nest: an open repeat must close before another starts.
  First and second endings: `|: C | F |1 G :|2 Am |` plays C F G, then C F Am; a `1` (or `1.`)
  at the start of a bar inside a repeat begins the first ending, which the repeat skips on its
  second pass, and a `2` after the `:|` marks the second ending (the bars that follow).
* `[Name]` before a bar starts a section that lasts until the next label. A label starts a new
  section even when it repeats the name in force, so `[A] ... [A] ... [B] ... [A]` is AABA, and
  each pass of a repeated passage that opens with a label starts that section again.
* `(3/4)` (or `(meter: 3/4)`) before a bar sets the meter from that bar on (default 4/4);
  `(key: Bb)` sets the key (before the first bar: the chart's key; later: a key change);
  `(title: ...)` before the first bar names the chart.

Beats are counted in units of the meter's denominator (6/8 has six beats) and held as
`fractions.Fraction`. Every mistake raises `ChartError` naming the bar as numbered in the text
(1-based, before repeats are expanded) and the offending token.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from fractions import Fraction
from itertools import accumulate, pairwise

from bandmate.errors import ChartError, ChordSymbolError, UserError
from bandmate.theory.chords import ChordSymbol, parse_chord
from bandmate.theory.keys import Key

DEFAULT_METER = (4, 4)
MAX_BEATS_PER_BAR = 64
MAX_REPEAT_TIMES = 100  # a guard against "x1000000" expanding into millions of bars
_DENOMINATORS = (1, 2, 4, 8, 16, 32, 64)
_FORBIDDEN_IN_LABEL = "[]\n"
_FORBIDDEN_IN_TITLE = "()\n"
BARS_PER_LINE = 4  # how format_chart lays bars out


def meter_problem(meter: object) -> str | None:
    """Why `meter` is not a usable (beats, beat unit) time signature, or None if it is."""
    if (
        not isinstance(meter, tuple)
        or len(meter) != 2
        or not all(isinstance(n, int) and not isinstance(n, bool) for n in meter)
    ):
        return f"a time signature is two whole numbers like (3/4), not {meter!r}"
    beats, unit = meter
    if not 1 <= beats <= MAX_BEATS_PER_BAR:
        return f"a bar needs 1 to {MAX_BEATS_PER_BAR} beats, not {beats}"
    if unit not in _DENOMINATORS:
        return f"the bottom number of a time signature is a power of two like 4 or 8, not {unit}"
    return None


def parse_meter(text: str) -> tuple[int, int] | None:
    """(beats, beat unit) from a time signature written "7/8" (spaces allowed), or None when it
    is not two numbers over each other; `meter_problem` says whether it can be played."""
    match = _METER_RE.fullmatch(text.strip())
    return (int(match[1]), int(match[2])) if match else None


def read_meter(text: str, name: str = "The meter") -> tuple[int, int]:
    """(beats, beat unit) from a time signature a user typed ("7/8"), else a `UserError` that
    begins with `name` ("--meter", "The meter") and says how to write one that can be played."""
    meter = parse_meter(text)
    shown = text.strip()[:12]  # (a WebSocket's close reason holds 123 bytes)
    if meter is None:
        raise UserError(
            f"{name} must be a time signature of two numbers, such as 3/4 or 7/8, not {shown!r}."
        )
    if problem := meter_problem(meter):
        raise UserError(f"{name} {shown} cannot be played: {problem}.")
    return meter


def _check_name(value: str | None, forbidden: str, what: str) -> None:
    """A section label or title is None or stripped, non-empty text without `forbidden` chars."""
    if value is not None and (
        not isinstance(value, str)
        or not value.strip()
        or value != value.strip()
        or any(ch in value for ch in forbidden)
    ):
        raise ValueError(f"bad {what} {value!r}")


def chord_layout(count: int, meter: tuple[int, int]) -> tuple[Fraction, ...]:
    """Where `count` chords written plainly in a bar of `meter` start, in the meter's units.

    The bar's beats are shared as evenly as whole beats allow, the earlier chords taking the
    beats left over; a compound meter (6/8, 9/8, 12/8: a numerator over 3 that 3 divides, eighths
    or shorter) counts its dotted quarters first, then its eighths. With more chords than units,
    the bar is split evenly. Options: an even split everywhere (it put "C G" in 3/4 on the "and"
    of beat 2 and "C F G" in 4/4 on triplets, which no player reads) or the first chord taking
    what is left over (Band-in-a-Box's and iReal Pro's reading, and ours).
    """
    units = meter[0]
    group = 3 if meter[1] >= 8 and units > 3 and units % 3 == 0 else 1
    for size in dict.fromkeys((group, 1)):
        slots = units // size
        if count <= slots:
            base, extra = divmod(slots, count)
            lengths = [(base + (i < extra)) * size for i in range(count - 1)]
            return tuple(Fraction(start) for start in accumulate(lengths, initial=0))
    return tuple(Fraction(i * units, count) for i in range(count))


@dataclass(frozen=True)
class ChartChord:
    """A chord starting `beat` beats after the start of its bar (0 = the downbeat)."""

    beat: Fraction
    symbol: ChordSymbol

    def __post_init__(self) -> None:
        if isinstance(self.beat, bool) or not isinstance(self.beat, int | Fraction):
            raise TypeError(f"a chord's beat is an int or Fraction, not {self.beat!r}")
        object.__setattr__(self, "beat", Fraction(self.beat))
        if not isinstance(self.symbol, ChordSymbol):
            raise TypeError(f"a chart chord needs a ChordSymbol, not {self.symbol!r}")


@dataclass(frozen=True)
class Bar:
    """One bar of a chart.

    chords: at least one, the first on beat 0, beats strictly increasing and inside the bar, laid
        out as the chart syntax can write them: as `chord_layout` lays them out, or on whole beats.
    meter: (beats, beat unit), e.g. (3, 4) or (6, 8).
    section: the section label in force, or None before any label.
    key: the key in force, or None if the chart gives none.
    source_bar: 1-based bar number in the chart text, for messages; repeated bars share it. It
        does not take part in equality, so a chart equals its re-parsed formatted text.
    starts_section: a section (label) begins at this bar. `Chart` sets it wherever the section
        name changes; it may also be set where a section follows one of the same name (AABA).
    """

    chords: tuple[ChartChord, ...]
    meter: tuple[int, int] = DEFAULT_METER
    section: str | None = None
    key: Key | None = None
    source_bar: int = field(default=1, compare=False)
    starts_section: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "chords", tuple(self.chords))
        if isinstance(self.meter, list):
            object.__setattr__(self, "meter", tuple(self.meter))
        problem = meter_problem(self.meter)
        if problem:
            raise ValueError(problem)
        if not self.chords:
            raise ValueError("a bar holds at least one chord")
        if not all(isinstance(c, ChartChord) for c in self.chords):
            raise TypeError("a bar's chords are ChartChord values")
        beats = tuple(c.beat for c in self.chords)
        if beats[0] != 0:
            raise ValueError(f"a bar's first chord is on beat 0, not {beats[0]}")
        if any(a >= b for a, b in pairwise(beats)) or beats[-1] >= self.meter[0]:
            raise ValueError(f"chord beats {beats} must increase and stay inside {self.meter}")
        if beats != chord_layout(len(beats), self.meter) and any(b.denominator != 1 for b in beats):
            raise ValueError(f"chord beats {beats} are neither a plain layout nor whole beats")
        _check_name(self.section, _FORBIDDEN_IN_LABEL, "section label")
        if self.key is not None and not isinstance(self.key, Key):
            raise TypeError(f"a bar's key is a Key or None, not {self.key!r}")
        if not isinstance(self.source_bar, int) or self.source_bar < 1:
            raise ValueError(f"source_bar is a 1-based bar number, not {self.source_bar!r}")

    @property
    def beat_count(self) -> int:
        """Beats in this bar, in units of the meter's denominator (6 for 6/8)."""
        return self.meter[0]

    def spans(self) -> tuple[tuple[Fraction, Fraction, ChordSymbol], ...]:
        """(start beat, end beat, chord) for each chord; each lasts until the next one."""
        ends = [c.beat for c in self.chords[1:]] + [Fraction(self.beat_count)]
        return tuple((c.beat, end, c.symbol) for c, end in zip(self.chords, ends, strict=True))


@dataclass(frozen=True)
class Chart:
    """A parsed chord chart: bars in playing order (repeats expanded), the opening key, a title.

    `key` must equal the first bar's key; once a key or section is given it stays in force (the
    text cannot take it back), so later bars never return to None.
    """

    bars: tuple[Bar, ...]
    key: Key | None = None
    title: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "bars", tuple(_mark_section_starts(self.bars)))
        if not self.bars:
            raise ValueError("a chart has at least one bar")
        if not all(isinstance(b, Bar) for b in self.bars):
            raise TypeError("a chart's bars are Bar values")
        if self.key != self.bars[0].key:
            raise ValueError(
                f"chart key {self.key} differs from its first bar's {self.bars[0].key}"
            )
        for before, after in pairwise(self.bars):
            if before.key is not None and after.key is None:
                raise ValueError("a key, once given, stays in force: a later bar has key None")
            if before.section is not None and after.section is None:
                raise ValueError("a section, once given, lasts: a later bar has section None")
        _check_name(self.title, _FORBIDDEN_IN_TITLE, "chart title")

    def __len__(self) -> int:
        return len(self.bars)

    @property
    def meter(self) -> tuple[int, int]:
        """The first bar's meter."""
        return self.bars[0].meter

    @property
    def sections(self) -> tuple[tuple[int, str], ...]:
        """(bar index, name) where each section starts."""
        return tuple((i, bar.section) for i, bar in enumerate(self.bars) if bar.starts_section)

    def chord_at(self, bar_index: int, beat: Fraction | int | float) -> ChordSymbol:
        """The chord sounding at `beat` (0 <= beat < beat_count) of bar `bar_index` (0-based)."""
        bar = self.bars[bar_index]
        position = Fraction(beat)
        if not 0 <= position < bar.beat_count:
            raise ValueError(f"beat {beat} is outside bar {bar_index}'s {bar.beat_count} beats")
        return [c for c in bar.chords if c.beat <= position][-1].symbol


# ---------------------------------------------------------------------------------------------
# Parsing

# Characters nobody can see, read as whitespace: the byte-order mark of a file saved "UTF-8 with
# BOM" (Windows Notepad) and the zero-width spaces and joiners of text pasted from web pages;
# otherwise each became a chord token that the error message could only show as '\ufeff'.
_INVISIBLE = "\ufeff\u200b\u200c\u200d\u2060"
_TOKEN_RE = re.compile(
    rf"""
      (?P<space>[\s{_INVISIBLE}]+)
    | (?P<label>\[[^\[\]\n]*\])
    | (?P<directive>\([^()\n]*\))
    | (?P<repeat_both>:\|:)
    | (?P<repeat_end>:\|)
    | (?P<repeat_start>\|:)
    | (?P<barline>\|)
    | (?P<word>[^\s{_INVISIBLE}|\[\]():][^\s{_INVISIBLE}|\[\]:]*)
    | (?P<bad>.)
    """,
    re.VERBOSE,
)
_METER_RE = re.compile(r"(\d+)\s*/\s*(\d+)")
_NAMED_DIRECTIVE_RE = re.compile(r"(?i:(key|title|meter|time))\s*:\s*(.*)")
_DIRECTIVE_NAMES = ("key", "title", "meter", "time")
_REPEAT_COUNT_RE = re.compile(r"[xX×](\d*)")
_ENDING_RE = re.compile(r"([12])\.?")  # a volta at a bar's start: |1 ... :|2 ...
_BEAT_PLACEHOLDERS = (".", "/", "-")
_BAD_TOKEN_HINTS = {
    "(": "this '(' is never closed; directives look like (3/4) or (key: Bb)",
    ")": "this ')' has no matching '('",
    "[": "this '[' is never closed; section labels look like [Verse]",
    "]": "this ']' has no matching '['",
    ":": "a ':' belongs to a repeat sign, |: or :|",
}


def _mark_section_starts(bars) -> list[Bar]:
    """Set `starts_section` wherever the section name changes (it may already be set elsewhere)."""
    out, previous = [], None
    for bar in bars:
        changed = bar.section is not None and bar.section != previous
        if changed and not bar.starts_section:
            bar = replace(bar, starts_section=True)
        out.append(bar)
        previous = bar.section
    return out


class _ChartParser:
    """One pass over the tokens, keeping the meter, key, section and repeat state in force."""

    def __init__(self, text: str, meter: tuple[int, int] = DEFAULT_METER) -> None:
        self.tokens = [  # (kind, text) pairs, whitespace dropped
            (m.lastgroup, m.group()) for m in _TOKEN_RE.finditer(text) if m.lastgroup != "space"
        ]
        self.meter = meter
        self.key: Key | None = None
        self.section: str | None = None
        self.section_starts = False  # a label was read since the last bar
        self.title: str | None = None
        self.bars: list[Bar] = []
        self.layouts: list[tuple[str, ...]] = []  # each expanded bar's tokens, for `%`
        self.written_bars = 0  # bars closed so far, as numbered in the text
        self.current: list[str] = []  # chord, '.' and '%' tokens of the bar being read
        self.pending: list[str] = []  # labels and directives waiting for their bar
        self.repeat_start: tuple[int, int] | None = None  # (index in self.bars, written bar)
        self.first_ending: int | None = None  # index in self.bars where the open one starts
        self.second_ending_due = False  # a repeat with a first ending has just closed
        # a progression in running text, "C G Am F", is a bar a chord (see the module's docs)
        self.bar_per_chord = all(
            kind not in ("barline", "repeat_start", "repeat_end", "repeat_both")
            and token not in _BEAT_PLACEHOLDERS
            for kind, token in self.tokens
        )

    @property
    def bar_number(self) -> int:
        """The written number of the bar being read (or about to start)."""
        return self.written_bars + 1

    @property
    def closing_bar_number(self) -> int:
        """The written number of the bar a bar line just closed."""
        return max(1, self.written_bars + (1 if self.current else 0))

    def parse(self) -> Chart:
        index = 0
        while index < len(self.tokens):
            kind, token = self.tokens[index]
            if kind in ("label", "directive"):
                self._before_chords(token)
                if kind == "label":
                    self._label(token)
                else:
                    self._directive(token)
                self.pending.append(token)
            elif kind == "word" and not self.current and _ENDING_RE.fullmatch(token):
                self._ending(token)
            elif kind == "word":
                self._check_repeat_count(token, index)
                self._check_bare_directive(token, index)
                self.current.append(token)
                if self.bar_per_chord:
                    self._close_bar()
            elif kind == "barline":
                self._close_bar()
            elif kind == "repeat_start":
                self._close_bar()
                self._start_repeat(token)
            elif kind in ("repeat_end", "repeat_both"):
                bar = self.closing_bar_number
                self._close_bar()
                index = self._end_repeat(token, index, bar)
                if kind == "repeat_both":
                    self._start_repeat(token)
            else:
                hint = _BAD_TOKEN_HINTS.get(token, "this character has no meaning in a chart")
                raise ChartError(hint, bar=self.bar_number, token=token)
            index += 1
        self._close_bar()
        if self.repeat_start is not None:
            raise ChartError(
                "this repeat is never closed; end it with ':|'",
                bar=self.repeat_start[1],
                token="|:",
            )
        if not self.bars:
            raise ChartError(
                "the chart has no bars; write chords between bar lines, like | C | F |"
            )
        if self.pending:
            raise ChartError(
                "nothing follows this at the end of the chart; put it before a bar",
                bar=self.written_bars,
                token=self.pending[-1],
            )
        return Chart(tuple(self.bars), key=self.bars[0].key, title=self.title)

    def _before_chords(self, token: str) -> None:
        if self.current:
            raise ChartError(
                "labels and directives go before a bar's first chord; put a '|' before this",
                bar=self.bar_number,
                token=token,
            )

    def _label(self, token: str) -> None:
        name = token[1:-1].strip()
        if not name:
            raise ChartError(
                "a section label needs a name, like [Verse]", bar=self.bar_number, token=token
            )
        self.section = name
        self.section_starts = True

    def _directive(self, token: str) -> None:
        content = token[1:-1].strip()
        named = _NAMED_DIRECTIVE_RE.fullmatch(content)
        meter = parse_meter(content)
        if named and named[1].lower() in ("meter", "time"):  # (meter: 5/4) is (5/4)
            meter = parse_meter(named[2])
            if meter is None:
                raise ChartError(
                    "write the meter as two numbers, like (meter: 3/4)",
                    bar=self.bar_number,
                    token=token,
                )
        if meter is not None:
            problem = meter_problem(meter)
            if problem:
                raise ChartError(problem, bar=self.bar_number, token=token)
            self.meter = meter
        elif named and named[1].lower() == "key":
            try:
                self.key = Key.parse(named[2])
            except ValueError as exc:
                raise ChartError(str(exc), bar=self.bar_number, token=token) from exc
        elif named and named[1].lower() == "title":
            if self.written_bars or self.title is not None:
                raise ChartError(
                    "the title goes once, before the first bar", bar=self.bar_number, token=token
                )
            title = named[2].strip()
            if not title:
                raise ChartError("the title is empty", bar=self.bar_number, token=token)
            self.title = title
        elif re.match(r"(?i)\s*(tempo|bpm)\b", content):
            raise ChartError(
                "a chart does not set the tempo; give it with --tempo (as BPM)",
                bar=self.bar_number,
                token=token,
            )
        else:
            raise ChartError(
                "unknown directive; write a time signature like (3/4) or a key like (key: Bb)",
                bar=self.bar_number,
                token=token,
            )

    def _ending(self, token: str) -> None:
        """A volta: `1` opens the first ending of the open repeat, `2` follows its `:|`."""
        if _ENDING_RE.fullmatch(token)[1] == "1":
            if self.repeat_start is None or self.first_ending is not None:
                raise ChartError(
                    "a first ending goes inside a repeat, once, like |: C | F |1 G :|2 Am |",
                    bar=self.bar_number,
                    token=token,
                )
            self.first_ending = len(self.bars)
        elif not self.second_ending_due:
            raise ChartError(
                "a second ending follows a repeat with a first ending, like |: C | F |1 G :|2 Am |",
                bar=self.bar_number,
                token=token,
            )
        self.second_ending_due = False

    def _start_repeat(self, token: str) -> None:
        if self.repeat_start is not None:
            raise ChartError(
                f"a repeat is already open (from bar {self.repeat_start[1]}); repeats do not "
                "nest, so close it with ':|' first",
                bar=self.bar_number,
                token=token,
            )
        self.repeat_start = (len(self.bars), self.bar_number)

    def _end_repeat(self, token: str, index: int, bar: int) -> int:
        """Expand the open repeat; returns the index of the last token consumed (with any xN)."""
        if self.repeat_start is None:
            raise ChartError(
                "this ':|' closes a repeat that was never opened with '|:'", bar=bar, token=token
            )
        times, index = self._repeat_count(index, bar)
        start = self.repeat_start[0]
        self.repeat_start = None
        if self.first_ending is not None:  # the passes after the first skip its ending
            ending, self.first_ending = self.first_ending, None
            if ending == len(self.bars):
                raise ChartError("the first ending has no bars in it", bar=bar, token=token)
            if times != 2:
                raise ChartError(
                    "a repeat with first and second endings plays twice; drop the count",
                    bar=bar,
                    token=token,
                )
            self.second_ending_due = True
            self.bars.extend(self.bars[start:ending])
            self.layouts.extend(self.layouts[start:ending])
            return index
        segment, layouts = self.bars[start:], self.layouts[start:]
        if not segment:
            raise ChartError("this repeat has no bars in it", bar=bar, token=token)
        for _ in range(times - 1):
            self.bars.extend(segment)
            self.layouts.extend(layouts)
        return index

    def _check_repeat_count(self, token: str, index: int) -> None:
        """Refuse a repeat count inside a bar: "x3", "×3", or "x" before "3" is one out of place;
        a word like it that is no count ("X7", a lone "x") is named as an unknown chord."""
        match = _REPEAT_COUNT_RE.fullmatch(token)
        if match is None:
            return
        following = [t for k, t in self.tokens[index + 1 : index + 2] if k == "word"]
        if token[0] != "X" and (match[1] or (following[:1] and following[0].isdecimal())):
            raise ChartError(
                "a repeat count like x3 must follow ':|'", bar=self.bar_number, token=token
            )
        raise ChartError(
            f"Unknown chord symbol {token!r}: a chord starts with a root note A to G, like C or "
            "Am7, and a repeat count goes after ':|', like ':| x3'",
            bar=self.bar_number,
            token=token,
        )

    def _repeat_count(self, index: int, bar: int) -> tuple[int, int]:
        """(times to play, last token index used) from an optional "x3" or "x 3" after index."""
        # Words only: the text of the next two tokens, or "" where they are not words.
        after = [t if k == "word" else "" for k, t in self.tokens[index + 1 : index + 3]] + ["", ""]
        match = _REPEAT_COUNT_RE.fullmatch(after[0])
        if match is None:
            return 2, index
        digits, used, token = match[1], 1, after[0]
        if not digits and after[1].isdecimal():
            digits, used, token = after[1], 2, f"{after[0]} {after[1]}"
        if not digits:
            raise ChartError("a repeat count needs a number, like x3", bar=bar, token=token)
        times = int(digits)
        if not 1 <= times <= MAX_REPEAT_TIMES:
            raise ChartError(
                f"a repeat plays 1 to {MAX_REPEAT_TIMES} times in all", bar=bar, token=token
            )
        return times, index + used

    def _close_bar(self) -> None:
        """Finish the bar being read; bar lines with nothing since the last one are merged."""
        if not self.current:
            return
        self.written_bars += 1
        tokens = tuple(self.current)
        self.current = []
        self.second_ending_due = False
        if "%%" in tokens:  # the two-bar repeat: the previous two bars again, as two bars
            if tokens != ("%%",):
                raise ChartError(
                    "'%%' repeats the previous two bars, so it stands alone between bar lines",
                    bar=self.written_bars,
                    token="%%",
                )
            if len(self.layouts) < 2:
                raise ChartError(
                    "there are not two previous bars for '%%' to repeat",
                    bar=self.written_bars,
                    token="%%",
                )
            for layout in self.layouts[-2:]:
                self.bars.append(self._build_bar(layout, error_token="%%"))
                self.layouts.append(layout)
            self.pending = []
            return
        if "%" in tokens:
            if tokens != ("%",):
                raise ChartError(
                    "'%' repeats the whole previous bar, so it stands alone between bar lines",
                    bar=self.written_bars,
                    token="%",
                )
            if not self.layouts:
                raise ChartError(
                    "there is no previous bar for '%' to repeat", bar=self.written_bars, token="%"
                )
            bar = self._build_bar(self.layouts[-1], error_token="%")
            tokens = self.layouts[-1]
        else:
            bar = self._build_bar(tokens)
        self.bars.append(bar)
        self.layouts.append(tokens)
        self.pending = []

    def _build_bar(self, tokens: tuple[str, ...], error_token: str | None = None) -> Bar:
        number, beats_in_bar = self.written_bars, self.meter[0]
        meter_text = f"{self.meter[0]}/{self.meter[1]}"
        written, tokens = tokens, tuple("." if t in _BEAT_PLACEHOLDERS else t for t in tokens)
        # "| . . F . |": the chord sounding at the end of the last bar held over (a bar of dots
        # alone holds the bar's before it)
        if tokens[0] == ".":
            earlier = (t for layout in reversed(self.layouts) for t in reversed(layout))
            held = next((t for t in earlier if t not in _BEAT_PLACEHOLDERS), None)
            tokens = tokens if held is None else (held, *tokens[1:])
        if "." in tokens:
            count_text = f"{len(tokens)} chords and dots, but {meter_text} has {beats_in_bar}"
            if tokens[0] == ".":
                culprit = written[0]
                problem = f"the first bar cannot start with '{culprit}'; write its chord"
            elif len(tokens) > beats_in_bar:
                culprit, problem = written[beats_in_bar], f"too many beats: {count_text}"
            elif len(tokens) < beats_in_bar:
                culprit, problem = written[-1], f"too few beats: {count_text}"
            else:
                culprit = problem = None
            if problem:
                raise ChartError(problem, bar=number, token=error_token or culprit)
            placed = [(Fraction(i), t) for i, t in enumerate(tokens) if t != "."]
        else:
            placed = list(zip(chord_layout(len(tokens), self.meter), tokens, strict=True))
        chords = tuple(ChartChord(beat, self._chord(token, number)) for beat, token in placed)
        starts, self.section_starts = self.section_starts, False
        return Bar(
            chords, self.meter, self.section, self.key, source_bar=number, starts_section=starts
        )

    def _check_bare_directive(self, token: str, index: int) -> None:
        """A time signature or a `key:`/`time:` directive typed without its parentheses ("7/8 |
        A |", "key: Eb | Eb |") is named as one, rather than as an unknown chord symbol."""
        meter = _METER_RE.fullmatch(token)
        name = token.lower()
        following = [t for _, t in self.tokens[index + 1 : index + 3]]
        what = "a key" if name == "key" else "a title" if name == "title" else "a time signature"
        if meter:
            example = f"({meter[1]}/{meter[2]})"
        elif name in _DIRECTIVE_NAMES and following[:1] == [":"]:
            value = following[1] if len(following) > 1 and following[1] not in "|:" else "..."
            example = f"({name}: {value})"
        elif name in ("time", "meter") and following and _METER_RE.fullmatch(following[0]):
            example = f"({following[0]})"
        else:
            return
        raise ChartError(
            f"{what} goes in parentheses, like {example}",
            bar=self.bar_number,
            token=token,
        )

    @staticmethod
    def _chord(token: str, bar: int) -> ChordSymbol:
        try:
            return parse_chord(token)
        except ChordSymbolError as exc:
            raise ChartError(str(exc), bar=bar, token=token) from exc


def parse_chart(text: str, meter: tuple[int, int] = DEFAULT_METER) -> Chart:
    """Read a chord chart (syntax in this module's docstring); raises ChartError on mistakes.

    `meter` is the time signature until the chart names one: a backing track in a 3/4 style
    reads `| C | G7 |` as two bars of 3/4.
    """
    if not isinstance(text, str):
        raise ChartError(f"a chart is text, not {type(text).__name__}")
    problem = meter_problem(meter)
    if problem:
        raise ValueError(problem)
    return _ChartParser(text, tuple(meter)).parse()


# ---------------------------------------------------------------------------------------------
# Formatting


def _format_meter(meter: tuple[int, int]) -> str:
    return f"({meter[0]}/{meter[1]})"


def _format_bar_body(bar: Bar) -> str:
    """The bar's chords: plainly where they lie as `chord_layout` lays them out, anything else
    with '.' per empty beat."""
    beats = tuple(c.beat for c in bar.chords)
    if beats == chord_layout(len(beats), bar.meter):
        return " ".join(str(c.symbol) for c in bar.chords)
    slots = ["."] * bar.beat_count
    for chord in bar.chords:
        slots[int(chord.beat)] = str(chord.symbol)
    return " ".join(slots)


def format_chart(chart: Chart) -> str:
    """Chart text that `parse_chart` reads back to an equal chart.

    Repeats are written out, `BARS_PER_LINE` bars to a line, a section label on its own line where
    a section starts, and meters and keys where they change.
    """
    lines: list[str] = []
    if chart.title is not None:
        lines.append(f"(title: {chart.title})")
    first = chart.bars[0]
    header = []
    if first.key is not None:
        header.append(f"(key: {first.key})")
    if first.meter != DEFAULT_METER:
        header.append(_format_meter(first.meter))
    if header:
        lines.append(" ".join(header))
    row: list[str] = []

    def flush() -> None:
        if row:
            lines.append("| " + " | ".join(row) + " |")
            row.clear()

    previous: Bar | None = None
    for bar in chart.bars:
        directives = []
        if previous is not None and bar.meter != previous.meter:
            directives.append(_format_meter(bar.meter))
        if previous is not None and bar.key != previous.key:
            directives.append(f"(key: {bar.key})")
        new_section = bar.starts_section
        if new_section or len(row) == BARS_PER_LINE:
            flush()
        if new_section:
            lines.append(f"[{bar.section}]")
        row.append(" ".join([*directives, _format_bar_body(bar)]))
        previous = bar
    flush()
    return "\n".join(lines) + "\n"


def transpose_chart(chart: Chart, semitones: int, key: Key | None = None) -> Chart:
    """Every chord and key moved by `semitones`, each bar's chords spelled for its key after the
    move (sharps where no key is known).

    With no key in the chart, `key` (when given) becomes the chart's key after the move. A move
    by whole octaves (0) keeps every chord as written: a chart told the key it is already in
    reads as before (Bb stays Bb in C, D/F# stays D/F# in F). Spelling by each bar's own key
    rather than one for the chart keeps a key change in its own signature, and keeps a minor
    chart moved to a tonic given as major ("C" for a chart in Am) in the flats of C minor.
    """

    def move_key(k: Key | None) -> Key | None:
        if k is None or semitones % 12 == 0:
            return k
        moved = replace(k, tonic=(k.tonic + semitones) % 12)
        return key if moved == key else moved  # spelled as asked: F#, not Gb

    bars = []
    for bar in chart.bars:
        bar_key = move_key(bar.key) or key
        chords = bar.chords
        if semitones % 12:
            flats = (bar_key or Key(0)).prefers_flats
            chords = tuple(
                replace(c, symbol=c.symbol.transpose(semitones, prefer_flats=flats, key=bar_key))
                for c in bar.chords
            )
        bars.append(replace(bar, chords=chords, key=bar_key))
    return Chart(tuple(bars), bars[0].key, chart.title)
