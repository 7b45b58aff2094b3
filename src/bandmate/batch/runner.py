"""Run a batch on Ray: skip what is done, one task per item for the rest, report as they finish.

**Resuming.** Before any work, each item is checked against the batch report: one whose entry
says done, for the same input bytes (sha256) and settings and seed, and whose outputs are all
there, is skipped, so a rerun after a crash does only what was left and a rerun of a finished
batch writes nothing but the report. The others are marked pending (and the report written)
before the first task starts; so an output that exists but has no entry was not made by this
batch, and is refused unless `force`.

**Failures.** An item whose function raises is a failed item: its error goes in the report and
the batch carries on; it is not retried (it would fail the same way). A worker that dies (killed,
out of memory, a node lost) is another matter: Ray runs its task again, up to `MAX_RETRIES`
times, so a lost worker loses no item. Outputs are written atomically by the library functions,
so a killed task leaves no half file.

**A full disk.** An item that fails because its output's file system refused the write (no space
left, a quota, read-only) would fail every later item too, each after doing all its work: so the
batch starts no more items, lets those in flight finish, and stops, with the reason in
`BatchSummary.stopped`. The items not started stay pending in the report, so a rerun once there is
room does them (and the failed ones) and nothing else. A report that cannot be saved for the same
reason stops the batch the same way; the last report saved is kept as it was.

**Workers.** Each task asks Ray for one CPU and runs its item on one thread (torch, OpenMP, MKL
and OpenBLAS are held to one thread), so N workers use N cores, and at most N tasks are in flight
at once, which also bounds the driver's memory for a batch of any size. More workers than cores
buy nothing but worker processes (a few hundred MB each): so a local batch runs at most
`local_worker_limit()` at once (the CPUs, fewer where memory is short), and one on a cluster at
most as many as the cluster has CPUs. With no address, a
private local Ray of N CPUs is started and stopped again; with an address (or when the caller has
already started Ray, as the tests do), that Ray is used and left running. On a cluster every node
must see the input and output folders at the same paths (a shared file system).
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bandmate.batch.items import WORK, BatchItem, check_out_dir, discard_partial, file_sha256
from bandmate.batch.report import BatchReport
from bandmate.errors import OutputError, UserError
from bandmate.io.files import refused_write
from bandmate.machine import available_memory_bytes, usable_cpus
from bandmate.progress import ProgressCallback, no_progress

MAX_RETRIES = 3  # runs of a task whose worker died, after the first
# every worker thread pool held to one thread: one task, one core
ONE_THREAD = {
    name: "1"
    for name in (
        "OMP_NUM_THREADS",
        "MKL_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
        "NUMEXPR_NUM_THREADS",
    )
}
STOP_WAIT_S = 30.0  # how long an interrupted batch waits for its tasks to clean up and stop
SAVE_EVERY_S = 0.5  # the report is rewritten at most this often while items finish (and at the end)
# a worker's memory at its peak, with room to spare: measured ~280 MB RSS for a 4-bar loop of funk
# (SoundFont loaded), ~210 MB for a master
WORKER_BYTES = 512 * 2**20


@dataclass
class BatchSummary:
    """What a run of a batch did. `failed` maps item names to their errors."""

    total: int
    done: int
    skipped: int
    failed: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    workers: int = 0
    report: Path | None = None
    # why the batch stopped before starting every item (the disk of the output folder is full);
    # None when it ran to the end. `not_started` items stay pending in the report.
    stopped: str | None = None
    not_started: int = 0


def run_batch(
    items: list[BatchItem],
    out_dir: str | os.PathLike,
    *,
    workers: int | None = None,
    address: str | None = None,
    force: bool = False,
    progress: ProgressCallback = no_progress,
    work: Callable[[BatchItem], list[Path]] | None = None,
) -> BatchSummary:
    """Do every item of `items` not already done in `out_dir`, on Ray; returns a summary.

    workers: tasks at once (default: every CPU of the machine, or of the cluster at `address`).
    work: the function that does one item (default: the one for the items' kind); it must be a
    function Ray can send to a worker.
    """
    if workers is not None and workers < 1:
        raise UserError(f"--workers must be at least 1, not {workers}.")
    if not items:
        raise UserError("The batch has no items.")
    kinds = {item.kind for item in items}
    if len(kinds) != 1:
        raise UserError(f"A batch has one kind of item, not {', '.join(sorted(kinds))}.")
    (kind,) = kinds
    out = Path(out_dir)
    check_out_dir(out)
    started = time.monotonic()
    with _only_batch_in(out):
        report = BatchReport.load(out, kind)
        todo, unreadable = _plan(items, report, out, force)
        skipped = len(items) - len(todo) - len(unreadable)
        summary = BatchSummary(len(items), 0, skipped, report=report.path)
        summary.failed.update(unreadable)
        progress(summary.skipped + len(unreadable), summary.total)
        if todo or unreadable:  # a finished batch writes nothing, not even its report
            report.save()
        if todo:
            _run(todo, report, out, summary, work or WORK[kind], workers, address, progress)
    summary.seconds = time.monotonic() - started
    return summary


@contextlib.contextmanager
def _only_batch_in(out: Path):
    """Hold an exclusive `flock` on the output folder itself (no lock file is left in it) while
    a batch runs there: a second batch on the same folder (the same command in two terminals, a
    cron job that overlapped) is refused in one sentence. It did every item a second time, and
    the two reports overwrote each other's records. Where the folder cannot be locked (no
    `fcntl`, a file system without `flock` on folders) the batch runs unlocked."""
    if not out.exists():  # a new folder: every item is to do, so the batch writes here
        try:
            out.mkdir(parents=True)
        except OSError as e:  # not ours to make (permissions), or the disk refuses
            raise OutputError(
                f"Cannot make the output folder {str(out)!r} ({e.strerror or e}); choose "
                "another folder."
            ) from None
    try:
        import fcntl
    except ImportError:  # pragma: no cover (Windows)
        yield
        return
    fd = os.open(out, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UserError(
                f"Another batch is running in {str(out)!r}; let it finish (a rerun then skips "
                "what it did) or choose another output folder."
            ) from None
        except OSError:  # a folder this file system cannot lock
            pass
        yield
    finally:
        os.close(fd)  # closing the only descriptor releases the flock


def _record(item: BatchItem, source_sha256: str | None) -> dict:
    # settings through JSON, so that they compare equal to what a report read back holds
    settings = json.loads(json.dumps(dict(item.settings)))
    return {"input_sha256": source_sha256, "settings": settings, "seed": item.seed}


def _plan(items: list[BatchItem], report: BatchReport, out: Path, force: bool):
    """The items to do, each with the report entry it will get, marked pending; and the items
    whose input cannot be read (name -> error), marked failed."""
    todo, foreign, unreadable = [], [], {}
    for item in items:
        try:
            record = _record(item, file_sha256(item.source) if item.source else None)
        except OSError as e:  # unreadable (another user's file) or gone: a failed item, not a
            # traceback that stops the whole batch
            reason = e.strerror or type(e).__name__
            unreadable[item.name] = (
                f"InputFileError: {str(item.source)!r} cannot be read ({reason}); make it "
                "readable and run the batch again."
            )
            report.items[item.name] = {
                "status": "failed",
                **_record(item, None),
                "outputs": [],
                "seconds": None,
                "error": unreadable[item.name],
            }
            continue
        entry = report.items.get(item.name)
        if (
            entry is not None
            and entry["status"] == "done"
            and all(entry.get(k) == v for k, v in record.items())
            and all((out / p).exists() for p in entry.get("outputs", ()))
            and all(p.exists() for p in item.outputs)  # a report edited by hand may omit one
        ):
            continue
        if entry is None and any(p.exists() for p in item.outputs):
            foreign.append(next(p for p in item.outputs if p.exists()))
        todo.append((item, record))
    if foreign and not force:
        more = f" and {len(foreign) - 1} more" if len(foreign) > 1 else ""
        raise OutputError(
            f"{str(foreign[0])!r}{more} already exist(s) but this batch did not make them; "
            "use --force to overwrite them or choose another output folder."
        )
    for item, record in todo:
        report.items[item.name] = {"status": "pending", **record}
    return todo, unreadable


def local_worker_limit() -> tuple[int, str]:
    """How many workers this machine runs at once, and what sets that ("2 CPUs"): one per CPU
    this process may use, fewer when the memory available would not hold `WORKER_BYTES` each;
    both as a container's control group allows (`bandmate.machine`). `--workers 500` on a laptop
    started 500 worker processes, and ran out of memory."""
    cpus = usable_cpus()
    available = available_memory_bytes()
    if available is not None and available // WORKER_BYTES < cpus:
        return max(1, available // WORKER_BYTES), f"{available / 2**30:.1f} GB of free memory"
    return cpus, f"{cpus} CPU{'' if cpus == 1 else 's'}"


def _run(todo, report, out, summary, work, workers, address, progress) -> None:
    import ray

    started_here = not ray.is_initialized()
    if started_here:
        _start_ray(workers, address)
    in_flight: dict = {}
    interrupted: list[BatchItem] = []
    try:
        # here Ray was started with no more CPUs than `local_worker_limit` allows; a cluster
        # takes what it is asked for (its head may have no CPUs, and nodes may join later)
        if workers is None:
            workers = max(1, int(ray.cluster_resources().get("CPU", 1)))
        summary.workers = workers
        run_item = ray.remote(num_cpus=1, max_retries=MAX_RETRIES)(_run_one)
        waiting = list(reversed(todo))
        last_save = time.monotonic()
        while waiting or in_flight:
            while waiting and len(in_flight) < workers:
                item, record = waiting.pop()
                in_flight[run_item.remote(work, item)] = (item, record)
            [ref], _ = ray.wait(list(in_flight), num_returns=1)
            item, record = in_flight.pop(ref)
            try:
                status, outputs, seconds, error, full = ray.get(ref)
            except Exception as e:  # the worker died more often than Ray retries
                status, outputs, seconds, error, full = "failed", [], None, _describe(e), None
            entry = {
                "status": status,
                **record,
                "outputs": [],
                "seconds": None if seconds is None else round(seconds, 3),
            }
            if status == "done":
                entry["outputs"] = [Path(p).relative_to(out).as_posix() for p in outputs]
                summary.done += 1
            else:
                entry["error"] = error
                summary.failed[item.name] = error
            report.items[item.name] = entry
            if time.monotonic() - last_save >= SAVE_EVERY_S or not in_flight:
                refused = _save(report)  # saved whatever the item said
                full = full or refused
                last_save = time.monotonic()
            if full and waiting:  # every later item would fail the same way
                summary.stopped, summary.not_started = full, len(waiting)
                waiting.clear()  # they stay pending in the report
            failed = f"{len(summary.failed)} failed" if summary.failed else ""
            progress(summary.skipped + summary.done + len(summary.failed), summary.total,
                     status=failed)  # fmt: skip
    except BaseException:  # Ctrl-C (or the driver failing): the tasks in flight are stopped
        interrupted = [item for item, _ in in_flight.values()]
        _stop(ray, list(in_flight))
        raise
    finally:
        try:
            if refused := _save(report):
                raise OutputError(
                    f"The batch report {str(report.path)!r} could not be saved ({refused}); free "
                    "some space and run the batch again (it redoes the items done since the "
                    "report was last saved)."
                )
        finally:
            if started_here:
                ray.shutdown()
            for item in interrupted:  # pending in the report: a rerun does them again
                discard_partial(item)


def _save(report: BatchReport) -> str | None:
    """Save `report`; None, or why its file system refused the write (full, over a quota,
    read-only: then every later write there fails too). A refusal can come as the writer's
    OutputError (a read-only folder refuses the temporary file) or as the OSError itself."""
    try:
        report.save()
    except (OSError, OutputError) as e:
        if (reason := refused_write(e, report.path.parent, written=True)) is None:
            raise
        return reason
    return None


def _stop(ray, refs: list, wait_s: float = STOP_WAIT_S) -> None:
    """Stop the tasks `refs`: each is cancelled gently (Ray raises KeyboardInterrupt in it, so
    that the per-item function removes what it had written, as `bandmate loop` does on Ctrl-C)
    and waited for; one that does not stop within `wait_s` is killed. What a task killed
    mid-write leaves, `discard_partial` removes once the workers are stopped: shutting Ray down
    at once used to leave an interrupted loop's MIDI, full mix and some stems with no manifest,
    and a hidden half-written WAV, in its folder."""
    if not refs:
        return
    for ref in refs:
        ray.cancel(ref)
    _, stuck = ray.wait(refs, num_returns=len(refs), timeout=wait_s)
    for ref in stuck:
        ray.cancel(ref, force=True)


def _start_ray(workers: int | None, address: str | None) -> None:
    import logging

    import ray

    options = {
        "include_dashboard": False,
        "log_to_driver": False,  # a worker's output would garble the progress bar
        "logging_level": logging.ERROR,
        "runtime_env": {"env_vars": ONE_THREAD},
    }
    if address:
        _check_answers(address)
        try:
            ray.init(address=address, **options)
        except (ConnectionError, RuntimeError, ValueError) as e:
            raise UserError(
                f"No Ray cluster answers at {address!r} ({e}); start one with `ray start --head`."
            ) from e
    else:
        limit, _ = local_worker_limit()
        ray.init(num_cpus=min(workers or limit, limit), **options)


def _check_answers(address: str, timeout_s: float = 5.0) -> None:
    """Refuse an address with a port where nothing listens, in seconds: Ray itself retries one
    that does not answer for about 14 minutes (20 tries of 40 s), silently. Addresses without a
    port ("auto", "ray://head") are left to Ray."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        return
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s):
            pass
    except (OSError, OverflowError) as e:
        reason = getattr(e, "strerror", None) or str(e) or type(e).__name__
        raise UserError(
            f"No Ray cluster answers at {address!r} ({reason}); check the address, or start one "
            "with `ray start --head`."
        ) from None


def _describe(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}".strip()


def _refused_write(error: BaseException, item: BatchItem) -> str | None:
    """Why the file system refused one of `item`'s writes ("No space left on device"), when that
    is what `error` comes down to and every later item would meet it too; else None."""
    # an OutputError: a write, not an input libsndfile could not read
    written = isinstance(error, OutputError)
    # only the refusals every later write meets too (`STORAGE_ERRNOS`; a file over the size
    # limit, EFBIG, fails its own item)
    return refused_write(error, item.outputs[0].parent, written=written)


def _run_one(work: Callable[[BatchItem], list[Path]], item: BatchItem):
    """In a worker: do `item` on one thread with its own seed; (status, outputs, seconds, error,
    why the file system refused a write or None)."""
    os.environ.update(ONE_THREAD)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)
    random.seed(item.seed)
    import numpy as np

    np.random.seed(item.seed)
    started = time.perf_counter()
    try:
        outputs = work(item)
    except Exception as e:
        return "failed", [], time.perf_counter() - started, _describe(e), _refused_write(e, item)
    return "done", [str(p) for p in outputs], time.perf_counter() - started, None, None
