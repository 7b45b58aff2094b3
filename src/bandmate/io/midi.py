"""Standard MIDI Files (type 0 and 1) <-> Score, through mido.

What a bandmate MIDI file holds, so that other programs show it and bandmate reads it back exactly:
- the conductor track (the first track of a type 1 file): the title as its track name, tempo,
  time-signature and key-signature events, a marker event (FF 06) per section and a text event
  (FF 01) per chord symbol, holding the symbol as written (`Am7`, `C/E`, `N.C.`);
- one track per part: its name (FF 03), a text event `bandmate role: bass`, a program change and
  the notes on a channel of its own (drums on channel 10).
In a type 0 file everything shares one track; each part's name and role follow a channel-prefix
event (FF 20) as an instrument name (FF 04) and text, so they survive too.

Reading foreign files: every (track, channel, program) with notes becomes a Track (as pretty_midi
does), a note belonging to the program in force on its channel when it starts, so a part that
switches from piano to strings halfway is two Tracks, each played by its own instrument (the first
program alone played the strings as a piano). A channel whose notes all share one program is one
Track, named as before. A program change holds for its channel in every track, as a synth plays
it: a setup track that sets each channel's program before the parts (many files have one) sets
the parts' programs, rather than becoming silent parts of its own while the parts read as pianos.
At the same tick a track's own change wins (bandmate shares channels past 15 parts), and notes
before a channel's first change take that first program. Controller changes (the pedals, pitch
bends, volume, pan, expression, modulation, channel aftertouch: `score.model.Control`) are a
part's own track's, with those on its channel of a setup track and of another staff of its
instrument (`_ChannelPrograms.controls_for`), in file order, with the resets of all controllers
(CC121: a bend left up would put every later note out of tune) and all-sound-off (CC120) among
them. Bank selects, polyphonic aftertouch and the other channel-mode messages are not kept (a
part plays bank 0's program), but all-notes-off (CC123, and CC120, 124-127, which imply it) ends
the notes sounding on its channel in that track, as a synth ends them, but those struck at that
very tick. A role is inferred from the name, program and drum flag when the file does not say
it. Overlapping notes of the same pitch on one
channel are paired first-in, first-out. A note of no length is left out, except on the drum
channel, where it is a hit (a 32nd note long).
"""

from __future__ import annotations

import bisect
import contextlib
import io as _io
import os
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

import mido

from bandmate.errors import ChordSymbolError, InputFileError, OutputError
from bandmate.io.files import atomic_path, check_inputs
from bandmate.score.model import (
    CHANNEL_PRESSURE,
    PITCH_BEND,
    ChordEvent,
    Control,
    KeyChange,
    Note,
    Role,
    Score,
    Section,
    TempoChange,
    TimeSignature,
    Track,
    infer_role,
)
from bandmate.score.parts import staff_names
from bandmate.score.transform import rescale
from bandmate.theory.chords import format_chord, parse_chord
from bandmate.theory.keys import Key

DRUM_CHANNEL = 9
DEFAULT_US_PER_BEAT = 500_000  # 120 BPM, the tempo of a MIDI file before any tempo event
# a file coarser than this is read at a whole multiple of its resolution (see `_fine_enough`)
MIN_TICKS_PER_BEAT = 24
ROLE_PREFIX = "bandmate role: "
_MINOR_MODES = {"minor", "aeolian", "harmonic minor", "melodic minor", "dorian", "phrygian"}
_MAJOR_BY_SHARPS = [
    "Cb",
    "Gb",
    "Db",
    "Ab",
    "Eb",
    "Bb",
    "F",
    "C",
    "G",
    "D",
    "A",
    "E",
    "B",
    "F#",
    "C#",
]
_MINOR_BY_SHARPS = [
    "Abm",
    "Ebm",
    "Bbm",
    "Fm",
    "Cm",
    "Gm",
    "Dm",
    "Am",
    "Em",
    "Bm",
    "F#m",
    "C#m",
    "G#m",
    "D#m",
    "A#m",
]


# --- reading -----------------------------------------------------------------------------------
def read_midi(path: str | os.PathLike) -> Score:
    """Read a Standard MIDI File (type 0 or 1) into a Score."""
    check_inputs([path])
    return _parse(Path(path).read_bytes(), str(path))


def midi_from_bytes(data: bytes, name: str = "MIDI data") -> Score:
    return _parse(data, name)


def _parse(data: bytes, name: str) -> Score:
    if not data:
        raise InputFileError(f"{name!r} is empty (0 bytes), not a MIDI file.")
    data = _unwrapped_rmid(data)
    if data[:4] != b"MThd":
        raise InputFileError(f"{name!r} is not a MIDI file (it does not start with 'MThd').")
    try:
        # clip=False: a data byte above 127 (a note of 200, say) means the bytes are out of step,
        # a corrupt file; clipped, such a note was read as pitch 127 and rendered as silence
        midi = mido.MidiFile(file=_io.BytesIO(data), clip=False)
    except EOFError:
        raise InputFileError(f"{name!r} is a truncated MIDI file; it ends in the middle.") from None
    except Exception as e:  # mido raises many kinds on malformed data; all mean a bad file
        if "data byte" in str(e):  # mido's OSError for a byte above 127 where data belongs
            raise InputFileError(
                f"{name!r} is a corrupt MIDI file: an event holds a value above 127, which MIDI "
                "does not allow; export it again from the program that made it."
            ) from None
        raise InputFileError(f"{name!r} is a corrupt MIDI file ({e}).") from None
    if midi.type == 2:
        raise InputFileError(
            f"{name!r} is a type 2 MIDI file (separate patterns), which bandmate does not read; "
            "export it from your sequencer as type 1 (or 0) and give that file."
        )
    if midi.ticks_per_beat < 0:  # the division's top bit: SMPTE frames per second, not beats
        raise InputFileError(
            f"{name!r} is timed in SMPTE frames rather than beats, which bandmate does not read; "
            "save it from your sequencer with ticks per beat (PPQ) timing."
        )
    if midi.ticks_per_beat == 0:
        raise InputFileError(f"{name!r} is a corrupt MIDI file (its header says 0 ticks a beat).")
    try:
        return _fine_enough(_score_from_midi(midi))
    except ValueError as e:
        raise InputFileError(f"{name!r} holds an invalid MIDI event ({e}).") from None


def _fine_enough(score: Score) -> Score:
    """`score` at a resolution that holds every meter's beat and a sixteenth-note triplet in
    whole ticks: `MIN_TICKS_PER_BEAT` or more, a whole multiple of the file's own, so that
    every time stays exact. A file at 1 tick a quarter in 7/8 had eighths of 0 ticks: the piano
    roll drew beat lines forever, and chord suggestions divided by zero."""
    tpb = factor = score.ticks_per_beat
    while factor < MIN_TICKS_PER_BEAT or any(
        factor * 4 % m.denominator for m in score.time_signatures
    ):
        factor += tpb
    return rescale(score, factor)


def _unwrapped_rmid(data: bytes) -> bytes:
    """The Standard MIDI File inside a RIFF MIDI file (RMID, Windows' .rmi, often saved as .mid):
    the payload of its `data` chunk. Other bytes are returned as they are."""
    if data[:4] != b"RIFF" or data[8:12] != b"RMID":
        return data
    offset = 12
    while offset + 8 <= len(data):
        chunk, size = (
            data[offset : offset + 4],
            int.from_bytes(data[offset + 4 : offset + 8], "little"),
        )
        if chunk == b"data":
            return data[offset + 8 : offset + 8 + size]
        offset += 8 + size + (size & 1)  # RIFF chunks are padded to an even length
    return data


def _score_from_midi(midi: mido.MidiFile) -> Score:
    tempos, meters, keys, chords, sections = [], [], [], [], []
    title = None
    track_end = 0
    tracks: list[Track] = []
    programs = _ChannelPrograms(midi)
    for index, mtrack in enumerate(midi.tracks):
        is_conductor = index == 0
        parts = _TrackParts(
            programs,
            index,
            drum_hit_ticks=max(1, midi.ticks_per_beat // 8),
            hanging_ticks=max(1, midi.ticks_per_beat),
        )
        tick = 0
        prefix_channel = None
        for msg in mtrack:
            tick += msg.time
            kind = msg.type
            if kind == "note_on" and msg.velocity > 0:
                parts.open(msg.channel, msg.note, tick, msg.velocity)
            elif kind in ("note_off", "note_on"):
                parts.close(msg.channel, msg.note, tick)
            elif kind == "program_change":
                parts.change_program(msg.channel, msg.program)
            elif kind == "control_change" and msg.control in _ENDS_NOTES:
                parts.close_channel(msg.channel, tick)
            elif kind == "set_tempo":
                tempos.append(TempoChange(tick, msg.tempo))
            elif kind == "time_signature":
                meters.append(TimeSignature(tick, msg.numerator, msg.denominator))
            elif kind == "key_signature":
                keys.append(KeyChange(tick, Key.parse(msg.key)))
            elif kind == "marker":
                sections.append(Section(tick, midi_text_read(msg.text)))
            elif kind == "channel_prefix":
                prefix_channel = msg.channel
            elif kind == "track_name":
                parts.name = midi_text_read(msg.name)
            elif kind == "instrument_name" and prefix_channel is not None:
                parts.channel_names[prefix_channel] = midi_text_read(msg.name)
            elif kind == "text" and msg.text.startswith(ROLE_PREFIX):
                with contextlib.suppress(ValueError):  # a role this version does not know
                    parts.roles[prefix_channel] = Role(msg.text[len(ROLE_PREFIX) :].strip())
            elif kind == "text" and is_conductor:
                # a text event that is not a chord symbol is a comment or a credit: skip it
                with contextlib.suppress(ChordSymbolError):
                    chords.append(ChordEvent(tick, parse_chord(msg.text)))
        parts.close_all(tick)
        track_end = max(track_end, tick)
        if is_conductor and parts.name and _names_the_piece(parts, len(midi.tracks)):
            # the name is the piece's, so the parts are named as unnamed parts are
            title, parts.name = parts.name, None
        tracks.extend(parts.to_tracks(index))
    if tempos and min(t.onset_ticks for t in tempos) > 0:
        # until its first tempo event a MIDI file plays at 120 BPM (a Score would otherwise take
        # its first tempo from the start)
        tempos.insert(0, TempoChange(0, DEFAULT_US_PER_BEAT))
    if meters and min(m.onset_ticks for m in meters) > 0:
        # likewise 4/4 until its first time signature: a 3/4 event at bar 2 was taken back to the
        # start, cutting bar 1 into a 3/4 bar and a bar of one beat
        meters.insert(0, TimeSignature(0, 4, 4))
    score = Score(
        tracks=tuple(tracks),
        ticks_per_beat=midi.ticks_per_beat,
        tempos=tuple(tempos),
        time_signatures=tuple(meters),
        keys=tuple(keys),
        chords=tuple(chords),
        # a marker that several tracks repeat (files merged from parts, some DAWs) is one section
        sections=tuple(dict.fromkeys(sections)),
        title=title,
    )
    return _with_written_end(score, track_end)


# the most bars of rest an end-of-track may close a piece with: a DAW often ends its tracks at
# the project's end, far past the music (4 bars of music and an end-of-track at bar 64 had
# `continue` write its bars after 60 empty ones)
CLOSING_REST_BARS = 2


def _with_written_end(score: Score, track_end: int) -> Score:
    """`score` holding a closing bar of rests (or two) when its tracks end (their end-of-track
    time, at the bar line at or a 16th after it) whole bars after the bar of its last note: only
    whole bars count, so a track that ends inside the bar after the music's (a pedal's release)
    adds nothing, and one that ends further on than `CLOSING_REST_BARS` adds nothing at all."""
    if not score.end_ticks:
        return score
    grid = score.bar_grid
    line = grid.bar_start(grid.bar_at(track_end + score.ticks_per_beat // 4))
    music_end = score.written_bars_end
    if line <= music_end or grid.bar_at(line) - grid.bar_at(music_end) > CLOSING_REST_BARS:
        return score
    return score.replace(written_end_ticks=line)


def midi_text_read(text: str) -> str:
    """A name or marker as its writer meant it. mido reads text events as Latin-1, but many
    programs write UTF-8 ("Flûte" came out "FlÃ»te"); text that is valid UTF-8 is read as UTF-8
    (Latin-1 text with accents is almost never valid UTF-8), the rest stays Latin-1."""
    if text.isascii():
        return text
    try:
        return text.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text


def _names_the_piece(parts: _TrackParts, n_midi_tracks: int) -> bool:
    """Whether the first track's name is the title rather than the name of a part.

    In a file of one track (type 0) it always is: the standard makes that name the sequence's, and
    players and DAWs show it as the title. In a type 1 file of several tracks it is when the first
    track holds no notes (a conductor track); a first track with notes is a part, named as such.
    """
    return n_midi_tracks == 1 or not parts.notes


class _ChannelPrograms:
    """The program in force on each channel at each tick, from the changes in every track, and
    the controller changes each part takes (`controls_for`)."""

    def __init__(self, midi: mido.MidiFile):
        changes: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
        controls: dict[int, list[tuple[int, int, Control]]] = defaultdict(list)
        struck: dict[tuple[int, int], set[int]] = defaultdict(set)  # (track, channel) -> ticks
        self._names: dict[int, str] = {}
        for index, mtrack in enumerate(midi.tracks):
            tick = 0
            for msg in mtrack:
                tick += msg.time
                if msg.type == "track_name":
                    self._names.setdefault(index, midi_text_read(msg.name))
                elif msg.type == "program_change":
                    changes[msg.channel].append((tick, index, msg.program))
                elif msg.type == "note_on" and msg.velocity > 0:
                    struck[index, msg.channel].add(tick)
                elif (control := _control(msg, tick)) is not None:
                    controls[msg.channel].append((tick, index, control))
        self.channels_with_notes = {channel for _, channel in struck}
        # by tick, then track; a track's own changes stay in its order (the sort is stable)
        self._changes = {c: sorted(found, key=lambda e: e[:2]) for c, found in changes.items()}
        self._ticks = {c: [e[0] for e in found] for c, found in self._changes.items()}
        self._controls = {c: sorted(found, key=lambda e: e[:2]) for c, found in controls.items()}
        # the programs each track plays on each channel
        self._played = {
            (index, channel): {self.at(channel, tick, index) for tick in ticks}
            for (index, channel), ticks in struck.items()
        }
        self._taken: dict[tuple[int, int, int], tuple[Control, ...]] = {}

    def controls_for(self, channel: int, program: int, track_index: int) -> tuple[Control, ...]:
        """The controller changes that the part of track `track_index` playing `program` on
        `channel` takes: its own track's, and those on its channel of a track that plays no
        notes there (a setup track's volume and pan) or is another staff of its instrument,
        playing `program` under a staff's name (`score.parts.staff_names`: a piano's pedal
        written in one staff's track holds the other's notes, as one synth channel holds both).
        Other parts on the channel (a DAW's export with every track on channel 1, with or
        without program changes) and other drum tracks keep their own: given every track's, a
        bass took the lead's bends and the piano's pedal."""
        key = (channel, program, track_index)
        if key not in self._taken:
            name = self._names.get(track_index, "")

            def takes(index: int) -> bool:
                played = self._played.get((index, channel))
                return (
                    index == track_index
                    or not played
                    or (
                        channel != DRUM_CHANNEL
                        and program in played
                        and staff_names(self._names.get(index, ""), name)
                    )
                )

            found = self._controls.get(channel, ())
            self._taken[key] = tuple(c for _, index, c in found if takes(index))
        return self._taken[key]

    def at(self, channel: int, tick: int, track_index: int) -> int:
        changes = self._changes.get(channel)
        if not changes:
            return 0
        end = bisect.bisect_right(self._ticks[channel], tick)
        if end == 0:  # before the channel's first change: that change's program
            tick = changes[0][0]
            end = bisect.bisect_right(self._ticks[channel], tick)
        start = bisect.bisect_left(self._ticks[channel], changes[end - 1][0])
        at_tick = changes[start:end]
        own = [e for e in at_tick if e[1] == track_index]
        return (own or at_tick)[-1][2]


class _TrackParts:
    """The notes of one MIDI track, sorted out by channel while it is read."""

    def __init__(
        self, programs: _ChannelPrograms, index: int, drum_hit_ticks: int = 1, hanging_ticks=1
    ):
        self.programs = programs
        self.index = index
        self.drum_hit_ticks = drum_hit_ticks
        self.hanging_ticks = hanging_ticks  # a note struck as the track ends, not let go
        self.name: str | None = None
        # (channel, program in force when the note began) -> its notes
        self.notes: dict[tuple[int, int], list[Note]] = defaultdict(list)
        self.first_programs: dict[int, int] = {}  # channel -> this track's first program change
        self.channel_names: dict[int, str] = {}
        self.roles: dict[int | None, Role] = {}
        # (channel, pitch) -> [(onset, velocity, program)] of the notes still sounding
        self._open: dict[tuple[int, int], list[tuple[int, int, int]]] = defaultdict(list)

    def change_program(self, channel: int, program: int) -> None:
        self.first_programs.setdefault(channel, program)

    def open(self, channel: int, pitch: int, tick: int, velocity: int) -> None:
        program = self.programs.at(channel, tick, self.index)
        self._open[channel, pitch].append((tick, velocity, program))

    def close(self, channel: int, pitch: int, tick: int) -> None:
        pending = self._open.get((channel, pitch))
        if pending:
            onset, velocity, program = pending.pop(0)
            if tick > onset:
                self.notes[channel, program].append(Note(onset, tick - onset, pitch, velocity))
            elif channel == DRUM_CHANNEL:
                # a drum hit written as note-on and note-off at one tick (drum machines and some
                # exporters do): a drum sounds out whatever its length, so it becomes a 32nd
                hit = Note(onset, self.drum_hit_ticks, pitch, velocity)
                self.notes[channel, program].append(hit)
            # a pitched note of no length carries no sound

    def close_channel(self, channel: int, tick: int) -> None:
        """End the notes sounding on `channel` at `tick` (an all-notes-off), but those struck at
        that very tick: a type 0 file's reset block written after its first notes cut them to
        nothing, and bar 1 lost them."""
        for c, pitch in list(self._open):
            if c != channel:
                continue
            pending = self._open[c, pitch]
            for _ in [n for n in pending if n[0] < tick]:
                self.close(c, pitch, tick)

    def close_all(self, tick: int) -> None:
        """End the notes still sounding when the track ends (their note-offs missing) at its
        end; one struck at the very end lasts `hanging_ticks`. A final chord struck at the end
        of a file with no note-offs (as some exporters write it) had no length and was dropped,
        the piece losing its last chord."""
        for channel, pitch in list(self._open):
            while self._open[channel, pitch]:
                onset = self._open[channel, pitch][0][0]
                if tick <= onset and channel != DRUM_CHANNEL:  # a drum hit is one as ever
                    tick = onset + self.hanging_ticks
                self.close(channel, pitch, tick)

    def to_tracks(self, index: int) -> list[Track]:
        # a channel with a program change but no notes in any track is still a (silent) part
        notes = self.notes
        keys = set(notes) | {
            (c, p)
            for c, p in self.first_programs.items()
            if c not in self.programs.channels_with_notes
        }

        def first_onset(key: tuple[int, int]) -> tuple[int, int]:
            return key[0], min((n.onset_ticks for n in notes.get(key, ())), default=0)

        channels = sorted({c for c, _ in keys})
        out = []
        for channel, program in sorted(keys, key=first_onset):
            if channel in self.channel_names:
                name = self.channel_names[channel]
            elif self.name and len(channels) == 1:
                name = self.name
            elif self.name:
                name = f"{self.name} (channel {channel + 1})"
            else:
                name = f"Track {index} (channel {channel + 1})"
            if sum(c == channel for c, _ in keys) > 1:
                name = f"{name} (program {program})"  # one channel, several instruments
            is_drum = channel == DRUM_CHANNEL
            role = self.roles.get(channel if len(channels) > 1 else None) or self.roles.get(channel)
            role = role or infer_role(name, program, is_drum)
            out.append(
                Track(
                    name,
                    program,
                    is_drum,
                    role,
                    tuple(notes.get((channel, program), ())),
                    self.programs.controls_for(channel, program, index),
                )
            )
        return out


#: the channel-mode messages that end every note sounding on their channel: all sound off (kept
#: as a control as well: it silences what the pedal holds), all notes off, and the four mode
#: changes (omni off/on, mono, poly), which imply it
_ENDS_NOTES = (120, 123, 124, 125, 126, 127)


def _control(msg: mido.Message, tick: int) -> Control | None:
    """`msg` as a Control, if it is a controller change a Score keeps (see the module doc)."""
    if msg.type == "control_change" and msg.control not in (0, 32, 122, *_ENDS_NOTES[1:]):
        return Control(tick, msg.control, msg.value)  # 120 silences what a pedal holds too
    if msg.type == "pitchwheel":
        return Control(tick, PITCH_BEND, msg.pitch)
    if msg.type == "aftertouch":
        return Control(tick, CHANNEL_PRESSURE, msg.value)
    return None


# --- writing -----------------------------------------------------------------------------------
def write_midi(score: Score, path: str | os.PathLike, midi_type: int = 1) -> None:
    """Write `score` atomically as a Standard MIDI File of type 0 or 1."""
    data = midi_bytes(score, midi_type)
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


#: typographic punctuation that Latin-1 lacks, as the plain characters it stands for
_PLAIN = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201c": '"', "\u201d": '"',
                        "\u201e": '"', "\u2013": "-", "\u2014": "-", "\u2026": "...",
                        "\u2212": "-", "\u00a0": " "})  # fmt: skip


def midi_text(text: str) -> str:
    """`text` as a MIDI text event can hold it: Latin-1, which mido writes and most programs
    read (the standard leaves the encoding open; UTF-8 would show as mojibake in many). Curly
    quotes, dashes and an ellipsis become their plain forms, a letter outside Latin-1 loses its
    accent (o for o-double-acute), other symbols become '?'. A title such as "Don't Stop" with
    a typographic apostrophe crashed the writer before. Text in a script Latin-1 lacks
    (Japanese, Cyrillic, Greek: letters with no Latin base) is written as UTF-8 instead, as
    most programs that show such names write it, and `read_midi` reads it back; as '?' it
    was lost ("ギター" became "???")."""
    text = text.translate(_PLAIN)
    if all(ord(c) < 256 for c in text):
        return text
    out = []
    for c in text:
        if ord(c) >= 256:
            base = unicodedata.normalize("NFKD", c).encode("latin-1", "ignore").decode("latin-1")
            if not (base and all(ord(b) < 256 for b in base)) and unicodedata.category(c)[0] == "L":
                return text.encode("utf-8").decode("latin-1")  # mido writes these bytes as-is
            c = base if base and all(ord(b) < 256 for b in base) else "?"
        out.append(c)
    return "".join(out)


def midi_bytes(score: Score, midi_type: int = 1) -> bytes:
    if midi_type not in (0, 1):
        raise ValueError(f"bandmate writes MIDI types 0 and 1, not {midi_type}")
    channels = assign_channels(score.tracks)
    if midi_type == 0 and len(set(channels)) < len(channels):
        # one track keeps parts apart only by channel: parts sharing one would come back merged
        pitched = sum(not t.is_drum for t in score.tracks)
        raise OutputError(
            f"A type 0 MIDI file keeps parts apart by their channel, so it holds at most 15 "
            f"pitched parts and one drum part; this score has {pitched} pitched and "
            f"{len(score.tracks) - pitched} drum parts, so write it as type 1 (--midi-type 1)."
        )
    conductor = _conductor_events(score)
    controls = _controls_to_write(score.tracks, channels)
    parts = [
        _part_events(t, ch, midi_type, c)
        for t, ch, c in zip(score.tracks, channels, controls, strict=True)
    ]
    # a closing bar of rests is kept as the conductor track's end (a DAW shows the bar)
    end = score.written_end_ticks or 0
    if midi_type == 0:
        mtracks = [_to_delta(conductor + [e for part in parts for e in part], end)]
    else:
        mtracks = [_to_delta(conductor, end)] + [_to_delta(p) for p in parts]
    for mtrack in mtracks:
        for msg in mtrack:
            for attr in ("name", "text"):
                if msg.is_meta and isinstance(getattr(msg, attr, None), str):
                    setattr(msg, attr, midi_text(getattr(msg, attr)))
    midi = mido.MidiFile(type=midi_type, ticks_per_beat=score.ticks_per_beat)
    midi.tracks.extend(mtracks)
    buffer = _io.BytesIO()
    midi.save(file=buffer)
    return buffer.getvalue()


def assign_channels(tracks) -> list[int]:
    """A MIDI channel per track: drums on channel 10 (index 9), the rest in order on the others.

    Past 15 pitched tracks, channels are shared in turn (playback then uses the later program).
    """
    free = [c for c in range(16) if c != DRUM_CHANNEL]
    out, k = [], 0
    for t in tracks:
        if t.is_drum:
            out.append(DRUM_CHANNEL)
        else:
            out.append(free[k % len(free)])
            k += 1
    return out


# Events are (tick, order, message); `order` puts meta first and note-offs before note-ons at the
# same tick, so that a note repeated without a gap reads back as two notes, and controller
# changes between them: a pedal lifted and pressed again where the chord changes lets the old
# chord go and holds the new one.
_META, _PROGRAM, _OFF, _CONTROL, _ON = 0, 1, 2, 3, 4


def _conductor_events(score: Score) -> list:
    ev = []
    if score.title:
        ev.append((0, _META, mido.MetaMessage("track_name", name=score.title)))
    for m in score.time_signatures:
        ev.append(
            (
                m.onset_ticks,
                _META,
                mido.MetaMessage(
                    "time_signature", numerator=m.numerator, denominator=m.denominator
                ),
            )
        )
    for k in score.keys:
        ev.append((k.onset_ticks, _META, mido.MetaMessage("key_signature", key=_mido_key(k.key))))
    for t in score.tempos:
        ev.append((t.onset_ticks, _META, mido.MetaMessage("set_tempo", tempo=t.us_per_beat)))
    for s in score.sections:
        ev.append((s.onset_ticks, _META, mido.MetaMessage("marker", text=s.name)))
    for c in score.chords:
        ev.append((c.onset_ticks, _META, mido.MetaMessage("text", text=format_chord(c.symbol))))
    return ev


def _controls_to_write(tracks, channels) -> list[list[Control]]:
    """Each track's controller changes as its MIDI track holds them: a part that shares its
    channel with an earlier staff of its instrument (past 15 parts) leaves out the changes that
    one holds already, since reading takes them for both (`_ChannelPrograms.controls_for`);
    written twice, they doubled at every conversion."""
    out: list[list[Control]] = []
    for k, (track, channel) in enumerate(zip(tracks, channels, strict=True)):
        held = Counter()  # the changes earlier staves on the channel hold
        for j in range(k):
            other = tracks[j]
            if (
                channels[j] == channel
                and not track.is_drum
                and other.program == track.program
                and staff_names(other.name, track.name)
            ):
                held.update((c.onset_ticks, c.number, c.value) for c in out[j])
        own = []
        for c in track.controls:
            key = (c.onset_ticks, c.number, c.value)
            if held[key]:
                held[key] -= 1
            else:
                own.append(c)
        out.append(own)
    return out


def _part_events(track: Track, channel: int, midi_type: int, controls: list[Control]) -> list:
    if midi_type == 0:
        ev = [
            (0, _META, mido.MetaMessage("channel_prefix", channel=channel)),
            (0, _META, mido.MetaMessage("instrument_name", name=track.name)),
        ]
    else:
        ev = [(0, _META, mido.MetaMessage("track_name", name=track.name))]
    ev.append((0, _META, mido.MetaMessage("text", text=ROLE_PREFIX + track.role.value)))
    ev.append((0, _PROGRAM, mido.Message("program_change", channel=channel, program=track.program)))
    ev.extend((c.onset_ticks, _CONTROL, _control_message(c, channel)) for c in controls)
    for n in track.notes:
        ev.append(
            (
                n.onset_ticks,
                _ON,
                mido.Message("note_on", channel=channel, note=n.pitch, velocity=n.velocity),
            )
        )
        ev.append(
            (n.end_ticks, _OFF, mido.Message("note_off", channel=channel, note=n.pitch, velocity=0))
        )
    return ev


def _control_message(control: Control, channel: int) -> mido.Message:
    if control.number == PITCH_BEND:
        return mido.Message("pitchwheel", channel=channel, pitch=control.value)
    if control.number == CHANNEL_PRESSURE:
        return mido.Message("aftertouch", channel=channel, value=control.value)
    return mido.Message(
        "control_change", channel=channel, control=control.number, value=control.value
    )


def _to_delta(events: list, end_ticks: int = 0) -> mido.MidiTrack:
    """The events as a MIDI track, which ends at its last event or at `end_ticks` if later."""
    track = mido.MidiTrack()
    now = 0
    for tick, _, msg in sorted(events, key=lambda e: (e[0], e[1])):
        track.append(msg.copy(time=tick - now))
        now = tick
    track.append(mido.MetaMessage("end_of_track", time=max(0, end_ticks - now)))
    return track


def _mido_key(key: Key) -> str:
    table = _MINOR_BY_SHARPS if key.mode in _MINOR_MODES else _MAJOR_BY_SHARPS
    return table[key.sharps + 7]


# --- what a Score leaves out -------------------------------------------------------------
_PEDALS = {
    64: "the sustain pedal (CC64)",
    66: "the sostenuto pedal (CC66)",
    67: "the soft pedal (CC67)",
}
#: what `controllers_left_out` names that a Score cannot hold (`score.model.Control`): a part
#: plays its program from the General MIDI bank, and aftertouch per key is not kept
_NOT_KEPT = ("bank select (CC0/CC32)", "aftertouch per key")


def controllers_left_out(path, *, kept: bool) -> list[str]:
    """What the MIDI file at `path` plays with that is lost where it goes: with `kept`, into a
    Score (which holds the pedals, bends, volume, pan and the other controllers, but not bank
    selects or aftertouch per key); without, into MusicXML, which holds the sustain pedal (as
    pedal marks) and no other controller. [] for a file that is not MIDI, or does not use them.

    A DAW's or a keyboard's file written to MusicXML lost its pedal, its bends and its mix
    without a word.
    """
    try:
        with open(path, "rb") as f:
            if f.read(4) != b"MThd":
                return []
        midi = mido.MidiFile(path)
    except Exception:  # the score was read already; a file mido will not parse gets no warning
        return []
    # a controller at the value a GM synth starts at (pan 64, expression 127), or one volume on
    # every channel, changes nothing when it is left out
    found: dict[str, None] = {}
    volumes = set()
    for track in midi.tracks:
        for msg in track:
            kind = msg.type
            if kind == "pitchwheel" and msg.pitch:
                found["pitch bends"] = None
            elif kind == "aftertouch" and msg.value:
                found["aftertouch"] = None
            elif kind == "polytouch" and msg.value:
                found["aftertouch per key"] = None
            elif kind != "control_change":
                continue
            elif msg.control in _PEDALS and msg.value >= 64:
                found[_PEDALS[msg.control]] = None
            elif msg.control == 7:
                volumes.add(msg.value)
            elif msg.control == 11 and msg.value < 127:
                found["expression (CC11)"] = None
            elif msg.control == 10 and msg.value != 64:
                found["pan (CC10)"] = None
            elif msg.control == 1 and msg.value:
                found["modulation (CC1)"] = None
            elif msg.control in (0, 32) and msg.value and msg.channel != DRUM_CHANNEL:
                found["bank select (CC0/CC32)"] = None
    if len(volumes) > 1:  # one level everywhere changes no balance
        found["volume changes (CC7)"] = None
    # MusicXML holds the sustain pedal as pedal marks, and no other controller
    return [k for k in found if k in _NOT_KEPT or (not kept and k != _PEDALS[64])]
