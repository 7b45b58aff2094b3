"""A per-item function whose worker dies the first time it meets one item (for the retry test)."""

from __future__ import annotations

import os
from pathlib import Path

from bandmate.batch.items import master_item


def master_but_die_once(item, marker_dir: str, victim: str):
    """Master `item`, but the first time `victim` comes up, kill this worker process outright."""
    marker = Path(marker_dir) / "died"
    if item.name == victim and not marker.exists():
        marker.touch()
        os._exit(1)  # no exception, no cleanup: as a killed or out-of-memory worker ends
    return master_item(item)
