"""`bandmate master` on a kick loop: the table says that EQ and compression were left out, and
why, where they would have cost the master its loudness target (see `tests/mix/test_master_drums`).
"""

from __future__ import annotations

import json

import pytest
import soundfile as sf

from bandmate.cli import main
from bandmate.io.audio import Audio, write_audio
from bandmate.mix.meter import measure_loudness
from tests.mix.test_master_drums import kicks


def test_a_kick_loop_is_mastered_to_the_target_and_the_table_says_what_was_left_out(
    capsys, tmp_path
):
    mix, out, report = tmp_path / "kicks.wav", tmp_path / "master.wav", tmp_path / "master.json"
    write_audio(kicks(6.0, 0.5), mix, subtype="PCM_16")
    code = main(["master", str(mix), "-o", str(out), "--json", str(report)])
    printed = capsys.readouterr().out
    assert code == 0
    lines = printed.splitlines()
    assert "EQ toward the 'balanced' curve: left out (see below)" in lines
    assert "compression: left out (see below)" in lines
    assert any(line.startswith("EQ and compression were left out") for line in lines)
    data, rate = sf.read(str(out), always_2d=True)
    assert measure_loudness(Audio(data.T, rate)).integrated_lufs == pytest.approx(-14.0, abs=0.2)
    saved = json.loads(report.read_text())
    assert saved["eq_and_compression_left_out"] is True
    assert saved["reached_target"] is True
