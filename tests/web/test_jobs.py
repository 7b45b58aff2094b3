"""The job queue: atomic claims, recovery after a restart, failures, and the results quota."""

from __future__ import annotations

import threading
import time

from bandmate.errors import UserError
from bandmate.web.jobs import INTERRUPTED, REMOVED, JobStore, WorkerPool
from tests.web.conftest import CSRF, TINY_BACKING, wait_for


def _mark_running(store: JobStore, job_id: str, attempts: int) -> None:
    store._connect().execute(
        "UPDATE jobs SET status = 'running', attempts = ? WHERE id = ?", (attempts, job_id)
    )


def test_the_store_uses_wal(tmp_path):
    store = JobStore(tmp_path)
    assert store._connect().execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_two_workers_never_claim_the_same_job(tmp_path):
    store = JobStore(tmp_path)
    ids = {store.submit("backing", {"n": i}) for i in range(40)}
    claimed: list[str] = []

    def claim_all():
        local = JobStore(tmp_path)
        while (job := local.claim()) is not None:
            claimed.append(job.id)
        local.close()

    threads = [threading.Thread(target=claim_all) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(claimed) == sorted(ids)
    assert all(j.status == "running" and j.attempts == 1 for j in store.all())


def test_a_restart_requeues_a_running_job_once_then_fails_it(tmp_path):
    store = JobStore(tmp_path)
    first, second = store.submit("backing", {}), store.submit("backing", {})
    _mark_running(store, first, attempts=1)
    _mark_running(store, second, attempts=2)
    assert store.recover() == (1, 1)
    assert store.get(first).status == "queued"
    failed = store.get(second)
    assert failed.status == "failed" and failed.error == INTERRUPTED


def test_a_job_left_running_by_a_dead_server_runs_when_the_app_starts(tmp_path):
    """A job row marked running, as a killed server leaves it: the next server finishes it."""
    from fastapi.testclient import TestClient

    from bandmate.web.app import create_app

    store = JobStore(tmp_path)
    job_id = store.submit("backing", {**TINY_BACKING, "chart": "| C | G |\n", "audio": False})
    stale = store.submit("backing", {**TINY_BACKING, "audio": False})
    _mark_running(store, job_id, attempts=1)
    _mark_running(store, stale, attempts=2)
    store.close()
    with TestClient(create_app(tmp_path)) as client:
        job = wait_for(client, job_id)
        assert job["status"] == "done" and "song.mid" in job["files"]
        stale_job = client.get(f"/api/jobs/{stale}").json()
        assert stale_job["status"] == "failed"
        assert stale_job["error"] == INTERRUPTED


def _pool(tmp_path, runner, **options) -> tuple[JobStore, WorkerPool]:
    store = JobStore(tmp_path)
    return store, WorkerPool(store, {"test": runner}, poll_s=0.05, **options)


def _run_one(store: JobStore, pool: WorkerPool, params=None) -> dict:
    job_id = store.submit("test", params or {})
    pool.start()
    try:
        deadline = time.monotonic() + 10
        while not store.get(job_id).finished and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        pool.stop()
    return store.get(job_id)


def test_a_user_error_fails_the_job_with_its_sentence(tmp_path):
    def runner(params, out, progress):
        (out / "partial.wav").write_bytes(b"x")
        raise UserError("The chart has no bars; write bars like '| C | G |'.")

    store, pool = _pool(tmp_path, runner)
    job = _run_one(store, pool)
    assert job.status == "failed"
    assert job.error == "The chart has no bars; write bars like '| C | G |'."
    assert job.files == [] and not store.job_dir(job.id).exists()


def test_a_bug_fails_the_job_with_a_short_reason_and_a_log(tmp_path, caplog):
    def runner(params, out, progress):
        raise ZeroDivisionError("division by zero")

    store, pool = _pool(tmp_path, runner)
    job = _run_one(store, pool)
    assert job.status == "failed"
    assert "ZeroDivisionError" in job.error and "Traceback" not in job.error
    assert any("failed" in r.message for r in caplog.records)


def test_progress_and_files_are_recorded(tmp_path):
    seen = []

    def runner(params, out, progress):
        progress(1, 4)
        seen.extend(j.progress for j in store.all() if j.status == "running")
        (out / "sub").mkdir()
        (out / "sub" / "a.txt").write_text("a")
        (out / "b.txt").write_text("b")

    store, pool = _pool(tmp_path, runner)
    job = _run_one(store, pool)
    assert seen == [0.25]
    assert job.status == "done" and job.progress == 1.0
    assert job.files == ["b.txt", "sub/a.txt"]


def test_old_and_over_quota_results_are_removed_oldest_first(tmp_path):
    def runner(params, out, progress):
        (out / "data.bin").write_bytes(bytes(params["bytes"]))

    store, pool = _pool(tmp_path, runner, quota_bytes=10**9)
    ids = []
    pool.start()
    try:
        for _ in range(3):
            ids.append(store.submit("test", {"bytes": 1000}))
            pool.notify()
            while not store.get(ids[-1]).finished:
                time.sleep(0.01)
    finally:
        pool.stop()
    assert store.clean_up(quota_bytes=2500) == [ids[0]]
    assert not store.job_dir(ids[0]).exists() and store.job_dir(ids[1]).exists()
    assert store.get(ids[0]).files == [] and store.get(ids[0]).error == REMOVED
    assert store.clean_up(quota_bytes=10**9, max_age_days=1, now=time.time() + 2 * 86400) == ids[1:]


def test_a_queued_job_is_never_lost_when_the_server_stops(tmp_path):
    """Stopping the app with work queued keeps the work: the next app runs it."""
    from fastapi.testclient import TestClient

    from bandmate.web.app import create_app

    params = {**TINY_BACKING, "audio": False}
    app = create_app(tmp_path)
    app.state.pool.workers = 0  # a server that stops before a worker picks the job up
    with TestClient(app) as client:
        job_id = client.post("/api/jobs", json=params, headers=CSRF).json()["id"]
        assert client.get(f"/api/jobs/{job_id}").json()["status"] == "queued"
    with TestClient(create_app(tmp_path)) as client:
        assert wait_for(client, job_id)["status"] == "done"


def test_an_upload_a_queued_job_needs_outlives_its_age_and_an_unused_one_does_not(tmp_path):
    """The studio stops with a chords job queued on an uploaded melody and comes back after the
    uploads' age: the job still has its melody; an upload no job needs is gone."""
    import os

    from fastapi.testclient import TestClient

    from bandmate.web.app import create_app
    from tests.web.conftest import midi_bytes, upload

    app = create_app(tmp_path, max_age_days=1)
    app.state.pool.workers = 0
    with TestClient(app) as client:
        needed = upload(client, "my tune.mid", midi_bytes()).json()["id"]
        unused = upload(client, "other.mid", midi_bytes()).json()["id"]
        job = {"kind": "chords", "input": needed, "count": 1}
        job_id = client.post("/api/jobs", json=job, headers=CSRF).json()["id"]
    two_days_ago = time.time() - 2 * 86400
    for upload_id in (needed, unused):
        os.utime(tmp_path / "uploads" / upload_id, (two_days_ago, two_days_ago))
    with TestClient(create_app(tmp_path, max_age_days=1)) as client:
        job = wait_for(client, job_id)
        assert job["status"] == "done", job["error"]
        assert "chords.json" in job["files"]
    assert (tmp_path / "uploads" / needed).is_dir()
    assert not (tmp_path / "uploads" / unused).exists()


def test_a_queued_jobs_upload_removed_by_hand_fails_it_saying_to_upload_again(tmp_path):
    import shutil

    from fastapi.testclient import TestClient

    from bandmate.web.app import create_app
    from tests.web.conftest import midi_bytes, upload

    app = create_app(tmp_path)
    app.state.pool.workers = 0
    with TestClient(app) as client:
        melody = upload(client, "my tune.mid", midi_bytes()).json()["id"]
        job = {"kind": "chords", "input": melody, "count": 1}
        job_id = client.post("/api/jobs", json=job, headers=CSRF).json()["id"]
    shutil.rmtree(tmp_path / "uploads" / melody)
    with TestClient(create_app(tmp_path)) as client:
        job = wait_for(client, job_id)
    assert job["status"] == "failed"
    assert "upload it again" in job["error"] and melody not in job["error"]


# ---- one server per data folder, and workers that survive errors -------------------------------


def test_a_second_server_on_the_same_data_folder_is_refused(tmp_path):
    """A second studio would requeue the first one's running jobs: it must not start."""
    import pytest
    from fastapi.testclient import TestClient

    from bandmate.web.app import create_app

    with TestClient(create_app(tmp_path)):
        second = create_app(tmp_path)
        with pytest.raises(UserError, match="Another bandmate studio is using the data folder"):
            second.state.pool.start()
        with pytest.raises(UserError, match="--data-dir"), TestClient(second):
            pass
    with TestClient(create_app(tmp_path)) as client:  # the first one stopped: the lock is free
        assert client.get("/health").status_code == 200


def test_a_worker_survives_a_store_error_and_runs_the_next_job(tmp_path, caplog):
    import sqlite3

    def runner(params, out, progress):
        (out / "ok.txt").write_text("ok")

    store, pool = _pool(tmp_path, runner)
    real_claim, calls = store.claim, []

    def flaky_claim():
        calls.append(1)
        if len(calls) == 1:
            raise sqlite3.OperationalError("database is locked")
        return real_claim()

    store.claim = flaky_claim
    job = _run_one(store, pool)
    assert len(calls) > 1
    assert job.status == "done" and job.files == ["ok.txt"]
    assert any("carries on" in r.message for r in caplog.records)


def test_a_base_exception_from_a_runner_fails_its_job_and_the_worker_goes_on(tmp_path):
    class Escape(BaseException):
        pass

    def runner(params, out, progress):
        if params.get("escape"):
            raise Escape()
        (out / "ok.txt").write_text("ok")

    store, pool = _pool(tmp_path, runner)
    first = store.submit("test", {"escape": True})
    job = _run_one(store, pool)  # queued after `first`, run by the same single worker
    assert job.status == "done"
    failed = store.get(first)
    assert failed.status == "failed" and "Escape" in failed.error
