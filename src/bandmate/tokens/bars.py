"""The bar-and-step timeline that the melody and drum tokenizers share.

Both write time the REMI way: `METER_n_d` where the meter changes, `BAR` at every bar line, and a
position token (`POS_k` for melodies, `STEP_k` for drums) before the events at step `k` of the
bar. A step is a fixed fraction of a quarter note (`steps_per_beat`); onsets are rounded to the
nearest step (halves round up), meter changes included.

Meter tokens and short bars:

* `METER_n_d` comes right before the `BAR` that it starts, and once for every time signature in
  the score (a repeated 4/4 is written again, so that the meter map survives a round trip).
* A time signature inside a bar cuts that bar short, as `BarGrid` does; that is how a pickup bar
  looks after `read_musicxml` (4/4 at tick 0 and 4/4 again at tick 480). The encoder then writes
  the length of the short bar as a position token before the meter: `POS_4 METER_4_4 BAR` ends
  the current bar after four steps. A position token followed directly by a meter token means
  nothing else, so a decoder reads it without look-ahead.
* The vocabulary has one token per meter in `meters` ("n/d" strings). The default covers every
  n/2, n/4 and n/8 meter of up to eight quarter notes; a score in any other meter raises
  `TokenizeError`, which says which meters the tokenizer knows.

Decoding writes at `DEFAULT_TICKS_PER_BEAT` (480), which every supported step grid divides.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bandmate.errors import UserError
from bandmate.score.model import DEFAULT_TICKS_PER_BEAT, TimeSignature
from bandmate.score.timing import BarGrid

#: Every n/2, n/4 and n/8 meter whose bar holds at most eight quarter notes.
DEFAULT_METERS: tuple[str, ...] = tuple(
    f"{n}/{d}" for d in (4, 8, 2) for n in range(1, 8 * d // 4 + 1)
)
BAR = "BAR"


class TokenizeError(UserError):
    """A score that a tokenizer's vocabulary cannot express (a meter it has no token for)."""


def meter_token(numerator: int, denominator: int) -> str:
    return f"METER_{numerator}_{denominator}"


def round_div(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded to the nearest integer, halves up (denominator > 0)."""
    return (2 * numerator + denominator) // (2 * denominator)


@dataclass(frozen=True)
class BarSpan:
    """One bar of an encoded piece, in steps.

    `length_steps` is the bar's actual length: shorter than its meter's bar when `cut` (a time
    signature in the middle of the bar ended it early). `meter_change` says whether a time
    signature starts at `start_steps`.
    """

    start_steps: int
    length_steps: int
    meter: TimeSignature
    meter_change: bool
    cut: bool


class StepGrid:
    """Bars and steps for one tokenizer: its meter vocabulary and the step length.

    meters: "n/d" strings, one `METER_n_d` token each, in this order.
    steps_per_beat: steps per quarter note; it must divide 480 (the tick resolution of decoded
        scores) and give every meter a whole number of steps per bar.
    """

    def __init__(self, meters: Iterable[str], steps_per_beat: int, *, tokenizer: str):
        self.steps_per_beat = steps_per_beat
        self.tokenizer = tokenizer
        if steps_per_beat < 1 or DEFAULT_TICKS_PER_BEAT % steps_per_beat:
            raise ValueError(f"steps_per_beat must divide {DEFAULT_TICKS_PER_BEAT}")
        self.meters: dict[str, tuple[int, int]] = {}
        for text in meters:
            numerator, denominator = _parse_meter(text)
            if (numerator * steps_per_beat * 4) % denominator:
                raise ValueError(f"a {text} bar is not a whole number of steps")
            self.meters[text] = (numerator, denominator)
        if not self.meters:
            raise ValueError("a tokenizer needs at least one meter")
        self.max_bar_steps = max(
            TimeSignature(0, n, d).bar_ticks(steps_per_beat) for n, d in self.meters.values()
        )

    @property
    def ticks_per_step(self) -> int:
        """Ticks per step in a decoded score."""
        return DEFAULT_TICKS_PER_BEAT // self.steps_per_beat

    def meter_tokens(self) -> list[tuple[str, tuple[int, int]]]:
        """(token name, (numerator, denominator)) for every meter, in vocabulary order."""
        return [(meter_token(n, d), (n, d)) for n, d in self.meters.values()]

    def to_step(self, ticks: int, ticks_per_beat: int) -> int:
        """The step nearest to `ticks` (halves round up)."""
        return round_div(ticks * self.steps_per_beat, ticks_per_beat)

    def layout(self, score, last_step: int) -> list[BarSpan]:
        """The bars that hold `score`'s meter map and every event up to step `last_step`.

        Raises TokenizeError for a time signature that has no token.
        """
        by_step: dict[int, TimeSignature] = {}
        for ts in score.time_signatures:
            text = f"{ts.numerator}/{ts.denominator}"
            if text not in self.meters:
                bar = score.bar_grid.bar_at(ts.onset_ticks) + 1
                raise TokenizeError(
                    f"The {self.tokenizer} tokenizer has no token for the meter {text} in bar "
                    f"{bar}; it knows {', '.join(self.meters)}."
                )
            step = self.to_step(ts.onset_ticks, score.ticks_per_beat)
            by_step[step] = TimeSignature(step, ts.numerator, ts.denominator)
        grid = BarGrid([by_step[s] for s in sorted(by_step)], self.steps_per_beat)
        end = max(last_step, max(by_step)) + 1
        bars = []
        for index in range(grid.bar_count(end)):
            start, following = grid.bar_start(index), grid.bar_start(index + 1)
            meter = grid.meter_at(start)
            length = following - start
            cut = length < meter.bar_ticks(self.steps_per_beat)
            bars.append(BarSpan(start, length, meter, start in by_step, cut))
        return bars

    @staticmethod
    def bar_opening(bars: Sequence[BarSpan], index: int, position_prefix: str) -> list[str]:
        """Token names that open bar `index`: [cut position] [meter] BAR."""
        bar = bars[index]
        names = []
        if bar.meter_change:
            if index > 0 and bars[index - 1].cut:
                names.append(f"{position_prefix}{bars[index - 1].length_steps}")
            names.append(meter_token(bar.meter.numerator, bar.meter.denominator))
        names.append(BAR)
        return names


class BarReader:
    """Follows the time tokens of a stream being decoded.

    Feed it every METER, BAR and position token; `step()` then gives the absolute step of an event
    at the current position. Streams that break the grammar still decode: an event before the
    first BAR opens bar 0, and a position past the end of its bar is taken as it is.
    """

    def __init__(self, grid: StepGrid):
        self._grid = grid
        self._signatures: list[TimeSignature] = []  # onsets in steps
        self._meter = (4, 4)  # a stream without meter tokens is in 4/4, as a Score is
        self._bar_start: int | None = None
        self._position = 0
        self._cut_at: int | None = None  # a position read with no event after it yet
        self._next_start: int | None = None  # where the next BAR starts, once a meter said so

    def _bar_length(self, meter: tuple[int, int]) -> int:
        return TimeSignature(0, *meter).bar_ticks(self._grid.steps_per_beat)

    def read_meter(self, meter: tuple[int, int]) -> None:
        if self._next_start is None:
            if self._bar_start is None:
                self._next_start = 0
            elif self._cut_at is not None:
                self._next_start = self._bar_start + self._cut_at
            else:
                self._next_start = self._bar_start + self._bar_length(self._meter)
        self._signatures.append(TimeSignature(self._next_start, *meter))
        self._meter = meter
        self._cut_at = None

    def read_bar(self) -> None:
        if self._next_start is not None:
            start = self._next_start
        elif self._bar_start is None:
            start = 0
        else:
            start = self._bar_start + self._bar_length(self._meter)
        if not self._signatures:  # the first bar, and no meter token before it
            self._signatures.append(TimeSignature(0, *self._meter))
        self._bar_start, self._position = start, 0
        self._cut_at = self._next_start = None

    def read_position(self, position: int) -> None:
        self._position = self._cut_at = position

    def step(self) -> int:
        """Absolute step of an event at the current position."""
        if self._bar_start is None:
            self.read_bar()
        self._cut_at = None
        return self._bar_start + self._position

    def time_signatures(self) -> tuple[TimeSignature, ...]:
        """The meters read so far, with onsets in ticks of a decoded score."""
        scale = self._grid.ticks_per_step
        return tuple(
            TimeSignature(ts.onset_ticks * scale, ts.numerator, ts.denominator)
            for ts in self._signatures
        ) or (TimeSignature(0, 4, 4),)


def _parse_meter(text: str) -> tuple[int, int]:
    try:
        numerator, denominator = (int(part) for part in str(text).split("/"))
        TimeSignature(0, numerator, denominator)
    except ValueError:
        raise ValueError(f"{text!r} is not a meter; write it like 4/4 or 6/8") from None
    return numerator, denominator
