"""Progress bars for long operations: shown on a terminal, silent when output is piped.

Library functions take an optional `progress` callback `progress(done, total)`; the CLI passes
the one made here, and the web server passes one that records the job's progress.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator

ProgressCallback = Callable[[float, float], None]


def no_progress(done: float, total: float) -> None:
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
        transient=True,
        console=Console(stderr=True),
    ) as bar:
        task = bar.add_task(description, total=None)

        def update(done: float, total: float) -> None:
            bar.update(task, completed=done, total=total)

        yield update
