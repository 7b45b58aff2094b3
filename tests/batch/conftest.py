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
