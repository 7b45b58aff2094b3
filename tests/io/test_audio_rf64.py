"""RF64: the WAV that DAWs and field recorders write past 4 GB, whose data size lives
in a "ds64" chunk; a copy of one cut short must be named as such, as a plain WAV's is."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from bandmate.errors import InputFileError
from bandmate.io.audio import read_audio


def rf64(path, seconds: float = 1.0, rate: int = 48_000):
    t = np.arange(round(seconds * rate)) / rate
    x = 0.5 * np.sin(2 * np.pi * 440 * t)
    sf.write(path, np.stack([x, x]).T, rate, format="RF64", subtype="PCM_24")
    return path


def test_an_rf64_file_is_read_whole(tmp_path):
    audio = read_audio(rf64(tmp_path / "take.wav"))
    assert audio.frames == 48_000 and audio.channels == 2


def test_an_rf64_file_cut_short_is_truncated_not_shorter(tmp_path):
    # libsndfile reads the part that is there as the whole file: a half-copied 1 s take was
    # measured, mixed and mastered as a 0.3 s one without a word
    good = rf64(tmp_path / "good.wav")
    cut = tmp_path / "cut.wav"
    cut.write_bytes(good.read_bytes()[:100_000])
    with pytest.raises(InputFileError, match=r"truncated: its header promises 1\.00 s"):
        read_audio(cut)
