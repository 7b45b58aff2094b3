"""The band keeps the player's beat with swung players, whose off-grid notes must not drag it.

Each test plays a performance into the engine on the virtual clock and listens to the band's
kick drum against the player's chords, as a player would.
"""

from __future__ import annotations

import numpy as np
import pytest

from bandmate.live import Engine, InputEvent, simulate

LEFT_HAND = ((36, 40, 43), (45, 48, 52), (41, 45, 48), (43, 47, 50))  # C Am F G, below G3


def kicks_s(result) -> np.ndarray:
    return np.array(
        [o.time_s for o, _ in result.outputs if o.part == "Drums" and o.velocity and o.pitch == 36]
    )


def kick_offsets_ms(result, downbeats_s) -> np.ndarray:
    """How far the band's nearest kick drum is from each of the player's downbeats, in ms."""
    kicks = kicks_s(result)
    return np.array([np.abs(kicks - at).min() * 1000 for at in downbeats_s])


def play_rhythm(onsets, tempo_bpm: float, bars: int, seed: int = 0) -> list[InputEvent]:
    """A player repeating one bar: `onsets` are (beat in the bar, "chord" or "note"); chords
    are the left hand's (C Am F G, one a bar), notes the right hand's; +-20 ms of noise."""
    rng = np.random.default_rng(seed)
    beat_s = 60 / tempo_bpm
    events = []
    for bar in range(bars):
        for at, kind in onsets:
            time_s = max(0.0, (bar * 4 + at) * beat_s + rng.uniform(-0.02, 0.02))
            keys = LEFT_HAND[bar % 4] if kind == "chord" else (int(rng.integers(62, 80)),)
            hold_s = 0.9 * beat_s if kind == "chord" else 0.1
            for key in keys:
                events += [
                    InputEvent.note_on(time_s, key, 80),
                    InputEvent.note_off(time_s + hold_s, key),
                ]
    return sorted(events, key=lambda e: (e.time_s, e.kind != 0))


def downbeats(tempo_bpm: float, bars: int, from_bar: int) -> np.ndarray:
    """The player's bar lines (without their noise), from `from_bar` to the last but one."""
    return np.arange(from_bar, bars - 1) * 4 * 60 / tempo_bpm


SWING = [(0, "chord"), (0, "note"), (2 / 3, "note"), (1, "note"), (5 / 3, "note"),
         (2, "chord"), (2, "note"), (8 / 3, "note"), (3, "note"), (11 / 3, "note")]  # fmt: skip


@pytest.mark.parametrize("tempo_bpm", [80, 100, 130])
def test_a_swing_player_keeps_the_band_on_the_beat(tempo_bpm):
    """Swung eighths fall at two thirds of the beat; the beat tracker read them as straight
    eighths played late and settled between the two, the band's kick a sixth of a beat from
    the player's chords (100-200 ms) for the whole song. A note nearer a triplet than an
    eighth now says nothing about the beat."""
    events = play_rhythm(SWING, tempo_bpm, bars=16, seed=1)
    engine = Engine("pop", tempo_bpm=tempo_bpm)
    result = simulate(events, engine)
    offsets = kick_offsets_ms(result, downbeats(tempo_bpm, 16, from_bar=2))
    assert np.median(offsets) < 25, np.median(offsets)
