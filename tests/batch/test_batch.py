"""Batches on a local Ray: every item done once, a rerun does nothing, failures and lost
workers lose no item, and the CLI refuses bad input in one sentence."""

from __future__ import annotations

import functools
import json

import cloudpickle
import pytest

from bandmate.batch import REPORT_FILE, plan_master, run_batch
from bandmate.cli import main
from bandmate.errors import OutputError
from bandmate.io.audio import read_audio
from bandmate.mix.meter import integrated_lufs
from tests.batch import crashing
from tests.batch.conftest import write_mixes


def report(out):
    return json.loads((out / REPORT_FILE).read_text())


def mtimes(folder):
    return {p: p.stat().st_mtime_ns for p in folder.rglob("*")}


def test_a_batch_masters_every_file_and_a_rerun_rewrites_nothing(ray_cluster, tmp_path):
    write_mixes(tmp_path / "in", 3)
    write_mixes(tmp_path / "in" / "disc2", 1)
    out = tmp_path / "out"
    items = plan_master(tmp_path / "in", out, target_lufs=-16.0)
    assert [i.name for i in items] == ["disc2/s0.wav", "s0.wav", "s1.wav", "s2.wav"]
    summary = run_batch(items, out, workers=2)
    assert (summary.done, summary.skipped, summary.failed) == (4, 0, {})
    entries = report(out)["items"]
    assert {e["status"] for e in entries.values()} == {"done"}
    for name in entries:
        assert integrated_lufs(read_audio(out / name)) == pytest.approx(-16.0, abs=0.2)
    before = mtimes(out)
    again = run_batch(plan_master(tmp_path / "in", out, target_lufs=-16.0), out, workers=2)
    assert (again.done, again.skipped) == (0, 4)
    assert mtimes(out) == before


def test_a_changed_input_or_setting_is_done_again(ray_cluster, tmp_path):
    (first, second) = write_mixes(tmp_path / "in", 2)
    out = tmp_path / "out"
    run_batch(plan_master(tmp_path / "in", out), out, workers=2)
    second.write_bytes(first.read_bytes())  # new bytes under the same name
    summary = run_batch(plan_master(tmp_path / "in", out), out, workers=2)
    assert (summary.done, summary.skipped) == (1, 1)
    summary = run_batch(plan_master(tmp_path / "in", out, ceiling_dbtp=-2.0), out, workers=2)
    assert summary.done == 2


def test_a_failed_item_is_reported_and_the_others_finish(ray_cluster, tmp_path):
    write_mixes(tmp_path / "in", 2)
    (tmp_path / "in" / "broken.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    out = tmp_path / "out"
    summary = run_batch(plan_master(tmp_path / "in", out), out, workers=2)
    assert summary.done == 2 and list(summary.failed) == ["broken.wav"]
    entry = report(out)["items"]["broken.wav"]
    assert entry["status"] == "failed" and "broken.wav" in entry["error"]
    assert report(out)["counts"] == {"done": 2, "failed": 1, "pending": 0}
    again = run_batch(plan_master(tmp_path / "in", out), out, workers=2)
    assert (again.done, again.skipped, list(again.failed)) == (0, 2, ["broken.wav"])


def test_a_worker_killed_mid_batch_loses_no_item(ray_cluster, tmp_path):
    write_mixes(tmp_path / "in", 4)
    out = tmp_path / "out"
    cloudpickle.register_pickle_by_value(crashing)  # the workers need not import tests/
    work = functools.partial(
        crashing.master_but_die_once, marker_dir=str(tmp_path), victim="s1.wav"
    )
    summary = run_batch(plan_master(tmp_path / "in", out), out, workers=2, work=work)
    assert (tmp_path / "died").exists()  # the worker did die
    assert (summary.done, summary.failed) == (4, {})
    assert {e["status"] for e in report(out)["items"].values()} == {"done"}
    before = mtimes(out)
    again = run_batch(plan_master(tmp_path / "in", out), out, workers=2)
    assert (again.done, again.skipped) == (0, 4)
    assert mtimes(out) == before


def test_a_batch_stopped_midway_resumes_and_refuses_files_it_did_not_make(ray_cluster, tmp_path):
    write_mixes(tmp_path / "in", 3)
    out = tmp_path / "out"
    run_batch(plan_master(tmp_path / "in", out), out, workers=2)
    # as a crash leaves it: one item pending (its output possibly written), one never recorded
    data = report(out)
    data["items"]["s1.wav"]["status"] = "pending"
    del data["items"]["s2.wav"]
    (out / REPORT_FILE).write_text(json.dumps(data))
    with pytest.raises(OutputError, match=r"s2\.wav"):
        run_batch(plan_master(tmp_path / "in", out), out, workers=2)
    (out / "s2.wav").unlink()
    summary = run_batch(plan_master(tmp_path / "in", out), out, workers=2)
    assert (summary.done, summary.skipped) == (2, 1)
    assert report(out)["counts"]["done"] == 3


def test_the_cli_masters_a_folder(ray_cluster, tmp_path, capsys):
    write_mixes(tmp_path / "in", 2)
    assert main(["batch", "master", str(tmp_path / "in"), str(tmp_path / "out")]) == 0
    assert "2 items: 2 done" in capsys.readouterr().out
    assert main(["batch", "master", str(tmp_path / "in"), str(tmp_path / "out")]) == 0
    assert "2 already done" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["master", "{tmp}/missing", "{tmp}/out"], "does not exist"),
        (["master", "{tmp}/empty", "{tmp}/out"], "holds no WAV or FLAC files"),
        (["master", "{tmp}/in", "{tmp}/in"], "is the input folder"),
        (["master", "{tmp}/in", "{tmp}/out", "--workers", "0"], "--workers must be at least 1"),
        (["render", "{tmp}/in", "{tmp}/out"], "holds no MIDI files"),
        (["loops", "--styles", "no-such-style", "--count", "2", "-o", "{tmp}/o"], "style"),
        (["loops", "--styles", "funk", "--count", "0", "-o", "{tmp}/o"], "loop count"),
        ([], "Say what to batch"),
        (["master", "{tmp}/in", "{tmp}/a-file"], "is a file; give a folder"),
        (["master", "{tmp}/a-file", "{tmp}/out"], "is a file, not a folder"),
        (["loops", "--styles", "funk", "--count", "1", "-o", "{tmp}/a-file"], "is a file"),
        (["loops", "--styles", "funk", "--count", "2", "--seed", "-1", "-o", "{tmp}/o"], "seed"),
        (
            ["loops", "--styles", "funk", "--count", "2", "--seed", "4294967295", "-o", "{tmp}/o"],
            "seed",
        ),
    ],
)
def test_bad_input_is_one_sentence_and_exit_2(tmp_path, capsys, args, message):
    write_mixes(tmp_path / "in", 1)
    (tmp_path / "empty").mkdir()
    (tmp_path / "a-file").write_text("not a folder")
    argv = ["batch", *(a.replace("{tmp}", str(tmp_path)) for a in args)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "entry",
    ['"done"', "null", '{"seconds": 1}', '{"status": "lost"}',
     # its outputs edited by hand: a TypeError traceback
     '{"status": "done", "outputs": 5}', '{"status": "done", "outputs": [1]}',
     '{"status": "done", "outputs": {"a": 1}}', '{"status": "done", "outputs": "s0.wav"}'],
)  # fmt: skip
def test_a_report_with_a_broken_entry_is_one_sentence(tmp_path, capsys, entry):
    """A report edited by hand: one sentence that names it, not a TypeError or KeyError."""
    write_mixes(tmp_path / "in", 1)
    (tmp_path / "out").mkdir()
    items = '{"s0.wav": ' + entry + "}"
    text = '{"format": "bandmate-batch/1", "kind": "master", "items": ' + items + "}"
    (tmp_path / "out" / REPORT_FILE).write_text(text)
    assert main(["batch", "master", str(tmp_path / "in"), str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "is not a batch report" in err and len(err.strip().splitlines()) == 1


def test_an_address_where_no_cluster_answers_is_refused_in_seconds(tmp_path):
    """Ray retries such an address, silently, for about 14 minutes."""
    import socket
    import subprocess
    import sys

    write_mixes(tmp_path / "in", 1)
    with socket.socket() as s:  # a port that was free a moment ago: nothing listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    command = [sys.executable, "-m", "bandmate.cli", "batch", "master", str(tmp_path / "in"),
               str(tmp_path / "out"), "--address", f"127.0.0.1:{port}"]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert "No Ray cluster answers" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
