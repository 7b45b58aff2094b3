"""A batch meets the machine's limits: a full disk stops it cleanly, and more workers than the
machine has room for run as many as it has."""

from __future__ import annotations

import functools
import json
import os

import bandmate.batch
from bandmate.batch import REPORT_FILE, run_batch
from bandmate.batch.runner import WORKER_BYTES, local_worker_limit
from bandmate.cli import main
from tests.batch.conftest import write_mixes


def test_a_full_disk_stops_the_batch_and_a_rerun_with_room_does_the_rest(
    ray_cluster, tmp_path, small_disk, monkeypatch, capsys
):
    # it went on, each later item mastered in full and then failing to write, and the items
    # never tried were recorded as failed
    write_mixes(tmp_path / "in", 8, seconds=0.5)  # ~130 KB a master: the disk holds 3
    out = small_disk.path / "out"
    if small_disk.work is not None:  # no tmpfs here: the disk is simulated by the item's work
        monkeypatch.setattr(
            bandmate.batch, "run_batch", functools.partial(run_batch, work=small_disk.work)
        )
    argv = ["batch", "master", str(tmp_path / "in"), str(out), "--workers", "2"]
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    last = captured.err.strip().splitlines()[-1]
    assert "not started" in last and "run the batch again" in last
    data = json.loads((out / REPORT_FILE).read_text())
    counts = data["counts"]
    assert counts["done"] >= 1 and counts["pending"] >= 1, counts
    assert f"{counts['pending']} items not started" in last
    # only finished masters are left: nothing half-written, hidden or not
    done = {n for n, e in data["items"].items() if e["status"] == "done"}
    assert {p.name for p in out.iterdir()} == {*done, REPORT_FILE}

    small_disk.grow(4096)
    assert main(argv) == 0
    assert "8 items" in capsys.readouterr().out
    data = json.loads((out / REPORT_FILE).read_text())
    assert data["counts"] == {"done": 8, "failed": 0, "pending": 0}


def test_more_workers_than_the_machine_has_room_for_run_as_many_as_it_has(
    ray_cluster, tmp_path, capsys
):
    # `--workers 500` on a 2-core machine started 500 worker processes
    write_mixes(tmp_path / "in", 1)
    argv = ["batch", "master", str(tmp_path / "in"), str(tmp_path / "out"), "--workers", "500"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    (note,) = captured.err.strip().splitlines()
    limit, _ = local_worker_limit()
    assert f"running {limit} at once" in note and limit <= (os.cpu_count() or 1)
    workers = int(captured.out.split(" with ")[1].split()[0])
    assert 1 <= workers <= limit


def test_the_worker_limit_is_the_cpus_or_fewer_where_memory_is_short(monkeypatch):
    import bandmate.batch.runner as runner

    monkeypatch.setattr(runner, "usable_cpus", lambda: 8)
    monkeypatch.setattr(runner, "available_memory_bytes", lambda: 64 * WORKER_BYTES)
    assert local_worker_limit() == (8, "8 CPUs")
    monkeypatch.setattr(runner, "available_memory_bytes", lambda: 2 * WORKER_BYTES)
    assert local_worker_limit() == (2, "1.0 GB of free memory")
    monkeypatch.setattr(runner, "available_memory_bytes", lambda: WORKER_BYTES // 4)
    assert local_worker_limit()[0] == 1  # never none


def test_a_report_folder_that_turned_read_only_is_a_refused_write(tmp_path, monkeypatch):
    # a remount read-only (or an inode quota) refuses the report's temporary file, which the
    # writer turns into an OutputError sentence: that went past the batch's `except OSError`,
    # stopping it as a crash rather than as a disk that refuses writes
    import errno
    import tempfile

    from bandmate.batch.report import BatchReport
    from bandmate.batch.runner import _save

    report = BatchReport.load(tmp_path, "master")

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    assert _save(report) == os.strerror(errno.EROFS)
