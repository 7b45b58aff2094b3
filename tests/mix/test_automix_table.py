"""The CLI's table of what automix did to each stem."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from bandmate.io.audio import Audio
from bandmate.mix.automix import automix, stem_rows

RATE = 44_100


def test_a_stem_a_hundredth_under_the_loudest_reads_0_0_not_minus_0_0():
    # two takes of a bass balanced alike printed levels "0.0" and "-0.0"
    t = np.arange(3 * RATE) / RATE
    bass = (0.3 * np.sin(2 * np.pi * 55 * t)).astype(np.float32)
    _, report = automix(
        [("take1/bass.wav", Audio(bass, RATE)), ("take2/bass.wav", Audio(bass, RATE))]
    )
    first, second = report.stems
    report = replace(
        report,
        stems=(
            replace(first, loudness_after_lufs=-26.0, gain_db=-0.01),
            replace(second, loudness_after_lufs=-26.01, gain_db=-0.04),
        ),
    )
    header, *rows = stem_rows(report)
    level = header.index("level dB")
    gain = header.index("gain dB")
    assert [row[level] for row in rows] == ["0.0", "0.0"]
    assert [row[gain] for row in rows] == ["+0.0", "+0.0"]
    assert "-0.0" not in " ".join(cell for row in rows for cell in row)
