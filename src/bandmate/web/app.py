"""The studio's FastAPI application: the HTTP API, the page, and the worker pool's lifetime.

`create_app(data_dir)` builds everything from one data folder:

    DATA_DIR/jobs.sqlite        the queue (see `bandmate.web.jobs`)
    DATA_DIR/jobs/<id>/         each job's results
    DATA_DIR/uploads/<id>/      uploaded files (see `bandmate.web.uploads`)

Uploads unused for `max_age_days` are removed when the studio starts and then every
`upload_sweep_s` while it runs, keeping those a queued or running job needs.

Every answer that is not a success is JSON `{"detail": "<one sentence>"}`: a `UserError` from the
library is a 422 with its own message, a request that does not match a job's parameters is a 422
that names the field, and unknown jobs and files are 404s. The handlers are thin: what a job
does is in `bandmate.web.kinds`, which calls the same functions as the CLI.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import re
import sqlite3
import threading
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request, WebSocket
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel

from bandmate import __version__
from bandmate.errors import UserError
from bandmate.web import kinds
from bandmate.web.jam import DEFAULT_MAX_SESSIONS, JamSessions
from bandmate.web.jobs import (
    DEFAULT_MAX_AGE_DAYS,
    DEFAULT_QUOTA_BYTES,
    STORAGE_ERRNOS,
    JobStore,
    WorkerPool,
    storage_message,
    unusable_data_dir,
)
from bandmate.web.security import TOKEN_COOKIE, SecurityMiddleware, same_token
from bandmate.web.uploads import UploadRejected, UploadStore

log = logging.getLogger(__name__)

UPLOAD_SWEEP_S = 3600.0  # how often a running studio removes old unused uploads

STATIC = Path(__file__).parent / "static"
JOB_ID = re.compile(r"[0-9a-f]{32}")
MEDIA_TYPES = {
    ".wav": "audio/wav",
    ".flac": "audio/flac",
    ".mid": "audio/midi",
    ".json": "application/json",
    ".png": "image/png",
    ".txt": "text/plain; charset=utf-8",
    ".musicxml": "application/vnd.recordare.musicxml+xml",
}


class Created(BaseModel):
    id: str


class JobStatus(BaseModel):
    id: str
    kind: str
    status: str
    progress: float
    files: list[str]
    error: str | None


class PianoRollNote(BaseModel):
    track: str
    pitch: int
    start_s: float
    end_s: float


class PianoRoll(BaseModel):
    duration_s: float
    tracks: list[str]
    drums: list[str]
    notes: list[PianoRollNote]


class StyleInfo(BaseModel):
    name: str
    description: str
    tempo_min: float
    tempo_max: float
    tempo_default: float


def create_app(
    data_dir: str | Path,
    *,
    max_upload_mb: float = 200,
    token: str | None = None,
    workers: int = 1,
    quota_bytes: int = DEFAULT_QUOTA_BYTES,
    max_age_days: float = DEFAULT_MAX_AGE_DAYS,
    max_jam_sessions: int = DEFAULT_MAX_SESSIONS,
    upload_sweep_s: float = UPLOAD_SWEEP_S,
) -> FastAPI:
    """The studio app on `data_dir` (created if missing). Workers start with the app's lifespan
    (uvicorn, or FastAPI's TestClient used as a context manager) and stop with it. At most
    `max_jam_sessions` live bands play at once (the WebSocket `/api/jam`, `bandmate.web.jam`).
    Uploads unused for `max_age_days` are removed at start-up and every `upload_sweep_s`."""
    data = Path(data_dir).expanduser().resolve()
    try:
        data.mkdir(parents=True, exist_ok=True)
        store = JobStore(data)
        uploads = UploadStore(data)
    except (OSError, sqlite3.Error) as e:  # read-only, a file, a damaged jobs.sqlite
        raise unusable_data_dir(data, e) from None
    max_bytes = int(max_upload_mb * 2**20)
    pool = WorkerPool(
        store,
        {kind: partial(kinds.run, uploads=uploads) for kind in kinds.MODELS},
        workers=workers,
        quota_bytes=quota_bytes,
        max_age_days=max_age_days,
    )

    # held while a job's row is written and while uploads are swept, so that a sweep never
    # removes an upload between a submission's last use of it and the row that keeps it
    uploads_in_use = threading.Lock()

    def clean_uploads() -> int:
        """Remove the uploads unused for `max_age_days` that no queued or running job needs."""
        with uploads_in_use:
            in_use = {u for job in store.unfinished() for u in kinds.upload_ids(job.params)}
            return uploads.clean_up(max_age_days, keep=in_use)

    async def sweep_uploads() -> None:
        while True:
            await asyncio.sleep(upload_sweep_s)
            try:
                await asyncio.to_thread(clean_uploads)
            except Exception:  # a failed sweep is tried again at the next one
                log.exception("removing old uploads failed")

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        pool.lock()  # no cleaning under another server's queue
        try:
            # before the pool requeues what a restart cut off: running jobs need theirs too
            clean_uploads()
            pool.start()
        except BaseException:
            pool.stop()
            raise
        sweeper = asyncio.create_task(sweep_uploads())
        try:
            yield
        finally:
            sweeper.cancel()
            pool.stop()

    app = FastAPI(
        title="bandmate studio",
        version=__version__,
        description="Backing tracks, melodies, harmonies, mixing and mastering as jobs.",
        lifespan=lifespan,
    )
    app.state.store, app.state.uploads, app.state.pool = store, uploads, pool
    app.state.jam = jam_sessions = JamSessions(max_jam_sessions, token)
    app.add_middleware(SecurityMiddleware, token=token)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.exception_handler(UserError)
    async def user_error(request: Request, exc: UserError):
        status = exc.status_code if isinstance(exc, UploadRejected) else 422
        return JSONResponse({"detail": str(exc)}, status_code=status)

    @app.exception_handler(sqlite3.Error)
    async def job_database_error(request: Request, exc: sqlite3.Error):
        """The queue's database locked by another program, or removed or damaged under the
        running studio: a 503 that says so, not a bare 500."""
        log.error("the job database failed: %s", exc)
        if getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL or "full" in str(exc):
            # "restart the studio" would not help: the disk has no room for the queue's row
            reason = os.strerror(errno.ENOSPC)
            return JSONResponse({"detail": storage_message("The job", reason)}, status_code=507)
        if "locked" in str(exc) or "busy" in str(exc):
            detail = (
                f"The studio's job database {store.path} is locked by another program; try "
                "again in a moment."
            )
        else:
            detail = (
                f"The studio's job database {store.path} cannot be used ({exc}); restart the "
                "studio."
            )
        return JSONResponse({"detail": detail}, status_code=503)

    @app.exception_handler(OSError)
    async def storage_error(request: Request, exc: OSError):
        """The data folder's disk refused a write (an upload, a job's row): a 507 that says so
        in one sentence; the request kept nothing, and the studio goes on answering."""
        if exc.errno not in STORAGE_ERRNOS:
            log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
            return JSONResponse(
                {"detail": f"The studio failed ({type(exc).__name__}); the server log has the "
                 "details."},
                status_code=500,
            )  # fmt: skip
        log.error("%s %s: the disk refused a write: %s", request.method, request.url.path, exc)
        what = "The upload" if request.url.path == "/api/uploads" else "The request"
        reason = exc.strerror or os.strerror(exc.errno)
        return JSONResponse({"detail": storage_message(what, reason)}, status_code=507)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError):
        return JSONResponse({"detail": describe_errors(exc.errors())}, status_code=422)

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok", "version": __version__}

    @app.get("/", include_in_schema=False)
    def page(request: Request):
        given = request.query_params.get("token")
        if given is not None:
            if token is None or not same_token(given, token):
                raise HTTPException(401, "That token is not this studio's token.")
            response = RedirectResponse("/", status_code=303)
            response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="strict")
            return response
        return FileResponse(STATIC / "index.html", media_type="text/html")

    @app.get("/jam", include_in_schema=False)
    def jam_page():
        return RedirectResponse("/#jam", status_code=307)

    @app.websocket("/api/jam")
    async def jam(websocket: WebSocket) -> None:
        """A live band for this page: `?style=&mode=&play=&tempo=` (see `bandmate.web.jam`)."""
        await jam_sessions.serve(websocket)

    @app.get("/api/styles")
    def styles() -> list[StyleInfo]:
        from bandmate.arrange.style import load_style, style_names

        found = [load_style(name) for name in style_names()]
        return [
            StyleInfo(
                name=s.name,
                description=s.description,
                tempo_min=s.tempo_min,
                tempo_max=s.tempo_max,
                tempo_default=s.tempo_default,
            )
            for s in found
        ]

    @app.post(
        "/api/uploads",
        status_code=201,
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "required": ["file"],
                            "properties": {"file": {"type": "string", "format": "binary"}},
                        }
                    }
                },
            }
        },
        responses={413: {"description": "too large"}, 415: {"description": "wrong type"}},
    )
    async def upload(request: Request) -> Created:
        """A WAV, FLAC, MIDI or MusicXML file, in the multipart field `file`."""
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > max_bytes + 64 * 1024:  # room for the form's parts
            raise UploadRejected(
                f"The file is larger than this server's limit of {max_upload_mb:g} MB; "
                "send a smaller file.",
                413,
            )
        receiver = uploads.receiver(request.headers.get("content-type", ""), max_bytes)
        try:
            async for chunk in request.stream():
                receiver.feed(chunk)
        except UploadRejected:
            raise
        except BaseException:  # also a cancelled request (CancelledError): no partial upload
            receiver.abort()
            raise
        return Created(id=receiver.finish())

    @app.post("/api/jobs", status_code=201)
    def submit(params: kinds.JobParams) -> Created:
        """Queue a job; `kind` picks which, and the other fields are its parameters."""
        kinds.check(params, uploads)
        stored = params.model_dump(mode="json")
        with uploads_in_use:  # no sweep between the uploads' last use and the job's row
            for upload_id in kinds.upload_ids(stored):
                uploads.meta(upload_id)  # a 422 if a sweep took it since the check
                uploads.touch(upload_id)
            job_id = store.submit(params.kind, stored)
        pool.notify()
        return Created(id=job_id)

    def job_or_404(job_id: str):
        job = store.get(job_id) if JOB_ID.fullmatch(job_id) else None
        if job is None:
            raise HTTPException(404, f"There is no job {job_id!r}.")
        return pool.view(job)  # failed, though a full disk kept the queue from recording it

    def status_of(job) -> JobStatus:
        return JobStatus(
            id=job.id,
            kind=job.kind,
            status=job.status,
            progress=job.progress,
            files=job.files,
            error=job.error,
        )

    @app.get("/api/jobs/{job_id}")
    def job_status(job_id: str) -> JobStatus:
        return status_of(job_or_404(job_id))

    @app.post("/api/jobs/{job_id}/cancel", responses={409: {"description": "already finished"}})
    def cancel(job_id: str) -> JobStatus:
        """Cancel a queued job (it never starts) or a running one (it stops at its next progress
        report and leaves no files); the job is then `cancelled`. Cancelling it again is no
        error; a job already done or failed is a 409."""
        job = job_or_404(job_id)
        if job.status not in ("done", "failed"):  # one shown failed, not yet recorded, is failed
            job = pool.view(pool.cancel(job.id) or job)
        if job.status in ("done", "failed"):
            raise HTTPException(
                409, f"Job {job_id} is already {job.status}; it cannot be cancelled."
            )
        return status_of(job)

    def job_with_files(job_id: str):
        """The job, once it is done; why it has no files otherwise (a bare 404 for a job still
        running read as if its results were lost)."""
        job = job_or_404(job_id)
        if not job.finished:
            raise HTTPException(
                409, f"Job {job_id} is still {job.status}; its files are there once it is done."
            )
        if job.status == "failed":
            raise HTTPException(404, f"Job {job_id} failed, so it has no files: {job.error}")
        if job.status == "cancelled":
            raise HTTPException(404, f"Job {job_id} was cancelled, so it has no files.")
        if not job.files and job.error:  # cleaned up past the quota or age
            raise HTTPException(404, f"Job {job_id} has no files: {job.error}.")
        return job

    def job_file(job_id: str, name: str) -> Path:
        """The path of one of a job's recorded files; anything else is a 404."""
        job = job_with_files(job_id)
        if name not in job.files:
            raise HTTPException(404, f"Job {job_id} has no file {name!r}.")
        path = (store.job_dir(job.id) / name).resolve()
        if not path.is_relative_to(data) or not path.is_file():
            raise HTTPException(404, f"Job {job_id} has no file {name!r}.")
        return path

    @app.get("/api/jobs/{job_id}/files/{name:path}", response_class=FileResponse)
    def download(job_id: str, name: str) -> Response:
        path = job_file(job_id, name)
        media = MEDIA_TYPES.get(path.suffix.lower(), "application/octet-stream")
        return FileResponse(path, media_type=media, filename=path.name)

    @app.get("/api/jobs/{job_id}/pianoroll")
    def pianoroll(job_id: str) -> PianoRoll:
        """The notes of the job's MIDI file, in seconds, for drawing."""
        from bandmate.io.midi import read_midi

        job = job_with_files(job_id)
        midi = next((f for f in job.files if f.endswith(".mid")), None)
        if midi is None:
            raise HTTPException(404, f"Job {job_id} has no MIDI file.")
        score = read_midi(job_file(job_id, midi))
        seconds = score.tempo_map.seconds_at
        notes = [
            PianoRollNote(
                track=t.name,
                pitch=n.pitch,
                start_s=round(float(seconds(n.onset_ticks)), 4),
                end_s=round(float(seconds(n.onset_ticks + n.duration_ticks)), 4),
            )
            for t in score.tracks
            for n in t.notes
        ]
        return PianoRoll(
            duration_s=round(score.duration_seconds, 4),
            tracks=[t.name for t in score.tracks],
            drums=[t.name for t in score.tracks if t.is_drum],
            notes=notes,
        )

    return app


def describe_errors(errors) -> str:
    """One sentence from pydantic's validation errors, naming the fields."""
    parts = []
    for error in list(errors)[:3]:
        loc = [str(x) for x in error.get("loc", ()) if x != "body"]
        if loc and loc[0] in kinds.MODELS:
            loc = loc[1:]
        where = ".".join(loc)
        kind = error.get("type", "")
        if kind == "json_invalid":
            parts.append("the body is not valid JSON")
        elif kind in ("union_tag_not_found", "union_tag_invalid"):
            parts.append(f"'kind' must be one of {', '.join(kinds.MODELS)}")
        elif kind == "extra_forbidden":
            parts.append(f"there is no field {where!r}")
        elif kind == "missing":
            parts.append(f"the field {where!r} is required" if where else "a body is required")
        else:
            message = str(error.get("msg", "is invalid"))
            parts.append(f"{where}: {message[:1].lower()}{message[1:]}" if where else message)
    return "Invalid request: " + "; ".join(parts) + "."
