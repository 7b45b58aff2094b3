"""A guide that keeps a sampled lead sheet on its bars and chords (see `models.sampling.Guide`).

The melody model writes lead-sheet tokens (`tokens.melody`): `BAR`, then per event `POS_k`, a
chord if one starts there, a `PITCH` and its `DUR`. Left alone it invents its own chords and
stops when it likes. `LeadSheetGuide` reads the tokens as they are written and allows, at each
position, only what keeps the piece on its plan:

- **bars**: the piece has exactly the planned bars, each in its meter; a bar ends (the next
  `[METER] BAR`, or `<eos>` after the last bar) only when the model chooses to end it, never
  before a note has sounded in it (struck there or held over from the bar before; a prompt's
  note held over counts only when it fills the bar), and positions only move forward inside
  it;
- **chords** (`chords=`, per bar the (position, chord tokens) of a chart): each is written where
  it starts, as the chart has it; a position may not jump past a chord that has not been
  written, and the model never writes a chord of its own. Without a chart (continuing a tune)
  the model writes its chords itself, as it learnt to;
- **grammar**: a `PITCH` only right after a position (or its chord) and always followed by a
  `DUR` that does not run past the end of the piece; no STYLE or KEY token after the prompt.

It also leans (`bias`), never forbids: chord tones get `chord_tone_bias` nats on strong beats
(the downbeat, and the middle of a 4/4, 2/2, 6/8 or 12/8 bar) and a third of that on other
beats; `density` tilts the note lengths (`DUR_d` gets `-density * log d`: positive gives more,
shorter notes); and the piece closes: a note on the last bar's downbeat leans to the final
chord's root (twice `cadence_bias`, nats) and to ringing through the bar (three times), since a
left-to-right model cannot see that the piece is about to end. These are documented defaults
of `bandmate melody`, measured in `bench/compose.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from bandmate.score.model import TimeSignature
from bandmate.theory.chords import ChordSymbol
from bandmate.tokens.base import EOS
from bandmate.tokens.melody import MelodyTokenizer

STRONG_HALF_METERS = {(4, 4), (2, 2), (6, 8), (12, 8), (6, 4), (4, 2)}
CADENCE_BIAS = 3.0  # nats; see the module docstring


@dataclass
class PlannedBar:
    """A bar the guide must write: its opening tokens ([METER] BAR), length and chords."""

    opening: list[int]
    meter: tuple[int, int]
    length_steps: int
    chords: list[tuple[int, list[int]]] = field(default_factory=list)  # (position, tokens)


def plan_bars(tokenizer: MelodyTokenizer, skeleton: Sequence[int]) -> list[PlannedBar]:
    """The bars of a skeleton stream (tokens of a lead sheet without notes: meters, bars and
    chords), as `tokenizer.encode` writes it. A short bar (a pickup: `POS_k METER BAR` cuts the
    bar at step k) gets length k, and the cut opens the next bar."""
    bars: list[PlannedBar] = []
    opening: list[int] = []
    meter = (4, 4)
    kinds = [tokenizer.meaning(t) for t in skeleton]
    for i, (token, (kind, value)) in enumerate(zip(skeleton, kinds, strict=True)):
        cut = kind == "pos" and i + 1 < len(kinds) and kinds[i + 1][0] == "meter"
        if cut:
            if bars:
                bars[-1].length_steps = value
            opening.append(token)
        elif kind == "meter":
            meter = value
            opening.append(token)
        elif kind == "bar":
            length = TimeSignature(0, *meter).bar_ticks(tokenizer.steps_per_beat)
            bars.append(PlannedBar([*opening, token], meter, length))
            opening = []
        elif kind == "pos" and bars:
            bars[-1].chords.append((value, []))
        elif kind in ("chord", "bass") and bars and bars[-1].chords:
            bars[-1].chords[-1][1].append(token)
    return bars


def strong_positions(meter: tuple[int, int], length_steps: int) -> set[int]:
    """Steps of a bar that count as strong beats: the downbeat, and the middle in duple meters."""
    strong = {0}
    if meter in STRONG_HALF_METERS:
        strong.add(length_steps // 2)
    return strong


class LeadSheetGuide:
    """Steers the melody model through `bars` (see the module docstring).

    tokenizer: the model's. bars: the bars to write, in order (`plan_bars` of a chart's skeleton;
        to continue a tune, `PlannedBar`s without chords and `fixed_chords=False`, so the model
        writes its own). prompt_length: how many tokens precede the first planned bar (`<bos>`,
        style, key, maybe a tune to continue). held_steps: steps from the first planned bar's
        start during which a note of the prompt still sounds (a tune's last note held over its
        final bar line): no new note starts under it, but a chord may (the chart's, or the
        model's own on a strong beat: a chord symbol on the downbeat under a tied note), and a
        bar it leaves room in has a note of its own after it.
    """

    def __init__(
        self,
        tokenizer: MelodyTokenizer,
        bars: Sequence[PlannedBar],
        prompt_length: int,
        *,
        fixed_chords: bool = True,
        chord_tone_bias: float = 1.0,
        cadence_bias: float = CADENCE_BIAS,
        density: float = 0.0,
        held_steps: int = 0,
    ):
        self.tok = tokenizer
        self.bars = list(bars)
        self.fixed_chords = fixed_chords
        self.chord_tone_bias = chord_tone_bias
        self.cadence_bias = cadence_bias
        self._chord_root: int | None = None
        self.prompt_length = prompt_length
        v = tokenizer.vocab_size
        meanings = [tokenizer.meaning(t) for t in range(v)]
        self._kind = np.array([kind for kind, _ in meanings])
        self._pos_ids = {value: t for t, (kind, value) in enumerate(meanings) if kind == "pos"}
        self._pitch = np.array([value if kind == "pitch" else -1 for kind, value in meanings])
        self._dur = np.array([value if kind == "dur" else 0 for kind, value in meanings])
        self._dur_bias = np.zeros(v, dtype=np.float32)
        is_dur = self._kind == "dur"
        self._dur_bias[is_dur] = -density * np.log(self._dur[is_dur])
        self._total_steps = sum(b.length_steps for b in self.bars)
        # the state after the tokens read so far
        self._read = 0
        self._bar = -1  # the bar being written (an index into bars); -1 before the first
        self._opening_left: list[int] = []  # forced tokens that open the next bar
        self._chord_left: list[int] = []  # forced chart-chord tokens at this position
        self._chord_index = 0  # the bar's next chart chord
        self._position = -1  # the last position written in the bar
        self._after = "boundary"  # boundary | pos | chord | bass | pitch
        self._chord_tones: set[int] = set()
        self._steps_before_bar = 0  # steps from the first planned bar to this bar's start
        self._sounding_until = 0  # where the last note written ends, in the same steps
        self._held_until = held_steps  # where the prompt's last note ends, in the same steps
        self._sounded = False  # whether a note sounds anywhere in the bar being written
        self.bar_token_starts: list[int] = []  # where each planned bar's opening begins
        self._index = prompt_length  # the token being read
        self._start_next_bar(prompt_length)

    # --- the Guide protocol ---------------------------------------------------------------
    def mask(self, position: int, tokens: Sequence[int]) -> np.ndarray:
        self._catch_up(tokens)
        allowed = np.zeros(self.tok.vocab_size, dtype=bool)
        if self.finished:
            allowed[EOS] = True
        elif self._opening_left:
            allowed[self._opening_left[0]] = True
        elif self._chord_left:
            allowed[self._chord_left[0]] = True
        elif self._after == "pitch":
            left = self._total_steps - self._steps_before_bar - self._position
            allowed[(self._kind == "dur") & (self._dur <= max(left, 1))] = True
        elif self._after == "pos":
            if not self._under_hold(self._position):
                allowed[self._pitch >= 0] = True
            if not self.fixed_chords:
                allowed[self._kind == "chord"] = True
        else:  # between events: a later position, or the bar's end once its chords are written
            pending = self._pending_chord_position()
            last = self._bar_length() - 1 if pending is None else pending
            first = max(self._position + 1, self._held_until - self._steps_before_bar)
            for k in range(first, last + 1):
                allowed[self._pos_ids[k]] = True
            for k in self._chord_positions_under_hold(last):
                allowed[self._pos_ids[k]] = True
            if self._after in ("chord", "bass") and not self._under_hold(self._position):
                allowed[self._pitch >= 0] = True  # the note under the chord
            if self._after == "chord" and not self.fixed_chords:
                allowed[self._kind == "bass"] = True
            # a bar ends once its chords are written, and not in silence (a melody with a
            # whole bar of rest in it, 8% of bars before, reads as a hole; it may rest inside)
            no_room = first > last
            if pending is None and (self._sounded or no_room):
                nxt = self._bar + 1
                allowed[self.bars[nxt].opening[0] if nxt < len(self.bars) else EOS] = True
        return allowed

    def bias(self, position: int, tokens: Sequence[int]) -> np.ndarray | None:
        self._catch_up(tokens)
        cadence = self.cadence_bias and self._bar == len(self.bars) - 1 and self._position == 0
        if self._after == "pitch":
            if not cadence:
                return self._dur_bias
            held = self._dur == self._bar_length()  # the last note rings to the end
            return self._dur_bias + np.where(held, 3 * self.cadence_bias, 0.0).astype(np.float32)
        if self._after not in ("pos", "chord", "bass") or not self._chord_tones:
            return None
        if cadence and self._chord_root is not None:  # end on the final chord's root
            root = (self._pitch % 12 == self._chord_root) & (self._pitch >= 0)
            return np.where(root, 2 * self.cadence_bias, 0.0).astype(np.float32)
        meter = self._meter()
        beat = self.tok.steps_per_beat * 4 // meter[1]
        if self._position in strong_positions(meter, self._bar_length()):
            weight = self.chord_tone_bias
        elif self._position % beat == 0:
            weight = self.chord_tone_bias / 3
        else:
            return None
        tones = np.isin(self._pitch % 12, sorted(self._chord_tones)) & (self._pitch >= 0)
        return np.where(tones, weight, 0.0).astype(np.float32)

    @property
    def finished(self) -> bool:
        return self._bar >= len(self.bars)

    def completed_bars(self, tokens: Sequence[int]) -> tuple[int, int]:
        """(bars of the plan that `tokens` complete, the index in `tokens` where the first
        incomplete one begins: len(tokens) when all are complete)."""
        self._catch_up(tokens)
        if self.finished:
            return len(self.bars), len(tokens)
        done = max(self._bar, 0)
        return done, self.bar_token_starts[done] if done < len(self.bar_token_starts) else len(
            tokens
        )

    # --- state ----------------------------------------------------------------------------
    def _catch_up(self, tokens: Sequence[int]) -> None:
        for index in range(self._read, len(tokens)):
            token = int(tokens[index])
            self._index = index  # for _start_next_bar
            if index < self.prompt_length:  # the prompt only says which chord is sounding
                kind, value = self.tok.meaning(token)
                if kind == "chord":
                    self._set_chord(value)
            else:
                self._read_token(token)
        self._read = len(tokens)

    def _read_token(self, token: int) -> None:
        kind, value = self.tok.meaning(token)
        if self._opening_left:
            self._opening_left.pop(0)
            if not self._opening_left:
                self._position, self._chord_index, self._after = -1, 0, "boundary"
            return
        if self._chord_left:
            self._chord_left.pop(0)
            if kind == "chord":
                self._set_chord(value)
            self._after = "chord" if kind == "chord" else "bass"
            return
        if kind == "pos" and self._bar < len(self.bars) - 1 and value >= self._bar_length():
            self._start_next_bar(self._index)  # a short bar's cut opens the next bar
            self._read_token(token)
        elif kind == "pos":
            self._position = value
            if self._pending_chord_position() == value:
                self._chord_left = list(self.bars[self._bar].chords[self._chord_index][1])
                self._chord_index += 1
            self._after = "pos"
        elif kind == "chord":
            self._set_chord(value)
            self._after = "chord"
        elif kind in ("bass", "pitch"):
            self._after = kind
        elif kind == "dur":
            self._after = "boundary"
            self._sounded = True
            end = self._steps_before_bar + self._position + value
            self._sounding_until = max(self._sounding_until, end)
        elif kind == "special" and token == EOS:
            self._bar = len(self.bars)
        elif kind in ("meter", "bar"):
            self._start_next_bar(self._index)
            self._read_token(token)  # the first of the new bar's opening tokens

    def _set_chord(self, value) -> None:
        self._chord_tones = set(_chord_tones(value))
        self._chord_root = value[0] if value is not None else None

    def _start_next_bar(self, at: int) -> None:
        """Move to the next planned bar, whose opening begins at token index `at`."""
        self._steps_before_bar += self._bar_length()
        self._bar += 1
        # a note the model held over sounds in the bar; the prompt's last note does not count:
        # a bar that rang with its tail and then rested was heard as the tune stalling (13 of
        # 72 first new bars, 12 seeds of 6 tunes, once a chord could start under the note).
        # Held through the bar, it leaves no room, and the bar may end (`mask`)
        self._sounded = self._sounding_until > self._steps_before_bar
        self.bar_token_starts.append(at)
        self._opening_left = list(self.bars[self._bar].opening) if not self.finished else []

    def _under_hold(self, position: int) -> bool:
        """Whether `position` of the bar being written is under the prompt's held note."""
        return self._steps_before_bar + position < self._held_until

    def _chord_positions_under_hold(self, last: int) -> list[int]:
        """Positions after the last one written, up to `last`, where a chord may start under
        the prompt's held note, though no note may: the chart's next chord where it is, or
        (writing its own chords) a strong beat, where chords change: the downbeat, and the
        middle of a duple bar. Forbidden, the first bar lost the chord the model writes on
        every downbeat, and with it half the notes it writes after it."""
        held = self._held_until - self._steps_before_bar
        first = self._position + 1
        if self.fixed_chords:
            pending = self._pending_chord_position()
            return [pending] if pending is not None and first <= pending < held else []
        strong = strong_positions(self._meter(), self._bar_length())
        return sorted(k for k in strong if first <= k < held and k <= last)

    def _bar_length(self) -> int:
        return 0 if self._bar < 0 else self.bars[self._bar].length_steps

    def _meter(self) -> tuple[int, int]:
        return self.bars[max(self._bar, 0)].meter

    def _pending_chord_position(self) -> int | None:
        if self._bar < 0 or not self.fixed_chords:
            return None
        chords = self.bars[self._bar].chords
        return chords[self._chord_index][0] if self._chord_index < len(chords) else None


def _chord_tones(value) -> tuple[int, ...]:
    """The pitch classes of a chord token's (root, quality); none for N.C."""
    if value is None:
        return ()
    root, quality = value
    return ChordSymbol(0, "C", quality).transpose(root).chord_tones()
