"""Cancelling jobs: a queued job never starts, a running one stops at its next progress report
and leaves no files, and a cancelled job stays cancelled across a restart. Also the periodic
sweep of old unused uploads, which keeps those a queued job needs."""

from __future__ import annotations

import os
import sqlite3
import threading
import time

from fastapi.testclient import TestClient

from bandmate.web.app import create_app
from bandmate.web.jobs import JobStore, WorkerPool
from tests.web.conftest import CSRF, TINY_BACKING, midi_bytes, upload


def _until(condition, timeout_s: float = 30.0, what: str = "the condition") -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout_s} s"
        time.sleep(0.02)


class SlowRunner:
    """A runner that writes a partial file, then reports progress every 10 ms for up to 30 s
    (a long render); records whether it was stopped, and by what."""

    def __init__(self):
        self.started = threading.Event()
        self.ended = threading.Event()
        self.stopped_by: BaseException | None = None
        self.reports = 0

    def __call__(self, params, out, progress) -> None:
        (out / "partial.wav").write_bytes(b"RIFF")
        self.started.set()
        try:
            for i in range(3000):
                progress(i, 3000)
                self.reports += 1
                time.sleep(0.01)
        except BaseException as e:
            self.stopped_by = e
            raise
        finally:
            self.ended.set()


def test_a_cancelled_queued_job_never_starts_even_after_a_restart(tmp_path):
    app = create_app(tmp_path, workers=0)  # nothing runs: the job stays queued
    with TestClient(app) as client:
        job_id = client.post("/api/jobs", json=TINY_BACKING, headers=CSRF).json()["id"]
        response = client.post(f"/api/jobs/{job_id}/cancel", headers=CSRF)
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "cancelled"
        assert client.get(f"/api/jobs/{job_id}").json()["status"] == "cancelled"
        again = client.post(f"/api/jobs/{job_id}/cancel", headers=CSRF)  # no error twice
        assert again.status_code == 200 and again.json()["status"] == "cancelled"
    app = create_app(tmp_path)  # with a worker, which would run a queued job at once
    with TestClient(app) as client:
        # a job queued after it runs to the end: the worker has looked at the queue
        later = client.post("/api/jobs", json={**TINY_BACKING, "audio": False}, headers=CSRF)
        _until(lambda: app.state.store.get(later.json()["id"]).finished, what="the later job")
        job = client.get(f"/api/jobs/{job_id}").json()
        assert job["status"] == "cancelled" and job["files"] == []
    assert JobStore(tmp_path).get(job_id).attempts == 0  # never claimed
    assert not (tmp_path / "jobs" / job_id).exists()


def test_cancelling_a_running_job_stops_it_and_leaves_no_files_across_a_restart(tmp_path):
    runner = SlowRunner()
    app = create_app(tmp_path)
    app.state.pool.runners["backing"] = runner
    with TestClient(app) as client:
        job_id = client.post("/api/jobs", json=TINY_BACKING, headers=CSRF).json()["id"]
        assert runner.started.wait(30)
        assert client.get(f"/api/jobs/{job_id}").json()["status"] == "running"
        response = client.post(f"/api/jobs/{job_id}/cancel", headers=CSRF)
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "cancelled"
        assert runner.ended.wait(10), "the job ran on after it was cancelled"
        assert runner.reports < 3000
        assert type(runner.stopped_by).__name__ == "JobCancelled"
        _until(lambda: not (tmp_path / "jobs" / job_id).exists(), 10, "removing the files")
        job = client.get(f"/api/jobs/{job_id}").json()
        assert job["status"] == "cancelled" and job["files"] == []
        files = client.get(f"/api/jobs/{job_id}/files/partial.wav")
        assert files.status_code == 404
        assert files.json()["detail"] == f"Job {job_id} was cancelled, so it has no files."
    with TestClient(create_app(tmp_path)) as client:
        job = client.get(f"/api/jobs/{job_id}").json()
        assert job["status"] == "cancelled" and job["files"] == []
    assert not (tmp_path / "jobs" / job_id).exists()


def test_cancel_answers_409_for_a_finished_job_and_404_for_none(studio, backing_job):
    job_id = backing_job["id"]
    response = studio.post(f"/api/jobs/{job_id}/cancel", headers=CSRF)
    assert response.status_code == 409
    assert response.json()["detail"] == f"Job {job_id} is already done; it cannot be cancelled."
    assert studio.get(f"/api/jobs/{job_id}").json()["status"] == "done"
    missing = studio.post(f"/api/jobs/{'0' * 32}/cancel", headers=CSRF)
    assert missing.status_code == 404 and "There is no job" in missing.json()["detail"]
    assert studio.post(f"/api/jobs/{job_id}/cancel").status_code == 403  # no CSRF header


def _pool(tmp_path, runner) -> tuple[JobStore, WorkerPool]:
    store = JobStore(tmp_path)
    return store, WorkerPool(store, {"test": runner}, poll_s=0.05)


def test_a_cancel_from_another_process_stops_a_running_job(tmp_path):
    """Another server process (a CLI, a second handle on the folder) cancels through the table
    alone; the worker hears of it when it next writes progress."""
    runner = SlowRunner()
    store, pool = _pool(tmp_path, runner)
    job_id = store.submit("test", {})
    pool.start()
    try:
        assert runner.started.wait(10)
        other = JobStore(tmp_path)
        assert other.cancel(job_id).status == "cancelled"
        other.close()
        assert runner.ended.wait(10), "the job ran on after it was cancelled"
    finally:
        pool.stop()
    assert type(runner.stopped_by).__name__ == "JobCancelled"
    assert store.get(job_id).status == "cancelled"
    assert not store.job_dir(job_id).exists()


def test_a_job_cancelled_here_stops_at_its_very_next_report(tmp_path):
    """Not only at the next report written to the table (at most every 0.25 s)."""
    asked, cancelled, stopped = threading.Event(), threading.Event(), []

    def runner(params, out, progress):
        progress(1, 4)  # written: the worker now counts 0.25 s before it writes again
        asked.set()
        assert cancelled.wait(10)
        try:
            progress(2, 4)
        except BaseException as e:
            stopped.append(e)
            raise

    store, pool = _pool(tmp_path, runner)
    job_id = store.submit("test", {})
    pool.start()
    try:
        assert asked.wait(10)
        assert pool.cancel(job_id).status == "cancelled"
        cancelled.set()
        _until(lambda: not store.job_dir(job_id).exists(), 10, "removing the files")
    finally:
        pool.stop()
    assert [type(e).__name__ for e in stopped] == ["JobCancelled"]


def test_a_job_cancelled_during_its_last_step_stays_cancelled_with_no_files(tmp_path):
    """Cancelled after its last progress report, the job's work ends normally: it must not
    then be recorded as done, nor keep its files."""

    def runner(params, out, progress):
        progress(1, 2)
        (out / "song.mid").write_bytes(b"MThd")
        JobStore(tmp_path).cancel(job_id)  # as the API does, between two reports

    store, pool = _pool(tmp_path, runner)
    job_id = store.submit("test", {})
    pool.start()
    try:
        _until(lambda: store.get(job_id).status != "running" and not pool._cancelled, 10)
        _until(lambda: not store.job_dir(job_id).exists(), 10, "removing the files")
    finally:
        pool.stop()
    job = store.get(job_id)
    assert job.status == "cancelled" and job.files == []


def test_a_cancelled_jobs_folder_left_by_a_killed_server_is_removed_at_start(tmp_path):
    store, pool = _pool(tmp_path, lambda params, out, progress: None)
    job_id = store.submit("test", {})
    store.claim()
    store.job_dir(job_id).mkdir(parents=True)
    (store.job_dir(job_id) / "partial.wav").write_bytes(b"RIFF")
    store.cancel(job_id)  # and the server was killed before its worker noticed
    pool.start()
    pool.stop()
    assert not store.job_dir(job_id).exists()
    assert store.get(job_id).status == "cancelled"


def test_a_jobs_table_from_before_cancel_is_upgraded_keeping_its_rows(tmp_path):
    old_schema = """
        CREATE TABLE jobs (
            id TEXT PRIMARY KEY, kind TEXT NOT NULL, params TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
            progress REAL NOT NULL DEFAULT 0, error TEXT, files TEXT NOT NULL DEFAULT '[]',
            created REAL NOT NULL, updated REAL NOT NULL, attempts INTEGER NOT NULL DEFAULT 0);
        CREATE INDEX jobs_status_created ON jobs (status, created);
        INSERT INTO jobs VALUES ('a' || hex(zeroblob(15)) || 'a', 'backing', '{}', 'done', 1,
            NULL, '["song.mid"]', 1.0, 2.0, 1);
        INSERT INTO jobs VALUES ('b' || hex(zeroblob(15)) || 'b', 'backing', '{}', 'queued', 0,
            NULL, '[]', 3.0, 3.0, 0);
    """
    with sqlite3.connect(tmp_path / "jobs.sqlite") as db:
        db.executescript(old_schema)
    store = JobStore(tmp_path)
    done, queued = store.all()
    assert (done.status, done.files, done.attempts) == ("done", ["song.mid"], 1)
    assert store.cancel(queued.id).status == "cancelled"
    assert store.cancel(done.id).status == "done"  # a finished job is left as it was
    assert store.claim() is None


# ---- uploads swept while the studio runs ---------------------------------------------------------


def test_a_running_studio_removes_old_unused_uploads_and_keeps_a_queued_jobs(tmp_path):
    """Uploads were only swept at start-up: a studio that ran for months kept every one."""
    app = create_app(tmp_path, max_age_days=1, workers=0, upload_sweep_s=0.1)
    with TestClient(app) as client:
        needed = upload(client, "my tune.mid", midi_bytes()).json()["id"]
        unused = upload(client, "other.mid", midi_bytes()).json()["id"]
        job = {"kind": "chords", "input": needed, "count": 1}
        assert client.post("/api/jobs", json=job, headers=CSRF).status_code == 201
        two_days_ago = time.time() - 2 * 86400
        for upload_id in (needed, unused):
            os.utime(tmp_path / "uploads" / upload_id, (two_days_ago, two_days_ago))
        _until(lambda: not (tmp_path / "uploads" / unused).exists(), 30, "the sweep")
        assert (tmp_path / "uploads" / needed / "meta.json").is_file()
        fresh = upload(client, "new.mid", midi_bytes()).json()["id"]
        time.sleep(0.3)  # a few sweeps
        assert (tmp_path / "uploads" / fresh).is_dir()


def test_a_failing_sweep_is_logged_and_the_next_one_still_runs(tmp_path, caplog):
    app = create_app(tmp_path, max_age_days=1, workers=0, upload_sweep_s=0.05)
    calls = []
    real = app.state.uploads.clean_up

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:  # the first is at start-up
            raise OSError("disk unplugged")
        return real(*args, **kwargs)

    app.state.uploads.clean_up = flaky
    with TestClient(app) as client:
        _until(lambda: len(calls) >= 4, 30, "later sweeps")
        assert client.get("/health").status_code == 200
    assert any("removing old uploads failed" in r.message for r in caplog.records)
