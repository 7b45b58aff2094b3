"""What a process may use of the machine, as a container's control group holds it.

The groups are folders laid out as the kernel mounts them, with its files in its formats, so
the reading is tested on what a Docker or Kubernetes container shows without needing one."""

from __future__ import annotations

import os
from pathlib import Path

from bandmate.machine import available_memory_bytes, usable_cpus

GB = 2**30


def host_cpus() -> int:
    return len(os.sched_getaffinity(0))


def write(folder: Path, **files: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name.replace("__", ".")).write_text(text + "\n")


def proc_cgroup(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "proc-self-cgroup"
    path.write_text(text)
    return path


def meminfo(tmp_path: Path, available_bytes: int) -> Path:
    path = tmp_path / "meminfo"
    path.write_text(f"MemTotal: 99999999 kB\nMemAvailable: {available_bytes // 1024} kB\n")
    return path


def test_a_cgroup_v2_quota_holds_the_cpus_to_it_rounded_up(tmp_path):
    # `docker run --cpus 1.5` on a bigger host: os.cpu_count() says the host's
    root = tmp_path / "cgroup"
    write(root, cpu__max="150000 100000", memory__max="max")
    procs = proc_cgroup(tmp_path, "0::/\n")
    assert usable_cpus(root, procs) == min(2, host_cpus())
    write(root, cpu__max="max 100000")
    assert usable_cpus(root, procs) == host_cpus()
    write(root, cpu__max="20000 100000")  # a fifth of a CPU is still one worker
    assert usable_cpus(root, procs) == 1


def test_a_cgroup_v2_memory_limit_leaves_its_limit_less_its_usage(tmp_path):
    root = tmp_path / "cgroup"
    write(root, memory__max=str(4 * GB), memory__current=str(1 * GB))
    procs = proc_cgroup(tmp_path, "0::/\n")
    host = meminfo(tmp_path, 100 * GB)
    assert available_memory_bytes(root, procs, host) == 3 * GB
    write(root, memory__max="max")
    assert available_memory_bytes(root, procs, host) == 100 * GB
    # the host is the tighter: it stays the limit
    write(root, memory__max=str(400 * GB))
    assert available_memory_bytes(root, procs, host) == 100 * GB


def test_the_file_cache_the_kernel_would_drop_is_room(tmp_path):
    # a container that had copied 1.9 GB of audio under a 2 GB limit read as full: every
    # render was refused and a batch ran one worker
    root = tmp_path / "cgroup"
    stat = "anon 104857600\nfile 1992294400\nactive_file 10485760\ninactive_file 1981808640\n"
    write(root, memory__max=str(2 * GB), memory__current=str(2 * GB - 20 * 2**20),
          memory__stat=stat)  # fmt: skip
    procs = proc_cgroup(tmp_path, "0::/\n")
    host = meminfo(tmp_path, 100 * GB)
    assert available_memory_bytes(root, procs, host) == 2 * GB - (2 * GB - 20 * 2**20 - 1981808640)
    v1 = tmp_path / "v1"
    v1_stat = "cache 1992294400\ninactive_file 5\ntotal_inactive_file 1900000000\n"
    write(v1 / "memory", memory__limit_in_bytes=str(2 * GB), memory__usage_in_bytes=str(2 * GB),
          memory__stat=v1_stat)  # fmt: skip
    assert available_memory_bytes(v1, proc_cgroup(tmp_path, "4:memory:/\n"), host) == 1900000000


def test_the_tightest_group_above_the_process_holds(tmp_path):
    # a systemd slice limits the parent; the process's own group sets nothing
    root = tmp_path / "cgroup"
    write(root / "user.slice", cpu__max="100000 100000", memory__max=str(2 * GB),
          memory__current=str(GB // 2))  # fmt: skip
    write(root / "user.slice" / "job.scope", cpu__max="max 100000", memory__max="max")
    procs = proc_cgroup(tmp_path, "0::/user.slice/job.scope\n")
    assert usable_cpus(root, procs) == 1
    assert available_memory_bytes(root, procs, meminfo(tmp_path, 64 * GB)) == int(1.5 * GB)


def test_cgroup_v1_quota_and_limit_and_the_unset_values(tmp_path):
    root = tmp_path / "cgroup"
    write(root / "cpu,cpuacct", cpu__cfs_quota_us="100000", cpu__cfs_period_us="100000")
    write(root / "memory", memory__limit_in_bytes=str(3 * GB), memory__usage_in_bytes=str(GB))
    # a container without its own cgroup namespace is told its host path, which its mount does
    # not hold: the mount's root is its group
    procs = proc_cgroup(
        tmp_path, "12:memory:/docker/abc123\n4:cpu,cpuacct:/docker/abc123\n0::/docker/abc123\n"
    )
    host = meminfo(tmp_path, 100 * GB)
    assert usable_cpus(root, procs) == 1
    assert available_memory_bytes(root, procs, host) == 2 * GB
    # v1 writes "no quota" as -1 and "no limit" as 2^63 rounded down to a page
    write(root / "cpu,cpuacct", cpu__cfs_quota_us="-1")
    write(root / "memory", memory__limit_in_bytes="9223372036854771712")
    assert usable_cpus(root, procs) == host_cpus()
    assert available_memory_bytes(root, procs, host) == 100 * GB


def test_no_control_group_files_leave_the_host_figures(tmp_path):
    # macOS, or a system without /sys/fs/cgroup mounted
    root, procs = tmp_path / "absent", tmp_path / "absent-proc"
    assert usable_cpus(root, procs) == host_cpus()
    assert available_memory_bytes(root, procs, meminfo(tmp_path, 5 * GB)) == 5 * GB
