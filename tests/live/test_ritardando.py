"""The band slows down with the player: a ritardando into the last bar is followed as a change
of tempo, not heard as a jump the band must re-lock to.

Each test plays a player of straight eighths over chords on 1 and 3, steady and then slowing
into the end of the song, at several tempos and seeds.
"""

from __future__ import annotations

import numpy as np
import pytest

from bandmate.live import Engine, simulate
from tests.live.test_tempo import play_rhythm, player_beats

EIGHTHS = [(0, "chord"), (2, "chord")] + [(b / 2, "note") for b in range(8)]
BARS = 16


def ritardando(bars: int, depth: float, power: float) -> np.ndarray:
    """Tempo factors a beat: steady, then slower by `depth` at the end of the song over its
    last `bars` bars (the slowing growing as `power` says: 1 evenly, 2 more and more)."""
    beats = np.arange(BARS * 4 + 1)
    x = np.clip((beats - (BARS - bars) * 4) / (bars * 4), 0.0, 1.0)
    return 1 - depth * x**power


def play_ritardando(tempo_bpm: float, seed: int, bars: int, depth: float, power: float):
    """(the engine after the player slows into the end, the player's beat times)."""
    factors = ritardando(bars, depth, power)
    engine = Engine("pop", tempo_bpm=tempo_bpm, seed=seed)
    result = simulate(play_rhythm(EIGHTHS, tempo_bpm, BARS, seed, factors), engine)
    return engine, result, player_beats(tempo_bpm, BARS, factors)


@pytest.mark.parametrize("tempo_bpm", [90, 120, 160])
def test_a_strong_final_ritardando_is_followed_without_a_re_lock(tempo_bpm):
    """The player slows to 60% of the tempo over the last two bars. The tracker placed each
    onset on the grid it followed, fitted as a steady tempo: the onsets fell further behind it
    beat by beat, were skipped as off the grid, and the band re-locked once or twice as if the
    player had jumped to a new tempo (every run of these). The re-lock search now also tries
    a tempo changing steadily from where it was, which the player's onsets fit, and the band
    bends to it without a re-lock (at most one song in four still re-locks: where the band
    had run half a beat ahead before the bend was clear, it is not taken)."""
    relocks = 0
    for seed in (1, 2, 3, 4):
        engine, _, _ = play_ritardando(tempo_bpm, seed, bars=2, depth=0.4, power=1)
        relocks += engine.beat.relocks > 0
        assert engine.tempo_bpm < 0.85 * tempo_bpm  # the band did slow down
    assert relocks <= 1
