"""`bandmate analyze` as a user runs it: a table or JSON, and one line with exit 2 for bad input.

Most cases call `main` in this process (a fresh interpreter per case would cost a second each);
one runs the installed command end to end.
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
from tests.builders import assert_user_error, run_cli


def analyze(capsys, *args) -> subprocess.CompletedProcess:
    code = main(["analyze", *map(str, args)])
    out = capsys.readouterr()
    return subprocess.CompletedProcess(args, code, out.out, out.err)


@pytest.fixture
def tone_file(tmp_path):
    """Five seconds of a stereo 1 kHz sine at -23 dBFS, 24-bit, 48 kHz: -23 LUFS."""
    t = np.arange(5 * 48_000) / 48_000
    x = 10 ** (-23 / 20) * np.sin(2 * np.pi * 1000 * t)
    path = tmp_path / "tone.wav"
    write_audio(Audio(np.stack([x, x]), 48_000), path, subtype="PCM_24")
    return path


def test_table(capsys, tone_file):
    result = analyze(capsys, tone_file)
    assert result.returncode == 0, result.stderr
    rows = dict(re.split(r"\s{2,}", line, maxsplit=1) for line in result.stdout.splitlines())
    assert rows["file"] == str(tone_file)
    assert rows["format"] == "stereo, 48000 Hz, 5.00 s"
    assert rows["integrated"] == "-23.0 LUFS"
    assert rows["true peak"] == "-23.0 dBTP"
    assert rows["loudness range"].startswith("0.0 LU")
    assert rows["stereo"] == "correlation 1.00, side/mid -inf dB"
    assert rows["octave bands Hz"].split()[0] == "31.5"


def test_json_has_every_measurement(capsys, tone_file):
    result = analyze(capsys, tone_file, "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["integrated_lufs"] == pytest.approx(-23.0, abs=0.1)
    assert data["true_peak_dbtp"] == pytest.approx(-23.0, abs=0.1)
    assert data["loudness_range_lu"] == pytest.approx(0.0, abs=0.1)
    assert data["stereo_correlation"] == pytest.approx(1.0)
    assert data["side_to_mid_db"] is None  # identical channels: -inf, said in a note
    assert len(data["octave_bands"]) == 10 and len(data["short_term_lufs"]) == 21
    assert data["channels"] == 2 and data["sample_rate_hz"] == 48_000


def test_a_silent_file_is_said_plainly(capsys, tmp_path):
    path = tmp_path / "silence.wav"
    write_audio(Audio(np.zeros((2, 48_000 * 4)), 48_000), path)
    data = json.loads(analyze(capsys, path, "--json").stdout)
    assert data["integrated_lufs"] is None and data["true_peak_dbtp"] is None
    assert "silent" in data["notes"][0]
    result = analyze(capsys, path)
    assert result.returncode == 0 and "silent" in result.stdout


def test_bad_inputs(capsys, tmp_path, rng):
    text = tmp_path / "notes.wav"
    text.write_text("this is not audio")
    assert_user_error(analyze(capsys, text), "not a readable audio file")
    assert_user_error(analyze(capsys, tmp_path / "missing.wav"), "does not exist")
    three = tmp_path / "three.wav"
    sf.write(three, rng.standard_normal((4800, 3)) * 0.1, 48_000)
    assert_user_error(analyze(capsys, three), "3 channels")
    nan = tmp_path / "nan.wav"
    samples = rng.standard_normal((4800, 2)) * 0.1
    samples[100, 1] = np.nan
    sf.write(nan, samples, 48_000, subtype="FLOAT")
    assert_user_error(analyze(capsys, nan), "NaN")
    cut = tmp_path / "cut.wav"  # a copy that stopped: it was measured as a 0.2 s file
    cut.write_bytes(nan.read_bytes()[:8000])
    assert_user_error(analyze(capsys, cut), "truncated", "0.10 s")


def test_the_installed_command(tone_file, tmp_path):
    result = run_cli("analyze", tone_file)
    assert result.returncode == 0, result.stderr
    assert "-23.0 LUFS" in result.stdout
    assert "analyze" in run_cli("--help").stdout
    assert_user_error(run_cli("analyze", tmp_path / "missing.wav"), "does not exist")


def test_a_file_name_that_is_not_utf8(tone_file, tmp_path):
    # a name from an old Windows zip ("caf\xe9.wav" in Latin-1): soundfile could not open it
    # (UnicodeEncodeError), and a UTF-8 terminal could not print it
    import os
    import sys

    latin1 = tmp_path / os.fsdecode(b"caf\xe9.wav")
    latin1.write_bytes(tone_file.read_bytes())
    result = subprocess.run(
        [sys.executable, "-m", "bandmate.cli", "analyze", str(latin1)],
        capture_output=True,
        env={**os.environ, "PYTHONIOENCODING": "utf-8:strict"},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr.decode()
    out = result.stdout.decode("utf-8")
    assert "caf\ufffd.wav" in out and "-23.0 LUFS" in out


def test_a_dc_offset_is_named(capsys, tmp_path, tone_file):
    # the crest factor and RMS of a mix sitting off centre read wrong with nothing to say why
    t = np.arange(4 * 48_000) / 48_000
    x = 0.3 + 0.1 * np.sin(2 * np.pi * 200 * t)
    path = tmp_path / "off-centre.wav"
    write_audio(Audio(np.stack([x, x]), 48_000), path, subtype="PCM_24")
    result = analyze(capsys, path)
    assert "off centre by 0.3 (-10.5 dBFS), a DC offset" in result.stdout
    data = json.loads(analyze(capsys, path, "--json").stdout)
    assert data["dc_offset"] == pytest.approx([0.3, 0.3], abs=1e-4)
    assert "DC offset" not in analyze(capsys, tone_file).stdout
