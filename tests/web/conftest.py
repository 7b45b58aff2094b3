"""Fixtures for the web studio: an app on a temporary data folder, tiny files to upload."""

from __future__ import annotations

import contextlib
import io
import threading
import time

import numpy as np
import pytest

# a short chart at a quick tempo with no intro or ending: a full backing job with audio in ~1 s
TINY_BACKING = {
    "kind": "backing",
    "chart": "| C | G |",
    "style": "pop",
    "tempo": 132,
    "seed": 1,
    "intro": False,
    "ending": False,
}
CSRF = {"X-Bandmate": "1"}


def wav_bytes(seconds: float = 1.0, rate: int = 44100) -> bytes:
    """A stereo 220 Hz tone at -12 dBFS as 16-bit WAV bytes."""
    import soundfile as sf

    t = np.arange(int(seconds * rate)) / rate
    tone = (0.25 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    buffer = io.BytesIO()
    sf.write(buffer, np.stack([tone, tone], axis=1), rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def midi_bytes() -> bytes:
    import tempfile
    from pathlib import Path

    from bandmate.io.midi import write_midi
    from tests.builders import make_score, piano

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "tune.mid"
        write_midi(make_score(piano((0, 1, 60), (1, 1, 62), (2, 1, 64), (3, 1, 65))), path)
        return path.read_bytes()


def upload(client, name: str, data: bytes, headers=CSRF):
    return client.post("/api/uploads", files={"file": (name, data)}, headers=headers)


def wait_for(client, job_id: str, timeout_s: float = 60.0, headers=None) -> dict:
    """Poll a job until it is done, failed or cancelled."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = client.get(f"/api/jobs/{job_id}", headers=headers).json()
        if job["status"] in ("done", "failed", "cancelled"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} still {job['status']} after {timeout_s} s")


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    """A TestClient on a fresh studio (workers running) shared by a test module."""
    from fastapi.testclient import TestClient

    from bandmate.web.app import create_app

    app = create_app(tmp_path_factory.mktemp("studio"), max_upload_mb=1)
    with TestClient(app) as client:
        yield client


@pytest.fixture(scope="module")
def backing_job(studio) -> dict:
    """A finished tiny backing job (with audio) in `studio`."""
    response = studio.post("/api/jobs", json=TINY_BACKING, headers=CSRF)
    assert response.status_code == 201, response.text
    job = wait_for(studio, response.json()["id"])
    assert job["status"] == "done", job
    return job


@contextlib.contextmanager
def running_server(data_dir, port: int | None = None, workers: int = 1):
    """A real uvicorn server with the studio on `port` (default: a free one), in a thread; yields
    its base URL. With `workers=0` no job runs: they stay queued."""
    import uvicorn

    from bandmate.cli.serve import listen
    from bandmate.web.app import create_app

    # bound here and handed to uvicorn, as `bandmate serve` does: a port found free and then
    # bound by uvicorn could be taken in between (another test's server, an outgoing connection)
    sock = listen("127.0.0.1", port or 0)
    port = sock.getsockname()[1]
    app = create_app(data_dir, workers=workers)
    # a connection a page holds open must not keep a server told to stop answering polls
    config = uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        if thread.is_alive():  # a test that restarts the studio on this port needs it gone
            server.force_exit = True
            thread.join(10)
        assert not thread.is_alive(), "uvicorn did not stop"
