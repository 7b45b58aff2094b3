"""Fixtures for batch tests: one local Ray for the whole session, and short generated mixes."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

pytest.importorskip("ray")


@pytest.fixture(scope="session")
def ray_cluster():
    """A local Ray of two CPUs, started once: `run_batch` uses it and leaves it running."""
    import logging

    import ray

    from bandmate.batch.runner import ONE_THREAD

    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        logging_level=logging.ERROR,
        runtime_env={"env_vars": ONE_THREAD},
    )
    yield ray
    ray.shutdown()


def write_mixes(folder, count: int, seconds: float = 1.0, sample_rate: int = 44_100) -> list:
    """`count` stereo 24-bit WAVs of a tone in noise, s0.wav, s1.wav, ... (a seeded rng)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    paths = []
    for i in range(count):
        x = 0.1 * np.sin(2 * np.pi * 110 * (i + 1) * t) + 0.03 * rng.standard_normal(t.size)
        path = folder / f"s{i}.wav"
        sf.write(path, np.stack([x, 0.9 * x], 1).astype(np.float32), sample_rate, "PCM_24")
        paths.append(path)
    return paths


class SmallDisk:
    """A file system of a few hundred KB at `path`, for batches that fill it: a real tmpfs where
    this process may mount one (root), else a folder on which `work` simulates the limit."""

    def __init__(self, path, size_kb: int):
        import subprocess

        self.path = path
        path.mkdir()
        mount = ["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(path)]
        self.mounted = subprocess.run(mount, capture_output=True).returncode == 0
        self.room_file = path.parent / "disk-room"
        self.room_file.write_text(str(size_kb * 1024))
        self.work = None
        if not self.mounted:
            import functools

            import cloudpickle

            from tests.batch import crashing

            cloudpickle.register_pickle_by_value(crashing)
            self.work = functools.partial(
                crashing.master_on_a_small_disk, disk=str(path), room_file=str(self.room_file)
            )

    def grow(self, size_kb: int) -> None:
        import subprocess

        if self.mounted:
            remount = ["mount", "-o", f"remount,size={size_kb}k", str(self.path)]
            subprocess.run(remount, check=True)
        self.room_file.write_text(str(size_kb * 1024))

    def remove(self) -> None:
        import subprocess

        if self.mounted:
            subprocess.run(["umount", "-l", str(self.path)], check=True)


@pytest.fixture
def small_disk(tmp_path):
    disk = SmallDisk(tmp_path / "disk", 512)
    yield disk
    disk.remove()
