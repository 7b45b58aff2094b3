"""The chart `bandmate mix --report` draws."""

from __future__ import annotations

import itertools

import numpy as np

from bandmate.io.audio import Audio
from bandmate.mix.automix import automix, automix_figure, write_automix_png

RATE = 44_100


def _tone(freq_hz: float, amplitude: float) -> np.ndarray:
    t = np.arange(3 * RATE) / RATE
    return (amplitude * np.sin(2 * np.pi * freq_hz * t)).astype(np.float32)


def test_a_louder_stem_has_the_taller_bar():
    # bars hung from 0 dB on an upturned axis: the quietest stem had the tallest bar
    stems = [("Bass.wav", _tone(80, 0.5)), ("Keys.wav", _tone(440, 0.01))]
    _, report = automix([(name, Audio(x, RATE)) for name, x in stems])
    figure = automix_figure(report)
    (ax,) = figure.axes
    bars = ax.patches  # before: bass, keys; then in the mix: bass, keys
    tops = [bar.get_y() + bar.get_height() for bar in bars]
    bottom, top = ax.get_ylim()
    assert bottom < top  # up is louder
    before = [s.loudness_before_lufs for s in report.stems]
    after = [s.loudness_after_lufs for s in report.stems]
    assert np.allclose(tops, before + after, atol=0.01)
    heights = [bar.get_height() for bar in bars]
    assert (heights[0] > heights[1]) == (before[0] > before[1])
    assert (heights[2] > heights[3]) == (after[0] > after[1])


def test_a_silent_mix_is_titled_so_not_none(tmp_path):
    _, report = automix([("Keys.wav", Audio(np.zeros(3 * RATE, np.float32), RATE))])
    figure = automix_figure(report)
    title = figure.axes[0].get_title()
    assert "None" not in title and "silent" in title
    assert [bar.get_height() for bar in figure.axes[0].patches] == [0.0, 0.0]
    write_automix_png(report, tmp_path / "mix.png")
    assert (tmp_path / "mix.png").read_bytes()[:4] == b"\x89PNG"


def test_a_chart_of_forty_stems_stays_readable_at_a_page_width():
    # 40 stems drew a chart 50 inches wide and 4.5 high, its labels side by side
    rng = np.random.default_rng(3)
    stems = [
        (f"{k + 1:02d}-Track {k + 1}.wav", Audio(_tone(110 + 20 * k, 0.05 + 0.005 * k), RATE))
        for k in range(40)
    ]
    stems[0] = ("01-Track 1.wav", Audio(rng.standard_normal(3 * RATE).astype(np.float32), RATE))
    _, report = automix(stems)
    figure = automix_figure(report)
    width, height = figure.get_size_inches()
    assert width <= 20 and height > 4.5
    renderer = figure.canvas.get_renderer()
    figure.canvas.draw()
    spans = sorted(
        (box.x0, box.x1)
        for box in (label.get_window_extent(renderer) for label in figure.axes[0].get_xticklabels())
    )
    assert len(spans) == 40
    assert all(right <= next_left for (_, right), (next_left, _) in itertools.pairwise(spans))
