"""Hypothesis strategies shared by the melody and drum tokenizer tests."""

from __future__ import annotations

from hypothesis import strategies as st

from bandmate.score import TimeSignature

TPB = 480
METERS = ("4/4", "3/4", "6/8", "2/4", "5/4", "7/8", "12/8", "2/2")


@st.composite
def meter_maps(draw, steps_per_beat: int) -> tuple[tuple[TimeSignature, ...], int]:
    """(time signatures at 480 ticks per beat, end tick): 1-4 meters of 1-3 bars each.

    A segment's last bar may be cut short by the next meter on any grid step, so pickup bars and
    short bars before a meter change occur.
    """
    step_ticks = TPB // steps_per_beat
    signatures, tick = [], 0
    for _ in range(draw(st.integers(1, 4))):
        numerator, denominator = map(int, draw(st.sampled_from(METERS)).split("/"))
        signatures.append(TimeSignature(tick, numerator, denominator))
        bar_ticks = TimeSignature(0, numerator, denominator).bar_ticks(TPB)
        tick += draw(st.integers(1, 3)) * bar_ticks
        if draw(st.booleans()):
            tick -= step_ticks * draw(st.integers(1, bar_ticks // step_ticks - 1))
    return tuple(signatures), tick
