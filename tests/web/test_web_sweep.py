"""A producer's mishaps with the studio's job database: locked by another program, or removed
under the running studio. Each is a 503 with one sentence, never a 500, and never a new, empty
queue made behind the user's back."""

from __future__ import annotations

import sqlite3
import threading

from fastapi.testclient import TestClient

from bandmate.web.app import create_app
from bandmate.web.jobs import JobStore
from tests.web.conftest import CSRF, TINY_BACKING


def test_a_job_database_locked_by_another_program_is_503_with_one_sentence(tmp_path):
    """`sqlite3 jobs.sqlite` left in a write transaction (or a backup tool) holds the lock: a
    submission waits its while, then says so; it was a bare 500 "Internal Server Error"."""
    app = create_app(tmp_path / "studio data", workers=0)
    app.state.store.busy_timeout_s = 0.2
    with TestClient(app, raise_server_exceptions=False) as client:
        holder = sqlite3.connect(tmp_path / "studio data" / "jobs.sqlite", isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            response = client.post("/api/jobs", json=TINY_BACKING, headers=CSRF)
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert response.status_code == 503, response.text
        detail = response.json()["detail"]
        assert "locked by another program" in detail and "\n" not in detail
        # and once the lock is gone, the studio works again
        assert client.post("/api/jobs", json=TINY_BACKING, headers=CSRF).status_code == 201


def test_a_job_database_removed_under_the_studio_is_not_made_again_empty(tmp_path):
    """A thread that connects after jobs.sqlite was deleted (the server's request threads come
    and go) made a new, empty database and then failed on it ("no such table: jobs"): a split
    queue, the jobs of one half lost at the next restart."""
    store = JobStore(tmp_path / "data ü")
    store.submit("backing", {"chart": "| C |"})
    for path in (tmp_path / "data ü").glob("jobs.sqlite*"):
        path.unlink()
    failures = []

    def look() -> None:
        try:
            store.unfinished()
        except sqlite3.Error as e:
            failures.append(e)

    thread = threading.Thread(target=look)
    thread.start()
    thread.join()
    assert len(failures) == 1
    assert not store.path.exists()


def test_an_upload_after_the_uploads_folder_was_removed_is_kept(tmp_path):
    """`rm -r DATA_DIR/uploads` (a clean-up by hand) under the running studio: every upload
    from then on was a 500 "Internal Server Error" until a restart."""
    import shutil

    from tests.web.conftest import upload, wav_bytes

    app = create_app(tmp_path, workers=0)
    with TestClient(app, raise_server_exceptions=False) as client:
        shutil.rmtree(tmp_path / "uploads")
        response = upload(client, "take 2.wav", wav_bytes(0.5))
        assert response.status_code == 201, response.text
        job = {"kind": "master", "input": response.json()["id"]}
        assert client.post("/api/jobs", json=job, headers=CSRF).status_code == 201
