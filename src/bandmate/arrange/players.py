"""The players: one function per generator that turns a SongPlan into one part's notes.

Each generator module (`drums`, `bass`, `comp`) provides

    check_pattern(pattern, grid) -> str | None    # what is wrong with a pattern, or None
    play(song, part, style, rng) -> list[Note]     # the part's notes for the whole song

Players place notes exactly on the pattern grid; swing, humanization and a user's groove are
applied afterwards to every part alike (`arrange.feel`), so that the band swings together.
The `pad` generator is `comp` with sustained voicings.

A bar whose meter differs from the style's (a 3/4 bar in a 4/4 style) keeps the style's step
length and plays as many steps as fit, from the start of the pattern.
"""

from __future__ import annotations

import importlib
from fractions import Fraction

from bandmate.arrange.plan import BarPlan

_MODULES = {"drums": "drums", "bass": "bass", "comp": "comp", "pad": "comp"}


def _module(generator: str):
    return importlib.import_module(f"bandmate.arrange.{_MODULES[generator]}")


def check_pattern(generator: str, pattern, grid: int) -> str | None:
    return _module(generator).check_pattern(pattern, grid)


def play(song, part, style, rng) -> list:
    return _module(part.generator).play(song, part, style, rng)


def step_ticks(bar: BarPlan, style) -> Fraction:
    """Length of one pattern step in ticks: the style's bar divided into `grid` steps."""
    ticks_per_quarter = Fraction(bar.length_ticks * bar.meter[1], bar.meter[0] * 4)
    style_bar_quarters = Fraction(style.meter[0] * 4, style.meter[1])
    return style_bar_quarters * ticks_per_quarter / style.grid


def steps_in_bar(bar: BarPlan, style) -> int:
    """How many pattern steps fit in `bar` (the style's grid for a bar of the style's meter)."""
    return int(Fraction(bar.length_ticks) / step_ticks(bar, style))


def step_onset(bar: BarPlan, style, step: int) -> int:
    """Absolute tick of pattern step `step` in `bar`."""
    return bar.start_ticks + round(step * step_ticks(bar, style))


def step_is_beat(bar: BarPlan, style, step: int) -> bool:
    """Whether a step falls on a beat of the bar's meter (quarter notes in x/4, eighths in x/8)."""
    beat = Fraction(bar.length_ticks, bar.meter[0])
    return (step * step_ticks(bar, style)) % beat == 0


FIRST_VARIANT_CHANCE = 0.5  # the first variant is the style's main groove; the others vary it


def pattern_sets(bar: BarPlan) -> tuple[str, ...]:
    """The pattern sets a part would like to play in `bar`, most specific first.

    The ending's bars want "ending", the bar before a new section "fill", the intro "intro";
    every bar falls back to "low" or "high" by the form's intensity.
    """
    if bar.part == "ending":
        return ("ending", bar.level)
    if bar.part == "intro":
        return ("intro", bar.level)
    if bar.ends_section:
        return ("fill", bar.level)
    return (bar.level,)


def choose_pattern(bar: BarPlan, part, rng):
    """The pattern `part` plays in `bar`: from the first wanted set the style gives, a variant.

    The first variant plays half the time and the others share the rest, so that repeated bars
    vary around the style's main groove.
    """
    wanted = next((s for s in pattern_sets(bar) if s in part.patterns), bar.level)
    variants = part.variants(wanted)
    if len(variants) == 1 or rng.random() < FIRST_VARIANT_CHANCE:
        return variants[0]
    return variants[int(rng.integers(1, len(variants)))]


def base_velocity(bar: BarPlan, part, accent: float = 1.0) -> int:
    """A velocity from the bar's intensity, an accent factor and the part's volume (1-127)."""
    v = (40 + 80 * bar.intensity) * accent * part.volume
    return max(1, min(127, round(v)))
