"""WAV/FLAC read-write round trips and refusals."""

import os
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
import scipy.io.wavfile
import soundfile as sf

from bandmate.cli import main
from bandmate.errors import AudioFormatError, InputFileError, OutputError
from bandmate.io.audio import Audio, check_output_paths, check_writable, read_audio, write_audio
from tests.builders import assert_user_error, sha256
from tests.mix.test_master import music


def sine(rng, channels=2, rate=44100, seconds=0.5, amplitude=0.5):
    t = np.arange(int(rate * seconds)) / rate
    phase = rng.uniform(0, 2 * np.pi, size=(channels, 1))
    return Audio(amplitude * np.sin(2 * np.pi * 440 * t + phase), rate)


@pytest.mark.parametrize(
    ("suffix", "subtype", "tolerance"),
    [
        (".wav", "PCM_16", 1 / 2**15),
        (".wav", "PCM_24", 1 / 2**23),
        (".wav", "FLOAT", 0),
        (".flac", "PCM_16", 1 / 2**15),
        (".flac", "PCM_24", 1 / 2**23),
    ],
)
@pytest.mark.parametrize("channels", [1, 2])
def test_round_trip_within_quantization(tmp_path, rng, suffix, subtype, tolerance, channels):
    audio = sine(rng, channels=channels, rate=48000)
    path = tmp_path / f"a{suffix}"
    write_audio(audio, path, subtype=subtype)
    back = read_audio(path)
    assert back.sample_rate == 48000 and back.samples.shape == audio.samples.shape
    assert back.samples.dtype == np.float32
    assert np.max(np.abs(back.samples - audio.samples)) <= tolerance + 1e-7
    assert sf.info(str(path)).subtype == subtype


@pytest.mark.parametrize("suffix", [".mp3", ".ogg"])
def test_a_compressed_reference_is_read(tmp_path, rng, suffix):
    # producers' reference tracks often come as MP3 or Ogg; libsndfile reads both
    audio = sine(rng, seconds=2.0)
    path = tmp_path / f"reference{suffix}"
    sf.write(path, audio.samples.T, audio.sample_rate)
    back = read_audio(path)
    assert back.sample_rate == 44100 and back.samples.shape[0] == 2
    level = np.sqrt(np.mean(back.samples[:, 4410:-4410] ** 2))
    assert level == pytest.approx(0.5 / np.sqrt(2), rel=0.05)


def test_an_unreadable_file_says_which_formats_are_read(tmp_path):
    path = tmp_path / "reference.m4a"
    path.write_bytes(b"\x00\x00\x00\x20ftypM4A " + bytes(200))
    with pytest.raises(InputFileError, match=r"MP3 or Ogg file.*ffmpeg"):
        read_audio(path)


def test_more_than_two_channels_is_refused(tmp_path, rng):
    path = tmp_path / "six.wav"
    sf.write(path, rng.standard_normal((1000, 6)) * 0.1, 44100)
    with pytest.raises(AudioFormatError, match="6 channels"):
        read_audio(path)


def test_unsupported_sample_rate_is_refused(tmp_path, rng):
    path = tmp_path / "odd.wav"
    sf.write(path, rng.standard_normal(1000) * 0.1, 12345)
    with pytest.raises(AudioFormatError, match="12345"):
        read_audio(path)


def test_corrupt_and_non_audio_files(tmp_path, rng):
    text = tmp_path / "notes.wav"
    text.write_text("this is not audio")
    with pytest.raises(InputFileError, match="not a readable audio file"):
        read_audio(text)
    good = tmp_path / "good.wav"
    write_audio(sine(rng), good, subtype="PCM_16")
    cut = tmp_path / "cut.wav"
    cut.write_bytes(good.read_bytes()[:30])
    with pytest.raises(InputFileError):
        read_audio(cut)


def test_nan_samples_are_refused(tmp_path):
    path = tmp_path / "nan.wav"
    data = np.zeros((100, 2), dtype=np.float32)
    data[10, 0] = np.nan
    sf.write(path, data, 44100, subtype="FLOAT")
    with pytest.raises(AudioFormatError, match="NaN"):
        read_audio(path)


def bandmate(capsys, *args) -> subprocess.CompletedProcess:
    code = main([*map(str, args)])
    out = capsys.readouterr()
    return subprocess.CompletedProcess(args, code, out.out, out.err)


def float_music(rng, path, seconds: float, peak_dbfs: float = -3.0, spikes=()) -> Path:
    """A float WAV of music peaking at `peak_dbfs`, with `spikes`: (second, channel, value)."""
    data = music(rng, seconds=seconds).samples.T.copy()
    data *= 10 ** (peak_dbfs / 20) / np.max(np.abs(data))
    for second, channel, value in spikes:
        data[round(second * 44_100), channel] = value
    sf.write(path, data, 44_100, subtype="FLOAT")
    return path


@pytest.mark.parametrize("command", ["analyze", "master", "mix"])
def test_a_sample_far_over_full_scale_is_refused_saying_what_was_found(
    capsys, tmp_path, rng, command
):
    # one sample of 1e30 (a plugin that blew up) passed the NaN check: analyze printed
    # "integrated 563.7 LUFS, true peak 600.0 dBTP", master refused it as silent, mix turned
    # the stem down 599.9 dB without a word
    broken = float_music(rng, tmp_path / "bounce.wav", 10.0, spikes=[(5000 / 44_100, 0, 1e30)])
    digest = sha256(broken)
    out = tmp_path / "out.wav"
    args = {
        "analyze": [broken],
        "master": [broken, "-o", out],
        "mix": [float_music(rng, tmp_path / "bass.wav", 10.0), broken, "-o", out],
    }[command]
    result = bandmate(capsys, command, *args)
    assert_user_error(result, "bounce.wav' holds a sample at +600 dBFS (at 0.11 s)", "export it")
    assert "LUFS" not in result.stdout
    assert sha256(broken) == digest
    assert not out.exists()


def test_samples_over_the_bound_are_counted_through_the_whole_file(capsys, tmp_path, rng):
    # analyze reads 10 s at a time: the spikes at 2 s and 15 s lie in different blocks
    spikes = [(2.0, 0, 5000.0), (2.0, 1, -5000.0), (15.0, 1, 2000.0)]
    broken = float_music(rng, tmp_path / "bounce.wav", 20.0, spikes=spikes)
    assert_user_error(
        bandmate(capsys, "analyze", broken), "3 samples up to +74 dBFS (the first at 2.00 s)"
    )


@pytest.mark.parametrize("peak_dbfs", [24.0, 50.0])
def test_a_hot_float_bounce_over_full_scale_is_read(capsys, tmp_path, rng, peak_dbfs):
    # float audio goes over 0 dBFS and is right to: only samples past +60 dBFS are refused
    hot = float_music(rng, tmp_path / "hot.wav", 3.0, peak_dbfs=peak_dbfs)
    result = bandmate(capsys, "analyze", hot)
    assert result.returncode == 0, result.stderr
    assert re.search(rf"sample peak\s+{peak_dbfs:.1f} dBFS", result.stdout), result.stdout


def test_unknown_output_format(tmp_path, rng):
    with pytest.raises(AudioFormatError, match=r"\.mp3"):
        write_audio(sine(rng), tmp_path / "a.mp3")


def test_outputs_get_the_usual_permissions(tmp_path, rng):
    path = tmp_path / "a.wav"
    write_audio(sine(rng), path)
    mask = os.umask(0)
    os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask


def test_outputs_that_cannot_be_written_are_refused_before_any_work(tmp_path):
    # each of these failed after the work: IsADirectoryError, FileExistsError, or (two outputs
    # on one path) the second output silently replaced the first
    a_file = tmp_path / "mix.wav"
    a_file.write_bytes(b"")
    with pytest.raises(OutputError, match="is a file, not a folder"):
        check_writable(a_file / "master.wav")
    with pytest.raises(OutputError, match="is a file, not a folder"):
        check_output_paths([tmp_path / "out" / "master.wav", a_file / "deeper" / "report.json"])
    (tmp_path / "taken.wav").mkdir()
    with pytest.raises(OutputError, match="is a folder"):
        check_writable(tmp_path / "taken.wav")
    with pytest.raises(OutputError, match="two outputs"):
        check_output_paths([tmp_path / "a.wav", tmp_path / "a.wav"])
    with pytest.raises(OutputError, match="same file"):
        check_output_paths([tmp_path / "a.wav", tmp_path / "sub" / ".." / "a.wav"])
    check_output_paths([tmp_path / "new" / "folders" / "a.wav", tmp_path / "a.json"])  # fine


def test_a_read_only_folder_is_refused(tmp_path):
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    # root writes in any folder its mode forbids, but not in an immutable one (CI runs as root)
    as_root = hasattr(os, "geteuid") and os.geteuid() == 0
    if as_root and subprocess.run(["chattr", "+i", folder], capture_output=True).returncode:
        folder.chmod(0o755)
        pytest.skip("running as root where chattr cannot make a folder read-only")
    try:
        with pytest.raises(OutputError, match="not writable"):
            check_writable(folder / "master.wav")
    finally:
        if as_root:
            subprocess.run(["chattr", "-i", folder], check=True)
        folder.chmod(0o755)


@pytest.mark.parametrize("suffix", [".wav", ".aiff"])
def test_a_file_cut_short_is_truncated_not_shorter(tmp_path, rng, suffix):
    # libsndfile reads a file whose data chunk was cut off as the shorter file it holds, so a
    # half-copied mix was measured and mastered as a 0.2 s song; its header says how long it is
    good = tmp_path / f"good{suffix}"
    sf.write(good, sine(rng, seconds=1.0).samples.T, 44100, subtype="PCM_24")
    cut = tmp_path / f"cut{suffix}"
    cut.write_bytes(good.read_bytes()[:50_000])
    assert sf.info(str(cut)).duration < 0.5
    with pytest.raises(InputFileError, match=r"truncated: its header promises 1\.00 s"):
        read_audio(cut)


def test_a_streamed_wav_without_a_data_size_is_read(tmp_path, rng):
    # a writer that cannot seek back leaves 0xFFFFFFFF as the data size: no promise, not truncated
    path = tmp_path / "streamed.wav"
    audio = sine(rng)
    write_audio(audio, path, subtype="PCM_16")
    data = bytearray(path.read_bytes())
    at = data.index(b"data")
    data[at + 4 : at + 8] = b"\xff\xff\xff\xff"
    data[4:8] = b"\xff\xff\xff\xff"
    path.write_bytes(bytes(data))
    assert read_audio(path).frames == audio.frames


def test_a_header_never_filled_in_is_named(tmp_path, rng):
    # a recorder that crashed leaves a data size of 0: libsndfile reads the file as empty, and
    # analyze said "The audio holds no samples" of a file with 0.5 s of sound in it
    path = tmp_path / "crashed.wav"
    write_audio(sine(rng), path, subtype="PCM_16")
    data = bytearray(path.read_bytes())
    at = data.index(b"data")
    data[at + 4 : at + 8] = bytes(4)
    path.write_bytes(bytes(data))
    with pytest.raises(InputFileError, match=r"never finished: .* but 0\.50 s of it follow"):
        read_audio(path)
    empty = tmp_path / "empty.wav"
    write_audio(Audio(np.zeros((2, 0)), 44100), empty)
    assert read_audio(empty).frames == 0  # truly empty: read as empty


@pytest.mark.parametrize(
    ("dtype", "subtype"), [(np.int16, "PCM_16"), (np.int32, "PCM_32"), (np.uint8, "PCM_U8")]
)
def test_integer_samples_are_taken_at_full_scale_as_a_file_of_them_reads(tmp_path, dtype, subtype):
    """An int16 array (scipy.io.wavfile's) read 32768 times too loud."""
    t = np.arange(4410) / 44_100
    wave = 0.5 * np.sin(2 * np.pi * 441 * t)
    path = tmp_path / "tone.wav"
    sf.write(path, wave, 44_100, subtype=subtype)
    rate, as_integers = scipy.io.wavfile.read(path)
    assert as_integers.dtype == dtype
    given = Audio(as_integers, rate)
    assert given.peak() == pytest.approx(0.5, abs=0.01)
    assert np.allclose(given.samples, read_audio(path).samples, atol=1e-6)
