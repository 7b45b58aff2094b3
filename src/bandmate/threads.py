"""Work side by side on threads, for work that runs in C without Python's global lock.

bandmate's heavy steps (SciPy and NumPy filters, pedalboard, libsndfile, the C2PA library) release
the GIL, so a few items processed on threads take about 1/N of the time on N cores, with no
process start-up, no pickling and no second copy of what they share.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import TypeVar

from bandmate.machine import usable_cpus

T = TypeVar("T")
R = TypeVar("R")


def thread_map(
    fn: Callable[[T], R],
    items: Iterable[T],
    *,
    progress: Callable[[int, int], None] | None = None,
) -> list[R]:
    """`fn` of each item, on as many threads as this process may use CPUs (`bandmate.machine`;
    none for a single item or CPU); the results in the items' order. An exception in any call
    is raised here.

    `progress(done, total)`, if given, is called on the calling thread as each item finishes (a
    job's progress callback may write to its database, or raise to stop the job: then the items
    not yet started never start, and those running are waited for)."""
    items = list(items)
    workers = min(len(items), usable_cpus())
    if workers <= 1:
        results = []
        for item in items:
            results.append(fn(item))
            if progress is not None:
                progress(len(results), len(items))
        return results
    with ThreadPoolExecutor(workers) as pool:
        futures = [pool.submit(fn, item) for item in items]
        try:
            for done, future in enumerate(as_completed(futures), start=1):
                future.result()  # an exception stops the rest at once
                if progress is not None:
                    progress(done, len(items))
        except BaseException:
            for future in futures:
                future.cancel()
            raise
        return [future.result() for future in futures]
