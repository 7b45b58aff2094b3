"""A real restart: `bandmate serve` killed (SIGKILL) while a job runs, started again on the same
data folder, finishes the job; no job is lost."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve(data_dir, port: int, log):
    """`python -m bandmate.cli serve` in a child process; yields it once /health answers."""
    command = ["serve", "--port", str(port), "--data-dir", str(data_dir)]
    process = subprocess.Popen(
        [sys.executable, "-m", "bandmate.cli", *command],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, "bandmate serve exited"
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            assert time.monotonic() < deadline, "bandmate serve did not start"
            time.sleep(0.05)
        yield process
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
    data, port = tmp_path / "studio", free_port()
    base = f"http://127.0.0.1:{port}"
    with open(tmp_path / "serve.log", "wb") as log:
        with serve(data, port, log) as first:
            response = httpx.post(f"{base}/api/jobs", json=BACKING, headers=CSRF, timeout=10)
            assert response.status_code == 201, response.text
            job_url = f"{base}/api/jobs/{response.json()['id']}"
            job = poll(job_url, lambda j: j["status"] != "queued", 30)
            assert job["status"] == "running", job
            first.send_signal(signal.SIGKILL)
            first.wait(10)

        with serve(data, port, log):
            job = poll(job_url, lambda j: j["status"] in ("done", "failed"), 60)
            assert job["status"] == "done", job
            assert {"song.mid", "master.wav", "manifest.json"} <= set(job["files"])
            wav = httpx.get(f"{job_url}/files/master.wav", timeout=10)
            assert wav.status_code == 200 and wav.content[:4] == b"RIFF"
    from bandmate.web.jobs import JobStore

    assert JobStore(data).get(job["id"]).attempts == 2  # cut off once, then run again


def test_a_running_job_cancelled_stays_cancelled_after_a_kill_and_a_restart(tmp_path):
    """A cancelled job's row is its state: the next server neither runs it again nor keeps its
    files (the render stops at its next progress report, before it would finish)."""
    data, port = tmp_path / "studio", free_port()
    base = f"http://127.0.0.1:{port}"
    long_backing = {**BACKING, "choruses": 8}  # minutes of audio: still rendering when cancelled
    with open(tmp_path / "serve.log", "wb") as log:
        with serve(data, port, log) as first:
            response = httpx.post(f"{base}/api/jobs", json=long_backing, headers=CSRF, timeout=10)
            job_url = f"{base}/api/jobs/{response.json()['id']}"
            job = poll(job_url, lambda j: j["status"] != "queued" and j["progress"] > 0, 60)
            assert job["status"] == "running", job
            cancelled = httpx.post(f"{job_url}/cancel", headers=CSRF, timeout=10)
            assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
            folder = data / "jobs" / job["id"]
            deadline = time.monotonic() + 30
            while folder.exists():  # the worker stops and removes what it wrote
                assert time.monotonic() < deadline, "the cancelled job went on"
                time.sleep(0.05)
            first.send_signal(signal.SIGKILL)
            first.wait(10)

        with serve(data, port, log):
            time.sleep(1.0)  # a worker that took it up again would have started by now
            job = httpx.get(job_url, timeout=5).json()
            assert job["status"] == "cancelled" and job["files"] == [], job
    from bandmate.web.jobs import JobStore

    assert JobStore(data).get(job["id"]).attempts == 1
    assert not (data / "jobs" / job["id"]).exists()
