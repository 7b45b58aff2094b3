"""Pass A of `mix.master`: the plan of the tone and the compression, the input shaped by them
(stages 2 to 4, and the low band stage) and measured per hop (`_plan`), and the choice of the
chain (`_affordable`, `_low_band_again`). The gain is solved in `mix.master_limit`.

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

"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Callable

import numpy as np
import scipy.signal

from bandmate.errors import UserError
from bandmate.mix.dynamics import (
    Compressor,
    DcBlocker,
    HopMeasures,
    LowBandLimiter,
    control_hop,
    gated_lufs,
    sidechain_sos,
)
from bandmate.mix.master_config import MasterConfig, _Plan
from bandmate.mix.master_limit import _solve
from bandmate.mix.tone import (
    ToneMatch,
    band_means_db,
    comparable_shares_db,
    curve_shares_db,
    eq_plugins,
    plan_tone,
)

# pass A runs again for the low band stage where it took this much energy (dB) and expected a
# gain this far off the one solved (see `_low_band_again`)
LOW_BAND_AGAIN_DB, LOW_BAND_GAIN_SLACK_DB = 0.3, 0.5


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
    if measured[-1] is not None and shares.any():
        # the top octave where the mix is brightest (a cymbal-wash break in a dark song), as
        # the EQ leaves it: the song's share alone missed such a break, which went 0.14 dB
        # over the ceiling by ffmpeg's meter
        brightest = max(measured[-1], before.top_octave_max_share_db or -math.inf)
        plan.top_octave_share_db = brightest + tone.achieved_db[-1] - kept_db(tone.achieved_db)
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
    # where the top octave is strong, the limiter reads the peaks as `_land` will check them
    fine = plan.top_octave_share_db >= config.fine_peak_share_db
    measures = HopMeasures(sample_rate, channels, hop, fine=fine)
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
