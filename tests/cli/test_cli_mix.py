"""`bandmate mix` as a user runs it: a folder or files in, a mix and a table out; bad input is
one line on stderr and exit 2."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest
import soundfile as sf

from bandmate.cli import main
from bandmate.io.audio import Audio, read_audio, write_audio
from bandmate.mix.meter import measure_loudness
from tests.builders import assert_user_error, mix_peak_rss_bytes, sha256

RATE = 44_100


def mix(capsys, *args) -> subprocess.CompletedProcess:
    try:
        code = main(["mix", *map(str, args)])
    except SystemExit as stop:  # argparse's usage errors
        code = stop.code
    out = capsys.readouterr()
    return subprocess.CompletedProcess(args, code, out.out, out.err)


def tone(freq_hz: float, level_db: float, seconds: float = 2.0, channels: int = 2) -> Audio:
    t = np.arange(int(seconds * RATE)) / RATE
    x = 10 ** (level_db / 20) * np.sin(2 * np.pi * freq_hz * t)
    return Audio(np.tile(x, (channels, 1)), RATE)


@pytest.fixture
def stems_dir(tmp_path):
    """A folder laid out as `bandmate backing` writes it: DIR/stems/NN-part.wav."""
    folder = tmp_path / "song" / "stems"
    folder.mkdir(parents=True)
    write_audio(tone(80, -30), folder / "01-bass.wav")
    write_audio(tone(440, -10, channels=1), folder / "02-piano.wav")
    write_audio(tone(660, -25), folder / "03-pad.wav")
    return tmp_path / "song"


def test_folder_to_mix_with_reports(capsys, stems_dir, tmp_path):
    out, png, js = tmp_path / "mix.wav", tmp_path / "mix.png", tmp_path / "mix.json"
    before = {p: sha256(p) for p in (stems_dir / "stems").iterdir()}
    result = mix(capsys, stems_dir, "-o", out, "--report", png, "--json", js)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["stem", "role", "gain"]
    assert "01-bass.wav" in lines[1] and "bass" in lines[1]
    assert "02-piano.wav" in lines[2] and "keys" in lines[2]
    audio = read_audio(out)
    assert audio.channels == 2 and audio.sample_rate == RATE
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = json.loads(js.read_text())
    assert [s["role"] for s in report["stems"]] == ["bass", "keys", "pad"]
    assert {p: sha256(p) for p in before} == before  # inputs unchanged
    assert lines[-1] == f"wrote {out}, {png}, {js}"  # (the chart and JSON were not said)


def test_files_silent_and_rates(capsys, tmp_path):
    write_audio(tone(80, -20), tmp_path / "bass.wav")
    write_audio(Audio(np.zeros((2, RATE)), RATE), tmp_path / "guitar.wav")
    t = np.arange(RATE) / 48_000
    write_audio(Audio(0.1 * np.sin(2 * np.pi * 300 * t), 48_000), tmp_path / "keys.wav")
    result = mix(
        capsys,
        tmp_path / "bass.wav",
        tmp_path / "guitar.wav",
        tmp_path / "keys.wav",
        "-o",
        tmp_path / "out.wav",
    )
    assert result.returncode == 0, result.stderr
    assert "guitar.wav is silent" in result.stdout
    # the silent guitar has no say in the rate: the bass and keys tie, and the higher rate wins
    assert "bass.wav was resampled from 44100 Hz to 48000 Hz" in result.stdout
    assert "padded" in result.stdout


def test_a_silent_mix_is_said_in_words(capsys, tmp_path):
    # it printed "mix: None LUFS, true peak None dBTP"
    write_audio(Audio(np.zeros((2, RATE)), RATE), tmp_path / "guitar.wav")
    result = mix(capsys, tmp_path / "guitar.wav", "-o", tmp_path / "out.wav")
    assert result.returncode == 0, result.stderr
    assert "None" not in result.stdout and "mix: silent" in result.stdout


def test_no_overwrite_without_force(capsys, stems_dir, tmp_path):
    out = tmp_path / "mix.wav"
    out.write_bytes(b"keep")
    result = mix(capsys, stems_dir, "-o", out)
    assert_user_error(result, "already exists", "--force")
    assert out.read_bytes() == b"keep"
    assert mix(capsys, stems_dir, "-o", out, "--force").returncode == 0


def test_three_channels_refused(capsys, tmp_path):
    sf.write(tmp_path / "surround.wav", np.zeros((RATE, 3), np.float32), RATE)
    result = mix(capsys, tmp_path / "surround.wav", "-o", tmp_path / "out.wav")
    assert_user_error(result, "3 channels")
    assert not (tmp_path / "out.wav").exists()


def test_nan_refused(capsys, tmp_path):
    x = np.zeros((RATE, 2), np.float32)
    x[10] = np.nan
    sf.write(tmp_path / "bad.wav", x, RATE, subtype="FLOAT")
    assert_user_error(mix(capsys, tmp_path / "bad.wav", "-o", tmp_path / "o.wav"), "NaN")


def test_not_audio_and_empty_folder(capsys, tmp_path):
    (tmp_path / "notes.wav").write_text("not audio")
    assert_user_error(mix(capsys, tmp_path / "notes.wav", "-o", tmp_path / "o.wav"), "audio")
    (tmp_path / "empty").mkdir()
    assert_user_error(mix(capsys, tmp_path / "empty", "-o", tmp_path / "o.wav"), "no WAV, FLAC")


def test_outputs_that_cannot_be_written_are_refused_before_the_work(capsys, stems_dir, tmp_path):
    # --json on the mix's own path wrote the mix, then replaced it with the JSON (exit 0)
    out = tmp_path / "mix.wav"
    assert_user_error(mix(capsys, stems_dir, "-o", out, "--json", out), "two outputs")
    assert not out.exists()
    result = mix(capsys, stems_dir, "-o", out, "--report", tmp_path, "--force")
    assert_user_error(result, "is a folder")
    assert not out.exists()


def test_a_stem_given_twice_is_refused(capsys, stems_dir, tmp_path):
    # it was mixed twice, 6 dB louder than it should be, with two rows of the same name
    folder = stems_dir / "stems"
    bass = folder / "01-bass.wav"
    result = mix(capsys, bass, bass, "-o", tmp_path / "o.wav")
    assert_user_error(result, "01-bass.wav", "given twice")
    result = mix(
        capsys, stems_dir, folder / ".." / "stems" / "01-bass.wav", "-o", tmp_path / "o.wav"
    )
    assert_user_error(result, "01-bass.wav", "given twice")
    assert not (tmp_path / "o.wav").exists()


def test_hidden_files_in_a_stems_folder_are_passed_over(capsys, stems_dir, tmp_path):
    # macOS writes "._01-bass.wav" (metadata, not audio) beside every file it copies to a USB
    # stick: the whole folder was refused as "not a readable audio file"
    folder = stems_dir / "stems"
    (folder / "._01-bass.wav").write_bytes(b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        ")
    result = mix(capsys, stems_dir, "-o", tmp_path / "mix.wav")
    assert result.returncode == 0, result.stderr
    assert "._01-bass" not in result.stdout
    assert len([line for line in result.stdout.splitlines() if ".wav " in line]) == 3


def test_a_stem_name_that_is_not_utf8(capsys, stems_dir, tmp_path):
    # soundfile could not open "caf\xe9-piano.wav" (a Latin-1 name), and the picture's label
    # raised in matplotlib after the mix was written
    import os

    folder = stems_dir / "stems"
    (folder / "02-piano.wav").rename(folder / os.fsdecode(b"02-caf\xe9-piano.wav"))
    out, png, js = tmp_path / "mix.wav", tmp_path / "mix.png", tmp_path / "mix.json"
    result = mix(capsys, stems_dir, "-o", out, "--report", png, "--json", js)
    assert result.returncode == 0, result.stderr
    assert png.read_bytes()[:4] == b"\x89PNG"
    names = [s["name"] for s in json.loads(js.read_text())["stems"]]
    assert "02-caf\ufffd-piano.wav" in names


def test_a_full_disk_is_one_sentence_and_leaves_no_file(stems_dir, tmp_path):
    import resource
    import signal
    import sys

    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))

    out = tmp_path / "mix.wav"
    result = subprocess.run(
        [sys.executable, "-m", "bandmate.cli", "mix", str(stems_dir), "-o", str(out)],
        capture_output=True,
        text=True,
        preexec_fn=limit,
        timeout=120,
    )
    assert_user_error(result, "could not write", "mix.wav")
    assert not out.exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_aiff_stems_are_mixed_and_other_formats_named(capsys, stems_dir, tmp_path):
    # Logic's and Pro Tools' AIFF stems in a folder were left out of the mix without a word
    folder = stems_dir / "stems"
    sf.write(folder / "04-lead.aiff", tone(880, -20).samples.T, RATE, subtype="PCM_24")
    sf.write(folder / "05-organ.aif", tone(220, -20).samples.T, RATE, format="AIFF")
    (folder / "06-vocal.m4a").write_bytes(b"....ftypM4A not read")
    result = mix(capsys, stems_dir, "-o", tmp_path / "mix.wav")
    assert result.returncode == 0, result.stderr
    assert "04-lead.aiff  lead" in result.stdout and "05-organ.aif" in result.stdout
    assert "Left out 06-vocal.m4a" in result.stdout


def test_a_subfolder_of_stems_is_named_as_left_out(capsys, tmp_path):
    # stems exported in group folders ("Drums/kick.wav") were left out without a word
    song = tmp_path / "song"
    (song / "Drums").mkdir(parents=True)
    write_audio(tone(80, -20), song / "bass.wav")
    write_audio(tone(3000, -20), song / "Drums" / "kick.wav")
    (song / "Notes").mkdir()
    (song / "Notes" / "lyrics.txt").write_text("la la")
    result = mix(capsys, song, "-o", tmp_path / "mix.wav")
    assert result.returncode == 0, result.stderr
    assert "Left out Drums/" in result.stdout and "Notes" not in result.stdout


def test_a_stem_bandmate_cannot_take_is_named(capsys, stems_dir, tmp_path):
    # "Audio with 6 channels is not supported" did not say which of the folder's stems it was
    folder = stems_dir / "stems"
    sf.write(folder / "04-surround.wav", np.zeros((RATE, 6), np.float32), RATE)
    result = mix(capsys, stems_dir, "-o", tmp_path / "o.wav")
    assert_user_error(result, "04-surround.wav", "6 channels", "mix it down")
    (folder / "04-surround.wav").unlink()
    sf.write(folder / "05-phone.wav", np.zeros((8000, 1), np.float32), 8000)
    assert_user_error(mix(capsys, stems_dir, "-o", tmp_path / "o.wav"), "05-phone.wav", "8000 Hz")


def test_a_picture_named_as_another_kind_of_file_is_refused_before_the_mix(capsys, stems_dir):
    out = stems_dir.parent / "mix.wav"
    assert_user_error(mix(capsys, stems_dir, "-o", out, "--report", "mix.txt"), "mix.txt")
    assert not out.exists()


def test_roles_and_levels_given_by_stem_name(capsys, stems_dir, tmp_path):
    # a user's say over the balance: automix undoes any gain a stem comes in at, so --level
    # is the only way to set the piano back; --role names what the sound cannot tell
    out, js = tmp_path / "mix.wav", tmp_path / "mix.json"
    args = ("--level", "piano=-9", "--level", "01-bass.wav=0", "--role", "03-PAD=vocal")
    result = mix(capsys, stems_dir, "-o", out, "--json", js, *args)
    assert result.returncode == 0, result.stderr
    stems = {s["name"]: s for s in json.loads(js.read_text())["stems"]}
    after = {name: s["loudness_after_lufs"] for name, s in stems.items()}
    assert after["02-piano.wav"] - after["01-bass.wav"] == pytest.approx(-9, abs=0.3)
    assert stems["03-pad.wav"]["role"] == "vocal" and stems["03-pad.wav"]["role_from"] == "given"
    assert [s["level_from"] for s in stems.values()] == ["given", "given", "model"]
    assert "-9.0 (given)" in result.stdout


def test_a_level_for_a_kit_given_as_its_pieces(capsys, stems_dir, tmp_path, rng):
    # "drums" names no stem of a kit in pieces; it names the kit, whose sum is set at the level
    folder = stems_dir / "stems"
    beats = np.zeros(2 * RATE)
    beats[:: RATE // 4] = 1.0  # clicks four times a second, a kick and a snare of noise
    for name in ("04-kick.wav", "05-snare.wav"):
        noise = np.convolve(beats, rng.standard_normal(2000) * np.exp(-np.arange(2000) / 300))
        write_audio(Audio(0.3 * noise[None, : 2 * RATE], RATE), folder / name)
    js = tmp_path / "mix.json"
    args = ("--level", "drums=-6", "--level", "bass=0", "--json", js)
    result = mix(capsys, stems_dir, "-o", tmp_path / "mix.wav", *args)
    assert result.returncode == 0, result.stderr
    stems = {s["name"]: s for s in json.loads(js.read_text())["stems"]}
    kit = sum(
        read_audio(folder / name).samples * 10 ** (stems[name]["gain_db"] / 20)
        for name in ("04-kick.wav", "05-snare.wav")
    )
    kit_lufs = measure_loudness(Audio(kit, RATE)).integrated_lufs
    assert kit_lufs - stems["01-bass.wav"]["loudness_after_lufs"] == pytest.approx(-6, abs=0.3)
    assert stems["05-snare.wav"]["level_from"] == "given"
    # a name that fits nothing lists the parts too
    result = mix(capsys, stems_dir, "-o", tmp_path / "o.wav", "--level", "kit=-6")
    assert_user_error(result, "'kit' names no stem", "drums (04-kick.wav + 05-snare.wav)")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--level", "drums=-6"), ("'drums' names no stem", "01-bass.wav")),
        (("--level", "bass=-3", "--level", "01-bass=-2"), ("given twice", "01-bass.wav")),
        (("--level", "bass=3"), ("under the loudest",)),
        # argparse said "invalid STEM=VALUE value: 'bass=loud'", not what was wrong
        (("--level", "bass=loud"), ("'loud' for 'bass' is not a level in dB", "--level bass=-6")),
        (("--role", "drums"), ("'drums' gives no role", "--role drums=vocal")),
        (("--level", "=-6"), ("'=-6' names no stem", "--level 'Take 3=-6'")),
        (("--role", "bass=tuba"), ("'tuba'", "unknown")),
    ],
)
def test_a_role_or_level_that_cannot_be_used_is_refused(capsys, stems_dir, tmp_path, args, words):
    result = mix(capsys, stems_dir, "-o", tmp_path / "o.wav", *args)
    assert_user_error(result, *words)
    assert not (tmp_path / "o.wav").exists()


def test_a_long_session_is_held_about_once_in_memory(tmp_path, rng):
    # 12 four-minute stereo stems peaked at 2.7 GB (2.6 times their size as float32): each stem
    # was kept as read until the end, and the workers' heaps did not reuse what the main
    # thread's let go (bandmate.memory)
    size = 0
    for folder, seconds in (("short", 1.0), ("long", 60.0)):
        (tmp_path / folder).mkdir()
        for k, name in enumerate(
            ["kick", "snare", "bass", "guitar", "organ", "keys", "pad", "vox"]
        ):
            x = tone(55 * 2 ** (k / 2), -20 - k, seconds=seconds).samples
            x = x + 0.01 * rng.standard_normal(x.shape).astype(np.float32)
            sf.write(tmp_path / folder / f"{name}.wav", x.T, RATE, subtype="PCM_16")
            size += x.astype(np.float32).nbytes if folder == "long" else 0
    base = mix_peak_rss_bytes(tmp_path / "short", tmp_path / "short.wav")  # the libraries
    peak = mix_peak_rss_bytes(tmp_path / "long", tmp_path / "long.wav")
    # 2.4 times the stems before; 1.6 with each stem let go once prepared, 2.2 with one heap
    # alone, 1.1 with both
    assert peak - base < 1.5 * size, (peak - base) / size
