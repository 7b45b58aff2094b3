"""`bandmate jam --simulate` as a user runs it: a session file and a latency report; bad input
is one line and exit 2."""

from __future__ import annotations

import json
import subprocess

import pytest

from bandmate.cli import main
from bandmate.io.midi import read_midi
from bandmate.live.performance import perform_chart, write_performance
from tests.builders import assert_user_error


def jam(capsys, *args) -> subprocess.CompletedProcess:
    code = main(["jam", *map(str, args)])
    out = capsys.readouterr()
    return subprocess.CompletedProcess(args, code, out.out, out.err)


@pytest.fixture(scope="module")
def performance(tmp_path_factory):
    path = tmp_path_factory.mktemp("jam") / "performance.mid"
    perf = perform_chart("| C | Am7 | Dm7 | G7 |", tempo_bpm=120, choruses=2, pedal=True)
    write_performance(path, perf.events, tempo_bpm=120)
    return path


def test_session_has_the_player_and_the_band(capsys, performance, tmp_path):
    out, report = tmp_path / "session.mid", tmp_path / "latency.json"
    result = jam(capsys, "--simulate", performance, "-o", out, "--latency-report", report)
    assert result.returncode == 0, result.stderr
    score = read_midi(out)
    names = [t.name for t in score.tracks]
    assert names[0] == "Player" and {"Drums", "Bass", "Piano"} <= set(names)
    assert all(t.notes for t in score.tracks)
    assert [str(c.symbol) for c in score.chords][:2] == ["C", "Am7"]
    data = json.loads(report.read_text())
    assert {"p50_ms", "p99_ms", "max_ms", "events_received", "events_ignored"} <= set(data)
    assert data["events_ignored"] == 0 and data["output_events"] > 0


def test_style_and_mode(capsys, performance, tmp_path):
    out = tmp_path / "session.mid"
    result = jam(capsys, "--simulate", performance, "--style", "jazz-swing", "--mode", "full",
                 "-o", out)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Bass" in [t.name for t in read_midi(out).tracks]


@pytest.mark.parametrize(
    ("content", "words"),
    [(b"not a midi file", ("not a MIDI file",)), (b"MThd\x00\x00\x00\x06\x00", ("truncated",))],
)
def test_a_bad_performance_is_one_line(capsys, tmp_path, content, words):
    bad = tmp_path / "bad.mid"
    bad.write_bytes(content)
    result = jam(capsys, "--simulate", bad, "-o", tmp_path / "s.mid")
    assert_user_error(result, *words)


def test_missing_file_unknown_style_and_no_simulate(capsys, performance, tmp_path):
    out = tmp_path / "s.mid"
    assert_user_error(jam(capsys, "--simulate", tmp_path / "none.mid", "-o", out), "exist")
    assert_user_error(
        jam(capsys, "--simulate", performance, "--style", "polka", "-o", out), "style"
    )
    assert_user_error(jam(capsys, "-o", out), "--simulate")
    assert_user_error(
        jam(capsys, "--simulate", performance, "--split-note", "H9", "-o", out), "split"
    )
