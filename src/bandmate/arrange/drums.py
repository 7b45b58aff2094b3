"""The drummer: grooves, fills into new sections, a crash on the downbeat after, an ending hit.

A drum pattern is a table of drum voices, each a string of one character per grid step (spaces
and `|` may be used to group steps and are ignored):

    kick  = "x... .... x.x. ...."
    snare = ".... X..g .... X..."
    hat   = "x.x. x.x. x.x. x.x."

`.` rest, `x` hit, `X` accent, `g` ghost note, `o` a hit played about half the time (so that
repeated bars differ). Voices are named for the General MIDI drum map (`DRUM_VOICES`). A pattern
may span several bars (every voice the same length, a multiple of the grid).

Which pattern set plays in a bar: the style's "intro" set in the intro, "fill" in the bar before
a new section (or before the next pass through the chart), "ending" in the ending, and otherwise
"low" or "high" by the form's intensity. A new section opens with a crash in place of the
hi-hat or ride on beat 1. The song's last bar is a single hit of kick and crash that rings.
"""

from __future__ import annotations

from bandmate.arrange.players import (
    base_velocity,
    check_steps,
    choose_pattern,
    pattern_steps,
    step_onset,
    step_ticks,
    steps_in_bar,
)
from bandmate.score.model import Note

DRUM_VOICES = {
    "kick": 36, "kick2": 35, "snare": 38, "snare2": 40, "rim": 37, "clap": 39,
    "hat": 42, "pedal": 44, "open": 46, "ride": 51, "bell": 53, "crash": 49, "crash2": 57,
    "splash": 55, "china": 52, "tom_hi": 50, "tom_mid": 47, "tom_lo": 45, "floor": 43,
    "floor_lo": 41, "tamb": 54, "cowbell": 56, "shaker": 70, "cabasa": 69, "conga_hi": 63,
    "conga_mute": 62, "conga_lo": 64, "bongo_hi": 60, "bongo_lo": 61, "timbale_hi": 65,
    "timbale_lo": 66, "clave": 75, "guiro": 73, "woodblock": 76, "triangle": 81,
}  # fmt: skip
ACCENTS = {"x": 1.0, "X": 1.2, "g": 0.45, "o": 0.9}
OPTIONAL_CHANCE = 0.5
TIMEKEEPERS = ("hat", "ride", "pedal", "open")  # what a crash on beat 1 replaces


def check_pattern(pattern, grid: int) -> str | None:
    if not isinstance(pattern, dict) or not pattern:
        return 'a drum pattern is a table of drum voices, e.g. kick = "x..."'
    for voice, text in pattern.items():
        if voice not in DRUM_VOICES:
            return f"unknown drum voice {voice!r} (known: {', '.join(DRUM_VOICES)})"
        if not isinstance(text, str):
            return f"{voice} must be a string of steps"
        steps = pattern_steps({voice: text})[voice]
        problem = check_steps(len(steps), grid)
        if problem:
            return f"{voice} {problem}"
        bad = set(steps) - set(ACCENTS) - {"."}
        if bad:
            return f"{voice} has unknown step characters {''.join(sorted(bad))!r}; use . x X g o"
    if len({len(s) for s in pattern_steps(pattern).values()}) > 1:
        return "every drum voice of a pattern must span the same number of steps"
    return None


def play(song, part, style, rng) -> list[Note]:
    notes: list[Note] = []
    phrases: dict = {}
    for bar in song.bars:
        step = step_ticks(bar, style)
        length = max(1, round(step))
        if bar.final:
            notes += _final_hit(bar, part, length * 4)
            continue
        pattern = pattern_steps(choose_pattern(bar, part, rng, style.grid, phrases))
        crash = bar.starts_section and bar.index > 0
        for voice, steps in pattern.items():
            pitch = DRUM_VOICES[voice]
            for k in range(steps_in_bar(bar, style)):
                char = steps[k % len(steps)]
                if char == "." or (char == "o" and rng.random() >= OPTIONAL_CHANCE):
                    continue
                if crash and k == 0 and voice in TIMEKEEPERS:
                    continue
                velocity = base_velocity(bar, part, ACCENTS[char])
                notes.append(Note(step_onset(bar, style, k), length, pitch, velocity))
        if crash:
            notes.append(
                Note(
                    bar.start_ticks,
                    length * 4,
                    DRUM_VOICES["crash"],
                    base_velocity(bar, part, 1.15),
                )
            )
    return _merge_doubles(notes)


def _final_hit(bar, part, length: int) -> list[Note]:
    velocity = base_velocity(bar, part, 1.2)
    ring = max(length, bar.length_ticks)
    return [
        Note(bar.start_ticks, length, DRUM_VOICES["kick"], velocity),
        Note(bar.start_ticks, ring, DRUM_VOICES["crash"], velocity),
    ]


def _merge_doubles(notes: list[Note]) -> list[Note]:
    """One note where two voices of a pattern hit the same drum at the same tick (the louder)."""
    best: dict[tuple[int, int], Note] = {}
    for n in notes:
        key = (n.onset_ticks, n.pitch)
        if key not in best or n.velocity > best[key].velocity:
            best[key] = n
    return sorted(best.values())
