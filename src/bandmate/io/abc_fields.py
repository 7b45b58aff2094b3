"""Key, meter, unit-length and tempo changes inside an ABC tune, which music21 misreads.

ABC changes the key or meter in the middle of a tune with an inline field, `[K:F]` or `[M:3/4]`
between the notes, or with a field line of its own in the tune body. music21 (9.x) reads an
inline field as an empty chord and ignores it, so the notes after `[K:F]` keep the old key's
accidentals (B natural where Bb was written) and the meter and key maps never change; a field
line of its own changes the notes but is often dropped from the measures (the meter of a
`M:3/4` line right after a bar line is lost).

So `read_abc` gives music21 the tune with each inline field on a line of its own
(`fields_on_own_lines`), which makes the notes right, and then `place_body_fields` puts each
body field's time signature, key signature and tempo into the measure it starts, as music21
numbers its measures. A field in the middle of a bar (`| AB [K:C] cd |`), which music21 makes
a bar line of, stays where it stands and the bar stays whole.

The bar lines music21 does not see are here too (`with_bar_lines_seen`): music21 makes measures
only of a tune with at least two plain bar lines (`|`, or a first or second ending's `[1`); a
tune with fewer (`G |: ABcd efga | bagf edcB :|`, a short tune or a tune of one repeated strain)
became one stream of notes, its repeats not played out and its pickup lost. The tune gets plain
bar lines before its first note, which start no bar (nothing comes before them).
"""

from __future__ import annotations

import re

# an inline field that changes the music; [V:] (voices), [P:] (parts) and the rest are left alone
_INLINE_FIELD_RE = re.compile(r"\[([KMLQ]):([^\]\n]*)\]")
_FIELD_LINE_RE = re.compile(r"^\s*([A-Za-z]):")
_FIELD_CLASSES = ("TimeSignature", "KeySignature", "MetronomeMark")
# a K: field that names a clef and no key ([K:bass], [K:clef=alto], [K:]): the key stays
_CLEF_ONLY_RE = re.compile(
    r"\s*(?:$|clef\s*=|(?:treble|bass|alto|tenor|baritone|mezzo|soprano|perc)\b)", re.I
)


# a quoted string: a chord symbol, or an annotation when it starts with ^ _ < > or @ (text placed
# by the note). Matched from left to right, each string whole, so the closing quote of "E7" before
# a sharp note (`"E7"^g2`) is never taken for the opening of an annotation
_QUOTED_RE = re.compile(r'"([^"\n]*)"')
_ANNOTATION_MARKS = "^_<>@"


def _placed_lines(text: str):
    """Each line of `text` as (line, its field match or None, whether it lies in a tune's body:
    after the tune's K: field, which ends its header, and before the next X:)."""
    in_body = False
    for line in text.splitlines():
        field = _FIELD_LINE_RE.match(line)
        if field and field[1] == "X":
            in_body = False
        yield line, field, in_body
        in_body = in_body or bool(field and field[1] == "K")


def without_annotations(text: str) -> str | None:
    """`text` with the annotations of its tune bodies ("^Chorus", "_rit.") left out, or None
    when it has none. music21 takes the first quoted string before a note as its chord symbol
    and drops the rest, so the "G/B" of `"^Chorus""G/B"B` was lost; annotations are text, which
    a Score does not hold."""
    out: list[str] = []
    changed = False
    for line, field, in_body in _placed_lines(text):
        if not in_body or field:
            out.append(line)
            continue
        code, percent, comment = line.partition("%")
        kept = _QUOTED_RE.sub(
            lambda m: "" if m[1][:1] and m[1][0] in _ANNOTATION_MARKS else m[0], code
        )
        changed = changed or kept != code
        # a line that held only annotations stays, blank of them: a blank line ends a tune
        out.append(kept + percent + comment if kept.strip() or percent else code)
    return "\n".join(out) + "\n" if changed else None


def fields_on_own_lines(text: str) -> str | None:
    """`text` with every inline K, M, L and Q field of a tune body on a line of its own, or None
    when no tune body has such a field, inline or on a line of its own (then music21 reads the
    text as it is). A field line of its own (`K:A` between the lines of notes) music21 reads
    into the notes but leaves out of the measures, so it too needs `place_body_fields`; a K:
    line that names only a clef (`K:bass`) is left out, as its inline form is."""
    out: list[str] = []
    changed = False
    for line, field, in_body in _placed_lines(text):
        if in_body and field and field[1] in "KMLQ":
            changed = True
            if field[1] == "K" and _CLEF_ONLY_RE.match(line.partition("%")[0][field.end() :]):
                continue  # a clef change keeps the key; music21 would read "bass" as B
            out.append(line)
            continue
        code, percent, comment = line.partition("%")
        if not in_body or code.rstrip().endswith("\\") or not _INLINE_FIELD_RE.search(code):
            out.append(line)
            continue
        pieces, start = [], 0
        for match in _INLINE_FIELD_RE.finditer(code):
            field_text = f"{match[1]}:{match[2].strip()}"
            if match[1] == "K" and _CLEF_ONLY_RE.match(match[2]):
                field_text = ""  # a clef change keeps the key; music21 would read "bass" as B
            pieces += [code[start : match.start()], field_text]
            start = match.end()
        pieces.append(code[start:] + percent + comment)
        # no piece may be blank: a blank line ends an ABC tune
        out += [p for p in pieces if p.strip()]
        changed = True
    return "\n".join(out) + "\n" if changed else None


def place_body_fields(stream, text: str) -> None:
    """Put the meter, key and tempo of each field in the body of every tune of `stream` into
    the measure where it takes effect, in place; `text` is what music21 parsed into `stream`."""
    from music21 import abcFormat
    from music21 import stream as m21stream

    handler = abcFormat.ABCHandler()
    handler.process(text)
    handlers = [handler]
    if handler.definesReferenceNumbers():
        tunes = handler.splitByReferenceNumber()
        handlers = [tunes[n] for n in sorted(tunes, key=lambda n: (n is None, n))]
    scores = list(stream.scores) if isinstance(stream, m21stream.Opus) else [stream]
    if len(scores) != len(handlers):
        return  # music21 left a tune out: which score is which tune is not known
    for score, tune in zip(scores, handlers, strict=True):
        if not isinstance(score, m21stream.Score):
            continue
        voices = tune.splitByVoice()
        part_handlers = voices if len(voices) == 1 else [voices[0] + v for v in voices[1:]]
        for part, part_handler in zip(score.parts, part_handlers, strict=False):
            _place_in_part(part, part_handler)


def _place_in_part(part, handler) -> None:
    from music21 import abcFormat

    if not handler.definesMeasures():
        return  # no measures: music21 keeps every field where it stands
    merged = abcFormat.mergeLeadingMetaData(handler.splitByMeasure())
    position = {id(t): i for i, t in enumerate(handler.tokens)}
    note_kinds = (abcFormat.ABCNote, abcFormat.ABCChord)
    # the token indices of each measure's notes, in the order music21 makes the measures
    notes = [
        sorted(
            position[id(t)] for t in bar.tokens if isinstance(t, note_kinds) and id(t) in position
        )
        for bar in merged
        if bar.hasNotes()
    ]
    measures = list(part.getElementsByClass("Measure"))
    if len(notes) < 2 or len(measures) != len(notes):
        return  # not the measures music21 made from these tokens: leave them
    firsts = [n[0] for n in notes]
    # music21 put some body fields in the measure before theirs (over the header's, in the
    # first): clear them all, then put each where it belongs, the header's in the first measure
    for measure in measures[1:]:
        for element in list(measure.getElementsByClass(_FIELD_CLASSES)):
            measure.remove(element)
    for index, token in enumerate(handler.tokens):
        if not isinstance(token, abcFormat.ABCMetadata):
            continue
        if index < firsts[0]:
            if token.isMeter() or token.isKey():  # the header (the first measure's tempo stays)
                _place(token, measures[0])
            continue
        later = [i for i, first in enumerate(firsts) if first > index]
        if later:
            _place(token, measures[later[0]])  # the measure of the first note after the field
    # music21 starts a measure at every field, so a field in the middle of a bar splits it in
    # two; the second half goes back into the first, the field where it stands
    for k in range(len(notes) - 1, 0, -1):
        between = handler.tokens[notes[k - 1][-1] + 1 : notes[k][0]]
        if not any(isinstance(t, abcFormat.ABCBar) for t in between):
            _join(part, measures[k - 1], measures[k])


def _place(token, measure) -> None:
    """The time signature, key signature or tempo of field `token` at the start of `measure`."""
    if token.isMeter() and (ts := token.getTimeSignatureObject()) is not None:
        measure.timeSignature = ts
    elif token.isKey() and (ks := token.getKeySignatureObject()) is not None:
        measure.keySignature = ks
    elif token.isTempo() and (mark := token.getMetronomeMarkObject()) is not None:
        for old in list(measure.getElementsByClass("MetronomeMark").getElementsByOffset(0)):
            measure.remove(old)
        measure.insert(0, mark)


def _join(part, first, second) -> None:
    """Move the contents of measure `second` to the end of `first` and drop `second`."""
    from music21 import meter

    shift = first.duration.quarterLength
    for element in list(second):
        offset = second.elementOffset(element)
        second.remove(element)
        if not isinstance(element, meter.TimeSignature):  # a meter cannot change mid-bar
            first.insert(shift + offset, element)
    if second.rightBarline is not None:
        first.rightBarline = second.rightBarline
    part.remove(second)


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
    start = next((i for i, (*_, in_body) in enumerate(_placed_lines(text)) if in_body), None)
    if start is None:
        return None
    lines = text.splitlines(keepends=True)
    missing = 2 - sum(1 for _, t in bars if t.isRegular())
    return "".join([*lines[:start], " ".join("|" * missing) + "\n", *lines[start:]])
