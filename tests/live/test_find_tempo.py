"""A band started without a tempo finds the player's: it follows their beat, not a level of
their notes that the eighth-note grid happens to fit, and its bar lines fall on theirs.

Each test plays a player whose right hand plays quarters, eighths or half notes and whose left
hand strikes a chord on each bar line (C Am F G), the tempo drifting by +-4% and every onset
+-20 ms off, into a band given no tempo (it starts from the style's, 112 BPM), and listens to
the band's kick drum against the player's bar lines.
"""

from __future__ import annotations

import numpy as np
import pytest

from bandmate.live import Engine, InputEvent, simulate
from tests.live.test_tempo import LEFT_HAND, kick_offsets_ms

BARS = 12
RIGHT_HAND = {"quarters": (0, 1, 2, 3), "eighths": tuple(b / 2 for b in range(8)), "half": (0, 2)}


def drifting_player(right_hand, tempo_bpm: float, seed: int):
    """(the player's events, their beat times): `right_hand` (beats in the bar) over a chord
    on each bar line, the tempo drifting by +-4% over 16 bars."""
    rng = np.random.default_rng(seed)
    beats = np.arange(BARS * 4 + 1)
    tempos = tempo_bpm * (1 + 0.04 * np.sin(2 * np.pi * beats / 64 + rng.uniform(0, 6.3)))
    beat_times = np.concatenate([[0.0], np.cumsum(60.0 / tempos)])
    events = []
    for bar in range(BARS):
        onsets = [(0, LEFT_HAND[bar % 4])] + [(x, (int(rng.integers(62, 80)),)) for x in right_hand]
        for at, keys in onsets:
            x = bar * 4 + at
            true_s = float(np.interp(x, np.arange(len(beat_times)), beat_times))
            time_s = max(0.0, true_s + rng.uniform(-0.02, 0.02))
            hold_s = 0.08 if len(keys) == 1 else 0.9 * (beat_times[1] - beat_times[0])
            for key in keys:
                events += [
                    InputEvent.note_on(time_s, key, 80),
                    InputEvent.note_off(time_s + hold_s, key),
                ]
    events.sort(key=lambda e: (e.time_s, e.kind != 0))
    return events, beat_times


def assert_on_the_bar_lines(result, beat_times, seed) -> None:
    """From the third bar on, the band's kick is on the player's bar lines: within a twentieth
    of their beat at the median, a tenth for nine in ten."""
    offsets = kick_offsets_ms(result, beat_times[8 : BARS * 4 - 3 : 4]) / 1000
    beats = offsets / np.diff(beat_times)[8 : BARS * 4 - 3 : 4]
    assert np.median(beats) < 0.05 and np.percentile(beats, 90) < 0.1, (seed, beats)


@pytest.mark.parametrize("tempo_bpm", [90, 140, 200])
@pytest.mark.parametrize("right_hand", ["quarters", "eighths", "half"])
def test_a_band_given_no_tempo_plays_at_the_players(right_hand, tempo_bpm):
    """Started from the style's tempo, the band followed a player at 200 BPM at 100 (eighths
    read as sixteenths) or at 2/3 of theirs, and one at 90-140 BPM, once it re-locked to their
    tempo, a beat out of their bar. It now scores the tempos their first bars fit (the notes
    on eighths, the chords on beats, the chord changes on bar lines) and follows the best."""
    for seed in (1, 2):
        events, beat_times = drifting_player(RIGHT_HAND[right_hand], tempo_bpm, seed)
        engine = Engine("pop", seed=seed)
        result = simulate(events, engine)
        player_bpm = 60 / (beat_times[-1] - beat_times[-2])
        assert abs(engine.tempo_bpm / player_bpm - 1) < 0.04, (seed, engine.tempo_bpm)
        assert_on_the_bar_lines(result, beat_times, seed)


@pytest.mark.parametrize("right_hand", ["quarters", "eighths", "half"])
def test_a_player_slower_than_a_musician_counts_gets_two_bars_to_each_of_theirs(right_hand):
    """At 50 BPM the band counts the beat a musician would, 100 BPM, and puts two of its bars
    in each of the player's, a bar line on each of theirs (it played 2.25 bars to theirs with a
    right hand of half notes, and a beat out of their bar with quarters)."""
    events, beat_times = drifting_player(RIGHT_HAND[right_hand], 50, seed=3)
    engine = Engine("pop", seed=3)
    result = simulate(events, engine)
    player_bpm = 60 / (beat_times[-1] - beat_times[-2])
    assert abs(engine.tempo_bpm / player_bpm - 2) < 0.08, engine.tempo_bpm
    assert_on_the_bar_lines(result, beat_times, 3)


def test_a_tempo_given_is_kept_from_the_first_chord():
    """With --tempo the band plays at it from the first chord, as before: nothing is found."""
    events, _ = drifting_player(RIGHT_HAND["eighths"], 200, seed=1)
    engine = Engine("pop", seed=1, tempo_bpm=200)
    simulate(events, engine)
    assert engine.beat.found == 0 and not engine.beat.finding
