"""`bandmate mix` on folders laid out as sessions export them."""

from __future__ import annotations

import numpy as np
import soundfile as sf

from bandmate.io.audio import read_audio, write_audio
from tests.builders import assert_user_error
from tests.cli.test_cli_mix import RATE, mix, tone


def test_a_session_of_subfolders_names_them_and_they_mix(capsys, tmp_path):
    # a session exported as Drums/ and Band/ was refused as "no stems" and told to convert
    # MP3s it did not have
    session = tmp_path / "session"
    (session / "Drums").mkdir(parents=True)
    (session / "Band").mkdir()
    write_audio(tone(60, -12), session / "Drums" / "Kick.wav")
    write_audio(tone(80, -20), session / "Band" / "Bass.wav")
    write_audio(tone(440, -18), session / "Band" / "Keys.wav")
    (session / "notes.txt").write_text("take 3 was the keeper\n")
    out = tmp_path / "mix.wav"
    result = mix(capsys, session, "-o", out)
    assert_user_error(result, "Band/", "Drums/", "subfolders")
    assert "MP3" not in result.stderr
    assert not out.exists()
    # what it says to run works
    result = mix(capsys, session / "Band", session / "Drums", "-o", out)
    assert result.returncode == 0, result.stderr
    assert read_audio(out).channels == 2


def test_a_folder_of_no_audio_at_all_still_says_to_convert(capsys, tmp_path):
    (tmp_path / "song").mkdir()
    (tmp_path / "song" / "bass.m4a").write_bytes(b"....ftypM4A")
    result = mix(capsys, tmp_path / "song", "-o", tmp_path / "mix.wav")
    assert_user_error(result, "no WAV, FLAC, AIFF, MP3 or Ogg stems", "AAC", "WAV")


def test_a_folder_of_mp3_and_ogg_stems_mixes_as_the_same_files_named_do(capsys, tmp_path):
    # a folder of MP3 stems was refused ("convert them to WAV") while the same files named one
    # by one were mixed; an MP3 beside the WAV of its name is that stem bounced twice, and is
    # left out rather than mixed as a second copy of the part
    song = tmp_path / "song"
    song.mkdir()
    for name, freq, level, fmt in (
        ("bass.mp3", 80, -20, "MP3"),
        ("keys.ogg", 440, -18, "OGG"),
        ("drums.wav", 3000, -14, "WAV"),
        ("drums.mp3", 3000, -14, "MP3"),
        ("Click.mp3", 1000, -20, "MP3"),  # left out as a click track: no lossy stem of the mix
    ):
        sf.write(song / name, tone(freq, level, seconds=3).samples.T, RATE, format=fmt)
    # an encoding libsndfile does not read (Apple Loops are AAC in CAF) is left out, not fatal
    (song / "loop.caf").write_bytes(b"caff\x00\x01\x00\x00desc" + bytes(64))
    by_folder, by_name = tmp_path / "folder.wav", tmp_path / "named.wav"
    result = mix(capsys, song, "-o", by_folder)
    assert result.returncode == 0, result.stderr
    assert "bass.mp3" in result.stdout and "keys.ogg" in result.stdout
    assert "Left out drums.mp3, a lossy copy of drums.wav beside it" in result.stdout
    assert "\nbass.mp3, keys.ogg are lossy" in result.stdout
    assert "Left out loop.caf (an encoding bandmate does not read)" in result.stdout
    named = mix(capsys, song / "bass.mp3", song / "drums.wav", song / "keys.ogg", "-o", by_name)
    assert named.returncode == 0, named.stderr
    assert np.array_equal(read_audio(by_folder).samples, read_audio(by_name).samples)
