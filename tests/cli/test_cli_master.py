"""`bandmate master` as a user runs it: a table, the master, a picture and JSON; bad input is one
line on stderr and exit code 2.

Most cases call `main` in this process; one runs the installed command end to end.
"""

from __future__ import annotations

import json
import re
import subprocess

import numpy as np
import pytest
import soundfile as sf

from bandmate.cli import main
from bandmate.io.audio import Audio, write_audio
from bandmate.mix.meter import measure_loudness
from tests.builders import assert_user_error, run_cli, sha256
from tests.mix.test_master import music


def bandmate(capsys, *args) -> subprocess.CompletedProcess:
    code = main([*map(str, args)])
    out = capsys.readouterr()
    return subprocess.CompletedProcess(args, code, out.out, out.err)


@pytest.fixture
def mix_file(tmp_path, rng):
    path = tmp_path / "mix.wav"
    write_audio(music(rng, seconds=5.0, lufs=-24.0), path, subtype="PCM_24")
    return path


def test_table_master_picture_and_json(capsys, tmp_path, mix_file):
    out, png, report = tmp_path / "master.wav", tmp_path / "master.png", tmp_path / "master.json"
    digest = sha256(mix_file)
    result = bandmate(
        capsys, "master", mix_file, "-o", out, "--report", png, "--json", report,
        "--target-lufs", "-16", "--ceiling-dbtp", "-1.5",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    rows = {
        line.split()[0] if not line.startswith("true") else "true peak": line
        for line in result.stdout.splitlines()
    }
    assert re.search(r"integrated\s+-24\.0 LUFS\s+-16\.0 LUFS\s+-16\.0 LUFS", rows["integrated"])
    assert re.search(r"-1\.[5-9] dBTP\s+<= -1\.5 dBTP", rows["true peak"]), rows
    assert f"wrote {out}, {png}, {report}" in result.stdout  # (the chart and JSON were not said)
    data, rate = sf.read(str(out), always_2d=True)
    loudness = measure_loudness(Audio(data.T, rate))
    assert loudness.integrated_lufs == pytest.approx(-16.0, abs=0.2)
    assert loudness.true_peak_dbtp <= -1.4
    assert sf.info(str(out)).subtype == "PCM_24"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    saved = json.loads(report.read_text())
    assert saved["reached_target"] is True
    assert saved["before"]["integrated_lufs"] == pytest.approx(-24.0, abs=0.1)
    assert saved["after"]["integrated_lufs"] == pytest.approx(-16.0, abs=0.2)
    assert set(saved["stages"]) == {
        "dc_removal",
        "tonal_balance",
        "compression",
        "low_band",
        "gain",
        "limiter",
        "trim",
    }
    assert sha256(mix_file) == digest


def test_reference_intensity_and_subtype(capsys, tmp_path, mix_file):
    reference = tmp_path / "reference.wav"
    write_audio(music(np.random.default_rng(5), seconds=4.0, tilt=0.3), reference)
    out = tmp_path / "master.wav"
    result = bandmate(
        capsys, "master", mix_file, "-o", out, "--reference", reference, "--intensity", "0.5",
        "--subtype", "16",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "EQ toward the reference" in result.stdout
    assert sf.info(str(out)).subtype == "PCM_16"


def test_no_overwrite_without_force(capsys, tmp_path, mix_file):
    out = tmp_path / "master.wav"
    out.write_bytes(b"keep")
    assert_user_error(bandmate(capsys, "master", mix_file, "-o", out), "already exists", "--force")
    assert out.read_bytes() == b"keep"
    png = tmp_path / "old.png"
    png.write_bytes(b"old")
    result = bandmate(capsys, "master", mix_file, "-o", tmp_path / "new.wav", "--report", png)
    assert_user_error(result, "already exists")
    assert not (tmp_path / "new.wav").exists()
    assert bandmate(capsys, "master", mix_file, "-o", out, "--force").returncode == 0
    assert sf.info(str(out)).frames == 5 * 44_100


def test_bad_input_is_one_line(capsys, tmp_path, rng):
    cases = []
    silent = tmp_path / "silent.wav"
    sf.write(str(silent), np.zeros((44_100, 2)), 44_100)
    cases.append((silent, ["silent", "nothing to master"]))
    nan = tmp_path / "nan.wav"
    values = rng.standard_normal((44_100, 2)) * 0.1
    values[10, 0] = np.inf
    sf.write(str(nan), values, 44_100, subtype="FLOAT")
    cases.append((nan, ["NaN or infinite"]))
    surround = tmp_path / "surround.wav"
    sf.write(str(surround), rng.standard_normal((44_100, 3)) * 0.1, 44_100)
    cases.append((surround, ["3 channels", "mono or stereo"]))
    text = tmp_path / "song.wav"
    text.write_text("this is not audio")
    cases.append((text, ["not a readable audio file"]))
    cases.append((tmp_path / "missing.wav", ["does not exist"]))
    for path, words in cases:
        assert_user_error(bandmate(capsys, "master", path, "-o", tmp_path / "out.wav"), *words)
        assert not (tmp_path / "out.wav").exists()


def test_a_reference_with_nothing_to_match_is_its_own_fault(capsys, tmp_path, mix_file):
    # "The reference ... is silent; there is nothing to master" blamed the mix and said nothing
    # of what to give instead
    silent, short = tmp_path / "silent.wav", tmp_path / "short.wav"
    sf.write(str(silent), np.zeros((44_100, 2)), 44_100)
    sf.write(str(short), np.full((4_410, 2), 0.1), 44_100)
    for reference, words in ((silent, "silent"), (short, "too short to measure")):
        result = bandmate(capsys, "master", mix_file, "-o", tmp_path / "o.wav", "--reference",
                          reference)  # fmt: skip
        assert_user_error(result, "the reference", words, "give a finished master to match")
        assert "nothing to master" not in result.stderr


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--intensity", "2"], ["Intensity"]),
        (["--target-lufs", "5"], ["Target loudness"]),
        (["--curve", "polka"], ["Unknown target curve", "balanced"]),
        (["-o", "master.mp3"], ["Cannot write audio", ".wav or .flac"]),
    ],
)
def test_bad_settings_are_one_line(capsys, tmp_path, mix_file, args, words):
    if "-o" not in args:
        args = ["-o", tmp_path / "out.wav", *args]
    else:
        args = [str(tmp_path / a) if a.endswith(".mp3") else a for a in args]
    assert_user_error(bandmate(capsys, "master", mix_file, *args), *words)


def test_installed_command(tmp_path, mix_file):
    result = run_cli("master", mix_file, "-o", tmp_path / "master.flac")
    assert result.returncode == 0, result.stderr
    assert "integrated" in result.stdout and result.stderr == ""
    assert sf.info(str(tmp_path / "master.flac")).subtype == "PCM_24"


def test_a_mix_off_centre_reaches_the_target(capsys, tmp_path, rng):
    # a large DC offset used to leave the limiter no room: "could not be reached", 9 LU short
    mix = music(rng, seconds=5.0, lufs=-24.0)
    path, out, report = tmp_path / "dc.wav", tmp_path / "master.wav", tmp_path / "master.json"
    write_audio(Audio(mix.samples + np.float32(0.3), mix.sample_rate), path, subtype="PCM_24")
    result = bandmate(capsys, "master", path, "-o", out, "--intensity", "0", "--json", report)
    assert result.returncode == 0, result.stderr
    assert "could not be reached" not in result.stdout
    assert "DC offset of 0.3" in result.stdout
    data, rate = sf.read(str(out), always_2d=True)
    assert measure_loudness(Audio(data.T, rate)).integrated_lufs == pytest.approx(-14, abs=0.2)
    assert np.max(np.abs(data.mean(axis=0))) < 0.005
    saved = json.loads(report.read_text())
    assert saved["reached_target"] is True
    assert saved["stages"]["dc_removal"]["offset_removed"][0] == pytest.approx(0.3, abs=0.02)


def test_outputs_that_cannot_be_written_are_refused_before_the_work(capsys, tmp_path, mix_file):
    # --json on the master's own path wrote the master, then replaced it with the JSON (exit 0);
    # a folder for an output, or a file where a folder should be made, raised after the work
    out = tmp_path / "master.wav"
    result = bandmate(capsys, "master", mix_file, "-o", out, "--json", out, "--force")
    assert_user_error(result, "two outputs")
    assert not out.exists()
    (tmp_path / "reports").mkdir()
    result = bandmate(capsys, "master", mix_file, "-o", out, "--json", tmp_path / "reports")
    assert_user_error(result, "is a folder")
    result = bandmate(capsys, "master", mix_file, "-o", mix_file / "master.wav")
    assert_user_error(result, "is a file, not a folder")
    assert not out.exists()
    # a picture named as another kind of file was refused only after the master was written
    assert_user_error(bandmate(capsys, "master", mix_file, "-o", out, "--report", "r.txt"), "r.txt")
    assert not out.exists()


def _file_size_limit(limit_bytes: int):
    """A preexec_fn that makes every write past `limit_bytes` fail as a full disk does."""

    def limit():
        import resource
        import signal

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))

    return limit


def test_a_full_disk_is_one_sentence_and_leaves_no_file(tmp_path):
    # the temporary file between passes, or the master itself, failing to write (a full disk)
    # ended in a traceback (OSError, soundfile's 'System error.')
    import sys

    mono = tmp_path / "mono.wav"
    x = 0.1 * np.sin(2 * np.pi * 220 * np.arange(88_200) / 44_100)
    sf.write(mono, x.astype(np.float32), 44_100, subtype="FLOAT")
    out = tmp_path / "master.wav"
    command = [sys.executable, "-m", "bandmate.cli", "master", mono, "-o", out]
    for limit, subtype, words in (
        (200_000, "24", "temporary folder"),  # the shaped audio between passes: 352 800 bytes
        (352_820, "float", "could not write"),  # that fits; the master's header does not
    ):
        result = subprocess.run(
            [*map(str, command), "--subtype", subtype],
            capture_output=True,
            text=True,
            preexec_fn=_file_size_limit(limit),
            timeout=120,
        )
        assert_user_error(result, words)
        assert list(tmp_path.iterdir()) == [mono]


def test_the_curve_is_named_in_any_case(capsys, tmp_path, mix_file):
    out = tmp_path / "master.wav"
    result = bandmate(capsys, "master", mix_file, "-o", out, "--curve", "Warm")
    assert result.returncode == 0, result.stderr
    assert "'warm' curve" in result.stdout
