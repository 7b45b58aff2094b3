"""The studio on a disk that fills up: a job or an upload the disk refuses fails in one sentence
that says so, keeps nothing, and the studio goes on serving."""

from __future__ import annotations

import contextlib
import subprocess
import time

import pytest

from tests.web.conftest import CSRF, TINY_BACKING, upload, wait_for, wav_bytes


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MB tmpfs (mounting one needs root, as the test machines run): (its path, True); else
    (a plain folder, False), on which the test sends the writes to /dev/full instead."""
    path = tmp_path / "disk"
    path.mkdir()
    mount = ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(path)]
    mounted = subprocess.run(mount, capture_output=True).returncode == 0
    yield path, mounted
    if mounted:
        subprocess.run(["umount", "-l", str(path)], check=True)


def fill(folder):
    """Fill the disk under `folder` to its last byte; returns the file that fills it."""
    filler = folder / "filler"
    with open(filler, "wb", buffering=0) as f:
        for size in (65536, 1):
            with contextlib.suppress(OSError):
                while True:
                    f.write(b"\0" * size)
    return filler


def test_a_full_disk_fails_the_job_and_the_upload_in_one_sentence_and_the_studio_goes_on(
    small_disk, monkeypatch
):
    # the job said "choose another folder", the upload "not valid multipart/form-data" (a 400),
    # and a job's row that did not fit "restart the studio" (a 503)
    from fastapi.testclient import TestClient

    import bandmate.web.uploads
    from bandmate.web.app import create_app

    disk, real = small_disk
    take = wav_bytes(0.2)
    if not real:  # the disk refuses every write, as /dev/full does
        import soundfile as sf

        def full(*args, **kwargs):
            raise sf.LibsndfileError(2)

        monkeypatch.setattr(sf.SoundFile, "write", full)
        monkeypatch.setattr(
            bandmate.web.uploads,
            "open",
            lambda p, m: open("/dev/full", m),  # noqa: SIM115
            raising=False,
        )
    data = disk / "studio"
    with TestClient(create_app(data)) as client:
        response = client.post("/api/jobs", json=TINY_BACKING, headers=CSRF)  # ~1 MB a stem
        assert response.status_code == 201, response.text
        job = wait_for(client, response.json()["id"])
        assert job["status"] == "failed" and job["files"] == []
        error = job["error"]
        assert "could not be stored on the server" in error and "free some space" in error
        assert str(data) not in error and error.count(". ") == 0  # one sentence, no paths
        assert list((data / "jobs").iterdir()) == []  # nothing partial left

        filler = fill(disk) if real else None
        response = upload(client, "take.wav", take)
        assert response.status_code == 507, response.text
        assert "The upload could not be stored" in response.json()["detail"]
        assert list((data / "uploads").iterdir()) == []
        if real:  # the queue's own row does not fit either
            response = client.post("/api/jobs", json=TINY_BACKING, headers=CSRF)
            assert response.status_code == 507, response.text
            assert "free some space" in response.json()["detail"]

        # room again: the same studio takes the upload and runs the job
        if real:
            filler.unlink()
        else:
            monkeypatch.undo()
        assert client.get("/health").status_code == 200
        assert upload(client, "take.wav", take).status_code == 201
        response = client.post("/api/jobs", json={**TINY_BACKING, "audio": False}, headers=CSRF)
        assert wait_for(client, response.json()["id"])["status"] == "done"


@pytest.mark.parametrize("full", ["before its result", "after its result"])
def test_a_failure_the_full_queue_cannot_record_is_shown_and_recorded_once_there_is_room(
    small_disk, monkeypatch, full
):
    # the job's row could not be written either, and the job stayed `running` for good: its
    # page said "Rendering… 94%" until the studio was restarted
    import sqlite3

    from fastapi.testclient import TestClient

    from bandmate.web.app import create_app
    from bandmate.web.jobs import JobStore

    disk, real = small_disk
    refusing = []

    def runner(params, out, progress):  # a job whose result or only its row meets a full disk
        if full == "after its result":
            (out / "master.wav").write_bytes(b"\0" * 1000)
        refusing.append(fill(disk) if real else None)
        if full == "before its result":
            with open(out / "master.wav" if real else "/dev/full", "wb", buffering=0) as f:
                f.write(b"\0" * 100_000)

    if not real:  # the queue's database refuses a write as SQLite does on a full disk
        finish = JobStore.finish

        def full_finish(self, *args, **kwargs):
            if refusing:
                raise sqlite3.OperationalError("database or disk is full")
            return finish(self, *args, **kwargs)

        monkeypatch.setattr(JobStore, "finish", full_finish)
    app = create_app(disk / "studio")
    app.state.pool.runners["backing"] = runner
    with TestClient(app) as client:
        job_id = client.post("/api/jobs", json=TINY_BACKING, headers=CSRF).json()["id"]
        job = wait_for(client, job_id, timeout_s=20)
        assert job["status"] == "failed" and "could not be stored on the server" in job["error"]
        store = app.state.store
        if full == "before its result":  # not recorded: the disk is full (after its result,
            # the room its files took may be enough for the row)
            assert store.get(job_id).status == "running"
            # a job the page shows failed is not cancelled: that lost its error for good
            cancel = client.post(f"/api/jobs/{job_id}/cancel", headers=CSRF)
            assert cancel.status_code == 409, cancel.text
        if refusing[0] is not None:
            refusing[0].unlink()
        refusing.clear()
        deadline = time.monotonic() + 10
        while store.get(job_id).status == "running" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert (store.get(job_id).status, store.get(job_id).error) == ("failed", job["error"])
        assert not (disk / "studio" / "jobs" / job_id).exists()
