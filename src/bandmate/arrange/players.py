"""The players: one function per generator that turns a SongPlan into one part's notes.

Each generator module (`drums`, `bass`, `comp`) provides

    check_pattern(pattern, grid) -> str | None    # what is wrong with a pattern, or None
    play(song, part, style, rng) -> list[Note]     # the part's notes for the whole song

Players place notes exactly on the pattern grid; swing, humanization and a user's groove are
applied afterwards to every part alike (`arrange.feel`), so that the band swings together.
The `pad` generator is `comp` with sustained voicings.

A bar whose meter differs from the style's (a 3/4 bar in a 4/4 style) keeps the style's step
length and plays as many steps as fit, from the start of the pattern. A bar that beats in three
where the style beats in two, or the other way round (a 12/8 bar in a 4/4 style, a 4/4 bar in
a 6/8 one), is played beat for beat instead (`beat_mapped`): the style's beats fall on the bar's
beats, a 12/8 bar's four dotted quarters taking a 4/4 groove's four quarters, and the steps
inside a beat move with it, straight 8ths and 16ths onto the triplet as a drummer plays a
straight groove in 12/8 (`feel.swing_position` at 2/3), and a triplet grid (a 12/8
feel, or a style written in triplets) spread evenly. Without this, a 12/8 bar in a 4/4 style
ran the 16 steps of its 4/4 bar and then half of them again, the downbeat's groove landing in
the middle of the bar.
"""

from __future__ import annotations

import functools
import importlib
from fractions import Fraction

from bandmate.arrange.feel import swing_position
from bandmate.arrange.plan import BarPlan

_MODULES = {"drums": "drums", "bass": "bass", "comp": "comp", "pad": "comp"}


def _module(generator: str):
    return importlib.import_module(f"bandmate.arrange.{_MODULES[generator]}")


def check_pattern(generator: str, pattern, grid: int) -> str | None:
    return _module(generator).check_pattern(pattern, grid)


def play(song, part, style, rng) -> list:
    return _module(part.generator).play(song, part, style, rng)


@functools.cache
def meter_beats(meter: tuple[int, int]) -> tuple[int, Fraction]:
    """A meter's beats: how many, and each one's length in quarter notes. A compound meter (6/8,
    9/8, 12/8: a multiple of three, more than three) beats in dotted notes, three units each."""
    count, unit = meter
    if unit >= 8 and count % 3 == 0 and count > 3:
        return count // 3, Fraction(12, unit)
    return count, Fraction(4, unit)


def _compound(meter: tuple[int, int]) -> bool:
    return meter_beats(meter)[0] != meter[0]


def beat_mapped(bar: BarPlan, style) -> bool:
    """Whether `bar` plays the style's pattern beat for beat: one of the two beats in three and
    the other in two, and the style's grid a whole number of steps a beat."""
    return _beat_mapped(bar.meter, style.meter, style.grid)


@functools.cache  # asked for every step of every part: the meters are few
def _beat_mapped(bar_meter: tuple[int, int], style_meter: tuple[int, int], grid: int) -> bool:
    style_beats = meter_beats(style_meter)[0]
    return _compound(bar_meter) != _compound(style_meter) and grid % style_beats == 0


def beat_ticks(bar: BarPlan) -> Fraction:
    """The length of one of the bar's beats in ticks (a dotted quarter in 12/8)."""
    return Fraction(bar.length_ticks, meter_beats(bar.meter)[0])


def _steps_per_beat(style) -> int:
    return style.grid // meter_beats(style.meter)[0]


def step_ticks(bar: BarPlan, style) -> Fraction:
    """Length of one pattern step in ticks: the style's bar divided into `grid` steps (in a
    beat-mapped bar, the bar's beat divided as the style divides its own)."""
    if beat_mapped(bar, style):
        return beat_ticks(bar) / _steps_per_beat(style)
    ticks_per_quarter = Fraction(bar.length_ticks * bar.meter[1], bar.meter[0] * 4)
    style_bar_quarters = Fraction(style.meter[0] * 4, style.meter[1])
    return style_bar_quarters * ticks_per_quarter / style.grid


def steps_in_bar(bar: BarPlan, style) -> int:
    """How many pattern steps fit in `bar` (the style's grid for a bar of the style's meter)."""
    if beat_mapped(bar, style):
        return meter_beats(bar.meter)[0] * _steps_per_beat(style)
    return int(Fraction(bar.length_ticks) / step_ticks(bar, style))


def step_onset(bar: BarPlan, style, step: int) -> int:
    """Absolute tick of pattern step `step` in `bar`."""
    if not beat_mapped(bar, style):
        return bar.start_ticks + round(step * step_ticks(bar, style))
    per_beat = _steps_per_beat(style)
    beat, within = divmod(step, per_beat)
    length = beat_ticks(bar)
    position = Fraction(within, per_beat) * length
    if _compound(bar.meter) and per_beat % 3:
        # straight steps in a beat of three: the 8th pairs swung onto the triplet
        position = swing_position(position, length, Fraction(2, 3))
    return bar.start_ticks + round(beat * length + position)


def step_is_beat(bar: BarPlan, style, step: int) -> bool:
    """Whether a step falls on a beat of the bar's meter (quarter notes in x/4, eighths in x/8;
    dotted quarters in a beat-mapped 12/8 bar)."""
    if beat_mapped(bar, style):
        return step % _steps_per_beat(style) == 0
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


def pattern_steps(pattern) -> list[str] | dict[str, str]:
    """A pattern's steps: tokens of a pitched part, or one character per step per drum voice.

    Drum step strings may group steps with spaces and `|`, which are not steps.
    """
    if isinstance(pattern, dict):
        return {voice: "".join(text.split()).replace("|", "") for voice, text in pattern.items()}
    return pattern.split()


def pattern_bars(pattern, grid: int) -> int:
    """How many bars a pattern spans (its steps are a multiple of the grid)."""
    steps = pattern_steps(pattern)
    count = len(next(iter(steps.values()))) if isinstance(steps, dict) else len(steps)
    return max(1, count // grid)


def check_steps(count: int, grid: int) -> str | None:
    """The step-count rule every generator shares: one bar of `grid` steps, or several bars."""
    if count == 0 or count % grid:
        return f"has {count} steps, the grid has {grid} (a pattern spans one or more whole bars)"
    return None


def choose_pattern(bar: BarPlan, part, rng, grid: int, phrases: dict | None = None):
    """The pattern `part` plays in `bar`: one bar's worth of a variant of the first wanted set.

    The first variant plays half the time and the others share the rest, so that repeated bars
    vary around the style's main groove. A variant may span several bars (a two-bar clave):
    the bar's place in its section says which of its bars plays, and `phrases` (a dict the
    player keeps for the whole song) holds the variant chosen where a phrase starts, so that one
    variant plays the phrase through.

    Returns the bar's steps as the style writes them: a string of tokens, or a drum-voice table.
    """
    wanted = next((s for s in pattern_sets(bar) if s in part.patterns), bar.level)
    variants = part.variants(wanted)
    phrases = {} if phrases is None else phrases
    remembered = phrases.get(wanted)
    if remembered is not None and remembered[0] == _phrase(bar, pattern_bars(remembered[1], grid)):
        variant = remembered[1]
    elif len(variants) == 1 or rng.random() < FIRST_VARIANT_CHANCE:
        variant = variants[0]
    else:
        variant = variants[int(rng.integers(1, len(variants)))]
    bars = pattern_bars(variant, grid)
    if bars == 1:
        return variant
    phrases[wanted] = (_phrase(bar, bars), variant)
    first = (bar.bar_in_section % bars) * grid
    steps = pattern_steps(variant)
    if isinstance(steps, dict):
        return {voice: text[first : first + grid] for voice, text in steps.items()}
    return " ".join(steps[first : first + grid])


def _phrase(bar: BarPlan, bars: int) -> tuple[int, int]:
    """Which phrase of `bars` bars `bar` belongs to: (its section's first bar, phrase number)."""
    return bar.index - bar.bar_in_section, bar.bar_in_section // bars


def base_velocity(bar: BarPlan, part, accent: float = 1.0) -> int:
    """A velocity from the bar's intensity, an accent factor and the part's volume (1-127)."""
    v = (40 + 80 * bar.intensity) * accent * part.volume
    return max(1, min(127, round(v)))
