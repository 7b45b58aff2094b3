"""Work side by side on threads, for work that runs in C without Python's global lock.

bandmate's heavy steps (SciPy and NumPy filters, pedalboard, libsndfile, the C2PA library) release
the GIL, so a few items processed on threads take about 1/N of the time on N cores, with no
process start-up, no pickling and no second copy of what they share.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def thread_map(fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
    """`fn` of each item, on as many threads as there are CPUs (none for a single item or CPU);
    the results in the items' order. An exception in any call is raised here."""
    items = list(items)
    workers = min(len(items), os.cpu_count() or 1)
    if workers <= 1:
        return [fn(item) for item in items]
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(fn, items))
