"""The band ends with the player: through a strong final ritardando its beats stay with the
player's and it strikes the last chord with them, not a beat's fraction before.

Each test plays a player of straight eighths over chords on 1 and 3, steady and then slowing
evenly to 60% of the tempo over the last two bars, ending on a chord on the next bar line, and
listens to the band's kick drum against the player's bar lines, as a player would.
"""

from __future__ import annotations

import numpy as np
import pytest

from bandmate.live import Engine, InputEvent, simulate
from tests.live.test_tempo import kick_offsets_ms, play_rhythm, player_beats

EIGHTHS = [(0, "chord"), (2, "chord")] + [(b / 2, "note") for b in range(8)]
BARS = 12
FINAL_CHORD = (36, 40, 43)


def slowing_to(factor: float) -> np.ndarray:
    """Tempo factors a beat: steady, then slowing evenly to `factor` over the last two bars."""
    beats = np.arange(BARS * 4 + 1)
    return 1 - (1 - factor) * np.clip((beats - (BARS - 2) * 4) / 8, 0.0, 1.0)


def end_with_a_ritardando(tempo_bpm: float, seed: int):
    """(the band's kick from the player's last two bar lines and their final chord, in ms,
    signed: negative is early; the engine)."""
    factors = slowing_to(0.6)
    beat_times = player_beats(tempo_bpm, BARS, factors)
    events = play_rhythm(EIGHTHS, tempo_bpm, BARS, seed, factors)
    end_s = beat_times[BARS * 4] + np.random.default_rng(seed).uniform(-0.02, 0.02)
    for key in FINAL_CHORD:
        events += [InputEvent.note_on(end_s, key, 80), InputEvent.note_off(end_s + 2.0, key)]
    events.sort(key=lambda e: (e.time_s, e.kind != 0))
    engine = Engine("pop", tempo_bpm=tempo_bpm, seed=seed)
    result = simulate(events, engine)
    heard = [beat_times[(BARS - 2) * 4], beat_times[(BARS - 1) * 4], end_s]
    kicks = np.array(
        [o.time_s for o, _ in result.outputs if o.part == "Drums" and o.velocity and o.pitch == 36]
    )
    signed = [(kicks[np.argmin(np.abs(kicks - at))] - at) * 1000 for at in heard]
    assert np.allclose(np.abs(signed), kick_offsets_ms(result, heard))
    return np.array(signed), engine


@pytest.mark.parametrize("tempo_bpm", [90, 110, 130])
def test_the_band_slows_with_the_player_and_lands_the_last_chord_with_them(tempo_bpm):
    """The tracker fitted the player's onsets as a steady tempo over its window, so while they
    slowed it kept a tempo they had already left, more every beat: a bar into the slow-down
    the band's downbeat came 50-140 ms before the player's, and it struck the last chord
    60-480 ms before them (at times re-locking on the way). It now also fits how fast the
    tempo is changing, where the onsets tell that change from their scatter, and carries it on
    between onsets: the band strikes the final chord with the player."""
    last_bar_ms = []
    for seed in (1, 2, 3):
        offsets_ms, engine = end_with_a_ritardando(tempo_bpm, seed)
        assert engine.beat.relocks == 0
        assert abs(offsets_ms[2]) <= 40, offsets_ms  # the final chord
        last_bar_ms.append(abs(offsets_ms[1]))
    assert np.median(last_bar_ms) <= 50, last_bar_ms  # the last bar line, a bar into the rit.
