"""A player who moves from 4/4 to 3/4 during a jam: the band's meter stays the session's (see
`live.engine`), so its bar lines fall where its own meter puts them, but it keeps the player's
beat and plays each chord they change to from their change on, and leaves no note hanging.

The player strikes a chord (C Am F G) on each bar line over eighths, four bars of 4/4 and then
eight of 3/4, every onset +-20 ms off.
"""

from __future__ import annotations

import numpy as np
import pytest

from bandmate.live import Engine, InputEvent, simulate
from bandmate.live.session import band_notes
from tests.live.test_tempo import LEFT_HAND

TONES = ({0, 4, 7}, {9, 0, 4}, {5, 9, 0}, {7, 11, 2})  # C Am F G


def four_then_three(tempo_bpm: float, seed: int):
    """(the player's events, their bar lines (s))."""
    rng = np.random.default_rng(seed)
    beat_s = 60 / tempo_bpm
    events, lines, t = [], [], 0.0
    for bar in range(12):
        beats = 4 if bar < 4 else 3
        lines.append(t)
        for k in range(2 * beats):
            at = max(0.0, t + k * beat_s / 2 + rng.uniform(-0.02, 0.02))
            keys = LEFT_HAND[bar % 4] if k == 0 else (int(rng.integers(62, 80)),)
            hold_s = 0.9 * beat_s if k == 0 else 0.1
            for key in keys:
                events += [InputEvent.note_on(at, key, 80), InputEvent.note_off(at + hold_s, key)]
        t += beats * beat_s
    events.sort(key=lambda e: (e.time_s, e.kind != 0))
    return events, np.array(lines)


@pytest.mark.parametrize("tempo", [100, 150])
def test_a_player_moving_to_three_four_keeps_the_beat_and_the_chords(tempo):
    """The band was not told of the 3/4 bars and does not find them: its downbeats fall on
    the player's every fourth bar. What it must do: not re-lock or lose the beat over the
    change, play each new chord from the player's change on, and end every note."""
    events, lines = four_then_three(tempo, seed=2)
    engine = Engine("pop", tempo_bpm=tempo, seed=2)
    heard: list[tuple[float, float]] = []  # (time, the band's beat) at each key struck

    def observe(event, engine):
        if event.kind == 1 and engine.started:
            heard.append((event.time_s, engine.beat.beat_at(event.time_s)))

    result = simulate(events, engine, observe=observe)
    # every note the band struck is ended, and none struck twice unreleased
    down: dict[tuple[int, int], int] = {}
    for event, _ in result.outputs:
        key = (event.channel, event.pitch)
        down[key] = down.get(key, 0) + (1 if event.velocity else -1)
        assert down[key] in (0, 1), event
    assert not any(down.values())
    # the beat is the player's: no re-lock, their chords on the band's beats in the 3/4 bars
    assert engine.beat.relocks == 0
    on_lines = [b for t, b in heard if t >= lines[4] - 0.05 and np.abs(lines - t).min() < 0.05]
    assert max(abs(b - round(b)) for b in on_lines) < 0.1, on_lines
    # each chord from the player's change on: the bass on one of its tones just after it
    bass = sorted(band_notes(result.outputs)["Bass"])
    for bar, line in enumerate(lines[1:-1], start=1):
        at = line + 0.25 * 60 / tempo
        sounding = [p for on, off, p, _ in bass if on <= at < off] or [
            next(p for on, _, p, _ in bass if on >= at)
        ]
        assert sounding[-1] % 12 in TONES[bar % 4], (bar, sounding)
