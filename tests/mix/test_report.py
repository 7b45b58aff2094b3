"""The pictures of `master --report` and `mix --report`: the format the path asks for, and a
loudness panel that lines up with the audio."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from bandmate.errors import OutputError
from bandmate.io.audio import Audio
from bandmate.mix.automix import automix, write_automix_png
from bandmate.mix.master import master
from bandmate.mix.report import master_figure, write_master_png

MAGIC = {".png": b"\x89PNG", ".pdf": b"%PDF", ".svg": b"<?xml", ".jpg": b"\xff\xd8", "": b"\x89PNG"}


def tone(seconds: float, *, rate: int = 22_050, start_seconds: float = 0.0) -> Audio:
    """A stereo 220 Hz tone with a wobble, silent for its first `start_seconds`."""
    t = np.arange(round(seconds * rate)) / rate
    x = 0.2 * np.sin(2 * np.pi * 220 * t) * (1 + 0.5 * np.sin(2 * np.pi * 3 * t))
    x[t < start_seconds] = 0.0
    return Audio(np.stack([x, 0.9 * x]), rate)


@pytest.fixture(scope="module")
def master_report():
    return master(tone(4.0), intensity=0.0)[1]


@pytest.fixture(scope="module")
def mix_report():
    return automix({"bass.wav": tone(1.0), "keys.wav": tone(1.0)})[1]


@pytest.mark.parametrize("suffix", [".png", ".pdf", ".svg", ".jpg", ""])
def test_a_master_picture_is_written_in_the_format_its_name_says(tmp_path, master_report, suffix):
    # a `--report master.pdf` was PNG bytes under a PDF's name, which no PDF viewer opens
    path = tmp_path / f"master{suffix}"
    write_master_png(master_report, path)
    assert path.read_bytes().startswith(MAGIC[suffix])


@pytest.mark.parametrize("suffix", [".pdf", ".svg", ".png"])
def test_a_mix_picture_is_written_in_the_format_its_name_says(tmp_path, mix_report, suffix):
    path = tmp_path / f"levels{suffix}"
    write_automix_png(mix_report, path)
    assert path.read_bytes().startswith(MAGIC[suffix])


@pytest.mark.parametrize("name", ["levels.txt", "levels.wav", "levels.json"])
def test_a_picture_named_as_another_kind_of_file_is_refused(tmp_path, master_report, mix_report,
                                                            name):  # fmt: skip
    with pytest.raises(OutputError, match=r"\.png, \.pdf, \.svg or \.jpg"):
        write_master_png(master_report, tmp_path / name)
    with pytest.raises(OutputError, match=r"\.png, \.pdf, \.svg or \.jpg"):
        write_automix_png(mix_report, tmp_path / name)
    assert list(tmp_path.iterdir()) == []


def test_stems_named_in_emoji_and_chinese_are_charted_without_warnings(tmp_path):
    # matplotlib warned four times on stderr, a glyph missing from its font each, under a mix
    # that had gone well
    report = automix({"🥁 drums.wav": tone(1.0), "贝斯.wav": tone(1.0)})[1]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        write_automix_png(report, tmp_path / "levels.png")
    assert not [w for w in caught if "Glyph" in str(w.message)]
    assert (tmp_path / "levels.png").read_bytes().startswith(MAGIC[".png"])


def test_short_term_loudness_rises_where_the_music_starts():
    # after 5 s of silence: a meter's short-term reading (the last 3 s) rises from 5 s on; the
    # picture drew each window at its start, so the loudness rose 3 s before the music
    _, report = master(tone(9.0, start_seconds=5.0), intensity=0.0)
    ax = master_figure(report).axes[0]
    times, levels = ax.lines[0].get_data()  # "before"
    audible = np.isfinite(levels) & (levels > -70)
    assert times[audible][0] == pytest.approx(5.0, abs=0.15)
    assert times[-1] == pytest.approx(9.0, abs=0.15)


def test_a_master_too_short_for_short_term_loudness_says_so(master_report):
    _, report = master(tone(1.0), intensity=0.0)
    texts = [t.get_text() for t in master_figure(report).axes[0].texts]
    assert texts == ["shorter than 3 s: no short-term loudness"]
    assert len(master_figure(master_report).axes[0].texts) == 0
