"""`bandmate mix` on folders laid out as sessions export them."""

from __future__ import annotations

from bandmate.io.audio import read_audio, write_audio
from tests.builders import assert_user_error
from tests.cli.test_cli_mix import mix, tone


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
    (tmp_path / "song" / "bass.mp3").write_bytes(b"ID3")
    result = mix(capsys, tmp_path / "song", "-o", tmp_path / "mix.wav")
    assert_user_error(result, "no .wav, .flac or .aiff stems", "WAV")
