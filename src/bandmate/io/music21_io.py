"""MusicXML, ABC and music21's bundled corpus -> Score, through music21 (and Score -> MusicXML).

music21 is heavy (a second or two to import), so it is imported inside the functions that need
it, never at module level. Writing lives in `music21_write`; its public functions are re-exported
here so that callers need one module for everything music21 does.

How a music21 stream becomes a Score:
- one Track per Part: its name from `partName` (else "Part N"), its GM program from the part's
  instrument when the file names one (else 0, piano), drums when the instrument is a percussion
  instrument or plays on MIDI channel 10, and a role from `infer_role` (a chorale's Soprano is the
  melody, its Bass the bass);
- notes at `ticks_per_beat` 480, music21's offsets being quarter lengths. Tied notes become one
  note; rests and grace notes are left out; a chord becomes a note per pitch; the velocity is the
  note's own (MusicXML `dynamics`) when it has one, else 90;
- the tempo, meter and key maps, chord symbols and rehearsal marks of the parts. Parts written for
  transposing instruments are read at sounding pitch.

A file or corpus piece is read as it is played: its repeats, first and second endings and da capo
written out (music21's `expandRepeats`), since a Score has no repeat signs. An ABC reel of two
repeated strains was rendered half as long, its first and second endings played one after the
other. Repeats music21 cannot expand (unbalanced signs) are read as written.

Pickup bars (anacrusis) keep music21's offsets, so the first note of a chorale with a one-beat
pickup is at tick 0 and the first full bar starts at tick 480. The time-signature map then says so
by repeating the meter where the short bar ends (4/4 at 0, 4/4 at 480), and `BarGrid` turns that
into a short bar 0; `write_musicxml` writes such a bar back as a pickup. The same holds for any
short bar in the middle of a piece (a bar cut short before a meter change, say).
"""

from __future__ import annotations

import bisect
import contextlib
import itertools
import os
import re
from collections import defaultdict
from dataclasses import replace
from fractions import Fraction
from pathlib import Path
from xml.etree import ElementTree

from bandmate.errors import ChordSymbolError, InputFileError
from bandmate.io import musicxml_data
from bandmate.io.files import check_inputs, user_text
from bandmate.io.midi import CLOSING_REST_BARS, DEFAULT_US_PER_BEAT
from bandmate.io.music21_write import (
    KIND_BY_QUALITY,
    musicxml_bytes,
    quantize_for_notation,
    score_to_music21,
    write_musicxml,
)
from bandmate.score.model import (
    DEFAULT_TICKS_PER_BEAT,
    SUSTAIN_PEDAL,
    ChordEvent,
    Control,
    KeyChange,
    Note,
    Score,
    Section,
    TempoChange,
    TimeSignature,
    Track,
    infer_role,
)
from bandmate.score.transform import without_changes_from
from bandmate.theory.chords import parse_chord
from bandmate.theory.keys import MODES, Key

__all__ = [
    "abc_tune_count",
    "corpus_names",
    "load_corpus",
    "musicxml_bytes",
    "quantize_for_notation",
    "read_abc",
    "read_abc_book",
    "read_musicxml",
    "score_from_music21",
    "score_to_music21",
    "write_musicxml",
]

DEFAULT_VELOCITY = 90
DRUM_CHANNEL = 9  # MIDI channel 10, counted from 0 as music21 does
# Ticks by which a tied note may miss its continuation and still be joined (float rounding).
_TIE_SLACK_TICKS = 2
# Words that make a text direction a section marker when the file has no rehearsal marks.
_SECTION_WORDS = {
    "intro", "verse", "chorus", "pre-chorus", "prechorus", "bridge", "outro", "solo", "coda",
    "interlude", "refrain", "break", "ending", "tag", "vamp", "hook",
}  # fmt: skip
#: an ABC tune's `M:none` field: free metre, bars of their written lengths (`_meter_free_bars`)
_FREE_METRE_RE = re.compile(r"^[ \t]*M:[ \t]*none[ \t]*(%.*)?$", re.I | re.M)
_FILE_NAME_RE = re.compile(r"\.(mxl|xml|musicxml|abc|krn|mid|midi|mei|rntxt|capx)$", re.I)
# music21's chord kinds (MusicXML `kind`) -> bandmate's quality tokens, for symbols whose written
# text bandmate cannot read.
_QUALITY_BY_KIND = {kind: quality for quality, kind in reversed(KIND_BY_QUALITY.items())}
_QUALITY_BY_KIND.update({"dominant": "7", "half-diminished": "m7b5", "major-minor": "mMaj7"})


# --- public API ----------------------------------------------------------------------------------
def read_musicxml(path: str | os.PathLike) -> Score:
    """Read a MusicXML file (`.musicxml`, `.xml`, or compressed `.mxl`) into a Score.

    A compressed file under any of those names and a timewise score are read too
    (`io.musicxml_data`), which music21 alone does not do.
    """
    check_inputs([path])
    name = str(path)
    with open(path, "rb") as f:
        head = f.read(4096)
    compressed = musicxml_data.is_compressed(head) or name.lower().endswith(".mxl")
    data = Path(path).read_bytes()
    if not compressed and not musicxml_data.is_timewise(head) and b"<cue" not in data:
        document = _lazy(lambda: ElementTree.parse(path).getroot())
        score = _read_with_music21(
            path, "musicxml", "MusicXML", prepare=lambda s: _place_drum_notes(s, document())
        )
        return _titled(score, document)
    xml = musicxml_data.unpacked(data, name) if musicxml_data.is_compressed(data) else data
    if musicxml_data.is_timewise(xml):
        xml = musicxml_data.partwise(xml, name)
    from music21.musicxml import xmlToM21

    importer = xmlToM21.MusicXMLImporter()
    try:
        # parsed from bytes, so that the document's own encoding (UTF-16, Latin-1) is honoured;
        # music21 would decode it as UTF-8
        root = ElementTree.fromstring(xml)
        if root.tag != "score-partwise":
            raise ValueError(f"its root element is <{root.tag}>, not <score-partwise>")
        _cue_notes_as_rests(root)
        importer.xmlRoot = root
        importer.xmlRootToScore(root, importer.stream)
    except Exception as e:  # music21 and the XML parser raise many kinds; all mean a bad file
        problem = _first_line(e)
        raise InputFileError(f"{name!r} is not a readable MusicXML file ({problem}).") from None
    _place_drum_notes(importer.stream, root)
    return _titled(_score_of(importer.stream, path), lambda: root)


def _cue_notes_as_rests(root) -> None:
    """Make each cue note of the document `root` (`<cue/>`: another part's line printed small
    in a player's part, never played) a rest of its length, in place; music21 read them as
    notes, so that a part's cues of the oboe were played as its own melody."""
    for measure in root.iter("measure"):
        for n in measure.findall("note"):
            cue = n.find("cue")
            if cue is None:
                continue
            if n.find("chord") is not None:
                measure.remove(n)  # a chord's further notes: its first became the rest
                continue
            n.remove(cue)
            for tag in ("pitch", "unpitched", "tie"):
                for child in n.findall(tag):
                    n.remove(child)
            for notations in n.findall("notations"):
                for tied in notations.findall("tied"):
                    notations.remove(tied)
            n.insert(0, ElementTree.Element("rest"))


def _lazy(make):
    """`make`, called once, when first wanted."""
    made = []

    def get():
        if not made:
            made.append(make())
        return made[0]

    return get


def _titled(score: Score, root) -> Score:
    """`score` with the title the document's first page shows (`<credit-type>title`) where it
    has no `<work-title>` or `<movement-title>`: Dorico, Sibelius and MuseScore 4 can give the
    title only so, and the piece then lost it. `root()` gives the document."""
    score = _without_bandmate_label(score, root)
    if score.title:
        return score
    with contextlib.suppress(ElementTree.ParseError):
        for credit in root().iter("credit"):
            if (credit.findtext("credit-type") or "").strip().lower() != "title":
                continue
            words = " ".join(
                " ".join((w.text or "").split()) for w in credit.iter("credit-words")
            ).strip()
            if words:
                return score.replace(title=words)
    return score


def _without_bandmate_label(score: Score, root) -> Score:
    """`score` without its title where that is only the label bandmate's tags gave an untitled
    file ("bandmate melody", `musicxml_data.bandmate_title`; `root()` gives the document): a job
    that reads the file then titled its own output so (a harmonized melody as "bandmate
    melody"). A title of the piece's own stays."""
    if not score.title:
        return score
    try:
        label = musicxml_data.bandmate_title(root())
    except ElementTree.ParseError:  # music21 read it: a title of its own, then
        return score
    return score.replace(title=None) if score.title == label else score


def read_abc(path: str | os.PathLike) -> Score:
    """Read an ABC file into a Score; a file of several tunes gives its first tune.

    Key, meter and unit-length changes inside the tune (`[K:F]`, `[M:3/4]`) are read, which
    music21 alone does not do (`io.abc_fields`). So are the bars of a tune with fewer than two
    plain bar lines (`io.abc_fields`) and the bars of a tune in free metre, `M:none`
    (`_meter_free_bars`). Only the first tune is parsed, so a tune book with a broken tune
    further on still gives its first.
    """
    header, tunes = _abc_tunes(path)
    return _score_of(_parse_abc(header + (tunes[0] if tunes else ""), path), path)


def read_abc_book(path: str | os.PathLike) -> list[Score]:
    """Every tune of an ABC file, in the file's order, each read as `read_abc` reads one; a tune
    music21 cannot read is left out (InputFileError, for the first, when none can be read)."""
    from music21 import stream as m21stream

    header, tunes = _abc_tunes(path)
    scores, problem = [], None
    for tune in tunes or [""]:
        try:
            parsed = _parse_abc(header + tune, path)
            pieces = list(parsed.scores) if isinstance(parsed, m21stream.Opus) else [parsed]
            scores += [_score_of(p, path) for p in pieces]
        except InputFileError as e:
            problem = problem or e
    if not scores and problem is not None:
        raise problem
    return scores


def abc_tune_count(path: str | os.PathLike) -> int:
    """How many tunes (X: fields) the ABC file at `path` holds; 1 for a tune without one."""
    return max(1, len(_abc_tunes(path)[1]))


def _abc_tunes(path: str | os.PathLike) -> tuple[str, list[str]]:
    """(the text before the first tune, each tune's text from its X: line) of an ABC file."""
    check_inputs([path])
    text = user_text(Path(path).read_bytes())
    if not text.strip():
        raise InputFileError(f"{str(path)!r} is empty; give an ABC file that holds a tune.")
    starts = [m.start() for m in re.finditer(r"(?m)^X:", text)]
    if not starts:
        return text, []
    header = text[: starts[0]]
    tunes = [text[a:b] for a, b in itertools.pairwise([*starts, len(text)])]
    return header, [_with_unit_length(t, header) for t in tunes]


def _with_unit_length(tune: str, header: str) -> str:
    """`tune` with `L:1/8` after its X: line when neither it (before K:) nor the file header
    gives a unit length or meter: ABC's default then, which music21 parsing the tune alone
    does not apply (in a whole book it took the tune before's)."""
    head = tune.split("\nK:", 1)[0]
    if re.search(r"(?m)^[LM]:", header + "\n" + head):
        return tune
    first, _, rest = tune.partition("\n")
    return f"{first}\nL:1/8\n{rest}"


def _parse_abc(text: str, path: str | os.PathLike):
    """music21's stream of ABC `text` (from the file at `path`), its inline fields placed."""
    from music21 import converter

    from bandmate.io.abc_fields import (
        fields_on_own_lines,
        place_body_fields,
        with_bar_lines_seen,
        without_annotations,
    )

    text = without_annotations(text) or text
    text = with_bar_lines_seen(text) or text
    free = _FREE_METRE_RE.search(text) is not None
    rewritten = fields_on_own_lines(text)
    if rewritten is not None:
        try:
            stream = converter.parseData(rewritten, format="abc")
            place_body_fields(stream, rewritten)
            return _meter_free_bars(stream) if free else stream
        except Exception:  # a step past music21 failed: read the tune as music21 alone does
            pass
    try:
        stream = converter.parseData(text, format="abc")
        return _meter_free_bars(stream) if free else stream
    except Exception as e:  # music21 raises many kinds; all mean a bad file
        problem = _first_line(e)
        raise InputFileError(f"{str(path)!r} is not a readable ABC file ({problem}).") from None


def _meter_free_bars(stream):
    """Give each bar of a tune in free metre in `stream` (an ABC tune or book, as music21
    parsed it) a meter of its own written length, in place; return `stream`.

    A tune with `M:none` is in free metre: its bar lines stand where the music's phrases end,
    and bars differ in length (`DEF | GABc | dcB |`). music21 gives such a tune no meter, and it
    was read in 4/4 bars that cut across the written ones, its pickup lost. A Score holds bars
    only through its meter map, so each bar is read as a bar of its own length, as a short bar
    of a metered tune is: in quarters when it is a whole number of them (2/4, 4/4), else in
    eighths (3/8), sixteenths or finer, the meter restated only where the length changes. Bars
    of a metered tune after an M: field in the body keep their meter; a tune music21 made no
    bars of (no bar lines) stays in 4/4, as nothing says where its bars are.

    Only `M:none` says so here. ABC reads a tune with no M: field as free metre too, but a
    hand-written tune that leaves M: out most often means common time: read in free bars, its
    pickup and short closing bar became meters of their own, and `continue` went on in the
    closing bar's 7/8. It is read in 4/4, as music21 reads it.
    """
    from music21 import meter
    from music21 import stream as m21stream

    scores = list(stream.scores) if isinstance(stream, m21stream.Opus) else [stream]
    for score in scores:
        for part in list(score.parts) if isinstance(score, m21stream.Score) else []:
            measures = list(part.getElementsByClass("Measure"))
            if len(measures) < 2:
                continue
            outside = part.getElementsByClass(meter.TimeSignature)  # one before the measures
            metered_from = min((part.elementOffset(t) for t in outside), default=float("inf"))
            previous = None
            for measure in measures:
                if (
                    measure.offset >= metered_from - 1e-9
                    or measure.getElementsByClass(meter.TimeSignature).first() is not None
                ):
                    break  # a meter is written: the bars are metered from here on
                ratio = _written_length_ratio(Fraction(measure.duration.quarterLength))
                if ratio is not None and ratio != previous:
                    measure.timeSignature = meter.TimeSignature(ratio)
                previous = ratio or previous
    return stream


def _written_length_ratio(quarters: Fraction) -> str | None:
    """A meter of `quarters` quarter notes: "3/4", "3/8"; None for no length or a length no
    note value up to a 64th divides."""
    if quarters <= 0:
        return None
    for denominator in (4, 8, 16, 32, 64):
        count = quarters * denominator / 4
        if count.denominator == 1:
            return f"{count.numerator}/{denominator}"
    return None


def _score_of(stream, path) -> Score:
    try:
        return score_from_music21(_as_played(stream))
    except ValueError as e:
        raise InputFileError(f"{str(path)!r} holds music bandmate cannot use ({e}).") from None


def load_corpus(name: str) -> Score:
    """A piece of music21's bundled corpus by name, e.g. "bach/bwv66.6" or "joplin/maple_leaf_rag".

    Only the corpus that ships inside music21 is searched; nothing is ever downloaded. A name is
    the piece's path in the corpus folder without its suffix (`corpus_names` lists them). A file
    that holds several pieces (an ABC book) gives its first piece.
    """
    path = _corpus_path(name)
    from music21 import converter

    try:
        stream = converter.parse(path)
    except Exception as e:  # music21 raises many kinds; all mean the file could not be read
        raise InputFileError(
            f"Corpus piece {name!r} could not be read ({_first_line(e)})."
        ) from None
    score = score_from_music21(_as_played(stream))
    return score if score.title else score.replace(title=name)


def corpus_names(prefix: str = "") -> list[str]:
    """Names of the pieces in music21's bundled corpus that start with `prefix` ("bach/")."""
    root, paths = _core_corpus()
    names = sorted({_corpus_name(p, root) for p in paths})
    return [n for n in names if n.lower().startswith(prefix.lower())]


def score_from_music21(stream, ticks_per_beat: int = DEFAULT_TICKS_PER_BEAT) -> Score:
    """A Score from a music21 Score, Part, Opus (its first score) or any other Stream."""
    from music21 import stream as m21stream

    if isinstance(stream, m21stream.Opus):
        scores = list(stream.scores)
        if not scores:
            return Score(ticks_per_beat=ticks_per_beat)
        stream = scores[0]
    is_score = isinstance(stream, m21stream.Score)
    if is_score and not stream.parts and not stream.recurse().notes:
        # a score with no parts at all (an empty part list): it was an AttributeError traceback
        return Score(ticks_per_beat=ticks_per_beat, title=_title(stream))
    parts = (list(stream.parts) or [stream]) if is_score else [stream]
    if any(_has_transposition(p) for p in parts):
        converted = (stream if is_score else parts[0]).toSoundingPitch()
        parts = list(converted.parts) if isinstance(converted, m21stream.Score) else [converted]

    def ticks(quarter_length) -> int:
        return round(Fraction(quarter_length) * ticks_per_beat)

    tracks = [_track_from_part(p, i, ticks) for i, p in enumerate(parts)]
    staves = _grand_staves(parts, tracks)
    tracks = _staves_named(tracks, staves)
    flats = [p.flatten() for p in parts]
    tracks = _with_pedalling(parts, flats, tracks, ticks, staves)
    meters = _time_signatures(parts[0], flats[0], ticks)
    score = Score(
        tracks=tracks,
        ticks_per_beat=ticks_per_beat,
        tempos=_opening_tempo(
            _tempos(flats, ticks), Score(ticks_per_beat=ticks_per_beat, time_signatures=meters)
        ),
        time_signatures=meters,
        keys=_keys(flats[0], ticks),
        chords=_chords(flats, ticks),
        sections=_sections(flats, ticks),
        title=_title(stream),
    )
    return _with_written_end(score, max(ticks(f.highestTime) for f in flats))


def _opening_tempo(tempos: tuple[TempoChange, ...], bars: Score) -> tuple[TempoChange, ...]:
    """`tempos` from 120 BPM, as notation programs play a score, until the first mark when that
    comes after the first full bar (`bars` holds the meters): a "Slower, ♩ = 60" at bar 9 set
    the whole piece at 60, since a Score takes its first tempo from the start. A mark on the
    first bar, or on the bar after a pickup, is the piece's tempo from the start."""
    grid, full_bar = bars.bar_grid, bars.time_signatures[0].bar_ticks(bars.ticks_per_beat)
    opening_end = grid.bar_start(2 if grid.bar_start(1) < full_bar else 1)
    if not tempos or min(t.onset_ticks for t in tempos) < opening_end:
        return tempos
    return (TempoChange(0, DEFAULT_US_PER_BEAT), *tempos)


def _with_written_end(score: Score, measures_end: int) -> Score:
    """`score` ending where its written music ends, given where its measures end.

    The measures' end tells what the notes alone do not: a closing bar of rests
    (`| C D E F | z4 |`) is part of the piece, and `continue` writes after it. But a score begun
    from a notation program's template keeps the template's measures: 8 bars written in a
    32-bar template leave 24 bars of whole-measure rests in every part, which the composer
    never wrote, and `continue` wrote after them, 24 bars of silence into the piece. So bars
    past the last one that holds something, a note or a chord symbol (a lead sheet's chords
    over rests are music to play), are taken as written as a MIDI file's end of track is
    (`io.midi`): up to `CLOSING_REST_BARS` of them close the piece, more are a template's and
    none count. A meter, key or tempo change, or a rehearsal mark, in those bars governs no
    note and does not make them written (and goes with them); rests inside the last bar that
    holds a note are that bar's (`| G z3 |`). A piece with nothing in it at all keeps all of
    its measures, as written.
    """
    grid = score.bar_grid
    content_end = score.written_bars_end
    if score.chords:
        chords_end = grid.bar_start(grid.bar_at(score.chords[-1].onset_ticks) + 1)
        if chords_end > content_end:
            score = score.replace(written_end_ticks=chords_end)
            content_end = chords_end
    if measures_end <= content_end:
        return score
    if content_end and grid.bar_at(measures_end - 1) - grid.bar_at(content_end - 1) > (
        CLOSING_REST_BARS
    ):
        return without_changes_from(score, content_end)
    return score.replace(written_end_ticks=measures_end)


# --- files -------------------------------------------------------------------------------------
def _read_with_music21(path: str | os.PathLike, fmt: str, kind: str, prepare=None) -> Score:
    """The Score of the file at `path`, parsed by music21 as `fmt`; `prepare(stream)` is done
    to music21's stream first."""
    check_inputs([path])
    from music21 import converter

    try:
        # forceSource: read the file itself, never a pickle music21 cached of an older version
        stream = converter.parse(Path(path), format=fmt, forceSource=True)
    except Exception as e:  # music21 and the XML parser raise many kinds; all mean a bad file
        raise InputFileError(
            f"{str(path)!r} is not a readable {kind} file ({_first_line(e)})."
        ) from None
    if prepare is not None:
        with contextlib.suppress(ElementTree.ParseError):  # music21 read it: the notes stand
            prepare(stream)
    return _score_of(stream, path)


def _as_played(stream):
    """`stream` with its repeats written out, as it is played; `stream` itself when it has no
    repeat signs or they cannot be expanded. An Opus is expanded score by score."""
    from music21 import bar, repeat, spanner
    from music21 import stream as m21stream

    if isinstance(stream, m21stream.Opus):
        out = m21stream.Opus()
        for score in stream.scores:
            out.append(_as_played(score))
        return out
    signs = (bar.Repeat, repeat.RepeatExpression, spanner.RepeatBracket)
    if not stream.recurse().getElementsByClass(signs).first():
        return stream
    try:
        return stream.expandRepeats()
    except Exception:  # music21's Expander refuses unbalanced or nested signs in many ways
        return stream


def _first_line(error: Exception) -> str:
    text = str(error).strip().splitlines()
    line = text[0] if text else type(error).__name__
    return line if len(line) <= 160 else line[:157] + "..."


def _core_corpus():
    from music21.corpus import corpora

    return _core_root(), corpora.CoreCorpus().getPaths()


def _core_root() -> Path:
    from music21 import common

    return Path(common.getCorpusFilePath())


def _corpus_name(path, root: Path) -> str:
    relative = Path(path).relative_to(root)
    return relative.with_suffix("").as_posix()


def _corpus_path(name: str) -> Path:
    hint = (
        "names look like bach/bwv66.6; list them with `bandmate show --list-corpus bach` "
        "(or any other start of a name)"
    )
    if not isinstance(name, str) or not name.strip():
        raise InputFileError(f"Give the name of a corpus piece: {hint}.")
    from music21.corpus import corpora

    wanted = name.strip().removesuffix("/")
    root = _core_root()
    matches = corpora.CoreCorpus().getWorkList(wanted)
    exact = [p for p in matches if _corpus_name(p, root) == Path(wanted).with_suffix("").as_posix()]
    pieces = sorted({_corpus_name(p, root) for p in matches})
    if not exact and len(pieces) > 1:
        # "bach" or a work of several movements: taking the first match gave some piece silently
        raise InputFileError(
            f"{wanted!r} names {len(pieces)} pieces of music21's bundled corpus ({pieces[0]}, "
            f"{pieces[1]}{', ...' if len(pieces) > 2 else ''}); give one of them, or list them "
            f"with `bandmate show --list-corpus {wanted}`."
        )
    if exact or matches:
        return Path((exact or matches)[0])
    raise InputFileError(f"No piece named {wanted!r} in music21's bundled corpus; {hint}.")


# --- parts and notes ---------------------------------------------------------------------------
def _has_transposition(part) -> bool:
    inst = part.getInstrument(returnDefault=False)
    return bool(inst and inst.transposition and not part.atSoundingPitch)


def _grand_staves(parts, tracks: list[Track]) -> list[list[int]]:
    """The indexes of the parts, grouped by instrument: the PartStaffs of one instrument side by
    side under one name (a piano's grand staff) in one group, every other part alone."""
    from music21 import stream as m21stream

    groups: list[list[int]] = []
    for i, part in enumerate(parts):
        staff = isinstance(part, m21stream.PartStaff)
        last = groups[-1][-1] if groups else None
        if (
            staff
            and last is not None
            and isinstance(parts[last], m21stream.PartStaff)
            and tracks[last].name == tracks[i].name
        ):
            groups[-1].append(i)
        else:
            groups.append([i])
    return groups


def _staves_named(tracks: list[Track], groups: list[list[int]]) -> tuple[Track, ...]:
    """`tracks` with the staves of one instrument (`_grand_staves`) told apart by name: a
    piano's grand staff (music21's PartStaffs) was two tracks both called "Piano", in `info`,
    the piano roll's key and a score written back; now "Piano (upper staff)" and "Piano (lower
    staff)", or "(staff 3)" and so on for more."""
    out = list(tracks)
    for group in groups:
        if len(group) < 2:
            continue
        for number, i in enumerate(group, 1):
            which = (
                ("upper staff" if number == 1 else "lower staff")
                if len(group) == 2
                else f"staff {number}"
            )
            out[i] = replace(out[i], name=f"{out[i].name} ({which})")
    return tuple(out)


def _track_from_part(part, index: int, ticks) -> Track:
    from music21 import instrument

    inst = part.getInstrument(returnDefault=False)
    name = (part.partName or (inst.partName if inst else None) or f"Part {index + 1}").strip()
    program = inst.midiProgram if inst is not None and inst.midiProgram is not None else 0
    is_drum = inst is not None and (
        isinstance(inst, instrument.UnpitchedPercussion) or inst.midiChannel == DRUM_CHANNEL
    )
    notes = _joined_notes(part.flatten(), ticks)
    role = infer_role(name, program, is_drum)
    return Track(name, max(0, min(127, program)), is_drum, role, tuple(notes))


def _with_pedalling(
    parts, flats, tracks: tuple[Track, ...], ticks, staves: list[list[int]]
) -> tuple[Track, ...]:
    """`tracks` with the parts' pedal marks ("Ped. ... *") as the sustain pedal's changes:
    pressed where the first note under a mark is struck, let go where the last one ends or, when
    the part's next note comes within a beat of that, there (a pedal is lifted at the next
    chord: the 16ths of a pedalled arpeggio ring on to it), and no later than the next mark
    begins (a pedal changed every half bar over held notes was read as one mark a bar). The
    pedal is the instrument's: on a grand staff (`staves`, from `_grand_staves`), whose marks
    music21 keeps with the upper staff while they mark notes of the lower one, every staff
    takes it."""
    from music21 import expressions

    marks = {}
    for part in parts:
        for mark in (
            *part.spannerBundle.getByClass(expressions.PedalMark),
            *part.recurse().getElementsByClass(expressions.PedalMark),
        ):
            marks[id(mark)] = mark
    if not marks:
        return tracks

    def located(element) -> tuple[int, int] | None:
        """(part index, tick) of `element`, in whichever part holds it."""
        for k, flat in enumerate(flats):
            try:
                return k, ticks(flat.elementOffset(element))
            except Exception:  # music21 raises its own kinds for an element not in a stream
                continue
        return None

    onsets = [sorted({n.onset_ticks for n in track.notes}) for track in tracks]
    spans: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for mark in marks.values():
        first, last = mark.getFirst(), mark.getLast()
        start, end = located(first), located(last)
        if start is None or end is None:
            continue  # a mark on notes that are not in the score (repeats written out)
        down, (k, struck) = start[1], end
        # to the end of the piece the mark ends on: a note, a tie's piece (where a writer ends
        # a mark lifted in the middle of a tied chord) or a rest the pedal holds on through
        up = struck + ticks(last.duration.quarterLength)
        following = onsets[k][bisect.bisect_right(onsets[k], struck) :]
        if following and up <= following[0] <= up + ticks(1):
            up = following[0]
        if up > down:
            for staff in next(g for g in staves if start[0] in g):
                spans[staff].append((down, up))
    out = list(tracks)
    for k, found in spans.items():
        found = sorted(set(found))
        controls = []
        for n, (down, up) in enumerate(found):
            if n + 1 < len(found):
                up = min(up, found[n + 1][0])
            if up > down:
                controls += [Control(down, SUSTAIN_PEDAL, 127), Control(up, SUSTAIN_PEDAL, 0)]
        out[k] = replace(out[k], controls=(*out[k].controls, *controls))
    return tuple(out)


def _joined_notes(flat, ticks) -> list[Note]:
    """The notes of a flattened part, each tied chain joined into one note.

    music21's `stripTies` mismatches ties between voices (two tied notes of one bar in different
    voices come back as one long note and a stray), so ties are joined here, by pitch: a piece
    whose tie stops or continues extends the pending note of its pitch that ends where it starts.
    """
    finished: list[Note] = []
    pending: dict[int, list[list[int]]] = {}  # pitch -> [onset, end, velocity] still tied

    def finish(pitch: int, onset: int, end: int, velocity: int) -> None:
        if end > onset:
            finished.append(Note(onset, end - onset, pitch, velocity))

    for element, pitch, tie_type, velocity in _pitched_pieces(flat):
        onset = ticks(flat.elementOffset(element))
        end = onset + ticks(element.duration.quarterLength)
        chain = None
        if tie_type in ("stop", "continue"):
            candidates = pending.get(pitch, [])
            chain = next((c for c in candidates if abs(c[1] - onset) <= _TIE_SLACK_TICKS), None)
        if chain is not None:
            chain[1] = end
            if tie_type == "stop":
                pending[pitch].remove(chain)
                finish(pitch, *chain)
        elif tie_type in ("start", "continue"):
            pending.setdefault(pitch, []).append([onset, end, velocity])
        else:
            finish(pitch, onset, end, velocity)
    for pitch, chains in pending.items():
        for chain in chains:
            finish(pitch, *chain)
    return finished


def _pitched_pieces(flat):
    """(element, MIDI pitch, tie type or None, velocity) for every sounding note of `flat`."""
    from music21 import chord, harmony, note

    for element in flat.notes:
        if isinstance(element, harmony.Harmony) or element.duration.isGrace:
            continue
        if element.duration.quarterLength <= 0:
            continue
        members = element.notes if isinstance(element, chord.ChordBase) else (element,)
        for member in members:
            if isinstance(member, note.Unpitched):
                pitch = _unpitched_midi(member)
            else:
                pitch = member.pitch.midi
            if pitch is None or not 0 <= pitch <= 127:
                continue
            tie = member.tie or element.tie
            tie_type = tie.type if tie is not None and tie.type != "let-ring" else None
            yield element, pitch, tie_type, _velocity(member, element)


def _place_drum_notes(stream, root) -> None:
    """Give each unpitched note of `stream` (music21's reading of the MusicXML document `root`)
    the GM drum note its instrument names (`<midi-unpitched>`), as `storedInstrument`.

    music21 keeps only where an unpitched note is drawn on the staff, so a drum part exported
    by MuseScore or Finale played its bass drum as F4 and its snare as C5. An instrument is
    found from the note's `<instrument>` (or the part's only one) and matched to music21's note
    by where it is drawn and its notehead; a place two instruments share keeps the drawn pitch.
    """
    from music21 import instrument, note

    drum_notes = _drum_notes_by_place(root)
    if not drum_notes:
        return
    made: dict[int, object] = {}
    for part in getattr(stream, "parts", None) or [stream]:
        inst = part.getInstrument(returnDefault=False)
        part_id = getattr(inst, "partId", None) or str(part.id)
        places = drum_notes.get(part_id)
        if not places:
            continue
        for element in part.recurse().notes:
            for member in getattr(element, "notes", None) or (element,):
                if not isinstance(member, note.Unpitched):
                    continue
                key = (member.displayStep, member.displayOctave, member.notehead or "normal")
                pitch = places.get(key)
                if pitch is not None:
                    if pitch not in made:
                        made[pitch] = instrument.UnpitchedPercussion()
                        made[pitch].percMapPitch = pitch
                    member.storedInstrument = made[pitch]


def _drum_notes_by_place(root) -> dict[str, dict[tuple[str, int, str], int]]:
    """part id -> (display step, display octave, notehead) -> the GM drum note of the document's
    unpitched notes drawn there, for the places that name one drum note only."""
    sounds: dict[str, dict[str, int]] = {}  # part id -> instrument id -> MIDI note
    for score_part in root.iter("score-part"):
        found = {}
        for midi in score_part.iter("midi-instrument"):
            with contextlib.suppress(TypeError, ValueError):
                number = int((midi.findtext("midi-unpitched") or "").strip()) - 1  # from 1
                if 0 <= number <= 127:
                    found[midi.get("id", "")] = number
        if found:
            sounds[score_part.get("id", "")] = found
    out: dict[str, dict[tuple[str, int, str], int]] = {}
    for part in root.iter("part"):
        found = sounds.get(part.get("id", ""))
        if not found:
            continue
        only = next(iter(found.values())) if len(found) == 1 else None
        places: dict[tuple[str, int, str], set[int]] = {}
        for n in part.iter("note"):
            unpitched = n.find("unpitched")
            if unpitched is None:
                continue
            ref = n.find("instrument")
            pitch = found.get(ref.get("id", "")) if ref is not None else only
            step = (unpitched.findtext("display-step") or "").strip()
            with contextlib.suppress(ValueError):
                octave = int((unpitched.findtext("display-octave") or "").strip())
                head = (n.findtext("notehead") or "normal").strip()
                places.setdefault((step, octave, head), set()).add(pitch)
        out[part.get("id", "")] = {
            k: next(iter(v)) for k, v in places.items() if len(v) == 1 and None not in v
        }
    return out


def _unpitched_midi(member) -> int | None:
    stored = getattr(member, "storedInstrument", None)
    perc = getattr(stored, "percMapPitch", None)
    return perc if perc is not None else member.displayPitch().midi


def _velocity(member, element) -> int:
    for source in (member, element):
        volume = getattr(source, "_volume", None)  # not `.volume`: that would make one
        if volume is not None and volume.velocity is not None:
            return max(1, min(127, round(volume.velocity)))
    return DEFAULT_VELOCITY


# --- maps --------------------------------------------------------------------------------------
def _tempos(flats, ticks) -> tuple[TempoChange, ...]:
    from music21 import tempo

    out: dict[int, TempoChange] = {}
    for flat in flats:
        for mark in flat.getElementsByClass(tempo.MetronomeMark):
            bpm = mark.getQuarterBPM()
            tick = ticks(flat.elementOffset(mark))
            if bpm and 0 < bpm <= 10_000 and tick not in out:
                out[tick] = TempoChange.from_bpm(tick, bpm)
    return tuple(out.values())


def _time_signatures(part, flat, ticks) -> tuple[TimeSignature, ...]:
    """The meter map, with the meter repeated where a short bar (a pickup) ends."""
    from music21 import meter

    out: dict[int, TimeSignature] = {}
    measures = list(part.getElementsByClass("Measure"))
    for m, following in itertools.pairwise(measures):
        ts = m.timeSignature or m.getContextByClass(meter.TimeSignature)
        if ts is None:
            continue
        if m.duration.quarterLength < ts.barDuration.quarterLength - 1e-6:
            out[ticks(following.offset)] = TimeSignature(
                ticks(following.offset), ts.numerator, ts.denominator
            )
    for ts in flat.getElementsByClass(meter.TimeSignature):
        if ts.denominator in (1, 2, 4, 8, 16, 32, 64):
            tick = ticks(flat.elementOffset(ts))
            out[tick] = TimeSignature(tick, ts.numerator, ts.denominator)
    return tuple(out[t] for t in sorted(out))


def _keys(flat, ticks) -> tuple[KeyChange, ...]:
    from music21 import key

    out = []
    for k in flat.getElementsByClass(key.KeySignature):
        tick = ticks(flat.elementOffset(k))
        if isinstance(k, key.Key) and k.mode in MODES:
            found = Key(k.tonic.pitchClass, k.mode)
        elif -7 <= k.sharps <= 7:
            found = Key.from_sharps(k.sharps, minor=False)
        else:
            continue
        with contextlib.suppress(ValueError):  # as written: F# major's 6 sharps, not Gb's flats
            found = found.spelled(k.sharps)
        if out and out[-1].key == found and out[-1].key.sharps == found.sharps:
            # the key restated (a repeat written out, a courtesy signature): no change. It was
            # a second key of the map, so that `info` said "D, D" and `chords` "in D then D"
            continue
        out.append(KeyChange(tick, found))
    return tuple(out)


def _chords(flats, ticks) -> tuple[ChordEvent, ...]:
    from music21 import harmony

    out: dict[int, ChordEvent] = {}
    for flat in flats:
        for cs in flat.getElementsByClass(harmony.ChordSymbol):
            tick = ticks(flat.elementOffset(cs))
            symbol = _chord_symbol(cs)
            if symbol is not None and tick not in out:
                out[tick] = ChordEvent(tick, symbol)
    return tuple(out.values())


def _m21_name(name: str) -> str:
    """A music21 note name as bandmate writes it: "B-" -> "Bb"."""
    return name.replace("-", "b")


def _chord_symbol(cs):
    """bandmate's ChordSymbol for a music21 one, or None when it does not read as one."""
    from music21 import harmony

    if isinstance(cs, harmony.NoChord):
        return parse_chord("N.C.")
    try:
        root = cs.root()
        bass = cs.bass()
    except Exception:  # a symbol with no pitches
        return None
    if root is None:
        return None
    root_name = _m21_name(root.name)
    slash = f"/{_m21_name(bass.name)}" if bass is not None and bass.name != root.name else ""
    figure = re.sub(r"(^|/)([A-G])-", r"\1\2b", cs.figure or "")
    attempts = []
    if cs.chordStepModifications:
        # an alteration the kind leaves out (ABC's "Am7(b5)", MusicXML's <degree>: music21 writes
        # "Am7 alter b5", "C7 add b9"): the symbol with it, where the kind alone reads Am7, C7;
        # in brackets first, since "C alter b5" joined is "Cb5", a C flat power chord
        attempts += [_degrees_joined(figure, brackets=True), _degrees_joined(figure)]
    if cs.chordKindStr or cs.chordKind == "major":
        attempts.append(f"{root_name}{cs.chordKindStr or ''}{slash}")
    quality = _QUALITY_BY_KIND.get(cs.chordKind)
    if quality is not None:
        attempts.append(f"{root_name}{'' if quality == 'maj' else quality}{slash}")
    attempts.append(figure)
    for text in attempts:
        with contextlib.suppress(ChordSymbolError):
            symbol = parse_chord(text)
            if symbol.root == root.pitchClass:  # never another root ("E add #11" as "E#11")
                return symbol
    return None


def _degrees_joined(figure: str, *, brackets: bool = False) -> str:
    """music21's figure of a chord with degrees as a symbol: "C7 add b9" -> "C7b9", "Am7 alter
    b5" -> "Am7b5", "F add 9" -> "Fadd9" (an added natural degree keeps its "add"); with
    `brackets`, an altered degree goes in brackets: "C7(b9)", "C(b5)"."""
    text = re.sub(r"\s+(?:alter|add)\s+([#b]\d+)", r"(\1)" if brackets else r"\1", figure)
    return re.sub(r"\s+add\s+", "add", text)


def _sections(flats, ticks) -> tuple[Section, ...]:
    from music21 import expressions

    marks: dict[tuple[int, str], Section] = {}
    texts: dict[tuple[int, str], Section] = {}
    for flat in flats:
        for mark in flat.getElementsByClass(expressions.RehearsalMark):
            name = str(mark.content or "").strip()
            if name:
                tick = ticks(flat.elementOffset(mark))
                marks.setdefault((tick, name), Section(tick, name))
        for text in flat.getElementsByClass(expressions.TextExpression):
            name = str(text.content or "").strip()
            first_word = re.sub(r"[\d:.\s]+$", "", name.lower()).split(" ")[0] if name else ""
            if first_word in _SECTION_WORDS:
                tick = ticks(flat.elementOffset(text))
                texts.setdefault((tick, name), Section(tick, name))
    chosen = marks or texts
    return tuple(chosen[k] for k in sorted(chosen))


def _title(stream) -> str | None:
    md = getattr(stream, "metadata", None)
    if md is None:
        return None
    for title in (md.title, md.movementName):
        # music21 names a piece without a title after its file ("bwv66.6.mxl"): not a title
        text = str(title or "").strip()
        if text and text != "Music21 Fragment" and not _FILE_NAME_RE.search(text):
            return text
    return None
