"""What an audio output's name asks for: refused names say what to give instead."""

from __future__ import annotations

import pytest

from bandmate.errors import AudioFormatError
from bandmate.io.audio import check_writable


def test_an_output_without_a_suffix_is_refused_in_plain_words(tmp_path):
    # it read "Cannot write audio as 'a file without suffix'", quoting words as if a suffix
    with pytest.raises(AudioFormatError) as refused:
        check_writable(tmp_path / "master")
    message = str(refused.value)
    assert "'a file without suffix'" not in message
    assert "master" in message and "end it in .wav or .flac" in message


@pytest.mark.parametrize("name", ["master.mp3", "master.ogg", "master.aiff"])
def test_an_output_in_a_format_bandmate_does_not_write_is_refused(tmp_path, name):
    with pytest.raises(AudioFormatError, match=r"as '\.\w+'; use \.wav or \.flac"):
        check_writable(tmp_path / name)
