"""Feel: swing, human timing and velocity, and grooves taken from a player's own drum MIDI.

These act on the notes of every part alike, after the players have put them on the grid, so that
the whole band swings and breathes together.

A `Groove` is a template per grid step of a bar: how early or late the player hits that step
(as a fraction of a step) and how hard (relative to their average). `extract_groove` measures it
from a drum MIDI file; `apply_groove` moves and weights notes by it.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace

import numpy as np

from bandmate.errors import InputFileError
from bandmate.score.model import Note, Score


def swing_position(position, pair, swing):
    """Where `position` (0 <= position < pair) lands when the first half of the pair is stretched
    to `swing` of it and the second squeezed into the rest; positions in between move
    proportionally (so 16ths follow an 8th-note swing). Exact for Fractions."""
    half = pair / 2
    if position < half:
        return position * 2 * swing
    return pair * swing + (position - half) * 2 * (1 - swing)


def swing_ticks(tick: int, pair_ticks: int, swing: float) -> int:
    """Where `tick` lands when each pair of `pair_ticks / 2` notes is swung (`swing_position`)."""
    if swing == 0.5:
        return tick
    start, pos = divmod(tick, pair_ticks)
    return start * pair_ticks + round(swing_position(pos, pair_ticks, swing))


def apply_swing(
    notes: list[Note],
    ticks_per_beat: int,
    swing: float,
    unit: int,
    bar_starts: Sequence[int] = (0,),
    straight: Collection[int] = (),
) -> list[Note]:
    """Swing 8ths (`unit` 8) or 16ths (`unit` 16) by the ratio `swing` (0.5: straight).

    The pairs are counted from the downbeat of the bar that holds each tick (`bar_starts`:
    ascending, the first 0): a bar that begins off the beat, after a bar of 7/8 or 5/8, swings
    from its own downbeat instead of having it pushed late as an off-beat 8th. The bars that
    start at a tick in `straight` are left as they are (a 12/8 bar of a 4/4 style, already
    played on the triplet: `players.beat_mapped`).
    """
    if swing == 0.5:
        return notes
    pair = ticks_per_beat * 8 // unit  # an 8th-note pair spans one quarter

    def swung(tick: int) -> int:
        start = bar_starts[max(bisect.bisect_right(bar_starts, tick) - 1, 0)]
        if start in straight:
            return tick
        return start + swing_ticks(tick - start, pair, swing)

    out = []
    for n in notes:
        onset = swung(n.onset_ticks)
        end = swung(n.end_ticks)
        out.append(replace(n, onset_ticks=onset, duration_ticks=max(1, end - onset)))
    return out


def humanize(
    notes: list[Note],
    rng: np.random.Generator,
    *,
    ticks_per_second: float,
    timing_ms: float,
    velocity_jitter: float,
) -> list[Note]:
    """Nudge each note's timing (normal, sd `timing_ms`/2, at most `timing_ms`) and velocity.

    Notes that sound together (a chord, a kick with a crash) move together, so chords stay chords.
    """
    if not notes or (timing_ms <= 0 and velocity_jitter <= 0):
        return notes
    onsets = sorted({n.onset_ticks for n in notes})
    limit = timing_ms / 1000 * ticks_per_second
    shift = np.clip(rng.normal(0, limit / 2, len(onsets)), -limit, limit)
    moves = dict(zip(onsets, np.round(shift).astype(int), strict=True))
    jitter = rng.normal(0, velocity_jitter / 2, len(notes))
    out = []
    for n, dv in zip(notes, jitter, strict=True):
        onset = max(0, n.onset_ticks + int(moves[n.onset_ticks]))
        velocity = int(np.clip(round(n.velocity + dv), 1, 127))
        out.append(Note(onset, n.duration_ticks, n.pitch, velocity))
    return out


def trim_overlaps(notes: list[Note]) -> list[Note]:
    """Sorted notes, each cut where the next note of the same pitch starts.

    A note-off that arrives after its pitch is struck again ends the new note in MIDI and in the
    synth: a pad's re-struck voice would fall silent for its whole bar. The players leave no
    such overlap; humanizing and a groove move onsets by a few ticks and can make one, so
    every part is trimmed after them. Two strikes of one pitch at once keep the first.
    """
    out: list[Note] = []
    last: dict[int, int] = {}  # pitch -> index in out
    for n in sorted(notes):
        j = last.get(n.pitch)
        if j is not None and out[j].end_ticks > n.onset_ticks:
            prev = out[j]
            if n.onset_ticks <= prev.onset_ticks:
                continue  # the same pitch struck twice at once: keep the first
            out[j] = replace(prev, duration_ticks=n.onset_ticks - prev.onset_ticks)
        last[n.pitch] = len(out)
        out.append(n)
    return out


@dataclass(frozen=True)
class Groove:
    """Timing (fraction of a step, + is late) and velocity scale for each step of a bar."""

    steps_per_beat: int
    offsets: tuple[float, ...]
    accents: tuple[float, ...]

    def to_json(self) -> str:
        return json.dumps(
            {
                "steps_per_beat": self.steps_per_beat,
                "offsets": self.offsets,
                "accents": self.accents,
            }
        )


def extract_groove(score: Score, steps_per_beat: int = 4, name: str | None = None) -> Groove:
    """Measure a groove from the drum tracks of `score` (or all tracks if none is a drum track).

    Every hit is assigned to its nearest step of the bar; a step's offset is the mean distance
    of its hits from the grid, its accent the mean velocity of its hits over the overall mean.
    Steps nobody plays keep offset 0 and accent 1. `name` names the file in errors.
    """
    tracks = [t for t in score.tracks if t.is_drum] or list(score.tracks)
    hits = [n for t in tracks for n in t.notes]
    if len(hits) < 4:
        raise InputFileError(
            f"The groove file{f' {name!r}' if name else ''} has too few notes to take a groove "
            "from; give a drum part of at least a bar."
        )
    grid = score.bar_grid
    meter = score.time_signatures[0]
    step = score.ticks_per_beat / steps_per_beat
    steps_per_bar = round(meter.bar_ticks(score.ticks_per_beat) / step)
    sums = np.zeros(steps_per_bar)
    vel = np.zeros(steps_per_bar)
    counts = np.zeros(steps_per_bar)
    for n in hits:
        bar_start = grid.bar_start(grid.bar_at(n.onset_ticks))
        position = (n.onset_ticks - bar_start) / step
        k = round(position)
        offset = position - k
        k %= steps_per_bar
        sums[k] += offset
        vel[k] += n.velocity
        counts[k] += 1
    played = counts > 0
    offsets = np.where(played, sums / np.maximum(counts, 1), 0.0)
    mean_velocity = vel[played].sum() / counts[played].sum()
    accents = np.where(played, vel / np.maximum(counts, 1) / mean_velocity, 1.0)
    return Groove(
        steps_per_beat=steps_per_beat,
        offsets=tuple(float(x) for x in np.clip(offsets, -0.5, 0.5)),
        accents=tuple(float(x) for x in np.clip(accents, 0.3, 2.0)),
    )


def apply_groove(
    notes: list[Note],
    groove: Groove,
    ticks_per_beat: int,
    bar_starts: list[int],
    bar_lengths: list[int] | None = None,
) -> list[Note]:
    """Move each note that sits on a step by that step's offset and weight its velocity.

    With `bar_lengths`, only bars as long as the groove's are moved: a groove taken from a bar
    of 3/4 laid over 4/4 wrapped its downbeat onto beat 4, accenting it as strongly as beat 1.
    """
    step = ticks_per_beat / groove.steps_per_beat
    n_steps = len(groove.offsets)
    out = []
    for n in notes:
        i = max(int(np.searchsorted(bar_starts, n.onset_ticks, side="right")) - 1, 0)
        if bar_lengths is not None and round(bar_lengths[i] / step) != n_steps:
            out.append(n)  # a bar of another meter than the groove's
            continue
        position = (n.onset_ticks - bar_starts[i]) / step
        k = round(position)
        if abs(position - k) > 0.25:  # off the grid (a triplet, a flam): leave it alone
            out.append(n)
            continue
        k %= n_steps
        onset = max(0, n.onset_ticks + round(groove.offsets[k] * step))
        velocity = int(np.clip(round(n.velocity * groove.accents[k]), 1, 127))
        out.append(Note(onset, n.duration_ticks, n.pitch, velocity))
    return out
