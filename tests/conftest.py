"""Shared fixtures."""

from __future__ import annotations

import numpy as np
import pytest

from bandmate.score import Score
from tests.builders import bass, drums, make_score, piano


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20261124)


@pytest.fixture
def small_song() -> Score:
    """Two bars of piano, bass and drums at 100 BPM."""
    return make_score(
        piano((0, 4, 60), (0, 4, 64), (0, 4, 67), (4, 4, 65), (4, 4, 69), (4, 4, 72)),
        bass((0, 1, 36), (1, 1, 43), (2, 2, 36), (4, 2, 41), (6, 2, 48)),
        drums(*[(b / 2, 0.25, 42) for b in range(16)], (0, 0.5, 36), (2, 0.5, 38)),
        tempo_bpm=100,
    )
