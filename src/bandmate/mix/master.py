"""Mastering: a mix to a master on a loudness target under a true-peak ceiling (layer 3).

`master(audio, ...)` returns the master and a `MasterReport`; `master_file(in_path, out_path, ...)`
does the same for files, reading the input in blocks. One `MasterConfig` sets every stage, and the
stages run in this fixed order (Matchering's shape, with a loudness target and true-peak control
that Matchering lacks):

1. **analysis**: `mix.analysis` measures the input: BS.1770 loudness and true peak, octave bands.
2. **DC removal**: a 2nd-order Butterworth high-pass at `dc_highpass_hz` (5 Hz; SciPy), whatever
   the intensity. A DC offset is inaudible but counts in full toward the peaks: a mix sitting
   0.3 off centre left the limiter no room, and the target was reported out of reach. At 20 Hz
   the filter takes 0.02 dB away, and BS.1770's own high-pass weighs everything below 40 Hz
   down further, so the loudness of music does not move. Its state starts at the first block's
   mean, as if the offset had always been there, so a file that starts off centre gives no
   step. The report gives the offset removed (the input's mean per channel).
3. **tonal balance** (`mix.tone`): peaking and shelving filters (pedalboard) move each octave
   band's share of the energy toward the reference's, when one is given, or toward a target
   curve (`data/mastering/curves.toml`); a band moves at most `max_eq_db` (6 dB), times
   `intensity`, and a band that holds almost nothing (below `eq_floor_share_db`) is never
   boosted. The shares leave clicks out (`mix.analysis` bridges them): a 2-sample spike in a
   quiet, dark mix held as much 8-16 kHz energy as the whole programme and moved the EQ there by
   up to 6 dB. A lossy reference (MP3, Ogg) cut under 18 kHz is matched only below where its
   encoder cut it (`encoder_cutoff_hz`), and the report says which bands were left out.
4. **compression**: a gentle, stereo-linked RMS compressor (2:1 at intensity 1, 6 dB soft knee,
   threshold 3 dB above the programme's loudness); intensity 0 leaves it out. Its detector hears
   the programme through a high-pass (`compressor_sidechain_hz`, 150 Hz, 4th order), as a bus
   compressor's sidechain filter does, and the threshold follows the share of the energy the
   filter lets through: a kick or an 808, which can hold most of a mix's energy, had turned the
   whole programme down on every hit (steady chords over an 808 swung by 2.3 dB; now 1.1 dB).
   **the low band** (`low_band_hz`, 150 Hz; `mix.dynamics.LowBandLimiter`): where the low
   band's peaks would make the limiter duck everything, a gain on the low band alone takes
   them down first, at any intensity (see "The low band" below).
5. **gain** toward the target, and 6. **true-peak limiting** to `ceiling_dbtp`: the gain is solved
   so that the limited signal lands on the target (see below).
7. **trim**: the master is measured and a final gain of a few hundredths of a dB puts it on the
   target (within `loudness_tolerance_lu`), never above the ceiling.

Dynamics (`mix.dynamics`). Compressor and limiter work at a control rate of about 0.4 ms, as
vector operations, and are linked across channels, so the stereo image stays put. (pedalboard's
`Compressor` is JUCE's, which compresses each channel on its own: a loud left channel turns the
left down and not the right. pedalboard 0.9.26's `BrickwallLimiter` was tried first: after about
17 dB of reduction its gain stayed down for good, and its true-peak mode does not promise that
the result stays under the ceiling.)

The limiter. Pass A runs the input through DC removal, EQ and compressor and keeps, per hop, the
true peak (the same 4x polyphase interpolation as `mix.meter`) and the K-weighted energy. For any
gain G the limiter's reduction then follows from the peaks alone: the reduction each peak needs,
released, held over the lookahead plus a margin either side, and ramped in over the lookahead by a
moving average; so the gain is down, and flat, over every sample that the interpolation around a
peak reads, and the true peak cannot pass the threshold, however quickly it is released. The
release depends on the programme: what lasts, or keeps coming back, releases with
`limiter_release_ms` (60 ms); the part of an overshoot that lasts under `transient_ms` (about
2 ms) with nothing else within `limiter_bridge_ms` releases with `limiter_transient_release_ms`
(3 ms), and the compressor does not hear such a burst. With one release of 60 ms, a click from an
edit without a crossfade (a 2-sample spike near full scale in a mix peaking 15 dB lower) took
some 20 dB off the whole programme, 16 dB still 20 ms after it and 7 dB 80 ms after, and the
compressor 2 dB more for 150 ms; now the programme is back within 2 dB 10 ms after the click and
within 0.1 dB 20 ms after. Decided: program-dependent release, not a clipper ahead of the
limiter, which would distort ordinary drums' transients too (`mix.dynamics.Limiter` says why).

The low band. A wideband limiter ducks everything for a peak of the low band: mastered loud, an 808
under steady chords (the tests' `eight_oh_eight_under_chords`) swung the chords' level (300-3000 Hz,
10 ms windows, 95th less 5th percentile; the mix: 0.7 dB) by 3.5 dB at -9 LUFS and intensity 0, 5.5
dB at intensity 1 (the EQ lifts the 808's attack band); with the 808 decaying faster, lower and
louder, or twice as often, by 2.0 to 8.9 dB. The chords breathe with the kick. The stage ahead of
the limiter splits off the band under `low_band_hz` (linear phase: the two parts sum to the input
exactly, so where it does nothing the master is as it was, bit for bit) and, for each sample over
the level that the limiter will leave alone, turns the low band down as far as brings the sample to
that level, where the low band is the larger part of it; never more, in dB, than twice what the
limiter would have taken there, nor more than `low_band_max_db` (12 dB). That level needs the gain,
which is solved after pass A: `_plan` expects it from the loudness and the EQ, and where the stage
took much and the expectation was off, pass A runs again expecting the gain solved
(`_low_band_again`). The limiter after it is unchanged and keeps the true-peak guarantee, for it
reads pass A's peaks, the stage's work included. Measured against the master without the stage
(`low_band_hz=None`), at the same loudness and under the same ceiling: the tests' 808 at -9 LUFS
swings the chords by 1.0 dB at intensity 0 and 1.1 dB at 1 (from 3.5 and 5.5), its low band (under
120 Hz) 0.7 and 1.1 dB lower in RMS and 2.1 dB in peak; three variants (decaying in 80 ms, lower and
louder, twice as often) 0.7 to 0.9 dB and 0.8 to 2.2 dB (from 2.0 to 5.9 and 4.7 to 8.9), the low
band 0.5 to 2.0 dB lower in RMS. At -14 LUFS nothing changes where nothing was limited (where it
was, the faster 808's 3.4 dB at intensity 1 become 1.0). The bench's mixes (all but the 3-minute
one) at -14 LUFS barely change: octave balance within 0.08 dB of the master without the stage, the
low band within 0.16 dB (RMS), the limiter's loss the same within 0.02 LU but funk's (1.71 LU, now
1.51). At -9 LUFS, where the limiter takes 3 to 10 LU, three (pop, hip-hop, blues) duck the band
300-3000 Hz 2.5 to 2.7 dB less at their deepest (95th percentile, 10 ms windows), their low band 3.6
to 4.0 dB lower in RMS; the others change by under 1 dB. Decided:
- a gain on the low band in pass A, not a split limiter at the render: the true peak of the sum
  with the low band at another gain does not follow from the per-hop peaks the solver has, and
  measuring the rest's true peak too would double the costliest part of pass A;
- linear phase, not Linkwitz-Riley: an LR4 pair sums to an all-pass, which reshapes the
  waveform and moves the peaks of every master, the stage acting or not; and the complement of
  an IIR low-pass (the input less it) falls at only 6 dB an octave, keeping the sub in the rest;
- only where the low band is the larger part of the sample: acting on every sample over the
  level, broadband kick drums too, turned funk's low band down 3.1 dB at -14 LUFS (balance
  1.5 dB off the master without the stage; with a 100 ms release and always two passes);
- at most twice what the limiter would take: at once, the 808's chords still swung by 1.3 and
  2.0 dB;
- a second pass only where the stage took over 0.3 dB of the energy (the 808s at -9 LUFS: 0.5
  to 2.6 dB; the bench's mixes at -14 LUFS: at most 0.2), `_low_band_again`: elsewhere the
  limiter does what the stage left, as before.
The stage costs a crossover (an FFT convolution) in the blocks that hold a sample over its
level, and the rule only on the hops that do: 0.2 to 6 % of the time of the bench's masters (two
runs under different loads; with it on and off, the masters took 0.91 to 1.09 times as long).

The loudness at G is the K-weighted energy per hop times the gain squared, gated as BS.1770 gates
it (it differs from the meter's reading of the rendered master by about 0.001 LU). A
root finder picks G so that this lands on the target, with no pass over the audio per trial; the
limiter aims `limiter_margin_db` under the ceiling. If the target needs the limiter to take more
than `max_limiting_lu` of loudness away, it is out of reach under the ceiling: the master lands as
close as that allows, less `out_of_reach_slack_lu` where giving up that little spares the limiter
work that would buy no loudness, and the report says so. If EQ and compression are what put the
target out of reach (a kick loop: see `_affordable`) and the chain without them meets it, or
make the limiter take over `shaping_cost_lu` (3 LU) more of the loudness than it would without
them (kicks and hi-hats), pass A is run again without them, and the report says that too.

Memory and speed. `master_file` reads the input in 10 s blocks twice (analysis, pass A), keeps
pass A's shaped signal in an anonymous temporary file (float32: 1.4 GB of disk for an hour of
48 kHz stereo) so that rendering need not run the EQ again, and reads the output once more to
measure it. In memory it keeps two numbers per hop, about 20 bytes per 0.4 ms (170 MB for an hour
at 48 kHz), and while solving the lasting part of each peak and a gain per hop: a 60-minute
48 kHz stereo file is mastered in well under 1.5 GB, where holding it as float32 would take
1.4 GB for the input alone. The input and the reference are analysed side by side, and pass A
measures each block on a second thread while the next is shaped (NumPy, SciPy, pedalboard and
libsndfile release the GIL), so two cores overlap. `master` works on audio in memory and holds
the input, the shaped signal and the output.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipy.ndimage
import scipy.optimize
import scipy.signal

from bandmate.errors import AudioFormatError, UserError
from bandmate.io.audio import (
    Audio,
    all_finite,
    audio_info,
    check_writable,
    read_blocks,
    write_errors,
)
from bandmate.io.files import atomic_path, check_inputs, check_outputs
from bandmate.mix.analysis import (
    OCTAVE_CENTERS_HZ,
    OPPOSITE_CORRELATION,
    Analysis,
    analyze,
    analyze_file,
)
from bandmate.mix.dynamics import (
    DC_HIGHPASS_HZ,
    Compressor,
    DcBlocker,
    HopMeasures,
    Limiter,
    LowBandLimiter,
    control_hop,
    gated_lufs,
    ramp_gains,
    sidechain_sos,
)
from bandmate.mix.tone import (
    DEFAULT_CURVE,
    ToneMatch,
    band_means_db,
    comparable_shares_db,
    curve_shares_db,
    encoder_cutoff_hz,
    eq_plugins,
    plan_tone,
)
from bandmate.progress import ProgressCallback, no_progress

BLOCK_SECONDS = 10.0
REFERENCE_FLOOR_DBFS = -70.0  # a reference with less than this besides its DC offset is refused
# pass A runs again for the low band stage where it took this much energy (dB) and expected a
# gain this far off the one solved (see `_low_band_again`)
LOW_BAND_AGAIN_DB, LOW_BAND_GAIN_SLACK_DB = 0.3, 0.5
# what a file's sample format is kept as: the nearest format bandmate writes
KEEP_SUBTYPE = {"PCM_S8": "PCM_16", "PCM_U8": "PCM_16", "PCM_16": "PCM_16", "PCM_24": "PCM_24",
                "PCM_32": "FLOAT", "FLOAT": "FLOAT", "DOUBLE": "FLOAT"}  # fmt: skip


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


# --- the passes' stages --------------------------------------------------------------------------
class _Shaper:
    """Stages 2 to 4, DC removal, EQ then compression, block by block; a new one for every pass."""

    def __init__(
        self,
        sample_rate: int,
        tone: ToneMatch,
        compressor: Callable | None,
        dc_cutoff_hz: float,
        low_band: Callable | None = None,
    ):
        import pedalboard

        self.sample_rate = sample_rate
        self.dc = DcBlocker(sample_rate, dc_cutoff_hz)
        self.board = (
            pedalboard.Pedalboard(eq_plugins(sample_rate, tone.filter_gains_db))
            if tone.active
            else None
        )
        self.compressor = compressor() if compressor else None
        self.low_band = low_band() if low_band else None

    def process(self, x: np.ndarray) -> np.ndarray:
        x = self.dc.process(x)
        if self.board is not None:
            x = self.board(x, self.sample_rate, reset=False)
        if self.compressor is not None:
            x = self.compressor.process(x)
        if self.low_band is not None:
            x = self.low_band.process(x)
        return x

    def finish(self) -> np.ndarray | None:
        """What the low band stage still holds (it lags its input), or None."""
        return self.low_band.finish() if self.low_band is not None else None


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

    @property
    def limiting_lu(self) -> float:
        """The loudness taken by the limiter and, about, by the low band stage ahead of it."""
        return self.limiter_loss_lu + self.low_band_loss_db


# --- the pipeline ------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class MasterReport:
    """What the master did, stage by stage, and every measurement before and after.

    `tone.target_db` is the octave balance aimed at (`target_source` says whose: the reference or
    a curve). Gain reductions are given every 100 ms (the most in each), in dB. `notes` are
    sentences for the user, among them whether the loudness target was reached.
    """

    config: MasterConfig
    before: Analysis
    after: Analysis
    target_source: str
    tone: ToneMatch
    compressor_threshold_db: float | None
    compressor_ratio: float
    compressor_reduction_db: np.ndarray
    gain_db: float
    limiter_threshold_dbtp: float
    limiter_reduction_db: np.ndarray
    limiter_loss_lu: float
    trim_db: float
    reached: bool
    notes: tuple[str, ...]
    reference: Analysis | None = None
    output_subtype: str | None = None
    dc_offset: tuple[float, ...] = ()  # the input's mean per channel (full scale 1), removed
    shaping_left_out: bool = False  # EQ and compression were left out (see `_affordable`)
    # the low band stage's gain reduction (dB, every 100 ms) and the energy it took (dB)
    low_band_reduction_db: np.ndarray = field(default_factory=lambda: np.zeros(0))
    low_band_loss_db: float = 0.0

    @property
    def loudness_error_lu(self) -> float:
        after = self.after.loudness.integrated_lufs
        return math.inf if after is None else after - self.config.target_lufs

    def to_dict(self) -> dict:
        """Every setting and measurement, JSON-ready (-inf and unmeasurable values are None)."""

        def series(values: np.ndarray) -> list[float]:
            return [round(float(v), 2) + 0.0 for v in values]  # + 0.0: no -0.0 in the JSON

        bands = [
            {
                "center_hz": center,
                "target_share_db": _rounded(self.tone.target_db[k]),
                "wanted_change_db": round(self.tone.wanted_db[k], 2),
                "filter_gain_db": round(self.tone.filter_gains_db[k], 2),
                "achieved_change_db": round(self.tone.achieved_db[k], 2),
            }
            for k, center in enumerate(OCTAVE_CENTERS_HZ)
        ]
        return {
            "settings": dataclasses.asdict(self.config),
            "reached_target": self.reached,
            "loudness_error_lu": _rounded(self.loudness_error_lu, 3),
            "notes": list(self.notes),
            "output_subtype": self.output_subtype,
            "eq_and_compression_left_out": self.shaping_left_out,
            "stages": {
                "dc_removal": {
                    "highpass_hz": self.config.dc_highpass_hz,
                    "offset_removed": [round(v, 6) for v in self.dc_offset],
                },
                "tonal_balance": {"target": self.target_source, "bands": bands},
                "compression": {
                    "threshold_dbfs_rms": _rounded(self.compressor_threshold_db),
                    "ratio": self.compressor_ratio,
                    "max_reduction_db": _max(self.compressor_reduction_db),
                    "reduction_db_every_100ms": series(self.compressor_reduction_db),
                },
                "low_band": {
                    "crossover_hz": self.config.low_band_hz or None,
                    "energy_taken_db": round(self.low_band_loss_db, 3),
                    "max_reduction_db": _max(self.low_band_reduction_db),
                    "reduction_db_every_100ms": series(self.low_band_reduction_db),
                },
                "gain": {"gain_db": round(self.gain_db, 3)},
                "limiter": {
                    "threshold_dbtp": round(self.limiter_threshold_dbtp, 3),
                    "loudness_taken_lu": round(self.limiter_loss_lu, 3),
                    "max_reduction_db": _max(self.limiter_reduction_db),
                    "reduction_db_every_100ms": series(self.limiter_reduction_db),
                },
                "trim": {"gain_db": round(self.trim_db, 3)},
            },
            "before": self.before.to_dict(),
            "after": self.after.to_dict(),
            "reference": self.reference.to_dict() if self.reference else None,
        }


def master(
    audio: Audio,
    *,
    target_lufs: float | None = None,
    ceiling_dbtp: float | None = None,
    reference: Audio | None = None,
    intensity: float | None = None,
    genre_curve: str | None = None,
    config: MasterConfig | None = None,
) -> tuple[Audio, MasterReport]:
    """Master `audio` (mono or stereo, any supported rate): returns (master, report).

    The keyword settings that are given override those of `config` (by default
    `MasterConfig()`: -14 LUFS, -1 dBTP, intensity 1, the balanced curve). Raises `UserError`
    for silent or too short audio and `AudioFormatError` for NaN or infinite samples; `audio` is
    not changed.
    """
    config = _configure(config, target_lufs, ceiling_dbtp, intensity, genre_curve)
    if reference is None:
        curve_shares_db(config.curve)  # an unknown curve is refused before any work
    if not all_finite(audio.samples):
        raise AudioFormatError("The audio holds NaN or infinite samples; it cannot be mastered.")
    rate, channels, frames = audio.sample_rate, audio.channels, audio.frames
    step = int(BLOCK_SECONDS * rate)

    def blocks_of(samples: np.ndarray) -> Iterator[np.ndarray]:
        return (samples[:, i : i + step] for i in range(0, frames, step))

    before, ref = _side_by_side(
        lambda: analyze(audio), (lambda: analyze(reference)) if reference is not None else None
    )
    _check_masterable(before, "The audio")
    if ref is not None:
        _check_masterable(ref, "The reference", reference=True)

    def shape(settings: MasterConfig, gain_db: float | None = None) -> tuple[_Plan, np.ndarray]:
        shaped = np.empty_like(audio.samples)  # pass A's output, kept for every attempt
        kept = 0

        def keep(y: np.ndarray) -> None:
            nonlocal kept
            shaped[:, kept : kept + y.shape[1]] = y
            kept += y.shape[1]

        blocks = lambda: blocks_of(audio.samples)  # noqa: E731
        plan = _plan(blocks, rate, channels, before, ref, settings, keep, "The audio", gain_db)
        return plan, shaped

    plan, shaped = _affordable(shape, rate, channels, frames, config)
    plan, shaped = _low_band_again(shape, plan, shaped, rate, channels, frames, config)
    out = np.empty_like(audio.samples)

    def render(trim_db: float) -> Analysis:
        offset = 0
        for z in _render(blocks_of(shaped), plan, trim_db=trim_db):
            out[:, offset : offset + z.shape[1]] = z
            offset += z.shape[1]
        return analyze(Audio(out, rate))

    after, trim, threshold = _land(plan, render, rate, channels, frames, config)
    report = _report(config, before, after, ref, plan, threshold, trim, None)
    return Audio(out, rate), report


def master_file(
    in_path: str | os.PathLike,
    out_path: str | os.PathLike,
    *,
    target_lufs: float | None = None,
    ceiling_dbtp: float | None = None,
    reference_path: str | os.PathLike | None = None,
    intensity: float | None = None,
    genre_curve: str | None = None,
    subtype: str | None = None,
    force: bool = False,
    config: MasterConfig | None = None,
    progress: ProgressCallback = no_progress,
) -> MasterReport:
    """Master the file `in_path` into `out_path` (WAV or FLAC, chosen by its suffix).

    The output keeps the input's sample rate, channels and sample format (16-bit, 24-bit or
    float; `subtype` "PCM_16", "PCM_24" or "FLOAT" overrides it); 16-bit output is dithered
    (TPDF, one LSB each way). The input is only read, the output is written atomically, and an
    existing output is refused unless `force`. The file is read in blocks: see the module doc.
    `progress(done, total)` is called after every block of the pass that plans the master and of
    the pass that renders it (`total`: both passes' frames; a second render, which is rare, goes
    over the last half again), so a long master can be followed and stopped between blocks.
    """
    config = _configure(config, target_lufs, ceiling_dbtp, intensity, genre_curve)
    inputs = [in_path] + ([reference_path] if reference_path is not None else [])
    check_inputs(inputs)
    info = audio_info(in_path)
    if subtype is None:
        subtype = KEEP_SUBTYPE.get(info.subtype, "PCM_24")
        if Path(out_path).suffix.lower() == ".flac" and subtype == "FLOAT":
            subtype = "PCM_24"  # FLAC holds no floats: the nearest it has
    check_writable(out_path, subtype)
    check_outputs([out_path], inputs, force=force)
    if reference_path is None:
        curve_shares_db(config.curve)  # an unknown curve is refused before any work
    if reference_path is not None:
        audio_info(reference_path)
    before, ref = _side_by_side(
        lambda: analyze_file(in_path),
        (lambda: analyze_file(reference_path)) if reference_path is not None else None,
    )
    _check_masterable(before, repr(str(in_path)))
    cutoff = None
    if ref is not None:
        _check_masterable(ref, f"The reference {str(reference_path)!r}", reference=True)
        cutoff = encoder_cutoff_hz(reference_path)
    rate, channels, frames = info.samplerate, info.channels, before.loudness.frames
    progress(0, 2 * frames)

    def reported(blocks: Iterator[np.ndarray], start: int) -> Iterator[np.ndarray]:
        done = start
        for y in blocks:
            yield y
            done += y.shape[1]
            progress(min(done, 2 * frames), 2 * frames)

    passes = 0

    def held(blocks: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
        for y in blocks:  # a pass A run again: the progress holds where the first one left it
            yield y
            progress(frames, 2 * frames)

    with contextlib.ExitStack() as spills:  # pass A's output, on disk: memory stays bounded

        def blocks():
            nonlocal passes
            passes += 1
            read = read_blocks(in_path, BLOCK_SECONDS, purpose="mastered")
            return reported(read, 0) if passes == 1 else held(read)

        def shape(settings: MasterConfig, gain_db=None) -> tuple[_Plan, _SpillFile]:
            spill = spills.enter_context(_SpillFile(channels))
            name = repr(str(in_path))
            plan = _plan(
                blocks, rate, channels, before, ref, settings, spill.append, name, gain_db, cutoff
            )
            return plan, spill

        plan, shaped = _affordable(shape, rate, channels, frames, config)
        plan, shaped = _low_band_again(shape, plan, shaped, rate, channels, frames, config)

        # every attempt is rendered to one temporary file, moved into place once the last has
        # been measured: an attempt over the ceiling never stands at `out_path`, and a run that
        # fails or is stopped between attempts leaves an existing output as it was
        with write_errors(out_path), atomic_path(out_path) as tmp:

            def render(trim_db: float) -> Analysis:
                rendered = _render(reported(shaped.blocks(), frames), plan, trim_db=trim_db)
                _write_blocks(rendered, tmp, rate, channels, subtype)
                return analyze_file(tmp)

            after, trim, threshold = _land(plan, render, rate, channels, frames, config)
    report = _report(config, before, after, ref, plan, threshold, trim, subtype)
    if cutoff is not None:
        left = [
            f"{c:g}"
            for c, cut, whole in zip(OCTAVE_CENTERS_HZ, plan.tone.target_db,
                                     comparable_shares_db(before, ref)[1], strict=True)
            if cut is None and whole is not None
        ]  # fmt: skip
        if left:
            note = (
                f"The reference is lossy, cut by its encoder above {cutoff / 1000:.1f} kHz: the "
                f"{', '.join(left)} Hz {'band is' if len(left) == 1 else 'bands are'} left out "
                "of the match."
            )
            report = dataclasses.replace(report, notes=(*report.notes, note))
    return report


# --- the passes --------------------------------------------------------------------------------
def _configure(config, target_lufs, ceiling_dbtp, intensity, genre_curve) -> MasterConfig:
    """`config` (or the defaults) with the settings given as keywords in place of its own."""
    given = {"target_lufs": target_lufs, "ceiling_dbtp": ceiling_dbtp, "intensity": intensity}
    changes = {name: float(value) for name, value in given.items() if value is not None}
    if genre_curve is not None:
        changes["curve"] = genre_curve
    return dataclasses.replace(config or MasterConfig(), **changes)


def _check_masterable(analysis: Analysis, name: str, *, reference: bool = False) -> None:
    """Refuse audio with nothing to master, or a reference with no balance to match."""
    lo = analysis.loudness
    # a reference's fault is not the mix's: say so, and what to give instead
    then = "; give a finished master to match" if reference else ""
    if lo.frames == 0:  # "silent" would send the user looking for a muted track
        raise UserError(f"{name} holds no audio{then or '; there is nothing to master'}.")
    if not math.isfinite(lo.sample_peak_dbfs):
        raise UserError(f"{name} is silent{then or '; there is nothing to master'}.")
    what = "measure" if reference else "master"
    if lo.integrated_lufs is None:
        raise UserError(f"{name} is shorter than 0.4 s, too short to {what}{then}.")
    if not math.isfinite(lo.integrated_lufs):
        raise UserError(
            f"{name} is too quiet to {what}: nothing in it is louder than -70 LUFS{then}."
        )
    if reference and _ac_rms_dbfs(analysis) < REFERENCE_FLOOR_DBFS:
        # a constant offset reads about -30 LUFS from the meter's start-up, and its octave
        # balance is the window's leakage around 0 Hz: the EQ then cut every band above 100 Hz
        # by 6 dB to match it, without a word (the mix's own offset is caught in `_plan`)
        raise UserError(
            f"{name} holds nothing but a DC offset (below {REFERENCE_FLOOR_DBFS:g} dBFS once "
            f"the offset is taken away){then}."
        )


def _affordable(shape: Callable, rate: int, channels: int, frames: int, config: MasterConfig):
    """Pass A (`shape(settings)` -> (plan, shaped signal)) with EQ and compression at the
    config's intensity, or without them where they put a target out of reach that the chain
    without them meets, or make the limiter take over `shaping_cost_lu` more of the loudness
    than it would without them: returns (plan, shaped signal).

    Intensity sets how far EQ and compression act; the loudness is to be met regardless, and
    not by crushing the peaks. A kick loop's octave balance is mostly its body: moving it toward
    a mix's curve cut the body and boosted the attack by 6 dB, the compressor let each attack
    through and turned the body down, and the limiter took 13 dB off every hit and still left
    the master 1.5 LU under -14 LUFS, which the plain chain met with no limiting at all (a
    single kick came out 4 LU quieter than the mix it was to raise). Kicks with hi-hats met
    -14 LUFS, but with the limiter taking 15.7 dB off each hit (9.2 LU of loudness) where the
    plain chain took 3.1 dB (0.05 LU). Only when the limiter takes more than `shaping_cost_lu`
    (or the target is out of reach) is the plain chain tried, so almost every master takes one
    pass; the plan then says why EQ and compression were left out (`plan.note`). Both chains out
    of reach keep the EQ and compression asked for, unless the plain chain lands more than
    `shaping_cost_lu` closer to the target: in a quiet recording with one loud bang (45 ms near
    full scale, which holds the whole of the gated loudness) the compressor turned the bang's body
    down and let its onset through, and the master stopped at -24.4 LUFS, asked for -14 under
    -1 dBTP, where the plain chain reaches -17.2.
    """
    plan, shaped = shape(config)
    if plan.compressor is None and not plan.tone.active:
        return plan, shaped
    threshold = config.ceiling_dbtp - config.limiter_margin_db
    _solve(plan, rate, channels, frames, threshold, config)
    if plan.reachable and plan.limiting_lu <= config.shaping_cost_lu:
        return plan, shaped
    plain, plain_shaped = shape(dataclasses.replace(config, intensity=0.0))
    _solve(plain, rate, channels, frames, threshold, config)
    if not plain.reachable:
        if plan.reachable or plain.predicted_lufs - plan.predicted_lufs <= config.shaping_cost_lu:
            return plan, shaped
        plain.note = (
            f"EQ and compression were left out: with them the master would have stopped at "
            f"{plan.predicted_lufs:.1f} LUFS under the {config.ceiling_dbtp:g} dBTP ceiling, "
            f"without them it comes {plain.predicted_lufs - plan.predicted_lufs:.1f} LU closer "
            f"to {config.target_lufs:g} LUFS."
        )
        return plain, plain_shaped
    if plan.reachable:
        if plan.limiting_lu - plain.limiting_lu <= config.shaping_cost_lu:
            return plan, shaped
        plain.note = (
            f"EQ and compression were left out: with them the limiter (and the low band stage "
            f"ahead of it) would have taken about {plan.limiting_lu:.1f} LU of loudness to "
            f"meet {config.target_lufs:g} LUFS under the {config.ceiling_dbtp:g} dBTP ceiling, "
            "without them "
            f"{plain.limiting_lu:.1f} LU."
        )
    else:
        plain.note = (
            f"EQ and compression were left out: with them the target {config.target_lufs:g} "
            f"LUFS was out of reach under the {config.ceiling_dbtp:g} dBTP ceiling (the master "
            f"would have stopped at {plan.predicted_lufs:.1f} LUFS), without them it is met."
        )
    return plain, plain_shaped


def _low_band_again(shape, plan, shaped, rate, channels, frames, config):
    """Pass A again where the low band stage took more than `LOW_BAND_AGAIN_DB` of the energy
    and the gain it expected was more than `LOW_BAND_GAIN_SLACK_DB` off the gain then solved:
    returns (plan, shaped signal), the new ones or those given.

    The stage needs the gain before the limiter, which is solved after it has run; `_plan`
    expects it from the loudness and the EQ alone, and that misses what the compressor, the
    limiter and the stage itself take away (0.5 to 4 dB under the gain solved on the bench's
    mixes and on an 808 under chords). Where the stage took little (the bench's mixes at
    -14 LUFS: at most 0.2 dB) the limiter does, as before, what it left; where it took much (an
    808 under chords at -9 LUFS: 0.5 to 2.6 dB) the chords swung by 0.9 to 4 dB after one pass
    and by 0.7 to 2.2 after two. The second pass expects the gain solved, plus half the miss: the
    stage, taking more, lowers the loudness further. A target out of reach keeps the first pass:
    the limiter takes what it may there, whatever the stage did.
    """
    if plan.low_band_gain_db is None or plan.low_band_loss_db < LOW_BAND_AGAIN_DB:
        return plan, shaped
    threshold = config.ceiling_dbtp - config.limiter_margin_db
    if plan.solved_at_db != threshold:
        _solve(plan, rate, channels, frames, threshold, config)
    missed = plan.gain_db - plan.low_band_gain_db
    if abs(missed) <= LOW_BAND_GAIN_SLACK_DB or not plan.reachable:
        return plan, shaped
    settings = dataclasses.replace(config, intensity=0.0) if plan.note else config
    again, again_shaped = shape(settings, plan.gain_db + 0.5 * missed)
    again.note = plan.note
    return again, again_shaped


def _ac_rms_dbfs(analysis: Analysis) -> float:
    """The RMS level of the audio less each channel's mean (dBFS, -inf when nothing is left)."""
    mean_square = 10.0 ** (analysis.rms_dbfs / 10.0) - float(np.mean(np.square(analysis.dc_offset)))
    return 10.0 * math.log10(mean_square) if mean_square > 0 else -math.inf


def _plan(
    blocks, sample_rate, channels, before, ref, config, keep, name, gain_db=None, ref_cutoff_hz=None
) -> _Plan:
    """Plan the tone and compression, then pass A: shape the input and measure it per hop.

    `blocks()` gives the input's blocks; `keep(y)` receives each block of the shaped signal.
    Raises `UserError` (naming the input as `name`) when nothing is left above BS.1770's gate
    once the DC offset is removed: a file of DC alone reads a loudness only from the meter's
    start-up, and the gain to the target would be infinite. `ref_cutoff_hz` is where a lossy
    encoder cut the reference (`encoder_cutoff_hz`): the bands above are not matched.
    """
    hop = control_hop(sample_rate)
    measured = tuple(s for _, s in before.octave_bands_db)
    if ref is not None:
        compared, target = comparable_shares_db(before, ref, ref_cutoff_hz)
    else:
        compared, target = measured, curve_shares_db(config.curve)
    tone = plan_tone(
        compared, target, sample_rate, max_eq_db=config.max_eq_db,
        floor_share_db=config.eq_floor_share_db, intensity=config.intensity,
    )  # fmt: skip
    shares = np.array([10 ** (s / 10) if s is not None else 0.0 for s in measured])

    def kept_db(change_db) -> float:
        """How much of the energy a change per band (dB) leaves, in dB; 0 where the input has
        no balance: every sound in it is a click, which the analysis leaves out of the bands (a
        file of single-sample ticks). A sum of 0 had put the compressor's threshold 120 dB
        under the programme, and it took 30 dB off every tick."""
        if not shares.any():
            return 0.0
        return 10 * math.log10(max(float(np.sum(shares * 10 ** (np.asarray(change_db) / 10))),
                                   1e-12))  # fmt: skip

    ratio = 1.0 + (config.compressor_ratio - 1.0) * config.intensity
    threshold = compressor = None
    if ratio > 1.001:
        # the detector reads the mean square per channel of what its high-pass lets through,
        # after the EQ has moved the level a bit: the threshold follows the share it hears
        heard_db = np.array(tone.achieved_db)
        if config.compressor_sidechain_hz:
            sidechain = sidechain_sos(sample_rate, config.compressor_sidechain_hz)
            heard_db += band_means_db(
                sample_rate,
                lambda f: np.abs(scipy.signal.sosfreqz(sidechain, f, fs=sample_rate)[1]) ** 2,
            )
        threshold = (
            before.loudness.integrated_lufs
            + kept_db(heard_db)
            - 10 * math.log10(channels)
            + config.compressor_threshold_lu
        )

        def compressor():
            return Compressor(
                sample_rate, hop, threshold_db=threshold, ratio=ratio,
                knee_db=config.compressor_knee_db, detector_ms=config.compressor_detector_ms,
                attack_ms=config.compressor_attack_ms, release_ms=config.compressor_release_ms,
                transient_ms=config.transient_ms, sidechain_hz=config.compressor_sidechain_hz,
            )  # fmt: skip

    plan = _Plan(
        tone=tone, compressor=compressor, compressor_threshold_db=threshold,
        compressor_ratio=ratio, compressor_reduction_db=np.zeros(0), hop=hop,
        peaks_db=np.zeros(0), energy=np.zeros(0),
    )  # fmt: skip
    low_band = None
    if config.low_band_hz:
        # the level the limiter will leave alone, at this point of the chain: the ceiling less
        # the gain that the target asks for, as the EQ leaves the loudness
        gain = config.target_lufs - (before.loudness.integrated_lufs + kept_db(tone.achieved_db))
        gain = gain if gain_db is None else gain_db
        plan.low_band_gain_db = gain
        budget = 10 ** ((config.ceiling_dbtp - config.limiter_margin_db - gain) / 20)

        def low_band():
            return LowBandLimiter(
                sample_rate, hop, budget=budget, crossover_hz=config.low_band_hz,
                max_reduction_db=config.low_band_max_db,
                release_ms=config.limiter_release_ms,
            )  # fmt: skip

    shaper = _Shaper(sample_rate, plan.tone, plan.compressor, config.dc_highpass_hz, low_band)
    measures = HopMeasures(sample_rate, channels, hop)
    with _Pipeline() as later:  # measure block k while block k + 1 is shaped
        for x in itertools.chain(blocks(), [None]):  # None: the stage's last frames
            y = shaper.process(x) if x is not None else shaper.finish()
            if y is not None and y.shape[1]:
                keep(y)
                later(measures.process, y)
    plan.peaks_db, plan.energy = measures.finish()
    plan.dc_offset = shaper.dc.offset
    frames = before.loudness.frames
    if not math.isfinite(gated_lufs(plan.energy, sample_rate, channels, frames, hop)):
        raise UserError(
            f"{name} holds nothing louder than -70 LUFS once its DC offset is removed; there is "
            "nothing to master."
        )
    if shaper.compressor is not None:
        plan.compressor_reduction_db = np.concatenate(shaper.compressor.reduction_db)
    if shaper.low_band is not None:
        # the stage reports the hops of its tail padding too: the series ends with the audio's,
        # as the compressor's and the limiter's do
        reduction = np.concatenate(shaper.low_band.reduction_db)
        plan.low_band_reduction_db = reduction[: len(plan.peaks_db)]
        plan.low_band_loss_db = shaper.low_band.loss_db
    return plan


def _solve(plan: _Plan, sample_rate, channels, frames, threshold_db, config) -> None:
    """Choose the gain before the limiter so that the limited signal lands on the target.

    Loudness rises with the gain, but ever more slowly as the limiter works harder; the loss is
    how much the limiter takes away. The gain is bracketed by doubling steps and found by Brent's
    method; if the target needs a loss above `max_limiting_lu`, the plan is marked unreachable and
    the gain is the least that comes within `out_of_reach_slack_lu` of the loudest the limiter
    can give within that loss (`_gentlest_gain`).
    """
    hop = plan.hop
    limiter = Limiter.make(
        sample_rate, hop, threshold_db,
        lookahead_ms=config.limiter_lookahead_ms, release_ms=config.limiter_release_ms,
        transient_ms=config.transient_ms,
        transient_release_ms=config.limiter_transient_release_ms,
        bridge_ms=config.limiter_bridge_ms,
    )  # fmt: skip
    target, most = config.target_lufs, config.max_limiting_lu
    unlimited = gated_lufs(plan.energy, sample_rate, channels, frames, hop)
    lasting = limiter.lasting_peaks_db(plan.peaks_db)  # the same for every gain

    def loudness(gain_db: float) -> float:
        reduction = limiter.reduction_db(plan.peaks_db, gain_db, lasting)
        energy = plan.energy * 10 ** ((gain_db - reduction) / 10)
        return gated_lufs(energy, sample_rate, channels, frames, hop)

    def loss(gain_db: float) -> float:
        return unlimited + gain_db - loudness(gain_db)

    base = target - unlimited  # the gain that would do it without limiting
    gain, reachable = base, True
    if loss(base) > 1e-6:
        low, step = base, 1.0
        while True:
            high = low + step
            level = loudness(high)
            if level >= target:
                gain = scipy.optimize.brentq(lambda g: loudness(g) - target, low, high, xtol=1e-3)
                reachable = loss(gain) <= most
                break
            if unlimited + high - level > most or high - base > 60:
                reachable = False
                break
            low, step = high, step * 2
        if not reachable:  # the loss grows with the gain: from 0 where nothing is limited
            high = max(gain, high)
            low = min(base, threshold_db - float(np.max(plan.peaks_db)))
            gain = (
                scipy.optimize.brentq(lambda g: loss(g) - most, low, high, xtol=1e-3)
                if loss(high) > most
                else high
            )
            gain = _gentlest_gain(loudness, low, gain, config.out_of_reach_slack_lu)
    reduction = limiter.reduction_db(plan.peaks_db, gain, lasting)
    plan.gain_db, plan.limiter, plan.limiter_reduction_db = gain, limiter, reduction
    plan.predicted_lufs = loudness(gain)
    plan.limiter_loss_lu = unlimited + gain - plan.predicted_lufs
    plan.reachable = reachable
    plan.solved_at_db = threshold_db


def _gentlest_gain(loudness: Callable[[float], float], low: float, high: float, slack_lu: float):
    """The least gain in [low, high] (dB) whose loudness is within `slack_lu` of the most that any
    gain there gives: once the target is out of reach, more gain may buy next to nothing.

    A 60 Hz sine's loudness stopped rising as soon as the limiter began (it only takes the level
    back down), yet the gain went on up until the limiter took its `max_limiting_lu`: 10 dB of
    limiting, riding each half-cycle (a 3rd harmonic at -49 dB), for 0.1 LU. Loudness need not
    even rise with the gain: quiet blocks that a higher gain lifts over a gate lower the mean
    (a sparse snare track lost 0.6 LU for 1 dB more gain). So the range is scanned
    (at most 25 steps, each a pass over the per-hop peaks, not over the audio) and the crossing
    refined by Brent's method.
    """
    gains = np.append(np.arange(low, high, max(0.5, (high - low) / 24)), high)
    levels = np.array([loudness(g) for g in gains])
    goal = float(np.max(levels)) - slack_lu
    k = int(np.argmax(levels >= goal))
    if k == 0 or levels[k] == goal:  # met on a step of the scan: nothing to refine
        return float(gains[k])
    return scipy.optimize.brentq(lambda g: loudness(g) - goal, gains[k - 1], gains[k], xtol=1e-3)


def _render(blocks: Iterator[np.ndarray], plan: _Plan, *, trim_db: float):
    """Blocks of the master from blocks of the shaped signal: turned up, limited and trimmed."""
    gains = 10.0 ** ((plan.gain_db - plan.limiter_reduction_db + trim_db) / 20.0)
    hop, offset, previous = plan.hop, 0, None
    for y in blocks:
        frames = y.shape[1]
        first = offset // hop
        hop_gains = gains[first : first + -(-frames // hop)]
        previous = hop_gains[0] if previous is None else previous
        yield y * ramp_gains(hop_gains, previous, hop, frames)
        previous = hop_gains[-1]
        offset += frames


def _land(plan: _Plan, render: Callable[[float], Analysis], rate, channels, frames, config):
    """Solve, render with the trim, measure; correct and render again in the rare case it missed.

    `render(trim_db)` renders the master (and, for a file, writes it) and measures it. The model
    in `_solve` is usually right within 0.01 LU, so one render is the rule. If the master is off
    the target by more than `loudness_tolerance_lu`, the trim takes up the model's error; if the
    true peak is over the ceiling, or the corrected trim would put it there, the limiter aims
    lower. At most four renders. Returns (after, trim_db, limiter threshold).
    """
    target, ceiling = config.target_lufs, config.ceiling_dbtp
    threshold, model_error = ceiling - config.limiter_margin_db, 0.0
    for attempt in range(4):
        if threshold != plan.solved_at_db:  # `_affordable` may have solved it already
            _solve(plan, rate, channels, frames, threshold, config)
        trim = target - plan.predicted_lufs - model_error if plan.reachable else 0.0
        after = render(trim)
        level, peak = after.loudness.integrated_lufs, after.loudness.true_peak_dbtp
        model_error = level - trim - plan.predicted_lufs
        error = target - level
        if peak <= ceiling and (abs(error) <= config.loudness_tolerance_lu or not plan.reachable):
            break
        excess = peak - ceiling + (error if plan.reachable else 0.0)
        if excess > 0 and attempt < 3:
            threshold -= excess + 0.02
    return after, trim, threshold


def _report(config, before, after, ref, plan, threshold, trim, subtype) -> MasterReport:
    notes = []
    error = (after.loudness.integrated_lufs or -math.inf) - config.target_lufs
    reached = abs(error) <= 0.2
    if not plan.reachable:
        notes.append(
            f"The target {config.target_lufs:g} LUFS could not be reached under the "
            f"{config.ceiling_dbtp:g} dBTP ceiling without the limiter taking more than "
            f"{config.max_limiting_lu:g} LU; the master is at "
            f"{after.loudness.integrated_lufs:.1f} LUFS."
        )
        reached = False
    elif not reached:
        notes.append(
            f"The master is {error:+.2f} LU from the target {config.target_lufs:g} LUFS: the "
            f"{config.ceiling_dbtp:g} dBTP ceiling allowed no closer."
        )
    if plan.note:
        notes.append(plan.note)
    offset = max((abs(v) for v in plan.dc_offset), default=0.0)
    if offset > 0 and 20 * math.log10(offset) >= config.dc_note_dbfs:  # after whether it landed
        notes.append(
            f"The mix had a DC offset of {offset:.3g} ({20 * math.log10(offset):.1f} dBFS); "
            "it was removed."
        )
    if before.clipped_runs:
        notes.append(
            f"The mix is clipped in {before.clipped_runs} "
            f"{'place' if before.clipped_runs == 1 else 'places'} (samples in a row at full "
            "scale); the master keeps the distortion, so export the mix again with headroom."
        )
    if before.correlation is not None and before.correlation <= OPPOSITE_CORRELATION:
        # the analysis says so; a master that vanishes on a phone is worth saying here too
        how = "it cancels out" if before.correlation <= -0.99 else "much of it cancels out"
        notes.append(
            f"The mix's channels are opposite in polarity (correlation {before.correlation:.2f}): "
            f"played in mono, as a phone or a club's PA plays it, {how}, and the master keeps "
            "that; flip the polarity of one channel, or of the track that is flipped in the mix."
        )
    per_100ms = int(0.1 * before.loudness.sample_rate) // plan.hop
    return MasterReport(
        config=config,
        before=before,
        after=after,
        target_source="the reference" if ref is not None else f"the {config.curve!r} curve",
        tone=plan.tone,
        compressor_threshold_db=plan.compressor_threshold_db,
        compressor_ratio=plan.compressor_ratio,
        compressor_reduction_db=_max_every(plan.compressor_reduction_db, per_100ms),
        gain_db=plan.gain_db,
        limiter_threshold_dbtp=threshold,
        limiter_reduction_db=_max_every(plan.limiter_reduction_db, per_100ms),
        limiter_loss_lu=plan.limiter_loss_lu,
        trim_db=trim,
        reached=reached,
        notes=tuple(notes),
        reference=ref,
        output_subtype=subtype,
        dc_offset=plan.dc_offset,
        shaping_left_out=plan.note is not None,
        low_band_reduction_db=_max_every(plan.low_band_reduction_db, per_100ms),
        low_band_loss_db=plan.low_band_loss_db,
    )


# --- files -------------------------------------------------------------------------------------
def _write_blocks(blocks, path, sample_rate: int, channels: int, subtype: str) -> None:
    """Write blocks of float audio as `subtype` into `path` (the caller's temporary file: see
    `master_file`), replacing what is there; 16-bit gets TPDF dither of one LSB each way."""
    import soundfile as sf

    rng = np.random.default_rng(0)  # the same input gives the same file
    # the temporary file's name ends in the output's suffix (atomic_path keeps it)
    fmt = {".wav": "WAV", ".flac": "FLAC"}[Path(path).suffix.lower()]
    with sf.SoundFile(
        os.fsencode(path),
        "w",
        samplerate=sample_rate,
        channels=channels,
        subtype=subtype,
        format=fmt,
    ) as f:

        def write(z: np.ndarray) -> None:
            if subtype == "PCM_16":
                dither = rng.random(z.shape) - rng.random(z.shape)
                q = np.clip(np.round(z * 32768.0 + dither), -32768, 32767).astype(np.int16)
                f.write(q.T)
            else:
                f.write(np.ascontiguousarray(z.T, dtype=np.float32))

        with _Pipeline() as later:  # write block k while block k + 1 is rendered
            for z in blocks:
                later(write, z)


# --- small helpers -----------------------------------------------------------------------------
class _Pipeline:
    """Runs calls in order on one worker thread, at most one behind the caller.

    NumPy, SciPy, pedalboard and libsndfile release the GIL in their loops, so on two cores the
    caller's next block and the worker's call overlap. Memory stays bounded: `__call__` waits
    for the previous call before it queues the next. Errors surface in the caller.
    """

    def __enter__(self):
        from concurrent.futures import ThreadPoolExecutor

        self._pool = ThreadPoolExecutor(1)
        self._pending = None
        return self

    def __call__(self, fn, *args) -> None:
        if self._pending is not None:
            self._pending.result()
        self._pending = self._pool.submit(fn, *args)

    def __exit__(self, kind, error, traceback):
        try:
            if self._pending is not None and kind is None:
                self._pending.result()
        finally:
            self._pool.shutdown(wait=True, cancel_futures=True)
        return False


class _SpillFile:
    """Blocks of float32 audio kept in an anonymous temporary file between passes."""

    def __init__(self, channels: int):
        import tempfile

        self.channels = channels
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 (closed by __exit__)
        self._sizes: list[int] = []

    def append(self, y: np.ndarray) -> None:
        try:
            self._file.write(np.ascontiguousarray(y, dtype=np.float32).tobytes())
        except OSError as e:  # a full disk: a sentence, not a traceback
            import tempfile

            raise UserError(
                f"Could not keep the audio between passes in the temporary folder "
                f"{tempfile.gettempdir()!r} ({e.strerror or e}); free some space there or set "
                "TMPDIR to another folder."
            ) from None
        self._sizes.append(y.shape[1])

    def blocks(self) -> Iterator[np.ndarray]:
        self._file.flush()
        self._file.seek(0)
        for frames in self._sizes:
            data = self._file.read(4 * self.channels * frames)
            yield np.frombuffer(data, dtype=np.float32).reshape(self.channels, frames)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._file.close()
        return False


def _side_by_side(first: Callable, second: Callable | None):
    """(first(), second()), the two run at once on two threads (second() is None if no second)."""
    if second is None:
        return first(), None
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        other = pool.submit(second)
        result = first()
        return result, other.result()


def _max_every(values: np.ndarray, size: int) -> np.ndarray:
    if not len(values):
        return np.zeros(0, dtype=np.float32)
    size = max(1, size)
    padded = np.pad(values, (0, -len(values) % size))
    return padded.reshape(-1, size).max(axis=1).astype(np.float32)


def _max(values: np.ndarray) -> float:
    return round(float(values.max()), 2) if len(values) else 0.0


def _rounded(value: float | None, digits: int = 2) -> float | None:
    return None if value is None or not math.isfinite(value) else round(value, digits)
