"""Score -> music21 -> MusicXML that notation programs (MuseScore, Finale, Dorico) open.

Decisions:
- The music is quantized first (`quantize_for_notation`): every note snaps to 16ths or to eighth-
  note triplets, whichever moves its onset and end less (16ths on a tie), so that each note has a
  duration notation can spell. A note never shrinks to nothing: at least one step of its grid.
- Bars come from the Score's own bar grid, so a short first bar (a pickup: the meter repeated
  where it ends, as `read_musicxml` makes it) is written as a pickup bar numbered 0, and a short
  bar elsewhere as an irregular bar. A note that crosses a bar line is split there into tied notes.
- Notes of a track that start and end together form a chord; notes that overlap otherwise go to
  further voices (voice 1 first, at most four), whose gaps are filled with hidden rests; past four
  voices a note is cut short where the next one starts. MusicXML gives a chord one velocity, so a
  chord's notes come back with the loudest one's.
- One part per track, named after it, with its GM program and MIDI channel (`assign_channels`, as
  in MIDI files). Drum tracks are written as ordinary parts on MIDI channel 10 with the GM drum
  numbers as pitches: the notes and the channel survive a round trip exactly (`read_musicxml`
  reads such a part back as drums), whereas MusicXML's unpitched notes would need a drum map that
  music21 cannot write per note. Notation programs show these parts as pitched notes.
- Notes are spelled in the key in force (Bb in F major, A# in B major); the tempo, chords (as
  `<harmony>` with bandmate's text as the `kind` text, so that "7b9" prints as written, and the
  MusicXML kind plus unprinted `<degree>`s that give its notes: `KIND_AND_DEGREES_BY_QUALITY`)
  and sections (rehearsal marks) go on the first pitched part, as notation programs expect.
"""

from __future__ import annotations

import bisect
import io as _io
import itertools
import os
import re
import zipfile
from collections import defaultdict
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from bandmate.io.files import atomic_path
from bandmate.io.midi import assign_channels
from bandmate.score.model import Note, Score, TimeSignature, Track
from bandmate.score.transform import rescale
from bandmate.theory.keys import Key

NOTATION_TICKS_PER_BEAT = 480
SIXTEENTH_TICKS = NOTATION_TICKS_PER_BEAT // 4
TRIPLET_EIGHTH_TICKS = NOTATION_TICKS_PER_BEAT // 3
_MUSIC21_MODES = {"major", "minor", "dorian", "phrygian", "lydian", "mixolydian", "locrian"}
_MINOR_LIKE = {"harmonic minor", "melodic minor"}
# Voices per staff that notation programs take (MuseScore has four); more overlapping notes than
# that are cut short where the next one starts.
MAX_VOICES = 4
# The longest note or rest written as one: a breve (two whole notes), the longest value that every
# notation program draws. A longer one (only a bar longer than a breve holds one: 64/4, say) is
# written as tied breves or as breve rests; music21 cannot export one of 16 whole notes at all.
LONGEST_TICKS = 8 * NOTATION_TICKS_PER_BEAT

#: bandmate chord quality -> (MusicXML `kind`, `degree`s that add, subtract or alter notes of it),
#: so that a program that reads the kind (MuseScore, Finale, Dorico) gets the chord's notes: "+b9"
#: adds a flat 9th, "-5" takes the 5th away, "~#11" alters the 11th the kind has. Kinds are the ones
#: MusicXML defines, in music21's names (it writes "dominant-seventh" as "dominant",
#: "half-diminished-seventh" as "half-diminished", "minor-major-seventh" as "major-minor"). A 13th
#: kind is left with its natural 11th, as notation programs write a 13 chord; the degrees are
#: written print-object="no", as the text of the kind (`kind text=`) already spells them all.
KIND_AND_DEGREES_BY_QUALITY = {
    "maj": "major", "m": "minor", "dim": "diminished", "aug": "augmented",
    "sus2": "suspended-second", "sus4": "suspended-fourth", "5": "power",
    "6": "major-sixth", "m6": "minor-sixth", "6/9": "major-sixth +9", "m6/9": "minor-sixth +9",
    "add9": "major +9", "madd9": "minor +9", "add11": "major +11", "madd11": "minor +11",
    "sus4add9": "suspended-fourth +9",
    "maj7": "major-seventh", "maj9": "major-ninth", "maj13": "major-13th",
    "maj7#11": "major-seventh +#11", "maj9#11": "major-ninth +#11", "maj7#5": "augmented +7",
    "maj7b5": "major-seventh ~b5", "maj7sus4": "suspended-fourth +7",
    # not "major ~b5", which music21 reads back as "C alter b5": C flat 5, a power chord
    "(b5)": "major -5 +b5",
    "m7": "minor-seventh", "m9": "minor-ninth", "m11": "minor-11th", "m13": "minor-13th",
    "mMaj7": "minor-major-seventh", "mMaj9": "minor-major-seventh +9",
    "m7b5": "half-diminished-seventh", "m9b5": "half-diminished-seventh +9",
    "m11b5": "half-diminished-seventh +9 +11", "dim7": "diminished-seventh",
    "dimMaj7": "diminished +7",
    "7": "dominant-seventh", "9": "dominant-ninth", "11": "dominant-11th -3",
    "13": "dominant-13th",
    "7sus2": "dominant-seventh -3 +2", "7sus4": "dominant-seventh -3 +4",
    "9sus4": "dominant-ninth -3 +4", "13sus4": "dominant-13th -3",
    "7sus4b9": "dominant-seventh -3 +4 +b9",
    "7b5": "dominant-seventh ~b5", "7#5": "augmented-seventh", "9#5": "augmented-seventh +9",
    "9b5": "dominant-ninth ~b5", "7b9": "dominant-seventh +b9", "7#9": "dominant-seventh +#9",
    "7#11": "dominant-seventh +#11", "9#11": "dominant-ninth +#11", "13#11": "dominant-13th ~#11",
    "7b13": "dominant-seventh +b13", "13b9": "dominant-13th ~b9",
    "13b9#11": "dominant-13th ~b9 ~#11", "7b9b13": "dominant-seventh +b9 +b13",
    "9b13": "dominant-ninth +b13", "13#9": "dominant-13th ~#9",
    "7b5b9": "dominant-seventh ~b5 +b9", "7b5#9": "dominant-seventh ~b5 +#9",
    "7#9#11": "dominant-seventh +#9 +#11", "7#9b13": "dominant-seventh +#9 +b13",
    "7b9#9": "dominant-seventh +b9 +#9", "7b9#11": "dominant-seventh +b9 +#11",
    "7#5b9": "augmented-seventh +b9", "7#5#9": "augmented-seventh +#9",
    "7alt": "dominant-seventh -5 +b9 +#9 +b13",
}  # fmt: skip
#: bandmate chord quality -> its MusicXML kind alone (what `read_musicxml` falls back on)
KIND_BY_QUALITY = {q: kind.split()[0] for q, kind in KIND_AND_DEGREES_BY_QUALITY.items()}
_DEGREE_TYPES = {"+": "add", "-": "subtract", "~": "alter"}
_DEGREE_RE = re.compile(r"([-+~])([b#]?)(\d+)")


# --- public API --------------------------------------------------------------------------------
def write_musicxml(score: Score, path: str | os.PathLike) -> None:
    """Write `score` atomically as MusicXML; a `.mxl` path gets the compressed form."""
    data = musicxml_bytes(score)
    if Path(path).suffix.lower() == ".mxl":
        data = _compressed(data)
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def musicxml_bytes(score: Score) -> bytes:
    """The MusicXML (uncompressed, UTF-8) of `score`."""
    from music21.musicxml.m21ToXml import GeneralObjectExporter

    stream = score_to_music21(score)
    # score_to_music21 already builds whole measures with ties, voices and rests; music21's own
    # makeNotation pass would deep-copy the score to do it again (about half the export time),
    # so only the one step it still needs is run: notes and rests too long for one notehead
    # (a dotted half tied to a 16th) become tied pieces
    stream.splitAtDurations(recurse=True)
    exporter = GeneralObjectExporter(stream)
    exporter.makeNotation = False
    # a chord's degrees are spelled by its kind text already ("7b9"): they are not printed again
    return exporter.parse().replace(b"<degree>", b'<degree print-object="no">')


def quantize_for_notation(score: Score) -> Score:
    """`score` at 480 ticks per beat with every note on a 16th or eighth-triplet grid.

    Each note takes the grid that moves its onset and end least (16ths on a tie) and keeps at
    least one step of it. Two notes of one pitch that now start together in a track become one,
    the longer. Chord, section, key and tempo changes snap to the nearest point of either grid,
    meter changes to the nearest 16th.
    """
    score = rescale(score, NOTATION_TICKS_PER_BEAT)

    def snap_note(n: Note) -> Note:
        best = None
        for grid in (SIXTEENTH_TICKS, TRIPLET_EIGHTH_TICKS):
            onset = round(n.onset_ticks / grid) * grid
            end = max(round(n.end_ticks / grid) * grid, onset + grid)
            error = abs(onset - n.onset_ticks) + abs(end - n.end_ticks)
            if best is None or error < best[0]:
                best = (error, onset, end)
        _, onset, end = best
        return Note(onset, end - onset, n.pitch, n.velocity)

    def snap_track(track: Track) -> Track:
        kept: dict[tuple[int, int], Note] = {}
        for n in map(snap_note, track.notes):
            other = kept.get((n.onset_ticks, n.pitch))
            if other is None or n.duration_ticks > other.duration_ticks:
                kept[n.onset_ticks, n.pitch] = n
        notes = kept.values() if track.is_drum else _without_legato_overlaps(kept.values())
        return track.with_notes(notes)

    def snap_tick(tick: int) -> int:
        points = (round(tick / g) * g for g in (SIXTEENTH_TICKS, TRIPLET_EIGHTH_TICKS))
        return min(points, key=lambda p: (abs(p - tick), p % SIXTEENTH_TICKS != 0))

    def snapped(events):
        out = {}
        for e in events:
            tick = snap_tick(e.onset_ticks)
            out[tick] = type(e)(tick, *_fields_after_onset(e))
        return tuple(out.values())

    # a meter change off the grid (a sloppy file's at tick 4713) made bars, and so rests and
    # note pieces, of a few ticks, which no note value spells: it moves to the nearest 16th
    meters = {}
    for m in score.time_signatures:
        tick = round(m.onset_ticks / SIXTEENTH_TICKS) * SIXTEENTH_TICKS
        meters[tick] = TimeSignature(tick, m.numerator, m.denominator)
    return score.replace(
        tracks=tuple(snap_track(t) for t in score.tracks),
        chords=snapped(score.chords),
        sections=snapped(score.sections),
        keys=snapped(score.keys),
        tempos=snapped(score.tempos),
        time_signatures=tuple(meters.values()),
    )


def _without_legato_overlaps(notes) -> list[Note]:
    """`notes` (on the notation grid) cut to end where the next begins, when they are one line
    played legato: no two start together, and each is held a 16th at most into the next only.

    A melody played legato on a keyboard holds each note a little into the next; notated as
    played, every such line became two voices of tied 16ths (a harmonized MIDI melody's soprano,
    `convert` of a played tune). Notes of a part with chords or voices, or held longer under the
    next, are left as they are, as is a note the cut would leave shorter than a 16th.
    """
    ordered = sorted(notes, key=lambda n: n.onset_ticks)
    pairs = list(itertools.pairwise(ordered))
    if any(b.onset_ticks == a.onset_ticks for a, b in pairs):
        return ordered
    end_so_far = 0
    for a, b in pairs:
        end_so_far = max(end_so_far, a.end_ticks)
        if end_so_far > b.onset_ticks + SIXTEENTH_TICKS or a.end_ticks > b.end_ticks:
            return ordered  # a note held on under the next: two voices, as written
    out = []
    for a, b in pairs:
        if a.end_ticks > b.onset_ticks and b.onset_ticks - a.onset_ticks >= SIXTEENTH_TICKS:
            a = Note(a.onset_ticks, b.onset_ticks - a.onset_ticks, a.pitch, a.velocity)
        out.append(a)
    return [*out, *ordered[len(out) :]]


def score_to_music21(score: Score):
    """A music21 Score with measures, voices, ties and directions, ready to export."""
    from music21 import metadata, stream

    score = quantize_for_notation(score)
    bars = _bars(score)
    channels = assign_channels(score.tracks)
    out = stream.Score()
    out.metadata = metadata.Metadata()
    out.metadata.title = score.title or ""
    out.metadata.composer = ""
    tracks = score.tracks or (Track("Music"),)
    # the directions (tempo, chord symbols, rehearsal marks) go on the first pitched part, so that
    # a band score reads as a lead sheet over its chords rather than chords over the drum staff
    lead = next((i for i, t in enumerate(tracks) if not t.is_drum), 0)
    for index, track in enumerate(tracks):
        channel = channels[index] if score.tracks else 0
        out.insert(0, _part(score, track, index, channel, bars, directions=index == lead))
    return out


# --- bars --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Bar:
    number: int
    start: int
    end: int
    numerator: int
    denominator: int
    full_ticks: int  # length of a whole bar of this meter; more than end - start if short


def _bars(score: Score) -> list[_Bar]:
    grid = score.bar_grid
    events = (*score.chords, *score.sections, *score.keys, *score.tempos, *score.time_signatures)
    last = max([score.end_ticks, *(e.onset_ticks + 1 for e in events), 1])
    count = grid.bar_count(last)
    first_short = grid.bar_start(1) < score.time_signatures[0].bar_ticks(score.ticks_per_beat)
    bars = []
    for b in range(count):
        start, end = grid.bar_start(b), grid.bar_start(b + 1)
        meter = grid.meter_at(start)
        number = b if first_short else b + 1
        full = meter.bar_ticks(score.ticks_per_beat)
        bars.append(_Bar(number, start, end, meter.numerator, meter.denominator, full))
    return bars


def _ql(ticks: int) -> Fraction:
    return Fraction(ticks, NOTATION_TICKS_PER_BEAT)


# --- parts -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Piece:
    """The part of a note that lies in one bar, with its tie to the rest of the note."""

    onset: int
    end: int
    pitch: int
    velocity: int
    tie: str | None  # "start", "continue", "stop" or None


def _pieces_by_bar(track: Track, bars: list[_Bar]) -> dict[int, list[_Piece]]:
    starts = [b.start for b in bars]
    out: dict[int, list[_Piece]] = defaultdict(list)
    for n in track.notes:
        b = bisect.bisect_right(starts, n.onset_ticks) - 1
        onset = n.onset_ticks
        while onset < n.end_ticks and b < len(bars):
            end = min(n.end_ticks, bars[b].end)
            first, last = onset == n.onset_ticks, end == n.end_ticks
            tie = None if first and last else "start" if first else "stop" if last else "continue"
            out[b].append(_Piece(onset, end, n.pitch, n.velocity, tie))
            onset, b = end, b + 1
    return out


def _part(
    score: Score, track: Track, index: int, channel: int, bars: list[_Bar], *, directions: bool
):
    from music21 import clef, stream

    part = stream.Part(id=f"P{index + 1}")
    part.partName = track.name
    # the notes are concert pitch; a transposing instrument's part is written transposed on export
    part.atSoundingPitch = True
    part.insert(0, _instrument(track, part.id, channel))
    pieces = _pieces_by_bar(track, bars)
    pitches = sorted(n.pitch for n in track.notes)
    low = bool(pitches) and pitches[len(pitches) // 2] < 57  # median below A3: bass clef
    previous_meter = None
    for b, bar in enumerate(bars):
        m = stream.Measure(number=bar.number)
        if b == 0:
            m.insert(0, clef.BassClef() if low else clef.TrebleClef())
        if (bar.numerator, bar.denominator) != previous_meter:
            from music21 import meter

            m.insert(0, meter.TimeSignature(f"{bar.numerator}/{bar.denominator}"))
            previous_meter = bar.numerator, bar.denominator
        for k in score.keys:
            if bar.start <= k.onset_ticks < bar.end:
                m.insert(_ql(k.onset_ticks - bar.start), _music21_key(k.key))
        if directions:
            _add_directions(m, score, bar)
        key = _key_at(score, bar.start)
        _fill_measure(m, pieces.get(b, []), bar, key, track.is_drum)
        if bar.end - bar.start < bar.full_ticks:
            padding = _ql(bar.full_ticks - (bar.end - bar.start))
            if b == 0:
                m.paddingLeft = padding
                m.showNumber = stream.enums.ShowNumber.NEVER  # written implicit="yes": a pickup
            else:
                m.paddingRight = padding
        part.append(m)
    _mark_pedalling(part, track)
    return part


def _mark_pedalling(part, track: Track) -> None:
    """The sustain pedal as a notation program shows it: a pedal mark ("Ped. ... *") over the
    notes struck while it is down, one for each time it is pressed."""
    from music21 import expressions

    spans = track.pedal_spans()
    if not spans:
        return
    struck = []  # (tick, the note or chord struck there)
    pieces = []  # (tick, every note or chord written, a tied piece too)
    for element in part.recurse().notes:
        tick = round(element.getOffsetInHierarchy(part) * NOTATION_TICKS_PER_BEAT)
        pieces.append((tick, element))
        if element.tie is None or element.tie.type not in ("stop", "continue"):
            struck.append((tick, element))  # a tied piece is not struck
    struck.sort(key=lambda e: e[0])
    ticks = [t for t, _ in struck]
    rests = [
        (round(r.getOffsetInHierarchy(part) * NOTATION_TICKS_PER_BEAT), r)
        for r in part.recurse().getElementsByClass("Rest")
    ]
    for down, up in spans:
        # a pedal pressed just after the chord it catches (as it is played) counts from it
        down, up = (round(t / SIXTEENTH_TICKS) * SIXTEENTH_TICKS for t in (down, up))
        held = [
            e for _, e in struck[bisect.bisect_left(ticks, down) : bisect.bisect_left(ticks, up)]
        ]
        if not held:
            continue
        # the mark ends on the last note of the voice it starts in: a start in voice 2 and a
        # stop in voice 1 of one bar came out stop first, and a reader dropped the mark
        voice = _voice_of(held[0])
        # it ends on the last piece of that voice written before the release, a tie's piece
        # too (a pedal lifted in the middle of a tied chord is read back lifted there) ...
        start, last = max(
            ((t, e) for t, e in pieces if down <= t < up and _voice_of(e) == voice),
            key=lambda te: te[0],
        )
        # ... or, held on through rests after it, on the last of them: ended on its last note,
        # an arpeggio held to the bar's end by the pedal came back held for half of it
        last_struck = ticks[bisect.bisect_left(ticks, up) - 1]
        later = [
            (tick, r)
            for tick, r in rests
            if _voice_of(r) == voice
            and tick > start
            and tick >= last_struck  # after every note of the mark, in any voice
            and tick + round(r.quarterLength * NOTATION_TICKS_PER_BEAT) <= up
        ]
        if later:
            last = max(later, key=lambda e: e[0])[1]
        part.insert(0, expressions.PedalMark(held[0], last))


def _voice_of(element) -> str:
    """The id of the voice `element` is in, "1" when it is in the measure itself (a bar of one
    voice goes on the voice that the bars with voices write first)."""
    from music21 import stream

    site = element.activeSite
    return str(site.id) if isinstance(site, stream.Voice) else "1"


def _instrument(track: Track, part_id: str, channel: int):
    from music21 import instrument

    inst = None
    if not track.is_drum:
        try:
            inst = instrument.instrumentFromMidiProgram(track.program)
        except Exception:  # music21 has no class for some programs
            inst = None
    inst = inst or instrument.Instrument()
    inst.partName = track.name
    inst.partId = part_id
    inst.instrumentName = inst.instrumentName or track.name
    inst.midiProgram = track.program
    inst.midiChannel = channel
    return inst


def _key_at(score: Score, tick: int) -> Key | None:
    found = None
    for k in score.keys:
        if k.onset_ticks <= tick:
            found = k.key
    return found


def _music21_key(k: Key):
    from music21 import key

    tonic = k.tonic_name.replace("b", "-")
    if k.mode in _MUSIC21_MODES:
        return key.Key(tonic, k.mode)
    if k.mode in _MINOR_LIKE:
        return key.Key(tonic, "minor")
    return key.KeySignature(k.sharps)


def _add_directions(m, score: Score, bar: _Bar) -> None:
    """Tempo marks, chord symbols and rehearsal marks that fall in `bar` (one part only)."""
    from music21 import expressions, tempo

    def inside(events):
        return [e for e in events if bar.start <= e.onset_ticks < bar.end]

    for t in inside(score.tempos):
        bpm = round(t.tempo_bpm, 2)
        number = int(bpm) if bpm == int(bpm) else bpm
        m.insert(_ql(t.onset_ticks - bar.start), tempo.MetronomeMark(number=number))
    for s in inside(score.sections):
        m.insert(_ql(s.onset_ticks - bar.start), expressions.RehearsalMark(s.name))
    for c in inside(score.chords):
        m.insert(_ql(c.onset_ticks - bar.start), _music21_chord_symbol(c.symbol))


def _music21_chord_symbol(symbol):
    from music21 import harmony

    if symbol.is_no_chord:
        return harmony.NoChord()
    quality = symbol.quality
    suffix = "" if quality == "maj" else quality  # as `format_chord` writes it after the root
    bass = symbol.bass_name.replace("b", "-") if symbol.bass_name else None
    kind, *degrees = KIND_AND_DEGREES_BY_QUALITY[quality].split()
    cs = harmony.ChordSymbol(
        root=symbol.root_name.replace("b", "-"), bass=bass, kind=kind, kindStr=suffix
    )
    for degree in degrees:
        sign, accidental, number = _DEGREE_RE.fullmatch(degree).groups()
        alter = {"b": -1, "#": 1, "": 0}[accidental]
        step = harmony.ChordStepModification(_DEGREE_TYPES[sign], int(number), alter)
        cs.addChordStepModification(step, updatePitches=True)
    cs.quarterLength = 0
    return cs


# --- notes in a bar ----------------------------------------------------------------------------
def _fill_measure(m, pieces: list[_Piece], bar: _Bar, key: Key | None, is_drum: bool) -> None:
    """Put `pieces` into measure `m` as chords in voices, with rests between them."""
    from music21 import stream

    groups: dict[tuple[int, int], list[_Piece]] = defaultdict(list)
    for p in pieces:
        groups[p.onset, p.end].append(p)
    voices: list[list[tuple[int, int, list[_Piece]]]] = []
    for (onset, end), members in sorted(groups.items(), key=lambda g: (g[0][0], -g[0][1])):
        free = next((v for v in voices if v[-1][1] <= onset), None)
        if free is not None:
            free.append((onset, end, members))
        elif len(voices) < MAX_VOICES:
            voices.append([(onset, end, members)])
        else:
            _crowd_in(min(voices, key=lambda v: v[-1][1]), onset, members)
    if len(voices) <= 1:
        _fill_voice(m, voices[0] if voices else [], bar, key, is_drum, hide_rests=False)
        return
    for number, events in enumerate(voices, start=1):
        v = stream.Voice(id=str(number))
        _fill_voice(v, events, bar, key, is_drum, hide_rests=number > 1)
        m.insert(0, v)


def _crowd_in(voice: list, onset: int, members: list[_Piece]) -> None:
    """Make room in a full `voice` for notes at `onset`: its last notes end there, or, when they
    start there too, the new notes join them as one chord (of the longer length)."""
    last_onset, last_end, last_members = voice[-1]
    if last_onset < onset:
        cut = [_cut(p, onset) for p in last_members]
        voice[-1] = (last_onset, onset, cut)
        voice.append((onset, max(p.end for p in members), members))
    else:
        joined = [_Piece(p.onset, last_end, p.pitch, p.velocity, p.tie) for p in members]
        known = {p.pitch for p in last_members}
        voice[-1] = (
            last_onset,
            last_end,
            last_members + [p for p in joined if p.pitch not in known],
        )


def _cut(piece: _Piece, end: int) -> _Piece:
    """`piece` ending at `end`, before the bar line: no longer tied to the next bar."""
    tie = {"start": None, "continue": "stop"}.get(piece.tie, piece.tie)
    return _Piece(piece.onset, end, piece.pitch, piece.velocity, tie)


def _fill_voice(container, events, bar: _Bar, key, is_drum: bool, *, hide_rests: bool) -> None:
    from music21 import note

    def rest(start: int, end: int) -> None:
        for piece_start, piece_end in _spans(start, end):
            r = note.Rest(quarterLength=_ql(piece_end - piece_start))
            if hide_rests:
                r.style.hideObjectOnPrint = True
            container.insert(_ql(piece_start - bar.start), r)

    now = bar.start
    for onset, end, members in events:
        if onset > now:
            rest(now, onset)
        spans = _spans(onset, end)
        for i, (piece_start, piece_end) in enumerate(spans):
            tied = [_tied_piece(p, i > 0, i < len(spans) - 1) for p in members]
            element = _sounding(tied, piece_end - piece_start, key, is_drum)
            container.insert(_ql(piece_start - bar.start), element)
        now = end
    if now < bar.end:
        rest(now, bar.end)


def _spans(start: int, end: int) -> list[tuple[int, int]]:
    """[start, end) in pieces of at most `LONGEST_TICKS`, in order."""
    return [(s, min(s + LONGEST_TICKS, end)) for s in range(start, end, LONGEST_TICKS)]


def _tied_piece(piece: _Piece, tied_before: bool, tied_after: bool) -> _Piece:
    """`piece` with its tie joined to a piece before it and/or after it within the bar."""
    before = tied_before or piece.tie in ("stop", "continue")
    after = tied_after or piece.tie in ("start", "continue")
    tie = "continue" if before and after else "stop" if before else "start" if after else None
    return _Piece(piece.onset, piece.end, piece.pitch, piece.velocity, tie)


def _sounding(members: list[_Piece], duration_ticks: int, key, is_drum: bool):
    from music21 import chord, note, tie

    notes = []
    for p in sorted(members, key=lambda p: p.pitch):
        n = note.Note(_music21_pitch(p.pitch, None if is_drum else key))
        n.volume.velocity = p.velocity
        if p.tie is not None:
            n.tie = tie.Tie(p.tie)
        notes.append(n)
    if len(notes) == 1:
        element = notes[0]
    else:
        # MusicXML gives a chord one velocity (`dynamics`): its loudest note's
        element = chord.Chord(notes)
        element.volume.velocity = max(p.velocity for p in members)
    element.quarterLength = _ql(duration_ticks)
    return element


def _music21_pitch(midi: int, key: Key | None):
    """A music21 Pitch for a MIDI pitch, spelled as `key` would write it."""
    from music21 import pitch

    if key is None:
        return pitch.Pitch(midi=midi)
    name = key.spell(midi % 12)
    p = pitch.Pitch(name[0] + name[1:].replace("b", "-"))
    p.octave = midi // 12 - 1
    while p.midi > midi:
        p.octave -= 1
    while p.midi < midi:
        p.octave += 1
    return p


def _fields_after_onset(event) -> tuple:
    """The fields of a Score event other than its onset, in order (to rebuild it elsewhere)."""
    from dataclasses import fields

    return tuple(getattr(event, f.name) for f in fields(event) if f.name != "onset_ticks")


def _compressed(xml: bytes) -> bytes:
    """An `.mxl` file: the MusicXML in a zip with the container file that points to it."""
    container = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<container><rootfiles>'
        '<rootfile full-path="score.musicxml" media-type="application/vnd.recordare.musicxml+xml"/>'
        "</rootfiles></container>\n"
    )
    buffer = _io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("mimetype", "application/vnd.recordare.musicxml")
        z.writestr("META-INF/container.xml", container)
        z.writestr("score.musicxml", xml)
    return buffer.getvalue()
