"""Four-part chorales as tokens: `<bos>`, then S, A, T, B for every 16th step, then `<eos>`.

This is the note-wise serialization under which published JSB Chorales NLLs are reported (Coconet
0.436, Music Transformer 0.335 nats/token on `valid`): every step is four tokens, soprano first,
each a pitch token or the one rest token. Token `i` after `<bos>` belongs to voice `i % 4`.

Vocabulary, in id order: `<pad>`, `<bos>`, `<eos>`, `REST`, `PITCH_{min}` .. `PITCH_{max}`.
The default range, 28..96, holds every JSB pitch (36..81) transposed by up to 8 semitones down or
15 up, so that transposition augmentation (a tritone either way covers every key) never falls off
the vocabulary.

A chorale here is a list of steps, each four MIDI pitches (S, A, T, B), -1 for a silent voice: the
format of `bandmate.corpus.jsb`. `steps_to_score` and `score_to_steps` go to and from a Score.

Held notes: the JSB grid does not tell a held note from a repeated one, so `steps_to_score` makes
one note of every run of equal pitches in a voice. Bach's repeated notes therefore come back tied;
that loses a re-articulation but never a pitch or a duration, and it is what a listener expects of
a chorale far more often than sixteenth-note repetitions would be.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from bandmate.errors import UserError
from bandmate.score.model import DEFAULT_TICKS_PER_BEAT, Note, Role, Score, TempoChange, Track
from bandmate.tokens.base import BOS, EOS, PAD, SPECIALS, Tokenizer

VOICES = ("Soprano", "Alto", "Tenor", "Bass")
VOICE_ROLES = (Role.MELODY, Role.CHORDS, Role.CHORDS, Role.BASS)
CHOIR_AAHS = 52  # General MIDI program (0-based)
SILENT = -1  # a voice that does not sound during a step

Step = tuple[int, int, int, int]


class ChoraleTokenizer(Tokenizer):
    """SATB steps <-> tokens; pitches `min_pitch..max_pitch` (MIDI, inclusive) and one rest."""

    kind = "chorale"

    def __init__(self, min_pitch: int = 28, max_pitch: int = 96):
        if not 0 <= min_pitch <= max_pitch <= 127:
            raise ValueError(f"pitch range must lie in 0..127, got {min_pitch}..{max_pitch}")
        self.min_pitch = min_pitch
        self.max_pitch = max_pitch
        self._first_pitch_id = len(SPECIALS) + 1

    # --- vocabulary --------------------------------------------------------------------------
    def settings(self) -> dict[str, Any]:
        return {"min_pitch": self.min_pitch, "max_pitch": self.max_pitch}

    def token_names(self) -> list[str]:
        pitches = [f"PITCH_{p}" for p in range(self.min_pitch, self.max_pitch + 1)]
        return [*SPECIALS, "REST", *pitches]

    @property
    def rest_token_id(self) -> int:
        return len(SPECIALS)

    def pitch_token_ids(self) -> dict[int, int]:
        """MIDI pitch -> token id, lowest pitch first (as every tokenizer gives it)."""
        first = self._first_pitch_id
        return {p: first + p - self.min_pitch for p in range(self.min_pitch, self.max_pitch + 1)}

    def step_token_ids(self) -> list[int]:
        """Every id that may stand for a voice in a step: the rest, then the pitches."""
        return [self.rest_token_id, *self.pitch_token_ids().values()]

    def token_for(self, pitch: int) -> int:
        """The token of MIDI `pitch`, or of the rest for -1."""
        if pitch == SILENT:
            return self.rest_token_id
        if not self.min_pitch <= pitch <= self.max_pitch:
            raise ValueError(
                f"pitch {pitch} is outside this tokenizer's range "
                f"{self.min_pitch}..{self.max_pitch}"
            )
        return self._first_pitch_id + pitch - self.min_pitch

    def pitch_of(self, token: int) -> int:
        """The MIDI pitch of a step token (-1 for the rest)."""
        if token == self.rest_token_id:
            return SILENT
        if not self._first_pitch_id <= token < self.vocab_size:
            raise ValueError(f"token {token} is not a pitch or rest token")
        return self.min_pitch + token - self._first_pitch_id

    @staticmethod
    def voice_of_position(i: int) -> int:
        """The voice (0 soprano .. 3 bass) of token `i`, counted from 0 just after `<bos>`."""
        if i < 0:
            raise ValueError(f"token position must be >= 0, got {i}")
        return i % 4

    # --- steps <-> tokens --------------------------------------------------------------------
    def encode(self, piece: Sequence[Sequence[int]]) -> list[int]:
        """`<bos>`, four tokens per step (S, A, T, B), `<eos>`: 4 * len(piece) + 2 tokens."""
        tokens = [BOS]
        for n, step in enumerate(piece):
            if len(step) != 4:
                raise ValueError(f"step {n} has {len(step)} voices; a chorale step has 4 (SATB)")
            tokens.extend(self.token_for(int(p)) for p in step)
        tokens.append(EOS)
        return tokens

    def decode(self, tokens: Sequence[int]) -> list[Step]:
        """The steps that `tokens` describe.

        `<pad>` and `<bos>` are skipped and decoding stops at the first `<eos>`. A last step with
        fewer than four tokens (a sample cut short) is dropped rather than guessed at.
        """
        voices: list[int] = []
        for t in tokens:
            t = int(t)
            if t == EOS:
                break
            if t in (PAD, BOS):
                continue
            voices.append(self.pitch_of(t))
        whole = len(voices) - len(voices) % 4
        return [tuple(voices[i : i + 4]) for i in range(0, whole, 4)]

    # --- steps <-> Score ---------------------------------------------------------------------
    def steps_to_score(
        self,
        steps: Sequence[Sequence[int]],
        *,
        tempo_bpm: float = 80.0,
        steps_per_beat: int = 4,
        ticks_per_beat: int = DEFAULT_TICKS_PER_BEAT,
        velocity: int = 90,
        title: str | None = None,
    ) -> Score:
        """A Score with four tracks, Soprano/Alto/Tenor/Bass (roles melody/chords/chords/bass).

        A run of equal pitches in a voice becomes one note (see the module docs on held notes).
        """
        step_ticks = _step_ticks(ticks_per_beat, steps_per_beat)
        tracks = []
        for voice, (name, role) in enumerate(zip(VOICES, VOICE_ROLES, strict=True)):
            line = [int(step[voice]) for step in steps]
            notes = [
                Note(start * step_ticks, length * step_ticks, pitch, velocity)
                for start, length, pitch in _runs(line)
                if pitch != SILENT
            ]
            tracks.append(Track(name, program=CHOIR_AAHS, role=role, notes=tuple(notes)))
        return Score(
            tracks=tuple(tracks),
            ticks_per_beat=ticks_per_beat,
            tempos=(TempoChange.from_bpm(0, tempo_bpm),),
            title=title,
        )

    def score_to_steps(self, score: Score, steps_per_beat: int = 4) -> list[Step]:
        """The SATB steps of a four-part score, one per `1 / steps_per_beat` of a quarter note.

        The voices are the tracks named Soprano, Alto, Tenor and Bass (any case) if the score has
        them, else its four pitched tracks from highest to lowest mean pitch. A note covers the
        steps from its onset to its end, both rounded to the nearest step, and at least one step;
        where notes of a voice overlap, the later onset wins, then the higher pitch.
        """
        if steps_per_beat < 1:
            raise ValueError(f"steps_per_beat must be >= 1, got {steps_per_beat}")
        step_ticks = score.ticks_per_beat / steps_per_beat
        spans = []  # (voice, first step, end step, pitch)
        for voice, track in enumerate(_four_voices(score)):
            # sorted by onset then pitch, so later (and higher) notes overwrite earlier ones
            for note in sorted(track.notes, key=lambda n: (n.onset_ticks, n.pitch)):
                first = _nearest_step(note.onset_ticks, step_ticks)
                end = max(first + 1, _nearest_step(note.end_ticks, step_ticks))
                spans.append((voice, first, end, note.pitch))
        steps = [[SILENT] * 4 for _ in range(max((end for _, _, end, _ in spans), default=0))]
        for voice, first, end, pitch in spans:
            for i in range(first, end):
                steps[i][voice] = pitch
        return [tuple(step) for step in steps]


def _step_ticks(ticks_per_beat: int, steps_per_beat: int) -> int:
    if steps_per_beat < 1 or ticks_per_beat % steps_per_beat:
        raise ValueError(
            f"{ticks_per_beat} ticks per beat cannot be split into {steps_per_beat} equal steps"
        )
    return ticks_per_beat // steps_per_beat


def _nearest_step(ticks: int, step_ticks: float) -> int:
    """The grid step nearest to `ticks`; halves round up (not to even, as `round` would)."""
    return math.floor(ticks / step_ticks + 0.5)


def _runs(line: list[int]) -> list[tuple[int, int, int]]:
    """(start, length, value) of every run of equal values in `line`."""
    runs: list[tuple[int, int, int]] = []
    for i, value in enumerate(line):
        if runs and runs[-1][2] == value and runs[-1][0] + runs[-1][1] == i:
            start, length, _ = runs[-1]
            runs[-1] = (start, length + 1, value)
        else:
            runs.append((i, 1, value))
    return runs


def _four_voices(score: Score) -> list[Track]:
    by_name = {t.name.strip().lower(): t for t in score.tracks}
    if all(v.lower() in by_name for v in VOICES):
        return [by_name[v.lower()] for v in VOICES]
    pitched = [t for t in score.tracks if not t.is_drum and t.notes]
    if len(pitched) != 4:
        raise UserError(
            f"A chorale needs four voices, but this score has {len(pitched)} pitched tracks; "
            "give it four parts or name them Soprano, Alto, Tenor and Bass."
        )
    return sorted(pitched, key=lambda t: -sum(n.pitch for n in t.notes) / len(t.notes))
