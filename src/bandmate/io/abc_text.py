"""Rewrites of an ABC tune's text before music21 parses it, so that it reads as written.

- Bar lines music21 does not see (`with_bar_lines_seen`). music21 makes measures only of a
  tune with at least two plain bar lines (`|`, or a first or second ending's `[1`); a tune with
  fewer (`G |: ABcd efga | bagf edcB :|`, a short tune or a tune of one repeated strain) became
  one stream of notes: its repeats were not played out and its pickup was lost. The tune gets
  plain bar lines before its first note, which start no bar (nothing comes before them).

Each works on one tune's text (its header included) and gives None when it changes nothing.
"""

from __future__ import annotations

import re

# a field line in a tune (`K:G`, `w: lyrics with | in them`); `%` starts a comment
_FIELD_LINE_RE = re.compile(r"^\s*([A-Za-z]):")


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
    if not notes:
        return None
    bars = [(i, t) for i, t in enumerate(tokens) if isinstance(t, abcFormat.ABCBar)]
    if not any(i < notes[-1] or t.isRepeat() for i, t in bars):  # none divides or repeats
        return None
    lines = text.split("\n")
    start = _body_start(lines)
    if start is None:
        return None
    missing = 2 - sum(1 for _, t in bars if t.isRegular())
    return "\n".join([*lines[:start], " ".join("|" * missing), *lines[start:]])
