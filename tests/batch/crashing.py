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


def loop_but_stall(item, marker_dir: str, victim: str):
    """Make loop `item`; but `victim` writes part of a loop (a MIDI file and a half-written WAV,
    as a worker stopped mid-write leaves them) and then stalls, and the others wait until it has."""
    import time

    from bandmate.batch.items import loop_item

    started = Path(marker_dir) / "stalled"
    if item.name == victim:
        (folder,) = item.outputs
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "funk_100bpm_C_01.mid").write_bytes(b"MThd")
        (folder / ".funk_100bpm_C_01_bass.abc123.wav.part.wav").write_bytes(b"RIFF")
        started.touch()
        for _ in range(6000):  # until the batch is stopped (Ray's cancel interrupts between sleeps)
            time.sleep(0.01)
    while not started.exists():
        time.sleep(0.01)
    return loop_item(item)


def master_when_told(item, marker_dir: str):
    """Master `item` once the file `go` appears in `marker_dir` (a batch held running)."""
    import time

    while not (Path(marker_dir) / "go").exists():
        time.sleep(0.01)
    return master_item(item)


def master_on_a_small_disk(item, disk: str, room_file: str):
    """Master `item` as onto a disk whose size is the number in `room_file`: a master that would
    take it past that is removed and the write fails with ENOSPC, as the kernel fails it. (Used
    where no small tmpfs can be mounted for the test: that needs root.)"""
    import errno

    out = master_item(item)
    used = sum(p.stat().st_size for p in Path(disk).rglob("*") if p.is_file())
    if used > int(Path(room_file).read_text()):
        out[0].unlink()
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(out[0]))
    return out
