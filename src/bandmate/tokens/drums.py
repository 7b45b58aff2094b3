"""Drum grooves as tokens: hits per 16th-note step, with velocity and microtiming.

    <bos> METER_4_4 BAR STEP_0 DRUM_kick VEL_5 SHIFT_+0 DRUM_hat VEL_4 SHIFT_+1
          STEP_2 DRUM_hat VEL_3 SHIFT_-1 STEP_4 ... BAR ... <eos>

* `METER_n_d`, `BAR` and the short-bar form `STEP_k METER_n_d BAR`: see `bandmate.tokens.bars`.
* `STEP_k`: the 16th-note step in the bar (`steps_per_beat` 4), written once before its hits.
* Each hit is three tokens, always in this order: `DRUM_<voice>` (the voices of
  `arrange.drums.DRUM_VOICES`, in that order), `VEL_<bin>` and `SHIFT_<bin>`. Hits in a step are
  sorted by voice (vocabulary order), then by shift.
* `VEL_b`: the velocity in `velocity_bins` (8) equal bins over 1-127; decoding gives the middle of
  the bin.
* `SHIFT_s`: microtiming, the hit's offset from its step in 1/`shift_bins` (7) of a step, from
  -3 (three sevenths early) to +3; an onset is rounded to that finer grid and then to the step
  it is nearest, so a hit played early belongs to the step it anticipates (a kick pushed ahead of
  the downbeat is `STEP_0 ... SHIFT_-1` of the next bar).

Which notes are read: every note of every drum track, merged. A GM drum note that is one of the
voices is that voice; a few others join the voice of their family (hi-mid tom 48 -> tom_mid,
ride 2 59 -> ride, agogos 67/68 -> cowbell, long guiro 74 -> guiro, low woodblock 77 ->
woodblock, mute triangle 80 -> triangle, GM2 shaker 82, jingle bell 83 -> tamb, castanets 85 ->
clave, surdos 86/87 -> kick, as the samba style plays the surdo on the kick); everything else
(sticks, clicks, whistles, cuicas, vibraslap...) is dropped. Note lengths are dropped too: a
decoded hit lasts one step. Where two hits of a voice land on the same step and shift, the louder
is kept. Tempo is not written; decoding gives 120 BPM at 480 ticks per beat, track "Drums".

With the default settings the vocabulary has 114 tokens: 3 specials, 28 meters, BAR, 32 steps,
35 voices, 8 velocities and 7 shifts. For samplers the DRUM tokens play the part of pitch tokens:
`pitch_token_ids()` maps each voice's GM note to its DRUM token.

So decode(encode(score)) is the drums quantized to the shift grid and the velocity bins, and
encode(decode(tokens)) == tokens for every stream that encode can write. Streams that break the
grammar decode leniently: a DRUM without VEL or SHIFT gets the middle velocity bin or no shift,
VEL and SHIFT with no DRUM before them are skipped, decoding stops at the first <eos>.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bandmate.arrange.drums import DRUM_VOICES
from bandmate.score.model import Note, Role, Score, Track
from bandmate.tokens.bars import BAR, DEFAULT_METERS, BarReader, StepGrid, round_div
from bandmate.tokens.base import BOS, EOS, SPECIALS, Tokenizer

DRUM_TRACK_NAME = "Drums"

#: GM drum notes that are not voices of their own but join a voice of their family.
GM_ALIASES: dict[int, str] = {
    48: "tom_mid", 59: "ride", 67: "cowbell", 68: "cowbell", 74: "guiro", 77: "woodblock",
    80: "triangle", 82: "shaker", 83: "tamb", 85: "clave", 86: "kick", 87: "kick",
}  # fmt: skip


class DrumTokenizer(Tokenizer):
    """Drum tokens (see the module docstring for the layout).

    steps_per_beat: grid steps per quarter note (4: 16ths).
    velocity_bins: how many VEL tokens share 1-127.
    shift_bins: how many SHIFT tokens share a step (odd, so that 0 is one of them).
    voices: names from DRUM_VOICES that get a DRUM token, in vocabulary order.
    meters: "n/d" meters that get a METER token.
    """

    kind = "drums"

    def __init__(
        self,
        steps_per_beat: int = 4,
        velocity_bins: int = 8,
        shift_bins: int = 7,
        voices: Iterable[str] = tuple(DRUM_VOICES),
        meters: Iterable[str] = DEFAULT_METERS,
    ):
        voices = tuple(voices)
        unknown = [v for v in voices if v not in DRUM_VOICES]
        if unknown or len(set(voices)) != len(voices) or not voices:
            raise ValueError(f"voices must be distinct names from DRUM_VOICES, got {voices}")
        if not 1 <= velocity_bins <= 63:
            raise ValueError(f"velocity_bins must be 1-63, got {velocity_bins}")
        if shift_bins < 1 or shift_bins % 2 == 0:
            raise ValueError(f"shift_bins must be odd, got {shift_bins}")
        self.velocity_bins, self.shift_bins, self.voices = velocity_bins, shift_bins, voices
        self._grid = StepGrid(meters, steps_per_beat, tokenizer="drums")
        half = shift_bins // 2
        vocab: list[tuple[str, tuple[str, Any]]] = [(s, ("special", None)) for s in SPECIALS]
        vocab += [(name, ("meter", meter)) for name, meter in self._grid.meter_tokens()]
        vocab.append((BAR, ("bar", None)))
        vocab += [(f"STEP_{k}", ("step", k)) for k in range(self._grid.max_bar_steps)]
        vocab += [(f"DRUM_{v}", ("drum", i)) for i, v in enumerate(voices)]
        vocab += [(f"VEL_{b}", ("vel", b)) for b in range(velocity_bins)]
        vocab += [(f"SHIFT_{s:+d}", ("shift", s)) for s in range(-half, half + 1)]
        self._names = [name for name, _ in vocab]
        self._meanings = [meaning for _, meaning in vocab]
        self._ids = {name: i for i, name in enumerate(self._names)}
        self._voice_of_note = {DRUM_VOICES[v]: i for i, v in enumerate(voices)}
        for note, voice in GM_ALIASES.items():
            if voice in voices:
                self._voice_of_note.setdefault(note, voices.index(voice))

    # --- the Tokenizer interface -----------------------------------------------------------------
    def token_names(self) -> list[str]:
        return list(self._names)

    def settings(self) -> dict[str, Any]:
        return {
            "steps_per_beat": self._grid.steps_per_beat,
            "velocity_bins": self.velocity_bins,
            "shift_bins": self.shift_bins,
            "voices": list(self.voices),
            "meters": list(self._grid.meters),
        }

    def encode(self, score: Score) -> list[int]:
        """Tokens for the drum tracks of `score`, from <bos> to <eos>.

        Raises TokenizeError when the score has a meter without a token.
        """
        fine = self._grid.steps_per_beat * self.shift_bins  # fine grid points per quarter note
        half = self.shift_bins // 2
        hits: dict[int, dict[tuple[int, int], int]] = {}  # step -> (voice, shift) -> velocity
        for track in score.tracks:
            if not track.is_drum:
                continue
            for note in track.notes:
                voice = self._voice_of_note.get(note.pitch)
                if voice is None:
                    continue
                point = round_div(note.onset_ticks * fine, score.ticks_per_beat)
                step = (point + half) // self.shift_bins
                in_step = hits.setdefault(step, {})
                key = (voice, point - step * self.shift_bins)
                in_step[key] = max(in_step.get(key, 0), note.velocity)
        steps = sorted(hits)
        bars = self._grid.layout(score, max(steps, default=0))

        names = [SPECIALS[BOS]]
        i = 0
        for index, bar in enumerate(bars):
            names += self._grid.bar_opening(bars, index, "STEP_")
            end = bar.start_steps + bar.length_steps
            while i < len(steps) and steps[i] < end:
                names.append(f"STEP_{steps[i] - bar.start_steps}")
                for (voice, shift), velocity in sorted(hits[steps[i]].items()):
                    names += [
                        f"DRUM_{self.voices[voice]}",
                        f"VEL_{self._velocity_bin(velocity)}",
                        f"SHIFT_{shift:+d}",
                    ]
                i += 1
        names.append(SPECIALS[EOS])
        return [self._ids[name] for name in names]

    def decode(self, tokens: Iterable[int]) -> Score:
        """One drum track from `tokens` (see the module docstring for lenient reading)."""
        reader = BarReader(self._grid)
        hits: list[tuple[int, int, int, int]] = []  # step, voice, velocity bin, shift
        pending: list[int] | None = None  # [step, voice, velocity bin, shift] being read

        def flush():
            nonlocal pending
            if pending is not None:
                hits.append(tuple(pending))
            pending = None

        for token in tokens:
            kind, value = self._meaning(token)
            if kind == "vel" and pending is not None:
                pending[2] = value
                continue
            if kind == "shift" and pending is not None:
                pending[3] = value
                flush()
                continue
            flush()
            if kind == "special" and token == EOS:
                break
            if kind == "meter":
                reader.read_meter(value)
            elif kind == "bar":
                reader.read_bar()
            elif kind == "step":
                reader.read_position(value)
            elif kind == "drum":
                pending = [reader.step(), value, self.velocity_bins // 2, 0]
        flush()

        step_ticks = self._grid.ticks_per_step
        notes = [
            Note(
                max(0, round_div((step * self.shift_bins + shift) * step_ticks, self.shift_bins)),
                step_ticks,
                DRUM_VOICES[self.voices[voice]],
                self._bin_velocity(velocity),
            )
            for step, voice, velocity, shift in hits
        ]
        track = Track(DRUM_TRACK_NAME, is_drum=True, role=Role.DRUMS, notes=notes)
        return Score(tracks=(track,), time_signatures=reader.time_signatures())

    # --- helpers for samplers --------------------------------------------------------------------
    def token_id(self, name: str) -> int:
        """The id of the token called `name` ("BAR", "DRUM_kick", "SHIFT_-1")."""
        try:
            return self._ids[name]
        except KeyError:
            raise KeyError(f"no token {name!r} in this drum vocabulary") from None

    def pitch_token_ids(self) -> dict[int, int]:
        """GM drum note -> DRUM token id, for every voice (its own note, not the aliases)."""
        return {DRUM_VOICES[v]: self._ids[f"DRUM_{v}"] for v in self.voices}

    def is_pitch_token(self, token_id: int) -> bool:
        """Whether `token_id` is a DRUM token (the drum kit's "pitches")."""
        return self._meanings[token_id][0] == "drum" if 0 <= token_id < len(self._names) else False

    def pitch_of(self, token_id: int) -> int:
        """The GM drum note of a DRUM token; ValueError for any other token."""
        kind, value = self._meaning(token_id)
        if kind != "drum":
            raise ValueError(f"token {token_id} ({self._names[token_id]}) is not a drum token")
        return DRUM_VOICES[self.voices[value]]

    def transpose_tokens(self, tokens: Iterable[int], semitones: int) -> list[int]:
        """Drums do not transpose: the same tokens."""
        return [int(t) for t in tokens]

    # --- internals -------------------------------------------------------------------------------
    def _meaning(self, token: int) -> tuple[str, Any]:
        token = int(token)
        if not 0 <= token < len(self._meanings):
            raise ValueError(f"token id {token} is outside this vocabulary of {len(self._names)}")
        return self._meanings[token]

    def _velocity_bin(self, velocity: int) -> int:
        return (velocity - 1) * self.velocity_bins // 127

    def _bin_velocity(self, velocity_bin: int) -> int:
        """The middle of a velocity bin."""
        return 1 + (2 * velocity_bin + 1) * 127 // (2 * self.velocity_bins)
