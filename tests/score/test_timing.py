import numpy as np
import pytest

from bandmate.score import Score, TempoChange, TimeSignature

TPB = 480


def test_constant_tempo_seconds_and_back():
    tm = Score(tempos=(TempoChange.from_bpm(0, 120),)).tempo_map
    assert tm.seconds_at(480) == pytest.approx(0.5)
    assert tm.seconds_at(480 * 8) == pytest.approx(4.0)
    assert tm.ticks_at(4.0) == pytest.approx(480 * 8)


def test_tempo_change_is_piecewise():
    # 4 beats at 120 BPM (2 s), then 60 BPM: beat 6 is 2 s + 2 s
    score = Score(tempos=(TempoChange.from_bpm(0, 120), TempoChange.from_bpm(4 * TPB, 60)))
    tm = score.tempo_map
    assert tm.seconds_at(6 * TPB) == pytest.approx(4.0)
    assert tm.ticks_at(4.0) == pytest.approx(6 * TPB)
    ticks = np.array([0, TPB, 4 * TPB, 5 * TPB])
    np.testing.assert_allclose(tm.seconds_at(ticks), [0, 0.5, 2.0, 3.0])


def test_bpm_is_exact_microseconds():
    t = TempoChange.from_bpm(0, 97)
    assert t.us_per_beat == 618557
    assert t.tempo_bpm == pytest.approx(97, abs=1e-3)


def test_bars_through_meter_changes():
    # two bars of 4/4, then 3/4 from bar 3, then 6/8 from bar 5
    meters = (
        TimeSignature(0, 4, 4),
        TimeSignature(8 * TPB, 3, 4),
        TimeSignature(14 * TPB, 6, 8),
    )
    grid = Score(time_signatures=meters).bar_grid
    assert [grid.bar_start(b) for b in range(6)] == [0, 1920, 3840, 5280, 6720, 8160]
    assert grid.bar_at(3839) == 1 and grid.bar_at(3840) == 2
    assert grid.bar_at(6720) == 4
    assert grid.beat_ticks(6720) == 240  # an eighth-note beat in 6/8
    assert grid.bar_count(6721) == 5
    assert grid.bar_starts(4000) == [0, 1920, 3840]


def test_score_fills_in_defaults_and_sorts():
    s = Score(tempos=(TempoChange.from_bpm(960, 90),), time_signatures=())
    assert s.tempos[0].onset_ticks == 0 and s.tempos[0].tempo_bpm == pytest.approx(90, rel=1e-5)
    assert str(s.time_signatures[0]) == "4/4"
