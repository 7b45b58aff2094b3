"""Pure functions Score -> Score for the common edits. None changes its input."""

from __future__ import annotations

import bisect
from dataclasses import replace

from bandmate.errors import UserError
from bandmate.score.model import (
    CHANNEL_PRESSURE,
    PITCH_BEND,
    SOSTENUTO_PEDAL,
    SUSTAIN_PEDAL,
    ChordEvent,
    Control,
    KeyChange,
    Note,
    Score,
    Section,
    TempoChange,
    Track,
)


def transpose(score: Score, semitones: int) -> Score:
    """Move every pitched note, the key and the chord symbols by `semitones`; drums stay put.

    A note pushed outside MIDI's 0-127 is moved by octaves back into range rather than dropped.
    """
    if semitones == 0:
        return score

    def move(pitch: int) -> int:
        p = pitch + semitones
        while p > 127:
            p -= 12
        while p < 0:
            p += 12
        return p

    tracks = tuple(
        t if t.is_drum else t.with_notes(replace(n, pitch=move(n.pitch)) for n in t.notes)
        for t in score.tracks
    )
    keys = tuple(
        KeyChange(k.onset_ticks, replace(k.key, tonic=(k.key.tonic + semitones) % 12))
        for k in score.keys
    )
    flats = score.key.prefers_flats if score.key else None
    chords = tuple(
        ChordEvent(c.onset_ticks, c.symbol.transpose(semitones, prefer_flats=flats))
        for c in score.chords
    )
    return score.replace(tracks=tracks, keys=keys, chords=chords)


def _window(events, start: int, end: int) -> tuple:
    """Events in [start, end) moved to start at 0, plus the one in force at `start`."""
    before = [e for e in events if e.onset_ticks <= start]
    inside = [e for e in events if start < e.onset_ticks < end]
    head = [replace(before[-1], onset_ticks=0)] if before else []
    return tuple(head + [replace(e, onset_ticks=e.onset_ticks - start) for e in inside])


#: the controllers that select a parameter (RPN 101/100, NRPN 99/98) and set or step it (6/38,
#: 96/97): each takes effect only in its place in the sequence, so all of them are replayed
_PARAMETER_CONTROLS = frozenset({6, 38, 96, 97, 98, 99, 100, 101})


def controls_window(track: Track, start: int, end: int) -> tuple[Control, ...]:
    """A track's controller changes in [start, end) moved to start at 0, after those that set
    what holds at `start` (the pedal down, the volume, a bend range) in their order: the last
    change of each controller, and every parameter change (`_PARAMETER_CONTROLS`). Only the
    last of each, a bend range set and then closed (101, 100, 6, 101, 100) came out as the
    close before the setting, which then set nothing."""
    before = [c for c in track.controls if c.onset_ticks <= start]
    last = {c.number: k for k, c in enumerate(before)}
    head = [
        replace(c, onset_ticks=0)
        for k, c in enumerate(before)
        if c.number in _PARAMETER_CONTROLS or last[c.number] == k
    ]
    inside = [
        replace(c, onset_ticks=c.onset_ticks - start)
        for c in track.controls
        if start < c.onset_ticks < end
    ]
    return tuple(head + inside)


#: where a new passage starts each controller a part uses: the bend centred, the pedals up, no
#: modulation or aftertouch; volume (7) and expression (11) at the level the part mostly played at
_AT_REST = {PITCH_BEND: 0, CHANNEL_PRESSURE: 0, 1: 0, SUSTAIN_PEDAL: 0, SOSTENUTO_PEDAL: 0, 67: 0}
_LEVELS = {7: 100, 11: 127}  # ... or, where none is set before a note, where a synth starts them


def controls_at_rest(track: Track, at_ticks: int) -> tuple[Control, ...]:
    """Changes at `at_ticks` that take each controller `track` uses back to rest (`_AT_REST`)
    or, for volume and expression, to the level its notes were mostly played at (the median of
    the levels in force through them), for new notes written there: a continuation after a
    lead's last bend, or a GM file's fade-out, played every new note bent or all but silent,
    and one taken from the level at the first note was silent after a fade-in."""
    used = {c.number for c in track.controls}
    out = [Control(at_ticks, n, v) for n, v in _AT_REST.items() if n in used]
    for number, default in _LEVELS.items():
        if number not in used:
            continue
        changes = [c for c in track.controls if c.number == number]
        ticks = [c.onset_ticks for c in changes]
        # read at each note's onset and three points through it: a swell on every note (from
        # 50 to 110) played the new bars at its bottom, 13 dB down
        heard = (n.onset_ticks + n.duration_ticks * q // 4 for n in track.notes for q in range(4))
        levels = sorted(
            changes[k - 1].value if (k := bisect.bisect_right(ticks, t)) else default for t in heard
        ) or [default]
        out.append(Control(at_ticks, number, levels[len(levels) // 2]))
    return tuple(out)


def slice_ticks(score: Score, start_ticks: int, end_ticks: int) -> Score:
    """The music between two ticks, moved to start at 0.

    Notes that start inside the window are kept and cut at its end; notes that started before it
    are left out. The tempo, meter, key and chord in force at `start_ticks` carry over to tick 0,
    and so does each controller's value (a pedal held down, a volume).
    """
    if not 0 <= start_ticks < end_ticks:
        raise ValueError(f"empty or negative window {start_ticks}..{end_ticks}")

    def cut(track: Track) -> Track:
        notes = (
            Note(
                n.onset_ticks - start_ticks,
                min(n.end_ticks, end_ticks) - n.onset_ticks,
                n.pitch,
                n.velocity,
            )
            for n in track.notes
            if start_ticks <= n.onset_ticks < end_ticks
        )
        return replace(
            track, notes=tuple(notes), controls=controls_window(track, start_ticks, end_ticks)
        )

    return score.replace(
        tracks=tuple(cut(t) for t in score.tracks),
        tempos=_window(score.tempos, start_ticks, end_ticks),
        time_signatures=_window(score.time_signatures, start_ticks, end_ticks),
        keys=_window(score.keys, start_ticks, end_ticks),
        chords=_window(score.chords, start_ticks, end_ticks),
        sections=tuple(
            Section(s.onset_ticks - start_ticks, s.name)
            for s in score.sections
            if start_ticks <= s.onset_ticks < end_ticks
        ),
        written_end_ticks=(
            min(score.written_end_ticks, end_ticks) - start_ticks
            if score.written_end_ticks is not None and score.written_end_ticks > start_ticks
            else None
        ),
    )


#: quarter notes in which nothing sounds and no chord starts, in whole bars, that end one piece
#: of music and begin another (`split_at_silences`): eight bars of 4/4, 16 s at 120 BPM. A band
#: is silent for a bar's grand pause, seldom for two. Counted in beats, not bars: a folk tune
#: written in 1/16 bars rests for eight of them in a phrase.
SILENT_BEATS_SPLIT = 32


def split_at_silences(score: Score, beats: int = SILENT_BEATS_SPLIT) -> list[Score]:
    """The pieces of music in `score`, cut where whole bars lasting `beats` quarter notes or more
    pass with no note sounding in any part and no chord starting: each piece from the bar its
    first note or chord is in (the first from the start, unless it begins with such a silence)
    to the bar line after its last (the last to the score's end, unless it ends with such a
    silence), moved to start at 0 (`slice_ticks`). A score with no such silence comes back as
    it is, alone in the list.

    For learning and evaluating, where a file of one tune and a stray note 100,000 bars later (a
    DAW's marker note, a part left at the end of a project) became one piece of 300,000 tokens of
    empty bars, costing minutes and gigabytes to evaluate, and teaching only that empty bars
    follow empty bars. Cutting at bar lines keeps every note on its beat."""
    grid = score.bar_grid
    spans = sorted(
        [(n.onset_ticks, n.end_ticks) for t in score.tracks for n in t.notes]
        + [(c.onset_ticks, c.onset_ticks + 1) for c in score.chords]
    )
    if not spans:
        return [score]
    silence = beats * score.ticks_per_beat

    def line_after(ticks: int) -> int:
        return grid.bar_start(grid.bar_at(ticks - 1) + 1)

    first_bar_line = grid.bar_start(grid.bar_at(spans[0][0]))
    starts = [first_bar_line if first_bar_line >= silence else 0]
    ends = []  # each piece runs to the bar line after its last sound
    sounding_until = spans[0][1]
    for onset, end in spans[1:]:
        start_line = grid.bar_start(grid.bar_at(onset))
        if start_line - line_after(sounding_until) >= silence:
            ends.append(line_after(sounding_until))
            starts.append(start_line)
        sounding_until = max(sounding_until, end)
    # the last to the score's written end (a closing bar of rests), unless that is a silence
    last, written = line_after(sounding_until), max(score.end_ticks, score.written_end_ticks or 0)
    trailing_silence = grid.bar_start(grid.bar_at(written)) - last >= silence  # in whole bars
    if starts == [0] and not trailing_silence:
        return [score]
    ends.append(last if trailing_silence else max(written, last))
    return [slice_ticks(score, start, end) for start, end in zip(starts, ends, strict=True)]


def without_changes_from(score: Score, end: int) -> Score:
    """`score` without the meter, key and tempo changes and the rehearsal marks at or after
    `end` (those at tick 0 stay), where a file's music has ended: a notation template's empty
    bars (`io.music21_io`). Kept, they govern no note of the file but every note written after
    it: `continue` wrote its 4/4 bars across a 3/4 set there, under its key signature."""

    def before(events):
        return tuple(e for e in events if e.onset_ticks < end or e.onset_ticks == 0)

    return score.replace(
        time_signatures=before(score.time_signatures),
        keys=before(score.keys),
        tempos=before(score.tempos),
        sections=before(score.sections),
    )


def slice_bars(score: Score, start_bar: int, end_bar: int) -> Score:
    """Bars `start_bar` up to (not including) `end_bar`, counted from 0, moved to start at 0."""
    if not 0 <= start_bar < end_bar:
        raise UserError(f"Bar range {start_bar + 1}-{end_bar} is empty; give the first bar first.")
    grid = score.bar_grid
    return slice_ticks(score, grid.bar_start(start_bar), grid.bar_start(end_bar))


def rescale(score: Score, ticks_per_beat: int) -> Score:
    """The same music at another tick resolution (positions rounded to the nearest tick)."""
    if ticks_per_beat == score.ticks_per_beat:
        return score
    ratio = ticks_per_beat / score.ticks_per_beat

    def at(tick: int) -> int:
        return round(tick * ratio)

    def note(n: Note) -> Note:
        onset = at(n.onset_ticks)
        return Note(onset, max(1, at(n.end_ticks) - onset), n.pitch, n.velocity)

    def moved(events):
        return tuple(replace(e, onset_ticks=at(e.onset_ticks)) for e in events)

    return score.replace(
        ticks_per_beat=ticks_per_beat,
        tracks=tuple(
            replace(t, notes=tuple(note(n) for n in t.notes), controls=moved(t.controls))
            for t in score.tracks
        ),
        tempos=moved(score.tempos),
        time_signatures=moved(score.time_signatures),
        keys=moved(score.keys),
        chords=moved(score.chords),
        sections=moved(score.sections),
        written_end_ticks=None if score.written_end_ticks is None else at(score.written_end_ticks),
    )


def merge(first: Score, *others: Score) -> Score:
    """Play several scores at once: their tracks side by side.

    The tempo, meter, key, chord and section maps come from `first` (or from the first score that
    has them); the others are brought to `first`'s tick resolution.
    """
    scores = [first, *(rescale(s, first.ticks_per_beat) for s in others)]

    def first_nonempty(attr: str):
        return next((getattr(s, attr) for s in scores if getattr(s, attr)), ())

    return first.replace(
        tracks=tuple(t for s in scores for t in s.tracks),
        keys=first_nonempty("keys"),
        chords=first_nonempty("chords"),
        sections=first_nonempty("sections"),
        title=first.title or next((s.title for s in scores if s.title), None),
        written_end_ticks=max(
            (s.written_end_ticks for s in scores if s.written_end_ticks is not None),
            default=None,
        ),
    )


def quantize(score: Score, grid_ticks: int, strength: float = 1.0) -> Score:
    """Pull onsets and ends toward a grid of `grid_ticks` (e.g. ticks_per_beat // 4 for 16ths).

    `strength` 1.0 snaps exactly, 0.5 moves half way. A note never shrinks below one grid step
    at full strength (nor below one tick otherwise).
    """
    if grid_ticks < 1:
        raise ValueError(f"grid must be at least one tick, got {grid_ticks}")
    if not 0.0 <= strength <= 1.0:
        raise ValueError(f"strength must be between 0 and 1, got {strength}")

    def snap(tick: int) -> int:
        target = round(tick / grid_ticks) * grid_ticks
        return round(tick + (target - tick) * strength)

    def note(n: Note) -> Note:
        onset = snap(n.onset_ticks)
        least = grid_ticks if strength == 1.0 else 1
        return Note(onset, max(least, snap(n.end_ticks) - onset), n.pitch, n.velocity)

    return score.replace(
        tracks=tuple(
            t if not t.notes else t.with_notes(note(n) for n in t.notes) for t in score.tracks
        )
    )


def change_tempo(
    score: Score, *, tempo_bpm: float | None = None, factor: float | None = None
) -> Score:
    """A new tempo, the notes unchanged in beats.

    `tempo_bpm` sets one constant tempo; `factor` scales every tempo in the map (2.0 is twice as
    fast). Give exactly one.
    """
    if (tempo_bpm is None) == (factor is None):
        raise ValueError("give either tempo_bpm or factor")
    if tempo_bpm is not None:
        return score.replace(tempos=(TempoChange.from_bpm(0, tempo_bpm),))
    if factor <= 0:
        raise ValueError(f"tempo factor must be positive, got {factor}")
    return score.replace(
        tempos=tuple(
            TempoChange(t.onset_ticks, round(t.us_per_beat / factor)) for t in score.tempos
        )
    )
