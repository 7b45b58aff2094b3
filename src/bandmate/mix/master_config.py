"""The mastering chain's settings (`MasterConfig`) and what pass A hands the solver and the
render (`_Plan`): the data that `mix.master`, `mix.master_plan` and `mix.master_limit` share.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from bandmate.errors import UserError
from bandmate.mix.dynamics import DC_HIGHPASS_HZ, Limiter
from bandmate.mix.tone import DEFAULT_CURVE, ToneMatch


@dataclass(frozen=True)
class MasterConfig:
    """Every setting of the mastering chain. Levels in dB, LUFS or dBTP; times in ms."""

    target_lufs: float = -14.0
    ceiling_dbtp: float = -1.0
    intensity: float = 1.0  # 0 to 1: how far EQ and compression act; loudness is met regardless
    curve: str = DEFAULT_CURVE  # the target curve when there is no reference
    # DC removal (at any intensity)
    dc_highpass_hz: float = DC_HIGHPASS_HZ
    dc_note_dbfs: float = -40.0  # an offset at least this large is named in the report's notes
    # tonal balance
    max_eq_db: float = 6.0
    eq_floor_share_db: float = -35.0  # a band with less of the energy than this is not boosted
    # compression (at intensity 1; the ratio goes to 1:1 as intensity goes to 0)
    compressor_ratio: float = 2.0
    compressor_threshold_lu: float = 3.0  # above the programme's integrated loudness
    compressor_knee_db: float = 6.0
    compressor_detector_ms: float = 10.0
    compressor_attack_ms: float = 20.0
    compressor_release_ms: float = 150.0
    compressor_sidechain_hz: float | None = 150.0  # the detector's high-pass; None: full band
    # a burst shorter than this is a click: the compressor does not hear it, and the limiter
    # releases it quickly (see `mix.dynamics`)
    transient_ms: float = 2.0
    # true-peak limiter
    limiter_lookahead_ms: float = 2.0
    limiter_release_ms: float = 60.0
    # what an overshoot shorter than `transient_ms` (a click) releases with, unless another
    # comes within `limiter_bridge_ms` (see `mix.dynamics.Limiter`)
    limiter_transient_release_ms: float = 3.0
    limiter_bridge_ms: float = 20.0
    limiter_margin_db: float = 0.15  # under the ceiling: true-peak meters differ by ~0.1 dB
    # where the top octave (11-22 kHz) holds at least this share of the master's energy (dB)
    # over its brightest 3 s, the limiter's peaks and the master's true peak are read by a
    # finer interpolator: the meter's 4x reads 17-20 kHz content low
    # (`mix.meter.fine_true_peak_branches`, `mix.master_limit._fine_peak_meter`)
    fine_peak_share_db: float = -15.0
    # and where the limiter takes at least this much loudness (a loud master), the master's true
    # peak is read by it: its fast gain changes put content up there that the mix did not hold
    fine_peak_limiting_lu: float = 2.0
    # the low band's own gain ahead of the limiter (`mix.dynamics.LowBandLimiter`): where the
    # low band's peaks would make the limiter duck everything, it takes them down alone, by at
    # most `low_band_max_db`; None or 0: no low band stage
    low_band_hz: float | None = 150.0
    low_band_max_db: float = 12.0
    max_limiting_lu: float = 10.0  # loudness the limiter may take away before we give up
    # out of reach: the master may land this far under the loudest the limiter can make it, if
    # that lets the limiter work less (on a sine, 10 dB of limiting had bought 0.1 LU)
    out_of_reach_slack_lu: float = 0.1
    # EQ and compression are left out where the limiter would take this much more loudness with
    # them than without (drums alone: see `_affordable`)
    shaping_cost_lu: float = 3.0
    loudness_tolerance_lu: float = 0.05

    def __post_init__(self):
        if not -60.0 <= self.target_lufs <= 0.0:
            raise UserError(
                f"Target loudness {self.target_lufs:g} LUFS is out of range; give a value from "
                "-60 to 0 (streaming services play at about -14)."
            )
        if not -20.0 <= self.ceiling_dbtp <= 0.0:
            raise UserError(
                f"True-peak ceiling {self.ceiling_dbtp:g} dBTP is out of range; give a value "
                "from -20 to 0 (-1 is usual)."
            )
        if not 0.0 <= self.intensity <= 1.0:
            raise UserError(
                f"Intensity {self.intensity:g} is out of range; give a value from 0 (loudness "
                "only) to 1 (full EQ and compression)."
            )


@dataclass
class _Plan:
    """What pass A found and the solver chose: enough to render the master."""

    tone: ToneMatch
    compressor: Callable | None
    compressor_threshold_db: float | None
    compressor_ratio: float
    compressor_reduction_db: np.ndarray  # per hop
    hop: int
    peaks_db: np.ndarray
    energy: np.ndarray
    gain_db: float = 0.0
    limiter: Limiter | None = None
    limiter_reduction_db: np.ndarray = field(default_factory=lambda: np.zeros(0))
    limiter_loss_lu: float = 0.0
    predicted_lufs: float = math.nan
    reachable: bool = True
    dc_offset: tuple[float, ...] = ()  # the input's mean per channel, which stage 2 removed
    note: str | None = None  # why EQ and compression were left out, if they were
    solved_at_db: float | None = None  # the limiter threshold `_solve` last solved for
    low_band_gain_db: float | None = None  # the gain the low band stage expected
    low_band_reduction_db: np.ndarray = field(default_factory=lambda: np.zeros(0))
    low_band_loss_db: float = 0.0  # the energy the low band stage took away
    # the 16 kHz octave's share of the energy where the mix is brightest, after EQ
    top_octave_share_db: float = -math.inf

    @property
    def limiting_lu(self) -> float:
        """The loudness taken by the limiter and, about, by the low band stage ahead of it."""
        return self.limiter_loss_lu + self.low_band_loss_db
