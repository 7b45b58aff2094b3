"""The Score: the one note-level type that every stage of bandmate reads and writes.

A Score is immutable: stages are functions that return a new Score (see `transform`). Positions
and lengths are integer ticks, `ticks_per_beat` to the quarter note as in MIDI, so that a MIDI file
round-trips exactly; `timing.TempoMap` converts ticks to beats and seconds.

Tempo is kept as microseconds per quarter note (an integer, as MIDI stores it) rather than as a
float BPM, so that writing and reading a file gives back the very same tempo map.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bandmate.score.timing import BarGrid, TempoMap
    from bandmate.theory.chords import ChordSymbol
    from bandmate.theory.keys import Key

DEFAULT_TICKS_PER_BEAT = 480
MICROSECONDS_PER_MINUTE = 60_000_000


class Role(StrEnum):
    """What a track does in the arrangement; mixing and arranging decide by it."""

    MELODY = "melody"
    BASS = "bass"
    CHORDS = "chords"
    DRUMS = "drums"
    PAD = "pad"
    OTHER = "other"


@dataclass(frozen=True, slots=True, order=True)
class Note:
    """One note: onset and duration in ticks, MIDI pitch 0-127, velocity 1-127."""

    onset_ticks: int
    duration_ticks: int
    pitch: int
    velocity: int = 90

    def __post_init__(self):
        if self.onset_ticks < 0:
            raise ValueError(f"note onset must be >= 0 ticks, got {self.onset_ticks}")
        if self.duration_ticks <= 0:
            raise ValueError(f"note duration must be > 0 ticks, got {self.duration_ticks}")
        if not 0 <= self.pitch <= 127:
            raise ValueError(f"pitch must be 0-127, got {self.pitch}")
        if not 1 <= self.velocity <= 127:
            raise ValueError(f"velocity must be 1-127, got {self.velocity}")

    @property
    def end_ticks(self) -> int:
        return self.onset_ticks + self.duration_ticks


def _sorted_notes(notes) -> tuple[Note, ...]:
    return tuple(sorted(notes))


PITCH_BEND = 128  # `Control.number` of a pitch bend (value -8192..8191, 0 the centre)
CHANNEL_PRESSURE = 129  # ... of channel aftertouch (value 0-127)
SUSTAIN_PEDAL = 64  # the MIDI controller numbers of the pedals that hold notes on
SOSTENUTO_PEDAL = 66
PEDAL_DOWN_FROM = 64  # a pedal value from here on holds it down (the MIDI convention)
RESET_ALL_CONTROLLERS = 121  # bends, pedals, modulation and aftertouch back to rest


@dataclass(frozen=True, slots=True)
class Control:
    """A controller change at `onset_ticks`: a MIDI control change (`number` 0-127: 64 the
    sustain pedal, 7 volume, 10 pan, 11 expression, 1 modulation, 101/100/6 the pitch-bend
    range), a pitch bend (`PITCH_BEND`) or channel aftertouch (`CHANNEL_PRESSURE`).

    A part played from a keyboard or a DAW shapes its notes with these: a piano's held chords
    are the pedal's, not the keys', and a lead's slides are bends. They are kept in the order
    they came (a pitch-bend range is set by three controllers that must arrive in order).
    """

    onset_ticks: int
    number: int
    value: int

    def __post_init__(self):
        if self.onset_ticks < 0:
            raise ValueError(f"controller onset must be >= 0 ticks, got {self.onset_ticks}")
        low, high = (-8192, 8191) if self.number == PITCH_BEND else (0, 127)
        if not 0 <= self.number <= CHANNEL_PRESSURE or not low <= self.value <= high:
            raise ValueError(f"invalid controller {self.number} = {self.value}")


@dataclass(frozen=True)
class Track:
    """A named part: a General MIDI program (0-127), a drum flag, a role, its notes and its
    controller changes (pedal, bends, volume, pan: see `Control`).

    Notes are kept sorted by (onset, duration, pitch, velocity) so that two tracks with the same
    notes compare equal whatever order they were built in; controls are sorted by onset only, so
    that those at one tick keep their order.
    """

    name: str
    program: int = 0
    is_drum: bool = False
    role: Role = Role.OTHER
    notes: tuple[Note, ...] = ()
    controls: tuple[Control, ...] = ()

    def __post_init__(self):
        if not 0 <= self.program <= 127:
            raise ValueError(f"GM program must be 0-127, got {self.program}")
        object.__setattr__(self, "role", Role(self.role))
        object.__setattr__(self, "notes", _sorted_notes(self.notes))
        object.__setattr__(
            self, "controls", tuple(sorted(self.controls, key=lambda c: c.onset_ticks))
        )

    @property
    def end_ticks(self) -> int:
        return max((n.end_ticks for n in self.notes), default=0)

    @property
    def held_until_ticks(self) -> int | None:
        """Where the part's sound is let go: the end of its last note or, when a pedal holds
        that note on, the pedal's release after it; None when a pedal holds it to the end (is
        pressed and never released), so that the caller decides how long it rings."""
        end = self.end_ticks
        down = {SUSTAIN_PEDAL: False, SOSTENUTO_PEDAL: False}
        for c in self.controls:
            if c.number not in down and c.number != RESET_ALL_CONTROLLERS:
                continue
            if c.onset_ticks > end and not any(down.values()):
                return end
            if c.number == RESET_ALL_CONTROLLERS:  # which lifts the pedals too
                down = dict.fromkeys(down, False)
            else:
                down[c.number] = c.value >= PEDAL_DOWN_FROM
            if c.onset_ticks > end and not any(down.values()):
                return c.onset_ticks
        return None if any(down.values()) else end

    def pedal_spans(self) -> list[tuple[int, int]]:
        """(down, up) in ticks for each time the sustain pedal is pressed and let go (a reset
        of all controllers lets it go; one never let go is up at the part's end)."""
        spans, down = [], None
        for c in self.controls:
            if c.number == SUSTAIN_PEDAL and c.value >= PEDAL_DOWN_FROM:
                down = c.onset_ticks if down is None else down
            elif c.number in (SUSTAIN_PEDAL, RESET_ALL_CONTROLLERS) and down is not None:
                if c.onset_ticks > down:
                    spans.append((down, c.onset_ticks))
                down = None
        if down is not None and self.end_ticks > down:
            spans.append((down, self.end_ticks))
        return spans

    def with_notes(self, notes) -> Track:
        return replace(self, notes=tuple(notes))

    def with_controls(self, controls) -> Track:
        return replace(self, controls=tuple(controls))

    def __repr__(self) -> str:
        kind = "drums" if self.is_drum else f"program {self.program}"
        controls = f", {len(self.controls)} controls" if self.controls else ""
        return f"Track({self.name!r}, {kind}, {self.role.value}, {len(self.notes)} notes{controls})"


@dataclass(frozen=True, slots=True, order=True)
class TempoChange:
    """From `onset_ticks` on, a quarter note lasts `us_per_beat` microseconds."""

    onset_ticks: int
    us_per_beat: int

    def __post_init__(self):
        if self.onset_ticks < 0 or self.us_per_beat <= 0:
            raise ValueError(f"invalid tempo change {self.onset_ticks}, {self.us_per_beat}")

    @classmethod
    def from_bpm(cls, onset_ticks: int, tempo_bpm: float) -> TempoChange:
        if not 0 < tempo_bpm <= 10_000:
            raise ValueError(f"tempo must be a positive number of BPM, got {tempo_bpm}")
        return cls(onset_ticks, round(MICROSECONDS_PER_MINUTE / tempo_bpm))

    @property
    def tempo_bpm(self) -> float:
        return MICROSECONDS_PER_MINUTE / self.us_per_beat


@dataclass(frozen=True, slots=True, order=True)
class TimeSignature:
    onset_ticks: int
    numerator: int
    denominator: int

    def __post_init__(self):
        if self.numerator < 1 or self.denominator not in (1, 2, 4, 8, 16, 32, 64):
            raise ValueError(f"invalid time signature {self.numerator}/{self.denominator}")

    def bar_ticks(self, ticks_per_beat: int) -> int:
        """Length of one bar in ticks (a beat here is a quarter note, as in MIDI)."""
        return self.numerator * ticks_per_beat * 4 // self.denominator

    def __str__(self) -> str:
        return f"{self.numerator}/{self.denominator}"


@dataclass(frozen=True, slots=True)
class KeyChange:
    onset_ticks: int
    key: Key


@dataclass(frozen=True, slots=True)
class ChordEvent:
    """A chord symbol that holds from `onset_ticks` until the next one."""

    onset_ticks: int
    symbol: ChordSymbol


@dataclass(frozen=True, slots=True)
class Section:
    """A section marker (Intro, Verse, Chorus, A, B...) from `onset_ticks` on."""

    onset_ticks: int
    name: str


def _by_onset(events) -> tuple:
    return tuple(sorted(events, key=lambda e: e.onset_ticks))


@dataclass(frozen=True)
class Score:
    """A piece of music: tracks of notes plus the maps that give them time and meaning.

    `tempos` and `time_signatures` always begin at tick 0 (a score without them is 120 BPM, 4/4).
    `keys`, `chords` and `sections` may be empty.
    """

    tracks: tuple[Track, ...] = ()
    ticks_per_beat: int = DEFAULT_TICKS_PER_BEAT
    tempos: tuple[TempoChange, ...] = (TempoChange(0, 500_000),)
    time_signatures: tuple[TimeSignature, ...] = (TimeSignature(0, 4, 4),)
    keys: tuple[KeyChange, ...] = ()
    chords: tuple[ChordEvent, ...] = ()
    sections: tuple[Section, ...] = ()
    title: str | None = None
    # where the music ends as written, when a closing bar of rests holds it past the bar of its
    # last note (`| C D E F | z4 |`, a MIDI file's end of track a bar later); None otherwise.
    # A reader sets it; it is not compared (the same notes and maps are the same score)
    written_end_ticks: int | None = field(default=None, compare=False)
    _cache: dict = field(default_factory=dict, init=False, compare=False, repr=False)

    def __post_init__(self):
        if self.ticks_per_beat < 1:
            raise ValueError(f"ticks_per_beat must be >= 1, got {self.ticks_per_beat}")
        if self.written_end_ticks is not None and self.written_end_ticks < 0:
            raise ValueError(f"written end must be >= 0 ticks, got {self.written_end_ticks}")
        tempos = _by_onset(self.tempos) or (TempoChange(0, 500_000),)
        if tempos[0].onset_ticks != 0:
            tempos = (TempoChange(0, tempos[0].us_per_beat), *tempos)
        meters = _by_onset(self.time_signatures) or (TimeSignature(0, 4, 4),)
        if meters[0].onset_ticks != 0:
            first = meters[0]
            meters = (TimeSignature(0, first.numerator, first.denominator), *meters)
        object.__setattr__(self, "tracks", tuple(self.tracks))
        object.__setattr__(self, "tempos", _dedupe(tempos))
        object.__setattr__(self, "time_signatures", _dedupe(meters))
        object.__setattr__(self, "keys", _dedupe(_by_onset(self.keys)))
        object.__setattr__(self, "chords", _by_onset(self.chords))
        object.__setattr__(self, "sections", _by_onset(self.sections))

    # --- derived views (cached: a Score never changes) ---------------------------------------
    @property
    def tempo_map(self) -> TempoMap:
        if "tempo_map" not in self._cache:
            from bandmate.score.timing import TempoMap

            self._cache["tempo_map"] = TempoMap(self.tempos, self.ticks_per_beat)
        return self._cache["tempo_map"]

    @property
    def bar_grid(self) -> BarGrid:
        if "bar_grid" not in self._cache:
            from bandmate.score.timing import BarGrid

            self._cache["bar_grid"] = BarGrid(self.time_signatures, self.ticks_per_beat)
        return self._cache["bar_grid"]

    @property
    def key(self) -> Key | None:
        """The key at the start of the piece, if known."""
        return self.keys[0].key if self.keys else None

    @property
    def tempo_bpm(self) -> float:
        """The tempo at the start of the piece."""
        return self.tempos[0].tempo_bpm

    @property
    def end_ticks(self) -> int:
        """Where the last note ends (0 for a score without notes)."""
        return max((t.end_ticks for t in self.tracks), default=0)

    @property
    def written_bars_end(self) -> int:
        """Where the last bar ends as written: the end of the bar that holds the last note's
        end, or the written end when a closing bar of rests lies past it (0 with neither)."""
        grid = self.bar_grid
        notes_end = grid.bar_start(grid.bar_count(self.end_ticks)) if self.end_ticks else 0
        return max(notes_end, self.written_end_ticks or 0)

    @property
    def held_end_ticks(self) -> int:
        """Where the score's sound is let go: its last note's end, or a pedal's release after
        it (`Track.held_until_ticks`; a pedal never let go counts to the last note's end, and
        the renderer lets what it holds ring on, up to its `PEDAL_HOLD_MAX_SECONDS`)."""
        held = (t.held_until_ticks for t in self.tracks)
        return max([self.end_ticks, *(h for h in held if h is not None)])

    @property
    def duration_seconds(self) -> float:
        return self.tempo_map.seconds_at(self.end_ticks)

    @property
    def note_count(self) -> int:
        return sum(len(t.notes) for t in self.tracks)

    @property
    def is_empty(self) -> bool:
        return self.note_count == 0

    def track(self, name: str) -> Track:
        for t in self.tracks:
            if t.name == name:
                return t
        names = ", ".join(t.name for t in self.tracks) or "none"
        raise KeyError(f"no track named {name!r} (tracks: {names})")

    def replace(self, **changes) -> Score:
        return replace(self, **changes)

    def __repr__(self) -> str:
        title = f"{self.title!r}, " if self.title else ""
        return (
            f"Score({title}{len(self.tracks)} tracks, {self.note_count} notes, "
            f"{self.tempo_bpm:.4g} BPM, {self.time_signatures[0]}, "
            f"{self.duration_seconds:.1f} s)"
        )

    # --- hand-offs to the pure functions of `transform` --------------------------------------
    def transpose(self, semitones: int) -> Score:
        from bandmate.score.transform import transpose

        return transpose(self, semitones)

    def slice_bars(self, start_bar: int, end_bar: int) -> Score:
        from bandmate.score.transform import slice_bars

        return slice_bars(self, start_bar, end_bar)

    def quantize(self, grid_ticks: int, strength: float = 1.0) -> Score:
        from bandmate.score.transform import quantize

        return quantize(self, grid_ticks, strength)

    def change_tempo(self, *, tempo_bpm: float | None = None, factor: float | None = None):
        from bandmate.score.transform import change_tempo

        return change_tempo(self, tempo_bpm=tempo_bpm, factor=factor)


def _dedupe(events: tuple) -> tuple:
    """Keep the last of several events at the same tick (MIDI files often repeat them)."""
    out: dict[int, object] = {}
    for e in events:
        out[e.onset_ticks] = e
    return tuple(out.values())


# General MIDI program ranges (0-based) and words in track names that tell a part's role.
# A choir's inner voices (Alto, Tenor: harmonize's own output read back) are not the melody,
# though their programs (choir aahs) are a melody's; a violin, flute or sax part is, though a
# violin's program was in no range here, so a Piano + Violin score had no melody part and its
# "melody" was the top note of both.
_ROLE_WORDS = (
    (Role.DRUMS, ("drum", "kit", "percussion", "perc")),
    (Role.BASS, ("bass",)),
    (Role.PAD, ("pad", "strings", "string ensemble")),
    (Role.MELODY, ("melody", "lead", "vocal", "voice", "solo", "soprano", "tune")),
    (Role.MELODY, ("violin", "fiddle", "flute", "sax", "trumpet", "clarinet", "oboe", "whistle")),
    (Role.OTHER, ("alto", "tenor")),
    (Role.CHORDS, ("piano", "keys", "comp", "guitar", "organ", "rhodes", "chords")),
)
_ROLE_PROGRAMS = (
    (range(32, 40), Role.BASS),
    (range(43, 44), Role.BASS),  # contrabass
    (range(40, 43), Role.MELODY),  # violin, viola, cello
    (range(44, 46), Role.PAD),  # tremolo and pizzicato strings
    (range(88, 96), Role.PAD),
    (range(48, 52), Role.PAD),
    (range(0, 32), Role.CHORDS),
    (range(52, 88), Role.MELODY),
)


def infer_role(name: str, program: int, is_drum: bool) -> Role:
    """A best guess at a part's role from its name, then its GM program."""
    if is_drum:
        return Role.DRUMS
    lowered = name.lower()
    for role, words in _ROLE_WORDS:
        if any(w in lowered for w in words):
            return role
    for programs, role in _ROLE_PROGRAMS:
        if program in programs:
            return role
    return Role.OTHER
