"""The limiter and the landing (stages 5 to 7 of `mix.master`): the gain that puts the limited
signal on the target (`_solve`), the render of the master from pass A's shaped signal
(`_render`), and the measure and trim that land it (`_land`).

Dynamics (`mix.dynamics`). Compressor and limiter work at a control rate of about 0.4 ms, as
vector operations, and are linked across channels, so the stereo image stays put. (pedalboard's
`Compressor` is JUCE's, which compresses each channel on its own: a loud left channel turns the
left down and not the right. pedalboard 0.9.26's `BrickwallLimiter` was tried first: after about
17 dB of reduction its gain stayed down for good, and its true-peak mode does not promise that
the result stays under the ceiling.)

The limiter. Pass A runs the input through DC removal, EQ and compressor and keeps, per hop, the
true peak (the same 4x polyphase interpolation as `mix.meter`, or for a bright master the finer one,
`_fine_peak_meter`) and the K-weighted energy. For any gain G the limiter's reduction then follows
from the peaks alone: the reduction each peak needs, released, held over the lookahead plus a margin
either side, and ramped in over the lookahead by a moving average; so the gain is down, and flat,
over every sample that the interpolation around a peak reads, and the true peak cannot pass the
threshold, however quickly it is released. The release depends on the programme: what lasts, or
keeps coming back, releases with `limiter_release_ms` (60 ms); the part of an overshoot that lasts
under `transient_ms` (about 2 ms) with nothing else within `limiter_bridge_ms` releases with
`limiter_transient_release_ms` (3 ms), and the compressor does not hear such a burst. With one
release of 60 ms, a click from an edit without a crossfade (a 2-sample spike near full scale in a
mix peaking 15 dB lower) took some 20 dB off the whole programme, 16 dB still 20 ms after it and 7
dB 80 ms after, and the compressor 2 dB more for 150 ms; now the programme is back within 2 dB 10 ms
after the click and within 0.1 dB 20 ms after. Decided: program-dependent release, not a clipper
ahead of the limiter, which would distort ordinary drums' transients too (`mix.dynamics.Limiter`
says why).

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

"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator

import numpy as np
import scipy.optimize

from bandmate.mix.analysis import Analysis
from bandmate.mix.dynamics import Limiter, gated_lufs, ramp_gains
from bandmate.mix.master_config import _Plan
from bandmate.mix.meter import FinePeakMeter


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


def _render(blocks: Iterator[np.ndarray], plan: _Plan, *, trim_db: float, peak_meter=None):
    """Blocks of the master from blocks of the shaped signal: turned up, limited and trimmed;
    `peak_meter` (a `FinePeakMeter`, or None) reads each block on its way."""
    gains = 10.0 ** ((plan.gain_db - plan.limiter_reduction_db + trim_db) / 20.0)
    hop, offset, previous = plan.hop, 0, None
    for y in blocks:
        frames = y.shape[1]
        first = offset // hop
        hop_gains = gains[first : first + -(-frames // hop)]
        previous = hop_gains[0] if previous is None else previous
        z = y * ramp_gains(hop_gains, previous, hop, frames)
        if peak_meter is not None:
            peak_meter.process(z)
        yield z
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


def _fine_peak_meter(plan: _Plan, sample_rate: int, channels: int, config):
    """A `FinePeakMeter` for the render where the master's top octave holds at least
    `fine_peak_share_db` of its energy over its brightest 3 s, or where the limiter (as `_solve`
    last planned it) takes at least `fine_peak_limiting_lu` of loudness, else None.

    The limiter's peaks and the meter's reading come from the 4x interpolator, which reads
    17-20 kHz content low (`mix.meter.fine_true_peak_branches`): a synthetic master with heavy
    17-20 kHz content, at -8 LUFS under -1 dBTP, read -1.15 dBTP by the meter and -0.76 by
    ffmpeg's ebur128. Where the top octave is that strong, pass A reads the peaks per hop by the
    finer interpolator (`HopMeasures(fine=True)`), so the limiter holds them under its
    threshold, and `_land` reads the render by it too, lowering the threshold by what that
    reading is over the ceiling should it be (the synthetic master: one render, -0.98 dBTP by
    ideal interpolation, -1.10 by ffmpeg; reading the render alone took a second render at a
    threshold 0.33 dB lower). It costs that kind of master about 30 % more time. The share is
    known before any work (the analysis and the EQ). It is taken where the mix is brightest
    (`Analysis.top_octave_max_share_db`): by the song's share alone, two bright seconds in 16 s
    of dark chords went 0.11 dB over the ceiling plus 0.1 by ideal interpolation. With the fine
    reading off, songs bright throughout stayed under the ceiling by ffmpeg's meter up to a
    share of -13.7 dB; the setting keeps 1.3 dB from that. On ordinary mixes it is off
    (bench/master.py's, matched to their reference, read -16.6 to -18.9 dB at their brightest
    3 s; the curves aim at -17.8 to -22.8 dB over a song), and those keep the meter's reading
    and their speed. Not counted: content above the 16 kHz octave (above 22.6 kHz, at 88.2 kHz
    and up), whose peaks the 4x reading may also miss: a 96 kHz file of 25-40 kHz bursts read
    -1.15 dBTP against -0.49 by ideal interpolation (ffmpeg's meter, resampling to 192 kHz as
    bandmate's does, read -1.13).

    Heavy limiting makes its own top octave: the limiter's gain, ducking 10-20 dB and released
    in 3 ms after a transient, modulates the music. A funk backing track (top octave at -16.9
    dB, under the share above) mastered to -9 and -8 LUFS (the limiter taking 9.4 LU) read
    -1.15 dBTP on the meter and -0.82 by 8x interpolation, as ffmpeg's reads it; rock at -9
    LUFS (4.5 LU) -0.93. Where the limiter takes `fine_peak_limiting_lu` (2 LU) or more, the
    render is read finely too, and `_land` renders again at a lower threshold if it is over:
    then funk reads -1.12 and rock -1.08 by 8x. Masters at -14 LUFS rarely get there (the
    limiter took 0.06-0.74 LU of six backing tracks), so they keep their speed.
    """
    bright = plan.top_octave_share_db >= config.fine_peak_share_db
    if not bright and plan.limiting_lu < config.fine_peak_limiting_lu:
        return None
    return FinePeakMeter(sample_rate, channels)


def _read_finely(after: Analysis, peak_meter) -> Analysis:
    """`after` with the fine reading as its true peak where there is one and it is higher."""
    if peak_meter is None:
        return after
    peak = max(after.loudness.true_peak_dbtp, peak_meter.result_dbtp())
    return dataclasses.replace(
        after, loudness=dataclasses.replace(after.loudness, true_peak_dbtp=peak)
    )
