"""Rewrites of an ABC tune's text before music21 parses it, so that it reads as written.

- Bar lines music21 does not see (`with_bar_lines_seen`). music21 makes measures only of a
  tune with at least two plain bar lines (`|`, or a first or second ending's `[1`); a tune with
  fewer (`G |: ABcd efga | bagf edcB :|`, a short tune or a tune of one repeated strain) became
  one stream of notes: its repeats were not played out and its pickup was lost. The tune gets
  plain bar lines before its first note, which start no bar (nothing comes before them).
- A meter change in the middle of a bar (`GA [M:3/4] Bc |`, or `GABc [M:3/4] |` just before
  the bar line), which music21 made a bar line of, so that the bar was cut in two and the new
  meter was then dropped (`io.abc_fields` joins the bar again, and a bar cannot change its
  meter half way). A musician writes it where the new meter's first bar begins, or in the bar
  before when a line of the notation ends there; it takes effect at the next bar line. So
  the field is moved to just after that bar line (after a repeat sign), and the bar that held
  it keeps its written notes and the old meter. Where that bar line starts an ending
  (`GABc [M:3/4] :|2`), whether the second ending or the music after both endings is meant
  is unsure, and the tune is read as music21 reads it. A key, unit-length or
  tempo change stays where it stands: it changes the notes after it at once.

Each works on one tune's text (its header included) and gives None when it changes nothing.
"""

from __future__ import annotations

import re

# a field line in a tune (`K:G`, `w: lyrics with | in them`); `%` starts a comment
_FIELD_LINE_RE = re.compile(r"^\s*([A-Za-z]):")
_INLINE_FIELD_RE = re.compile(r"\[([A-Za-z]):[^\]\n]*\]")
# a bar line and what belongs to it: repeat dots, a double or thick bar, an ending's number
_BAR_RE = re.compile(r"(?:\[\||:*\|[|\]:]*|::+)(?:\s*\[?[0-9]+(?:[,-][0-9]+)*)?")
_NOTE_LETTERS = frozenset("ABCDEFGabcdefgzxZX")


def _body_start(lines: list[str]) -> int | None:
    """The index of the first line after the tune's K: field (its header's end), or None."""
    for index, line in enumerate(lines):
        field = _FIELD_LINE_RE.match(line)
        if field and field[1] == "K":
            return index + 1
    return None


def with_bar_lines_seen(text: str) -> str | None:
    """`text` with plain bar lines before its first note where music21 would make no measures
    of a tune that has bar lines; None when it makes measures already (or the tune has no bar
    line that divides or repeats its notes: nothing to make bars of), or the tune has voices
    (each voice is a part of its own)."""
    from music21 import abcFormat

    handler = abcFormat.ABCHandler()
    try:
        handler.process(text)
        if handler.definesMeasures() or len(handler.splitByVoice()) > 1:
            return None
    except Exception:  # music21 cannot read the tune: it says so when it parses it
        return None
    tokens = handler.tokens
    notes = [
        i for i, t in enumerate(tokens) if isinstance(t, abcFormat.ABCNote | abcFormat.ABCChord)
    ]
    bars = [t for i, t in enumerate(tokens) if isinstance(t, abcFormat.ABCBar)]
    dividing = [
        t for i, t in enumerate(tokens)
        if isinstance(t, abcFormat.ABCBar) and notes and (i < notes[-1] or t.isRepeat())
    ]  # fmt: skip
    if not notes or not dividing:
        return None
    lines = text.split("\n")
    start = _body_start(lines)
    if start is None:
        return None
    missing = 2 - sum(1 for t in bars if t.isRegular())
    return "\n".join([*lines[:start], " ".join("|" * missing), *lines[start:]])


def with_meter_changes_at_bar_lines(text: str) -> str | None:
    """`text` with each inline meter field that stands after a note of its bar (`[M:3/4]`)
    moved to just after the bar's closing bar line; None when there is none, or when such a
    bar line starts an ending. A field with no bar line after it (at the tune's end) stays at
    the end of the tune's notes."""
    lines = text.split("\n")
    start = _body_start(lines)
    if start is None:
        return None
    out = lines[:start]
    changed = False
    pending: list[str] = []  # meter fields waiting for the next bar line
    note_in_bar = False
    for line in lines[start:]:
        if _FIELD_LINE_RE.match(
            line
        ):  # a field line (lyrics, a key or meter of its own line): no notes, no bars
            out.append(line)
            continue
        pieces: list[str] = []
        i, n = 0, len(line)
        while i < n:
            c = line[i]
            if c == "%":  # a comment, to the line's end
                pieces.append(line[i:])
                break
            if c in '"!+':  # a chord symbol or annotation, a decoration
                end = line.find(c, i + 1)
                end = n - 1 if end < 0 else end
                pieces.append(line[i : end + 1])
                i = end + 1
                continue
            inline = _INLINE_FIELD_RE.match(line, i)
            if inline:
                if inline[1] == "M" and note_in_bar:
                    pending.append(inline[0])
                    changed = True
                else:
                    pieces.append(inline[0])
                i = inline.end()
                continue
            bar = _BAR_RE.match(line, i)
            if bar and (c != "[" or bar[0].startswith("[|")):
                if pending and bar[0][-1].isdigit():
                    return None  # the next bar is an ending's: where the meter starts is unsure
                pieces.append(bar[0] + "".join(pending))
                pending = []
                note_in_bar = False
                i = bar.end()
                continue
            if c in _NOTE_LETTERS:
                note_in_bar = True
            pieces.append(c)
            i += 1
        out.append("".join(pieces))
    if not changed:
        return None
    if pending:  # no bar line after them: they end the tune's last line of notes
        last = max(i for i, line in enumerate(out) if line.strip())
        code, percent, comment = out[last].partition("%")
        out[last] = code + "".join(pending) + percent + comment
    return "\n".join(out)
