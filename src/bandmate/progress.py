"""Progress bars for long operations: shown on a terminal, silent when output is piped.

Library functions take an optional `progress` callback `progress(done, total)`; the CLI passes
the one made here, and the web server passes one that records the job's progress. A function
with something to say as it goes (training: the loss) also passes `status=`, a short text the bar
shows beside the percentage; every callback accepts it, and those that have no use for it may
ignore it, so a plain `lambda done, total: ...` is only for functions that never pass it.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator

ProgressCallback = Callable[..., None]  # (done, total, *, status: str = "")


def no_progress(done: float, total: float, *, status: str = "") -> None:
    """The callback used when nobody is watching."""


@contextlib.contextmanager
def progress_bar(description: str, *, enabled: bool | None = None) -> Iterator[ProgressCallback]:
    """A rich progress bar on stderr while the block runs, or nothing when stderr is no terminal."""
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        yield no_progress
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeRemainingColumn(),
        TextColumn("{task.fields[status]}"),
        transient=True,
        console=Console(stderr=True),
    ) as bar:
        task = bar.add_task(description, total=None, status="")

        def update(done: float, total: float, *, status: str = "") -> None:
            bar.update(task, completed=done, total=total, status=status)

        yield update
