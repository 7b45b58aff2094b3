"""What this process may use of the machine: CPUs and memory, as a container sees them (layer 0).

`os.cpu_count()` and /proc/meminfo describe the host. A container (Docker, Kubernetes, a CI
runner, systemd's slices) is usually held to less by its control group: `docker run --cpus 2
--memory 4g` on a 32-core host with 128 GB leaves `os.cpu_count()` at 32 and MemAvailable near
128 GB, so thirty-two workers start, each wanting memory the group will not give, and the
kernel's OOM killer ends them one by one. What a process may use is the least of:

- the CPUs it may run on (`os.sched_getaffinity`, which `taskset` and `docker --cpuset-cpus` set);
- its control group's CPU quota, rounded up: cgroup v2's `cpu.max` ("200000 100000" is two
  CPUs, "max 100000" none set), cgroup v1's `cpu.cfs_quota_us` over `cpu.cfs_period_us` (-1:
  none);

and for memory, the least of what the host has available and the group's limit less what the
group already uses (v2 `memory.max` and `memory.current`, v1 `memory.limit_in_bytes` and
`memory.usage_in_bytes`, each less the inactive file cache in `memory.stat`; v1 writes an
unset limit as a page-rounded 2^63).

Where the group's files lie: the process's own group (from /proc/self/cgroup) under the
controller's mount, else the mount's root. A container that has its own cgroup namespace sees
its group at the root; one that has not is told its host path, which its mount does not hold,
and the root is then its own group (as Docker bind-mounts it).

Options considered: `os.process_cpu_count()` (Python 3.13) reads the affinity only; psutil reads
neither quota; joblib's loky reads both but is not a dependency (music21 pulls it in today, as an
implementation detail) and reads no memory limit. The files are a few lines to read.
"""

from __future__ import annotations

import contextlib
import math
import os
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
_UNSET_V1 = 1 << 62  # a v1 limit this large is "none": the kernel writes 2^63 rounded to pages


def usable_cpus(root: Path = CGROUP_ROOT, proc_cgroup: Path = Path("/proc/self/cgroup")) -> int:
    """The CPUs this process may keep busy: its affinity, held to its control group's quota."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        cpus = os.cpu_count() or 1
    quota = _cpu_quota(root, _groups(proc_cgroup))
    if quota is not None:
        cpus = min(cpus, max(1, math.ceil(quota - 1e-9)))
    return max(1, cpus)


def available_memory_bytes(
    root: Path = CGROUP_ROOT,
    proc_cgroup: Path = Path("/proc/self/cgroup"),
    meminfo: Path = Path("/proc/meminfo"),
) -> int | None:
    """The memory new work may take: the host's available memory (MemAvailable, which counts
    caches the kernel can drop; else the free pages), held to the control group's limit less its
    usage; None where nothing is known."""
    host = _host_available(meminfo)
    room = _group_room(root, _groups(proc_cgroup))
    known = [v for v in (host, room) if v is not None]
    return max(0, min(known)) if known else None


def _groups(proc_cgroup: Path) -> dict[str, str]:
    """Controller -> this process's group path ("" for cgroup v2's unified hierarchy)."""
    groups: dict[str, str] = {}
    with contextlib.suppress(OSError, UnicodeDecodeError):
        for line in proc_cgroup.read_text().splitlines():
            parts = line.split(":", 2)
            if len(parts) == 3:
                for controller in parts[1].split(","):
                    groups[controller] = parts[2]
    return groups


def _group_dirs(root: Path, mount: str, group: str | None) -> list[Path]:
    """The folders of a controller's groups that hold this process: its own group and each one
    above it up to the mount's root (a parent's limit holds its children too), or the root alone
    where the mount does not hold the process's own group."""
    base = root / mount if mount else root
    own = base / group.strip("/") if group and group.strip("/") else base
    if not own.is_dir():
        return [base]
    chain = [own]
    while chain[-1] != base and base in chain[-1].parents:
        chain.append(chain[-1].parent)
    return chain


def _read(directory: Path, name: str) -> str | None:
    with contextlib.suppress(OSError, UnicodeDecodeError):
        return (directory / name).read_text().strip()
    return None


def _least(values) -> float | None:
    found = [v for v in values if v is not None]
    return min(found) if found else None


def _cpu_quota(root: Path, groups: dict[str, str]) -> float | None:
    """The CPUs the tightest quota over this process's groups allows, or None."""
    v2 = [_v2_quota(_read(d, "cpu.max")) for d in _group_dirs(root, "", groups.get(""))]
    v1_group = groups.get("cpu", groups.get("cpuacct"))
    v1 = [
        _v1_quota(_read(d, "cpu.cfs_quota_us"), _read(d, "cpu.cfs_period_us"))
        for mount in ("cpu", "cpu,cpuacct", "cpuacct,cpu")
        if (root / mount).is_dir()
        for d in _group_dirs(root, mount, v1_group)
    ]
    return _least(v2 + v1)


def _v2_quota(text: str | None) -> float | None:
    """CPUs from cgroup v2's "QUOTA PERIOD" ("max PERIOD": none)."""
    if not text:
        return None
    quota, _, period = text.partition(" ")
    with contextlib.suppress(ValueError):
        if quota != "max" and float(period or 100_000) > 0 and float(quota) > 0:
            return float(quota) / float(period or 100_000)
    return None


def _v1_quota(quota: str | None, period: str | None) -> float | None:
    """CPUs from cgroup v1's quota and period (microseconds; a quota of -1: none)."""
    with contextlib.suppress(ValueError, TypeError):
        if float(quota) > 0 and float(period) > 0:
            return float(quota) / float(period)
    return None


def _group_room(root: Path, groups: dict[str, str]) -> int | None:
    """The memory the tightest limit over this process's groups still leaves (bytes), or None.

    A group's usage counts the page cache of the files it has read and written; the part the
    kernel would drop first (inactive file pages, as Docker's and the kubelet's working set
    leave out) is room, else a container that had copied a few GB of audio read as full."""
    rooms = []
    for d in _group_dirs(root, "", groups.get("")):  # v2
        limit = _read(d, "memory.max")
        with contextlib.suppress(ValueError, TypeError):
            if limit is not None and limit != "max":
                used = int(_read(d, "memory.current") or 0) - _stat(d, "inactive_file")
                rooms.append(int(limit) - max(0, used))
    if (root / "memory").is_dir():
        for d in _group_dirs(root, "memory", groups.get("memory")):
            limit = _read(d, "memory.limit_in_bytes")
            with contextlib.suppress(ValueError, TypeError):
                if limit is not None and int(limit) < _UNSET_V1:
                    used = int(_read(d, "memory.usage_in_bytes") or 0)
                    used -= _stat(d, "total_inactive_file")
                    rooms.append(int(limit) - max(0, used))
    room = _least(rooms)
    return None if room is None else int(room)


def _stat(directory: Path, key: str) -> int:
    """A figure from the group's memory.stat (bytes), 0 where it is missing."""
    for line in (_read(directory, "memory.stat") or "").splitlines():
        name, _, value = line.partition(" ")
        if name == key:
            with contextlib.suppress(ValueError):
                return int(value)
    return 0


def _host_available(meminfo: Path) -> int | None:
    with contextlib.suppress(OSError, ValueError):
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None
