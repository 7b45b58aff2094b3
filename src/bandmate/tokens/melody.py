"""Lead sheets as tokens: a monophonic melody with its chord symbols, meter and key.

A REMI-like stream, one token per fact, in time order:

    <bos> [STYLE_folk] [KEY_Eb_major] METER_4_4 BAR POS_0 CHORD_Eb_maj7 PITCH_67 DUR_12
          POS_12 PITCH_70 DUR_24 BAR POS_0 CHORD_C_m7 BASS_Bb PITCH_72 DUR_36 ... <eos>

* `STYLE_<name>`: an optional conditioning prefix naming the kind of tune (`MELODY_STYLES`: folk,
  irish, fiddle, chorale), given to `encode` by the caller (the melody task takes it from the
  collection an item comes from); a sampler that starts with it asks for that style.
* `KEY_<tonic>_<major|minor>`: an optional conditioning prefix from the score's first key. Modes
  become major or minor by their third (dorian is minor, mixolydian major); later key changes
  are not written.
* `METER_n_d`, `BAR` and the short-bar form `POS_k METER_n_d BAR`: see `bandmate.tokens.bars`.
* `POS_k`: the position in the bar, in steps of 1/12 of a quarter note (`steps_per_beat`), fine
  enough for 16ths, 8th-note triplets and 16th-note triplets. Written once before the events at
  that position: the chord first, then the note.
* `CHORD_<root>_<quality>` for the 12 roots and every quality in `TOKEN_QUALITIES`, and
  `CHORD_NC` (N.C.). That list is frozen: it is the chord reader's qualities when the shipped
  models were trained, so that a quality the reader learns later (`theory.QUALITIES`) does not
  shift every token id of a shipped model; such a quality is written as the nearest listed one
  (`token_quality`: C7sus4b9 as C7sus4, Cm11b5 as Cm7b5). A slash bass is kept as a separate
  `BASS_<pc>` token right after the chord (12 tokens rather than 12 times as many chord
  tokens). Spelling is not kept: decoded roots and basses are spelled as the key signature
  spells them (flats in flat keys, sharps in sharp keys, and the usual lead-sheet names Db Eb
  F# Ab Bb in C or without a key).
* `PITCH_p` for every MIDI pitch in `lowest_pitch..highest_pitch` (default 36-96), one token per
  pitch so that a sampler can mask pitches; notes outside are moved by octaves into the range.
  Pitch tokens are contiguous and come last but for durations.
* `DUR_d`: the note's length in steps, 1 up to `max_duration_beats` quarter notes (default 8, two
  bars of 4/4); longer notes are cut to that length.

Encoding reads the melody track (`melody_track`: the first track with notes whose role is MELODY,
else the first track with notes that is not drums; of an instrument written on several staves, a
piano's two hands, the highest staff), quantizes onsets and ends to the step grid, keeps the
highest of the notes that start on the same step, and cuts each note where the next one begins,
so the line is monophonic. Velocities are dropped; tempo is not written.

With the default settings the vocabulary has 962 tokens: 3 specials, 4 styles, 24 keys, 28
meters, BAR, 96 positions, 637 chords, 12 basses, 61 pitches and 96 durations. For samplers,
`pitch_token_ids()` maps MIDI pitch -> token id and `is_pitch_token(id)` tells pitch tokens from
the rest; `transpose_tokens` moves an encoded stream for augmentation.

Decoding gives a Score at 480 ticks per beat and 120 BPM with a track "Melody" (role MELODY,
velocity 90), the meters, the chord track and the key; the melody is read as encoding reads
it, one line (a note that a DUR holds past the next note's POS is cut there). Tokens that
break the grammar are skipped: a PITCH not followed by a DUR, a DUR or BASS with nothing to
attach to; decoding stops at the first <eos>.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

from bandmate.score.model import ChordEvent, KeyChange, Note, Role, Score, Track
from bandmate.score.parts import melody_track
from bandmate.theory.chords import NO_CHORD, QUALITIES, ChordSymbol
from bandmate.theory.keys import MODES, Key
from bandmate.theory.pitch import PITCH_CLASS_NAMES_SHARP
from bandmate.tokens.bars import BAR, DEFAULT_METERS, BarReader, StepGrid
from bandmate.tokens.base import BOS, EOS, SPECIALS, Tokenizer

#: The chord qualities the vocabulary names, in token order (see the module docstring).
TOKEN_QUALITIES = (
    "maj", "m", "dim", "aug", "sus2", "sus4", "5", "6", "m6", "6/9", "m6/9", "add9", "madd9",
    "add11", "maj7", "maj9", "maj13", "maj7#11", "maj9#11", "maj7#5", "m7", "m9", "m11", "m13",
    "mMaj7", "mMaj9", "m7b5", "dim7", "7", "9", "11", "13", "7sus2", "7sus4", "9sus4", "13sus4",
    "7b5", "7#5", "9#5", "7b9", "7#9", "7#11", "9#11", "13#11", "7b13", "13b9", "7b9b13",
    "7#9b13", "7b9#9", "7b9#11", "7#5b9", "7#5#9", "7alt",
)  # fmt: skip


@functools.cache
def token_quality(quality: str) -> str:
    """The quality of `TOKEN_QUALITIES` that writes `quality`: itself, or the one nearest it,
    counting each chord tone (root, 3rd, 5th, 6th or 7th) it lacks or adds twice and each
    extension (9th, 11th, 13th and their alterations) once; the first listed on a tie."""
    if quality in TOKEN_QUALITIES:
        return quality

    def notes(name: str) -> tuple[set[int], set[int]]:
        intervals = QUALITIES[name].intervals
        return {i for i in intervals if i < 12}, {i % 12 for i in intervals if i >= 12}

    tones, extensions = notes(quality)

    def distance(name: str) -> int:
        their_tones, their_extensions = notes(name)
        return 2 * len(tones ^ their_tones) + len(extensions ^ their_extensions)

    return min(TOKEN_QUALITIES, key=distance)


#: The names lead sheets most often give each pitch class; used in token names only.
ROOT_NAMES = ("C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
MELODY_TRACK_NAME = "Melody"
#: The styles a melody can be asked for, each learnt from collections of that kind of tune.
MELODY_STYLES = ("folk", "irish", "fiddle", "chorale")
DEFAULT_VELOCITY = 90


class MelodyTokenizer(Tokenizer):
    """Lead-sheet tokens (see the module docstring for the layout).

    steps_per_beat: grid steps per quarter note (12: 16ths and triplets).
    lowest_pitch, highest_pitch: the MIDI pitches that get a PITCH token (at least an octave).
    max_duration_beats: the longest note, in quarter notes.
    meters: "n/d" meters that get a METER token.
    styles: the names that get a STYLE token.
    """

    kind = "melody"

    def __init__(
        self,
        steps_per_beat: int = 12,
        lowest_pitch: int = 36,
        highest_pitch: int = 96,
        max_duration_beats: int = 8,
        meters: Iterable[str] = DEFAULT_METERS,
        styles: Iterable[str] = MELODY_STYLES,
    ):
        if not (lowest_pitch >= 0 and highest_pitch <= 127 and highest_pitch - lowest_pitch >= 11):
            raise ValueError("the pitch range must lie in 0-127 and span at least an octave")
        if max_duration_beats < 1:
            raise ValueError(f"max_duration_beats must be >= 1, got {max_duration_beats}")
        self.lowest_pitch, self.highest_pitch = lowest_pitch, highest_pitch
        self.max_duration_beats = max_duration_beats
        self._grid = StepGrid(meters, steps_per_beat, tokenizer="melody")
        self._max_duration = max_duration_beats * steps_per_beat
        # (name, (kind, value)) per token id: the vocabulary and what each token means
        self.styles = tuple(styles)
        vocab: list[tuple[str, tuple[str, Any]]] = [(s, ("special", None)) for s in SPECIALS]
        vocab += [(f"STYLE_{name}", ("style", name)) for name in self.styles]
        vocab += [
            (_key_token(tonic, mode), ("key", Key(tonic, mode)))
            for mode in ("major", "minor")
            for tonic in range(12)
        ]
        vocab += [(name, ("meter", meter)) for name, meter in self._grid.meter_tokens()]
        vocab.append((BAR, ("bar", None)))
        vocab += [(f"POS_{k}", ("pos", k)) for k in range(self._grid.max_bar_steps)]
        vocab.append(("CHORD_NC", ("chord", None)))
        vocab += [
            (_chord_token(root, quality), ("chord", (root, quality)))
            for root in range(12)
            for quality in TOKEN_QUALITIES
        ]
        vocab += [(f"BASS_{ROOT_NAMES[pc]}", ("bass", pc)) for pc in range(12)]
        vocab += [(f"PITCH_{p}", ("pitch", p)) for p in range(lowest_pitch, highest_pitch + 1)]
        vocab += [(f"DUR_{d}", ("dur", d)) for d in range(1, self._max_duration + 1)]
        self._names = [name for name, _ in vocab]
        self._meanings = [meaning for _, meaning in vocab]
        self._ids = {name: i for i, name in enumerate(self._names)}
        self._pitch_ids = {
            p: self._ids[f"PITCH_{p}"] for p in range(lowest_pitch, highest_pitch + 1)
        }

    # --- the Tokenizer interface -----------------------------------------------------------------
    def token_names(self) -> list[str]:
        return list(self._names)

    def settings(self) -> dict[str, Any]:
        return {
            "steps_per_beat": self._grid.steps_per_beat,
            "lowest_pitch": self.lowest_pitch,
            "highest_pitch": self.highest_pitch,
            "max_duration_beats": self.max_duration_beats,
            "meters": list(self._grid.meters),
            "styles": list(self.styles),
        }

    def encode(self, score: Score, style: str | None = None) -> list[int]:
        """Tokens for the melody, chords, meters and key of `score`, from <bos> to <eos>,
        after a STYLE token when `style` is given.

        Raises TokenizeError when the score has a meter without a token, ValueError for a style
        without a token.
        """
        if style is not None and style not in self.styles:
            raise ValueError(f"no style {style!r}; this tokenizer knows {', '.join(self.styles)}")
        grid = self._grid
        notes = self._melody_steps(score)
        chords: dict[int, ChordSymbol] = {}
        for chord in score.chords:  # the last of several chords on one step wins
            chords[grid.to_step(chord.onset_ticks, score.ticks_per_beat)] = chord.symbol
        steps = sorted(set(notes) | set(chords))
        bars = grid.layout(score, max(steps, default=0))

        names = [SPECIALS[BOS]]
        if style is not None:
            names.append(f"STYLE_{style}")
        if score.key is not None:
            names.append(_key_token(score.key.tonic, _major_or_minor(score.key.mode)))
        i = 0
        for index, bar in enumerate(bars):
            names += grid.bar_opening(bars, index, "POS_")
            end = bar.start_steps + bar.length_steps
            while i < len(steps) and steps[i] < end:
                step = steps[i]
                names.append(f"POS_{step - bar.start_steps}")
                if step in chords:
                    names += _chord_names(chords[step])
                if step in notes:
                    duration, pitch = notes[step]
                    names += [f"PITCH_{pitch}", f"DUR_{duration}"]
                i += 1
        names.append(SPECIALS[EOS])
        return [self._ids[name] for name in names]

    def decode(self, tokens: Iterable[int]) -> Score:
        """The lead sheet that `tokens` describe (see the module docstring for lenient reading)."""
        reader = BarReader(self._grid)
        notes: list[tuple[int, int, int]] = []  # (onset step, duration steps, pitch)
        chords: list[tuple[int, int | None, str | None, int | None]] = []  # step, root, q, bass
        key: Key | None = None
        pitch: int | None = None  # a PITCH waiting for its DUR
        after_chord = False  # the previous token was a chord that may take a BASS
        for token in tokens:
            kind, value = self._meaning(token)
            if kind == "special" and token == EOS:
                break
            if kind == "dur" and pitch is not None:
                notes.append((reader.step(), value, pitch))
            elif kind == "bass" and after_chord:
                step, root, quality, _ = chords[-1]
                chords[-1] = (step, root, quality, value)
            elif kind == "key" and key is None:
                key = value
            elif kind == "meter":
                reader.read_meter(value)
            elif kind == "bar":
                reader.read_bar()
            elif kind == "pos":
                reader.read_position(value)
            elif kind == "chord":
                root, quality = value if value is not None else (None, None)
                chords.append((reader.step(), root, quality, None))
            pitch = value if kind == "pitch" else None
            after_chord = kind == "chord" and value is not None

        ticks = self._grid.ticks_per_step
        flats = None if key is None or key.sharps == 0 else key.sharps < 0
        track = Track(
            MELODY_TRACK_NAME,
            role=Role.MELODY,
            notes=[Note(s * ticks, d * ticks, p, DEFAULT_VELOCITY) for s, d, p in _line(notes)],
        )
        return Score(
            tracks=(track,),
            time_signatures=reader.time_signatures(),
            keys=() if key is None else (KeyChange(0, key),),
            chords=tuple(
                ChordEvent(step * ticks, _spell_chord(root, quality, bass, flats))
                for step, root, quality, bass in chords
            ),
        )

    # --- helpers for samplers and augmentation ---------------------------------------------------
    def token_id(self, name: str) -> int:
        """The id of the token called `name` ("BAR", "PITCH_60", "CHORD_Bb_m7")."""
        try:
            return self._ids[name]
        except KeyError:
            raise KeyError(f"no token {name!r} in this melody vocabulary") from None

    def pitch_token_ids(self) -> dict[int, int]:
        """MIDI pitch -> token id, for every PITCH token."""
        return dict(self._pitch_ids)

    def is_pitch_token(self, token_id: int) -> bool:
        return self._meanings[token_id][0] == "pitch" if 0 <= token_id < len(self._names) else False

    def pitch_of(self, token_id: int) -> int:
        """The MIDI pitch of a PITCH token; ValueError for any other token."""
        kind, value = self._meaning(token_id)
        if kind != "pitch":
            raise ValueError(f"token {token_id} ({self._names[token_id]}) is not a pitch token")
        return value

    def transpose_tokens(self, tokens: Iterable[int], semitones: int) -> list[int] | None:
        """The same stream `semitones` higher: pitches, chord roots, basses and the key move.

        Returns None when a pitch would leave the vocabulary's range (no octave folding, so that
        augmentation never bends a melody). Equals encoding the transposed score.
        """
        out = []
        for token in tokens:
            kind, value = self._meaning(token)
            if kind == "pitch":
                if not self.lowest_pitch <= value + semitones <= self.highest_pitch:
                    return None
                token = self._pitch_ids[value + semitones]
            elif kind == "chord" and value is not None:
                token = self._ids[_chord_token((value[0] + semitones) % 12, value[1])]
            elif kind == "bass":
                token = self._ids[f"BASS_{ROOT_NAMES[(value + semitones) % 12]}"]
            elif kind == "key":
                token = self._ids[_key_token((value.tonic + semitones) % 12, value.mode)]
            out.append(token)
        return out

    def meaning(self, token: int) -> tuple[str, Any]:
        """(kind, value) of a token: ("pitch", 60), ("pos", 12), ("chord", (root, quality)),
        ("chord", None) for N.C., ("bass", pc), ("dur", steps), ("meter", (n, d)), ("bar", None),
        ("key", Key), ("style", name), ("special", None)."""
        return self._meaning(token)

    @property
    def steps_per_beat(self) -> int:
        return self._grid.steps_per_beat

    @property
    def max_duration_steps(self) -> int:
        return self._max_duration

    # --- internals -------------------------------------------------------------------------------
    def _meaning(self, token: int) -> tuple[str, Any]:
        token = int(token)
        if not 0 <= token < len(self._meanings):
            raise ValueError(f"token id {token} is outside this vocabulary of {len(self._names)}")
        return self._meanings[token]

    def _melody_steps(self, score: Score) -> dict[int, tuple[int, int]]:
        """Onset step -> (duration steps, pitch) of the melody, made monophonic and in range."""
        track = melody_track(score)
        if track is None:
            return {}
        grid, tpb = self._grid, score.ticks_per_beat
        top: dict[int, tuple[int, int]] = {}  # onset step -> (pitch, end step)
        for note in track.notes:
            onset = grid.to_step(note.onset_ticks, tpb)
            end = max(onset + 1, grid.to_step(note.end_ticks, tpb))
            top[onset] = max(top.get(onset, (-1, 0)), (note.pitch, end))
        onsets = sorted(top)
        out = {}
        for i, onset in enumerate(onsets):
            pitch, end = top[onset]
            if i + 1 < len(onsets):
                end = min(end, onsets[i + 1])
            out[onset] = (min(end - onset, self._max_duration), self._fold(pitch))
        return out

    def _fold(self, pitch: int) -> int:
        while pitch < self.lowest_pitch:
            pitch += 12
        while pitch > self.highest_pitch:
            pitch -= 12
        return pitch


def _major_or_minor(mode: str) -> str:
    """A mode as major or minor by its third."""
    return "minor" if 3 in MODES[mode] else "major"


def _key_token(tonic: int, mode: str) -> str:
    return f"KEY_{Key(tonic, mode).tonic_name}_{mode}"


def _chord_token(root: int, quality: str) -> str:
    return f"CHORD_{ROOT_NAMES[root]}_{quality}"


def _chord_names(chord: ChordSymbol) -> list[str]:
    if chord.is_no_chord:
        return ["CHORD_NC"]
    names = [_chord_token(chord.root, token_quality(chord.quality))]
    if chord.bass is not None:
        names.append(f"BASS_{ROOT_NAMES[chord.bass]}")
    return names


def _spell_chord(root: int | None, quality: str | None, bass: int | None, flats) -> ChordSymbol:
    """A chord symbol spelled as `ChordSymbol.transpose` spells it (flats None: common names)."""
    if quality is None:
        return NO_CHORD
    if bass is None:
        in_c = ChordSymbol(0, "C", quality)
    else:
        interval = (bass - root) % 12
        in_c = ChordSymbol(0, "C", quality, interval, PITCH_CLASS_NAMES_SHARP[interval])
    return in_c.transpose(root, prefer_flats=flats)


def _line(notes: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    """(onset step, duration steps, pitch) notes as one line, as `encode` reads a melody: the
    highest of the notes that start on a step, each cut where the next one begins. A model's
    DUR may run past its next POS (a note held through the bar, then more notes over it); the
    lead sheet is monophonic, so the held note stops where the next one starts."""
    first: dict[int, tuple[int, int, int]] = {}
    for note in notes:
        if note[0] not in first or note[2] > first[note[0]][2]:
            first[note[0]] = note
    ordered = [first[step] for step in sorted(first)]
    nexts = [step for step, _, _ in ordered[1:]] + [None] * bool(ordered)
    return [
        (step, duration if nxt is None else min(duration, nxt - step), pitch)
        for (step, duration, pitch), nxt in zip(ordered, nexts, strict=True)
    ]
