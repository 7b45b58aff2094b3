"""A real restart: `bandmate serve` killed (SIGKILL) while a job runs, started again on the same
data folder, finishes the job; no job is lost."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time

import httpx
import pytest

from tests.web.conftest import CSRF

pytestmark = pytest.mark.skipif(os.name != "posix", reason="sends SIGKILL")

# long enough (~3 s with audio in a fresh process) to be caught running
BACKING = {
    "kind": "backing",
    "chart": "| C | Am | F | G | C | Am | F | G |",
    "style": "pop",
    "tempo": 120,
    "seed": 3,
}


@contextlib.contextmanager
def serve(data_dir, log_path):
    """`python -m bandmate.cli serve` in a child process on a port it picks itself (`--port 0`);
    yields (the process, its base URL) once /health answers. A port found free here and handed
    to the child could be taken in between (by another test's server, or as the local port of
    any outgoing connection), and a restart on the same port could lose it the same way: the
    child then exited with "address already in use"."""
    command = ["serve", "--port", "0", "--data-dir", str(data_dir)]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "bandmate.cli", *command],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        base = None
        while True:
            assert process.poll() is None, f"bandmate serve exited: {log_path.read_text()}"
            if base is None:
                found = re.search(r"on (http://\S+?)/ ", log_path.read_text())
                base = found and found[1]
            if base is not None:
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                        break
            assert time.monotonic() < deadline, "bandmate serve did not start"
            time.sleep(0.05)
        yield process, base
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(10)


def poll(url: str, until, timeout_s: float) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        job = httpx.get(url, timeout=5).json()
        if until(job) or time.monotonic() > deadline:
            return job
        time.sleep(0.02)


def test_a_job_running_when_the_server_is_killed_finishes_after_a_restart(tmp_path):
    data = tmp_path / "studio"
    with serve(data, tmp_path / "first.log") as (first, base):
        response = httpx.post(f"{base}/api/jobs", json=BACKING, headers=CSRF, timeout=10)
        assert response.status_code == 201, response.text
        job_path = f"/api/jobs/{response.json()['id']}"
        job = poll(base + job_path, lambda j: j["status"] != "queued", 30)
        assert job["status"] == "running", job
        first.send_signal(signal.SIGKILL)
        first.wait(10)

    with serve(data, tmp_path / "second.log") as (_, base):
        job = poll(base + job_path, lambda j: j["status"] in ("done", "failed"), 60)
        assert job["status"] == "done", job
        assert {"song.mid", "master.wav", "manifest.json"} <= set(job["files"])
        wav = httpx.get(f"{base}{job_path}/files/master.wav", timeout=10)
        assert wav.status_code == 200 and wav.content[:4] == b"RIFF"
    from bandmate.web.jobs import JobStore

    assert JobStore(data).get(job["id"]).attempts == 2  # cut off once, then run again


def test_a_running_job_cancelled_stays_cancelled_after_a_kill_and_a_restart(tmp_path):
    """A cancelled job's row is its state: the next server neither runs it again nor keeps its
    files (the render stops at its next progress report, before it would finish)."""
    data = tmp_path / "studio"
    long_backing = {**BACKING, "choruses": 8}  # minutes of audio: still rendering when cancelled
    with serve(data, tmp_path / "first.log") as (first, base):
        response = httpx.post(f"{base}/api/jobs", json=long_backing, headers=CSRF, timeout=10)
        job_path = f"/api/jobs/{response.json()['id']}"
        job = poll(base + job_path, lambda j: j["status"] != "queued" and j["progress"] > 0, 60)
        assert job["status"] == "running", job
        cancelled = httpx.post(f"{base}{job_path}/cancel", headers=CSRF, timeout=10)
        assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
        folder = data / "jobs" / job["id"]
        deadline = time.monotonic() + 30
        while folder.exists():  # the worker stops and removes what it wrote
            assert time.monotonic() < deadline, "the cancelled job went on"
            time.sleep(0.05)
        first.send_signal(signal.SIGKILL)
        first.wait(10)

    with serve(data, tmp_path / "second.log") as (_, base):
        time.sleep(1.0)  # a worker that took it up again would have started by now
        job = httpx.get(base + job_path, timeout=5).json()
        assert job["status"] == "cancelled" and job["files"] == [], job
    from bandmate.web.jobs import JobStore

    assert JobStore(data).get(job["id"]).attempts == 1
    assert not (data / "jobs" / job["id"]).exists()
