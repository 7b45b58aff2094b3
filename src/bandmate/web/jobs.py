"""The job queue of the web studio: rows in SQLite, run by a pool of worker threads.

**Why SQLite.** The studio runs on one machine; SQLite (stdlib `sqlite3`) needs no server, keeps
every job across a restart (the queue is the file, not the process's memory), and its
transactions make claiming a job atomic. WAL mode lets the web handlers read job rows while a
worker writes progress. A `sqlite3` connection must not be shared between threads, so each
thread opens its own (`threading.local`).

**Why threads.** A job is mostly FluidSynth, NumPy and libsndfile, which release the GIL, and
rendering already uses every core; processes would buy little and cost a second copy of every
model and SoundFont. One worker by default, so that jobs do not fight over the cores; more can
be asked for on a bigger machine.

**Never lost.** A job is claimed by moving it from `queued` to `running` in one transaction, and
each claim counts an attempt. When the server starts, a job still marked `running` was cut off
by a restart: it is queued again if it has had fewer than `MAX_ATTEMPTS` attempts, otherwise
it fails with the reason "interrupted by a server restart". That is only sound because one
server at a time uses a data folder: the pool holds an exclusive lock on `DATA_DIR/studio.lock`
from `start()` to `stop()`, and a second server on the same folder is refused (`FolderLock`).

**Cancelled.** `cancel` ends a queued job at once (it never starts) and marks a running one
`cancelled` too; its worker notices at the job's next progress report, where the progress
callback raises `JobCancelled`, and removes the job's folder, so no partial output is left (nor is
a folder a killed server left: `start()` removes those of cancelled jobs). The row is the state,
so a cancelled job stays cancelled across a restart, and `finish` never turns it into done.

**A full disk.** A job whose writes the file system refuses (no space left, a quota, a file over
the size limit, a read-only folder) fails with that reason in one sentence that tells the server's
keeper what to do (`refused_write`); what it had written is removed, like any failed job's, and
the worker goes on with the next job. When the disk is so full that the queue itself cannot record
the failure, the pool keeps it (`view` shows the job failed) and records it as soon as the
database takes it again, rather than leave the job `running` for good, its page waiting on it.

**Results** live in `DATA_DIR/jobs/<id>/`. After every job, finished jobs older than
`max_age_days`, then the oldest finished jobs while the folder is over `quota_bytes`, have their
files removed; their rows stay, with no files and a note saying why.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import json
import logging
import os
import shutil
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bandmate.errors import OutputError, UserError
from bandmate.io.files import STORAGE_ERRNOS as REFUSING_ERRNOS
from bandmate.io.files import refused_write

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 2
INTERRUPTED = "interrupted by a server restart"
STATUSES = ("queued", "running", "done", "failed", "cancelled")
FINISHED = ("done", "failed", "cancelled")
REMOVED = "its files were removed to keep the studio's results within their size quota or age"
DEFAULT_QUOTA_BYTES = 2 * 1024**3
DEFAULT_MAX_AGE_DAYS = 30.0
PROGRESS_INTERVAL_S = 0.25  # progress is written at most this often, not on every callback
# the studio's disk refusing a write: full, over a quota, read-only, or a file too large for it
STORAGE_ERRNOS = (*REFUSING_ERRNOS, errno.EFBIG)

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    params TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    progress REAL NOT NULL DEFAULT 0,
    error TEXT,
    files TEXT NOT NULL DEFAULT '[]',
    created REAL NOT NULL,
    updated REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS jobs_status_created ON jobs (status, created);
"""


class JobCancelled(BaseException):
    """Raised by a job's progress callback once the job is cancelled, to stop its runner.

    A BaseException, as asyncio's CancelledError is, so that library code's `except Exception`
    around a step cannot swallow it and carry on with a job nobody wants."""


@dataclass(frozen=True)
class Job:
    """One row of the queue. `files` are paths relative to the job's folder, with `/`."""

    id: str
    kind: str
    params: dict
    status: str
    progress: float
    error: str | None
    files: list[str]
    created: float
    updated: float
    attempts: int

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Job:
        return cls(
            id=row["id"],
            kind=row["kind"],
            params=json.loads(row["params"]),
            status=row["status"],
            progress=row["progress"],
            error=row["error"],
            files=json.loads(row["files"]),
            created=row["created"],
            updated=row["updated"],
            attempts=row["attempts"],
        )

    @property
    def finished(self) -> bool:
        return self.status in FINISHED


class JobStore:
    """The `jobs` table in `DATA_DIR/jobs.sqlite`; results in `DATA_DIR/jobs/<id>/`."""

    # how long a write waits for a lock another connection (or another program) holds
    busy_timeout_s = 30.0

    def __init__(self, data_dir: str | Path):
        self.data_dir = Path(data_dir).resolve()
        self.results_dir = self.data_dir / "jobs"
        self.results_dir.mkdir(parents=True, exist_ok=True)
        self.path = self.data_dir / "jobs.sqlite"
        self._local = threading.local()
        self._created = False
        with self._connect() as db:
            db.executescript(SCHEMA)
        self._allow_cancelled()
        self._created = True

    def _allow_cancelled(self) -> None:
        """Rebuild a `jobs` table made before jobs could be cancelled: its CHECK refuses the
        status, and SQLite cannot alter a CHECK in place. The rows are kept as they are."""
        db = self._connect()
        (sql,) = db.execute("SELECT sql FROM sqlite_master WHERE name = 'jobs'").fetchone()
        if "'cancelled'" in sql:
            return
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute("ALTER TABLE jobs RENAME TO jobs_before_cancel")
            db.execute("DROP INDEX IF EXISTS jobs_status_created")
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)
            db.execute("INSERT INTO jobs SELECT * FROM jobs_before_cancel")
            db.execute("DROP TABLE jobs_before_cancel")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def _connect(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            # autocommit mode (isolation_level=None): transactions are the explicit BEGINs below.
            # Once made, the file is only opened, never made again: a jobs.sqlite deleted under
            # a running studio gave each new thread an empty database of its own, with no table
            # ("no such table: jobs", a 500) and none of the queue
            target = self.path if not self._created else f"{self.path.as_uri()}?mode=rw"
            db = sqlite3.connect(
                target, timeout=self.busy_timeout_s, isolation_level=None, uri=self._created
            )
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            self._local.db = db
        return db

    def close(self) -> None:
        """Close this thread's connection (others close when their thread ends)."""
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None

    def submit(self, kind: str, params: dict) -> str:
        job_id = uuid.uuid4().hex
        now = time.time()
        self._connect().execute(
            "INSERT INTO jobs (id, kind, params, status, created, updated) "
            "VALUES (?, ?, ?, 'queued', ?, ?)",
            (job_id, kind, json.dumps(params), now, now),
        )
        return job_id

    def get(self, job_id: str) -> Job | None:
        row = self._connect().execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return Job.from_row(row) if row else None

    def all(self) -> list[Job]:
        rows = self._connect().execute("SELECT * FROM jobs ORDER BY created").fetchall()
        return [Job.from_row(r) for r in rows]

    def unfinished(self) -> list[Job]:
        """The jobs queued or running, oldest first."""
        rows = (
            self._connect()
            .execute("SELECT * FROM jobs WHERE status IN ('queued', 'running') ORDER BY created")
            .fetchall()
        )
        return [Job.from_row(r) for r in rows]

    def claim(self) -> Job | None:
        """The oldest queued job, now `running` with one more attempt; None when none waits.

        BEGIN IMMEDIATE takes SQLite's write lock before reading, so two workers never claim
        the same job.
        """
        db = self._connect()
        db.execute("BEGIN IMMEDIATE")
        try:
            row = db.execute(
                "SELECT id FROM jobs WHERE status = 'queued' ORDER BY created LIMIT 1"
            ).fetchone()
            if row is None:
                db.execute("COMMIT")
                return None
            db.execute(
                "UPDATE jobs SET status = 'running', progress = 0, attempts = attempts + 1, "
                "updated = ? WHERE id = ? AND status = 'queued'",
                (time.time(), row["id"]),
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return self.get(row["id"])

    def set_progress(self, job_id: str, progress: float) -> bool:
        """Record a running job's progress; False when the job is no longer running (it was
        cancelled), which is how a worker hears of a cancel made by another process."""
        return (
            self._connect()
            .execute(
                "UPDATE jobs SET progress = ?, updated = ? WHERE id = ? AND status = 'running'",
                (min(max(progress, 0.0), 1.0), time.time(), job_id),
            )
            .rowcount
            > 0
        )

    def finish(
        self, job_id: str, *, files: list[str] | None = None, error: str | None = None
    ) -> bool:
        """Mark an unfinished job done (or failed, with `error`); False when it had already
        ended, as a job cancelled while its last step ran has: it stays cancelled."""
        status = "failed" if error is not None else "done"
        return (
            self._connect()
            .execute(
                "UPDATE jobs SET status = ?,"
                " progress = CASE WHEN ? = 'done' THEN 1 ELSE progress END,"
                " files = ?, error = ?, updated = ?"
                " WHERE id = ? AND status IN ('queued', 'running')",
                (status, status, json.dumps(files or []), error, time.time(), job_id),
            )
            .rowcount
            > 0
        )

    def cancel(self, job_id: str) -> Job | None:
        """Cancel a queued or running job; returns the job as it now stands (a finished one as
        it was: done and failed jobs are not cancelled), None when there is no such job. A
        running job's worker stops at its next progress report (see `WorkerPool`)."""
        self._connect().execute(
            "UPDATE jobs SET status = 'cancelled', updated = ? "
            "WHERE id = ? AND status IN ('queued', 'running')",
            (time.time(), job_id),
        )
        return self.get(job_id)

    def recover(self) -> tuple[int, int]:
        """Requeue or fail the jobs a dead server left `running`; returns (requeued, failed)."""
        db = self._connect()
        db.execute("BEGIN IMMEDIATE")
        try:
            now = time.time()
            requeued = db.execute(
                "UPDATE jobs SET status = 'queued', progress = 0, updated = ? "
                "WHERE status = 'running' AND attempts < ?",
                (now, MAX_ATTEMPTS),
            ).rowcount
            failed = db.execute(
                "UPDATE jobs SET status = 'failed', error = ?, updated = ? "
                "WHERE status = 'running'",
                (INTERRUPTED, now),
            ).rowcount
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        if requeued or failed:
            log.warning("after a restart: %d job(s) requeued, %d failed", requeued, failed)
        return requeued, failed

    def job_dir(self, job_id: str) -> Path:
        return self.results_dir / job_id

    def remove_cancelled_leftovers(self) -> list[str]:
        """Remove the folders of cancelled jobs, as a server killed before its worker noticed a
        cancel leaves them; returns the ids whose folder was removed."""
        rows = self._connect().execute("SELECT id FROM jobs WHERE status = 'cancelled'").fetchall()
        removed = [r["id"] for r in rows if self.job_dir(r["id"]).exists()]
        for job_id in removed:
            shutil.rmtree(self.job_dir(job_id), ignore_errors=True)
        return removed

    def clean_up(
        self,
        *,
        quota_bytes: int = DEFAULT_QUOTA_BYTES,
        max_age_days: float = DEFAULT_MAX_AGE_DAYS,
        now: float | None = None,
    ) -> list[str]:
        """Remove the files of finished jobs that are too old, then of the oldest finished jobs
        while all results together exceed `quota_bytes`. Returns the ids cleaned."""
        now = time.time() if now is None else now
        finished = [j for j in self.all() if j.finished and j.files]
        sizes = {j.id: _tree_bytes(self.job_dir(j.id)) for j in finished}
        total = _tree_bytes(self.results_dir)
        cleaned = []
        for job in sorted(finished, key=lambda j: j.updated):
            too_old = now - job.updated > max_age_days * 86400
            if not too_old and total <= quota_bytes:
                continue
            shutil.rmtree(self.job_dir(job.id), ignore_errors=True)
            self._connect().execute(
                "UPDATE jobs SET files = '[]', error = COALESCE(error, ?) WHERE id = ?",
                (REMOVED, job.id),
            )
            total -= sizes[job.id]
            cleaned.append(job.id)
        return cleaned


def _tree_bytes(folder: Path) -> int:
    if not folder.exists():
        return 0
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def list_files(folder: Path) -> list[str]:
    """Every file under `folder`, as sorted relative paths with `/`."""
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


class FolderLock:
    """An exclusive `flock` on `DATA_DIR/studio.lock`, so that one server at a time uses a data
    folder (a second would requeue the first one's running jobs). The OS drops it when the
    process dies, so a killed server never leaves a stale lock. Where `fcntl` is missing
    (Windows) nothing is locked."""

    def __init__(self, data_dir: Path):
        self.data_dir = data_dir
        self.path = data_dir / "studio.lock"
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock (nothing when already held); a UserError when another server has it."""
        if self._fd is not None:
            return
        try:
            import fcntl
        except ImportError:  # pragma: no cover (Windows)
            return
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            raise unusable_data_dir(self.data_dir, e) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise UserError(
                f"Another bandmate studio is using the data folder {self.data_dir}; stop it or "
                "give another --data-dir."
            ) from None
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)  # closing the only descriptor releases the flock


def unusable_data_dir(data_dir: Path, error: BaseException) -> OutputError:
    """The one sentence for a data folder the studio cannot use (read-only, not a folder, or a
    jobs.sqlite that is not a database)."""
    if data_dir.exists() and not data_dir.is_dir():
        reason = "it is a file"
    elif isinstance(error, sqlite3.Error):
        reason = f"jobs.sqlite: {error}"
    else:
        reason = getattr(error, "strerror", None) or str(error)
    return OutputError(
        f"The studio cannot use the data folder {data_dir} ({reason}); give a folder it can "
        "write to with --data-dir."
    )


def storage_message(what: str, reason: str) -> str:
    """The one sentence for `what` ("The upload") refused by the studio's disk for `reason`."""
    if reason == os.strerror(errno.EROFS):
        fix = "make the studio's data folder writable (or give it another --data-dir)"
    else:
        fix = "free some space on the server's disk"
    return f"{what} could not be stored on the server ({reason}); {fix} and try again."


# run(params, job_dir, progress) does the work, writing files into job_dir
Runner = Callable[[dict, Path, Callable[..., None]], None]


@dataclass
class WorkerPool:
    """`workers` threads that claim queued jobs and run them with `runners[job.kind]`."""

    store: JobStore
    runners: dict[str, Runner]
    workers: int = 1
    quota_bytes: int = DEFAULT_QUOTA_BYTES
    max_age_days: float = DEFAULT_MAX_AGE_DAYS
    poll_s: float = 1.0  # also picks up jobs queued by another process on the same data folder
    _lock: FolderLock = field(init=False)
    _wake: threading.Condition = field(default_factory=threading.Condition, init=False)
    _stop: threading.Event = field(default_factory=threading.Event, init=False)
    _threads: list[threading.Thread] = field(default_factory=list, init=False)
    _cancelled: set[str] = field(default_factory=set, init=False)  # running jobs told to stop
    # job id -> the error of a failed job that the store could not record yet (a full disk)
    _unrecorded: dict[str, str] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self._lock = FolderLock(self.store.data_dir)

    def lock(self) -> None:
        """Take the data folder's lock now (`start` does, if not yet): a UserError, one
        sentence, when another server uses the folder. Held until `stop`."""
        self._lock.acquire()

    def start(self) -> None:
        self.lock()
        try:
            self.store.recover()
            self.store.remove_cancelled_leftovers()
            self.store.clean_up(quota_bytes=self.quota_bytes, max_age_days=self.max_age_days)
        except BaseException:
            self._lock.release()
            raise
        for i in range(self.workers):
            thread = threading.Thread(target=self._loop, name=f"bandmate-job-{i}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop taking jobs; a job still running after `timeout_s` is left to `recover`."""
        self._stop.set()
        with self._wake:
            self._wake.notify_all()
        for thread in self._threads:
            thread.join(timeout_s)
        self._threads.clear()
        self._lock.release()

    def cancel(self, job_id: str) -> Job | None:
        """Cancel a job (`JobStore.cancel`); a job running here stops at its very next progress
        report rather than at the next one that is written to the store."""
        before = self.store.get(job_id)
        job = self.store.cancel(job_id)
        # only a job that was running: the set would keep a queued one's id for good (one
        # claimed meanwhile hears of it at its first progress report, which is always written)
        if before is not None and before.status == "running" and job.status == "cancelled":
            self._cancelled.add(job_id)
        return job

    def view(self, job: Job) -> Job:
        """`job` as it stands: failed, with its error, when it failed here but the store could
        not record that yet."""
        error = self._unrecorded.get(job.id)
        if error is None or job.finished:
            return job
        return dataclasses.replace(job, status="failed", error=error)

    def _finish_failed(self, job_id: str, error: str) -> None:
        """Record a failed job; kept in `_unrecorded` when the store cannot take it now."""
        try:
            self.store.finish(job_id, error=error)
        except (sqlite3.Error, OSError) as e:  # "database or disk is full"
            log.error("job %s failed, and the job database cannot record it yet: %s", job_id, e)
            self._unrecorded[job_id] = error
        else:
            self._unrecorded.pop(job_id, None)

    def _record_unrecorded(self) -> None:
        for job_id, error in list(self._unrecorded.items()):
            with contextlib.suppress(sqlite3.Error, OSError):
                self.store.finish(job_id, error=error)  # False: it had ended (cancelled)
                self._unrecorded.pop(job_id, None)

    def notify(self) -> None:
        """A job was queued: wake a worker now rather than at its next poll."""
        with self._wake:
            self._wake.notify()

    def _loop(self) -> None:
        try:
            while not self._stop.is_set():
                job = None
                try:
                    self._record_unrecorded()
                    job = self.store.claim()
                    if job is None:
                        with self._wake:
                            self._wake.wait(self.poll_s)
                        continue
                    self.run_job(job)
                except BaseException as e:  # nothing may stop a worker for good
                    log.exception("a job worker hit an error; it carries on")
                    if job is not None:
                        self._fail_quietly(job, e)
                    with self._wake:  # a store that keeps failing is not retried in a hot loop
                        self._wake.wait(self.poll_s)
        finally:
            self.store.close()

    def _fail_quietly(self, job: Job, error: BaseException) -> None:
        reason = f"The {job.kind} job failed inside bandmate ({type(error).__name__}); "
        self._finish_failed(job.id, reason + "the server log has the details.")

    def run_job(self, job: Job) -> None:
        folder = self.store.job_dir(job.id)
        shutil.rmtree(folder, ignore_errors=True)  # what an interrupted attempt left behind
        last = [0.0]

        def progress(done: float, total: float, *, status: str = "") -> None:
            if job.id in self._cancelled:
                raise JobCancelled(job.id)
            now = time.monotonic()
            if now - last[0] >= PROGRESS_INTERVAL_S:
                last[0] = now
                # a cancel from another process on this folder is heard here, as the write
                # finds the job no longer running
                if total:
                    running = self.store.set_progress(job.id, done / total)
                else:
                    running = getattr(self.store.get(job.id), "status", None) == "running"
                if not running:
                    raise JobCancelled(job.id)

        try:
            folder.mkdir(parents=True)
            self.runners[job.kind](job.params, folder, progress)
        except JobCancelled:
            log.info("job %s (%s) cancelled", job.id, job.kind)
            shutil.rmtree(folder, ignore_errors=True)
        except Exception as e:
            # an OutputError: the library's sentence for a write, not an input it could not read
            written = isinstance(e, OutputError)
            reason = refused_write(e, folder, written=written, errnos=STORAGE_ERRNOS)
            shutil.rmtree(folder, ignore_errors=True)  # no partial results, and the room back
            if reason is not None:
                log.error("job %s (%s): the disk refused a write: %s", job.id, job.kind, e)
                error = storage_message(f"The {job.kind} job's results", reason)
            elif isinstance(e, UserError):
                error = str(e)
            else:
                log.exception("job %s (%s) failed", job.id, job.kind)
                error = (
                    f"The {job.kind} job failed inside bandmate ({type(e).__name__}); the "
                    "server log has the details."
                )
            self._finish_failed(job.id, error)
        else:
            try:
                recorded = self.store.finish(job.id, files=list_files(folder))
            except (sqlite3.Error, OSError) as e:  # the queue cannot take the row (a full disk)
                log.error("job %s (%s) is done, but cannot be recorded: %s", job.id, job.kind, e)
                recorded = False
                shutil.rmtree(folder, ignore_errors=True)  # the room the row needs, maybe
                if "full" in str(e):  # SQLite's "database or disk is full"
                    error = storage_message(
                        f"The {job.kind} job's results", os.strerror(errno.ENOSPC)
                    )
                else:
                    error = (
                        f"The {job.kind} job's results could not be recorded ({e}); the server "
                        "log has the details."
                    )
                self._finish_failed(job.id, error)
            if not recorded:  # cancelled as its last step ran, or not recorded: no stray files
                shutil.rmtree(folder, ignore_errors=True)
        finally:
            self._cancelled.discard(job.id)
        try:
            self.store.clean_up(quota_bytes=self.quota_bytes, max_age_days=self.max_age_days)
        except OSError:
            log.exception("cleaning up old results failed")
