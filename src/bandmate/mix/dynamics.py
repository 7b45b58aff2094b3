"""Dynamics (layer 3): a stereo-linked compressor, a true-peak limiter, and a DC blocker.

Both compute their gain once per hop of about 0.4 ms (`control_hop`: a whole fraction of the
meter's 10 ms tick) and ramp it linearly across each hop (`ramp_gains`). Every step is then a
vector operation: a release that decays exponentially (in dB) is a running maximum
(`maximum.accumulate`) of the log of the gain reduction plus a ramp (`release`); a hold is
`maximum_filter1d`; the attack is a moving average. Both are linked across channels, so the
stereo image stays put.

- `Compressor`: an RMS compressor fed blocks of whole hops, with a soft knee, deaf to clicks.
- `HopMeasures`: per hop, the true peak (the meter's 4x interpolator, or a finer one for a bright
  master) and the K-weighted energy of a signal fed in blocks; what the limiter and the loudness
  solver work from.
- `Limiter`: the true-peak limiter's gain computer: given the per-hop peaks and a gain, the
  reduction per hop that keeps the true peak under the threshold; what lasts under 2 ms (a
  click) is released in 3 ms, the rest in 60 ms (its doc says why, and why not a clipper).
- `gated_lufs`: integrated loudness from per-hop K-weighted energy, gated as BS.1770 gates it.
- `LowBandLimiter`: a gain on the low band alone (a linear-phase crossover), ahead of the
  limiter, that takes the low band's peaks down where they would make the limiter duck
  everything above them (an 808 under chords).

`mix.master` builds its mastering chain from these; `mix.master_limit`'s doc says how the limiter
and the gain are solved together. pedalboard's `Compressor` (JUCE's) compresses each channel on its
own, and its `BrickwallLimiter` (0.9.26) kept its gain down after deep reduction, so these are
bandmate's own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import scipy.ndimage
import scipy.signal

from bandmate.mix.meter import (
    FINE_TAPS_PER_PHASE,
    fine_true_peak_branches,
    interpolated_magnitudes,
    k_weighting_sos,
    loudness_from_ticks,
    tick_frames,
    true_peak_branches,
    true_peak_factor,
)


def control_hop(sample_rate: int) -> int:
    """Frames per control step: the divisor of the meter's tick nearest 0.4 ms."""
    tick = tick_frames(sample_rate)
    divisors = [d for d in range(1, tick + 1) if tick % d == 0]
    return min(divisors, key=lambda d: abs(d - sample_rate / 2500))


def odd_hops(ms: float, sample_rate: int, hop: int) -> int:
    """The odd number of hops nearest `ms` milliseconds (at least 1): a centred window."""
    return 2 * max(0, round(ms / 1000 * sample_rate / hop / 2)) + 1


def without_clicks(values: np.ndarray, span_hops: int, window_hops: int, share: float):
    """`values` (energy per hop, >= 0) with each burst narrower than `span_hops` that alone holds
    more than `share` of the energy of the `window_hops` around it replaced by what is left once
    such bursts are taken away (a grey opening): a click, not the programme. The hops within
    `span_hops` of such a hop that stand over the opening go with it: a click's ringing (an
    EQ's, ahead of the compressor) is part of the click."""
    opened = scipy.ndimage.minimum_filter1d(values, span_hops, mode="nearest")
    scipy.ndimage.maximum_filter1d(opened, span_hops, mode="nearest", output=opened)
    around = scipy.ndimage.uniform_filter1d(values, window_hops, mode="nearest") * window_hops
    excess = values - opened
    clicks = scipy.ndimage.maximum_filter1d(excess > share * around, span_hops, mode="nearest")
    return np.where(clicks & (excess > 0), opened, values)


def ramp_gains(gains: np.ndarray, previous: float, hop: int, frames: int) -> np.ndarray:
    """Per-frame gains that go linearly from each hop's predecessor to its own value."""
    before = np.concatenate([[previous], gains[:-1]])
    ramp = np.arange(1, hop + 1, dtype=np.float64) / hop
    per_frame = before[:, None] + (gains - before)[:, None] * ramp[None, :]
    return per_frame.ravel()[:frames].astype(np.float32)


def release(reduction_db: np.ndarray, time_constant_steps: float, state: float = 0.0):
    """Hold each reduction and let it decay exponentially, by 1/e every `time_constant_steps`.

    y[n] = max(x[n], a y[n-1]) is, in logarithms, a running maximum of log x[k] + c k, less
    c n (c = -log a), so it needs no loop. `state` is the value before the first step.
    """
    c = 1.0 / time_constant_steps
    steps = np.arange(len(reduction_db), dtype=np.float64)
    with np.errstate(divide="ignore"):
        logs = np.log(np.maximum(reduction_db, 0.0))
    held = np.exp(np.maximum.accumulate(logs + c * steps) - c * steps)
    return np.maximum(held, state * np.exp(-c * (steps + 1)))


SIDECHAIN_ORDER = 4


def sidechain_sos(sample_rate: int, cutoff_hz: float) -> np.ndarray:
    """The compressor's detector high-pass: Butterworth, `SIDECHAIN_ORDER`, at `cutoff_hz`."""
    return scipy.signal.butter(SIDECHAIN_ORDER, cutoff_hz, "highpass", fs=sample_rate, output="sos")


class Compressor:
    """The stereo-linked RMS compressor, fed blocks of whole hops (the last may be short).

    Detector: the mean square over channels and over each hop, smoothed by a one-pole filter of
    `detector_ms`; with `sidechain_hz`, of the signal high-passed there (`sidechain_sos`), so
    that the low end does not drive the compression. Gain computer: `ratio` above
    `threshold_db` (dBFS RMS) with a soft knee. The reduction decays (in dB) with the time
    constant `release_ms` and is smoothed by a one-pole filter of `attack_ms`. `reduction_db`
    collects the reduction per hop, for the report.

    The detector does not hear clicks: a burst shorter than `transient_ms` (2 ms) that alone
    holds over 30% of the energy of the detector's window (it would lift it 1.5 dB) counts as
    what is left once it is taken away (`without_clicks`). A 2-sample spike near full scale in a
    mix 20 dB under it had tripled the 10 ms mean square and taken 2 dB off the programme for
    150 ms. The energy of music, drums included, lasts longer, and no 2 ms of it holds 30% of
    10 ms: on the tests' drum-and-tones signals the compression is as it was to 0.001 dB (at
    20%, some hops moved it by 0.1 dB). A click is judged on the signal as it comes and bridged
    by a straight line before the high-pass, which would otherwise spread it over the next few
    milliseconds.
    """

    def __init__(
        self,
        sample_rate: int,
        hop: int,
        *,
        threshold_db: float,
        ratio: float,
        knee_db: float,
        detector_ms: float,
        attack_ms: float,
        release_ms: float,
        transient_ms: float = 2.0,
        sidechain_hz: float | None = None,
    ):
        self.hop = hop
        self._sidechain = sidechain_sos(sample_rate, sidechain_hz) if sidechain_hz else None
        self._zi_sidechain = None
        self._transient_hops = odd_hops(transient_ms, sample_rate, hop)
        self._detector_hops = odd_hops(detector_ms, sample_rate, hop)
        self.threshold_db, self.ratio, self.knee_db = threshold_db, ratio, knee_db
        step_s = hop / sample_rate
        self._detector = math.exp(-step_s / (detector_ms / 1000))
        self._attack = math.exp(-step_s / (attack_ms / 1000))
        self._release_steps = release_ms / 1000 / step_s
        self._zi_detector = np.zeros(1)
        self._zi_attack = np.zeros(1)
        self._released = 0.0
        self._last_gain = 1.0
        self.reduction_db: list[np.ndarray] = []

    def process(self, x: np.ndarray) -> np.ndarray:
        frames = x.shape[1]
        hops = -(-frames // self.hop)
        padded = np.zeros((x.shape[0], hops * self.hop), dtype=np.float64)
        padded[:, :frames] = x
        counts = np.full(hops, float(self.hop))
        counts[-1] = frames - (hops - 1) * self.hop
        counts *= x.shape[0]

        def mean_square(y: np.ndarray) -> np.ndarray:
            return np.einsum("cn,cn->n", y, y).reshape(hops, self.hop).sum(axis=1) / counts

        heard = mean_square(padded)
        unclicked = without_clicks(heard, self._transient_hops, self._detector_hops, share=0.3)
        if self._sidechain is not None:
            # a click's hops are bridged by a straight line before the high-pass, which would
            # spread the click over the next few milliseconds
            y = padded[:, :frames]
            clicked = np.repeat(unclicked < heard, self.hop)[:frames]
            if clicked.any() and not clicked.all():
                kept, gone = np.flatnonzero(~clicked), np.flatnonzero(clicked)
                y = y.copy()
                for c in y:  # (only the clicks' frames: the rest is as it was)
                    c[gone] = np.interp(gone, kept, c[kept])
            if self._zi_sidechain is None:
                self._zi_sidechain = np.zeros((self._sidechain.shape[0], x.shape[0], 2))
            padded[:, :frames], self._zi_sidechain = scipy.signal.sosfilt(
                self._sidechain, y, axis=1, zi=self._zi_sidechain
            )
            unclicked = mean_square(padded)
        a = self._detector
        smooth, self._zi_detector = scipy.signal.lfilter(
            [1 - a], [1, -a], unclicked, zi=self._zi_detector
        )
        level_db = 10 * np.log10(np.maximum(smooth, 1e-20))
        over = level_db - self.threshold_db
        slope = 1.0 - 1.0 / self.ratio
        half = self.knee_db / 2
        static = np.where(
            over <= -half,
            0.0,
            np.where(over >= half, over * slope, slope * (over + half) ** 2 / (2 * self.knee_db)),
        )
        released = release(static, self._release_steps, self._released)
        self._released = float(released[-1])
        b = self._attack
        reduction, self._zi_attack = scipy.signal.lfilter(
            [1 - b], [1, -b], released, zi=self._zi_attack
        )
        self.reduction_db.append(reduction.astype(np.float32))
        gains = 10.0 ** (-reduction / 20.0)
        per_frame = ramp_gains(gains, self._last_gain, self.hop, frames)
        self._last_gain = float(gains[-1])
        return x * per_frame


class HopMeasures:
    """Per hop: the true peak (dB, by the meter's interpolator or the fine one) and the K-weighted
    energy.

    The interpolated values between frames n and n + 1 count toward frame n. The interpolator
    reads 11 frames back and 12 ahead, so the last 12 frames of a block wait for the next one.
    `fine` reads the peaks by the finer interpolator (`mix.meter.fine_true_peak_branches`, 15
    back and 16 ahead), for audio whose top octave is strong, which the meter's reads low.
    """

    HISTORY, AHEAD = 11, 12  # the meter's interpolator's (an instance's own may be more)

    def __init__(self, sample_rate: int, channels: int, hop: int, *, fine: bool = False):
        self.hop = hop
        self._branches = (
            fine_true_peak_branches(sample_rate)
            if fine
            else true_peak_branches(true_peak_factor(sample_rate))
        )
        if fine:  # at 176.4 and 192 kHz the meter's branches are none (no interpolation)
            taps = self._branches.shape[0]
            self.HISTORY, self.AHEAD = taps // 2 - 1, taps // 2
        self._buffer = np.zeros((channels, self.HISTORY))
        self._sos = k_weighting_sos(sample_rate)
        self._zi = np.zeros((self._sos.shape[0], channels, 2))
        self._pending = {"peak": np.zeros(0), "energy": np.zeros(0)}
        self._done: dict[str, list[np.ndarray]] = {"peak": [], "energy": []}
        self.frames = 0

    def process(self, x: np.ndarray) -> None:
        x = np.asarray(x, dtype=np.float64)
        self.frames += x.shape[1]
        weighted, self._zi = scipy.signal.sosfilt(self._sos, x, axis=-1, zi=self._zi)
        self._add("energy", np.einsum("cn,cn->n", weighted, weighted))
        self._add_peaks(x)

    def _add_peaks(self, x: np.ndarray) -> None:
        buffer = np.concatenate([self._buffer, x], axis=1)
        ready = buffer.shape[1] - self.HISTORY - self.AHEAD  # frames whose neighbours are known
        if ready <= 0:
            self._buffer = buffer
            return
        peak = np.max(np.abs(buffer[:, self.HISTORY : self.HISTORY + ready]), axis=0)
        if self._branches.shape[1]:
            for channel in buffer:
                peak = np.maximum(peak, interpolated_magnitudes(channel, self._branches))
        self._buffer = buffer[:, ready:]
        self._add("peak", peak)

    def _add(self, kind: str, values: np.ndarray, *, final: bool = False) -> None:
        values = np.concatenate([self._pending[kind], values])
        whole = len(values) // self.hop * self.hop
        if final and whole < len(values):  # the last, short hop: pad it with silence
            values = np.pad(values, (0, self.hop - (len(values) - whole)))
            whole = len(values)
        if whole:
            hops = values[:whole].reshape(-1, self.hop)
            reduced = hops.max(axis=1) if kind == "peak" else hops.sum(axis=1)
            self._done[kind].append(reduced.astype(np.float32))
        self._pending[kind] = values[whole:]

    def finish(self) -> tuple[np.ndarray, np.ndarray]:
        """(peaks_db, energy), float32, one value per hop, the last hop padded with silence."""
        self._add_peaks(np.zeros((self._buffer.shape[0], self.AHEAD)))  # the last frames' peaks
        hops = -(-self.frames // self.hop)
        out = {}
        for kind in ("peak", "energy"):
            self._add(kind, np.zeros(0), final=True)
            values, at = np.zeros(hops, dtype=np.float32), 0
            for part in self._done.pop(kind):  # copied part by part: an hour is 8.6 M hops
                count = min(len(part), hops - at)
                values[at : at + count] = part[:count]
                at += count
            out[kind] = values
        peaks = out["peak"]
        np.log10(np.maximum(peaks, 1e-12, out=peaks), out=peaks)
        peaks *= 20
        return peaks, out["energy"]


# --- the limiter -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Limiter:
    """The true-peak limiter's gain computer, at the control rate (see `mix.master_limit`'s doc).

    Its release depends on the programme, in two stages (`lasting_peaks_db` splits each hop's
    overshoot). The part of an overshoot that lasts under `transient_hops` (about 2 ms: a click,
    the crack on top of a snare) releases with the time constant `transient_release_hops`
    (3 ms); the part that lasts longer, or comes back within `bridge_hops` (20 ms: every
    half-cycle of a 25 Hz bass), releases with `release_hops` (60 ms), as every overshoot did
    before. With the one release, a 2-sample click near full scale in a mix peaking 15 dB lower
    took the whole programme down 20 dB, still 16 dB 20 ms later, 7 dB 80 ms later: a dropout
    anyone hears. Now it is down for the click itself and back within 2 dB 10 ms later, 0.1 dB
    20 ms later. Where nothing is that brief (a bass note's crests: the bridge joins them) the
    gain is what the 60 ms release gives, to a hundredth of a dB. The true peak is as safe as
    before: the hold and the attack, not the release, keep the gain down over each peak.

    Decided against: a clipper ahead of the limiter, shaving the peaks that last under a
    millisecond. It distorts whatever it shaves, ordinary drums' transients too, where a fast
    release only moves the gain for a few milliseconds; its threshold hangs on the gain, which
    is solved after the pass that measures the peaks, so it could only run at the render, and
    what it put out would need measuring again; and it would have to run oversampled to keep
    the true peak. The limiter already knows each hop's true peak, and the release was where
    the dropout came from.
    """

    threshold_dbtp: float
    lookahead_hops: int  # even
    hold_hops: int
    release_hops: float
    transient_hops: int = 1  # odd; 1: every overshoot lasts (one release, as before)
    transient_release_hops: float = 1.0
    bridge_hops: int = 1  # odd
    SPIKE_DB: ClassVar[float] = 10.0

    @classmethod
    def make(cls, sample_rate: int, hop: int, threshold_dbtp: float, *, lookahead_ms: float,
             release_ms: float, transient_ms: float = 2.0, transient_release_ms: float = 3.0,
             bridge_ms: float = 20.0):  # fmt: skip
        lookahead = math.ceil(lookahead_ms / 1000 * sample_rate / hop)
        # the interpolator reads 12 frames ahead (the fine one 16), and gains ramp across a hop
        hold = math.ceil(max(HopMeasures.AHEAD, FINE_TAPS_PER_PHASE // 2) / hop) + 2

        return cls(
            threshold_dbtp=threshold_dbtp,
            lookahead_hops=lookahead + lookahead % 2,
            hold_hops=hold,
            release_hops=release_ms / 1000 * sample_rate / hop,
            transient_hops=odd_hops(transient_ms, sample_rate, hop),
            transient_release_hops=transient_release_ms / 1000 * sample_rate / hop,
            bridge_hops=odd_hops(bridge_ms, sample_rate, hop),
        )

    def lasting_peaks_db(self, peaks_db: np.ndarray) -> np.ndarray:
        """The part of each hop's peak (dB) that lasts: what releases slowly.

        First a hop that stands more than `SPIKE_DB` over its neighbours (over a grey opening
        of 3 hops) counts as its neighbours: a click, whose gap the next step must not fill at
        the level of the music around it. Then a closing (`bridge_hops`) joins overshoots that
        come back within the bridge, and an opening (`transient_hops`) takes away what is
        narrower than a transient, at every level; the least of that and the peak is kept, so
        a bridged gap is limited no more than it was. No crest of a tone stands 10 dB over its
        neighbouring hops (a 300 Hz one about 7). None of this depends on the gain (max and min
        filters commute with adding a constant and with clipping at 0 dB): `mix.master_limit`
        works it out once.
        """
        bridge, span = self.bridge_hops, self.transient_hops
        if span == 1:
            return peaks_db.copy()
        base = scipy.ndimage.minimum_filter1d(peaks_db, 3, mode="nearest")
        scipy.ndimage.maximum_filter1d(base, 3, mode="nearest", output=base)
        peaks = np.where(peaks_db - base > self.SPIKE_DB, base, peaks_db)
        del base
        x = scipy.ndimage.maximum_filter1d(peaks, bridge, mode="nearest")
        scipy.ndimage.minimum_filter1d(x, bridge, mode="nearest", output=x)
        scipy.ndimage.minimum_filter1d(x, span, mode="nearest", output=x)
        scipy.ndimage.maximum_filter1d(x, span, mode="nearest", output=x)
        return np.minimum(x, peaks, out=x)

    def reduction_db(
        self, peaks_db: np.ndarray, gain_db: float, lasting_db: np.ndarray | None = None
    ) -> np.ndarray:
        """The gain reduction per hop (float32, >= 0 dB) for the signal turned up by `gain_db`.

        `lasting_db` is `lasting_peaks_db(peaks_db)`, worked out here if not given. Worked in
        segments of 2**20 hops where it can, so that an hour (8.6 million hops at 48 kHz) needs
        a few arrays of 35 MB rather than many of 70.
        """
        offset = np.float32(gain_db - self.threshold_dbtp)
        needed = peaks_db + offset
        np.maximum(needed, 0.0, out=needed)
        if not np.any(needed > 0):
            return needed
        released = _released(needed, self.transient_release_hops)
        del needed
        if lasting_db is None:
            lasting_db = self.lasting_peaks_db(peaks_db)
        lasting = lasting_db + offset
        np.maximum(lasting, 0.0, out=lasting)
        if np.any(lasting > 0):
            np.maximum(released, _released(lasting, self.release_hops), out=released)
        del lasting
        look, hold = self.lookahead_hops, self.hold_hops
        # held[j] = max(released[j - hold : j + look + hold]), after the end silence
        held = scipy.ndimage.maximum_filter1d(
            released, look + 2 * hold + 1, origin=-(look // 2), mode="constant"
        )
        del released
        # the attack: the mean of held[j - look : j], which is down at the peak by its own hold;
        # before the start the gain is already down (there is no time to ramp into a first peak)
        return scipy.ndimage.uniform_filter1d(held, look + 1, origin=look // 2, mode="nearest")


def _released(reduction_db: np.ndarray, time_constant_steps: float) -> np.ndarray:
    """`release` over a long array, in segments of 2**20 steps (float32, like the input)."""
    out, state, segment = np.empty_like(reduction_db), 0.0, 1 << 20
    for start in range(0, len(reduction_db), segment):
        part = release(reduction_db[start : start + segment], time_constant_steps, state)
        out[start : start + segment] = part
        state = float(part[-1])
    return out


def gated_lufs(energy: np.ndarray, sample_rate: int, channels: int, frames: int, hop: int):
    """Integrated loudness of K-weighted energy given per hop, gated as the meter gates it."""
    per_tick = tick_frames(sample_rate) // hop
    ticks = frames // tick_frames(sample_rate)  # the meter counts whole ticks only
    lufs = loudness_from_ticks(
        energy[: ticks * per_tick].reshape(ticks, per_tick).sum(axis=1),
        sample_rate=sample_rate, channels=channels, frames=frames,
        sample_peak=0.0, true_peak=0.0,
    ).integrated_lufs  # fmt: skip
    return -math.inf if lufs is None else lufs


DC_HIGHPASS_HZ = 5.0  # a DC blocker's cutoff: far under any music, quick to settle


class DcBlocker:
    """DC removal: a 2nd-order Butterworth high-pass at `cutoff_hz`, block by block, its state
    kept (the master's stage 2, and automix's for a stem that is mostly offset).

    The state starts as if the first block's mean had been there forever, so that a file that
    starts off centre loses its offset from the first sample instead of in a step. `sums` adds up
    the input per channel, for the offset it removed.
    """

    def __init__(self, sample_rate: int, cutoff_hz: float):
        self.sos = scipy.signal.butter(2, cutoff_hz, "highpass", fs=sample_rate, output="sos")
        self.zi: np.ndarray | None = None
        self.sums: np.ndarray | None = None
        self.frames = 0

    def process(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        if self.zi is None:  # (sections, channels, 2): the steady state under the first mean
            mean = x.mean(axis=1)
            self.zi = scipy.signal.sosfilt_zi(self.sos)[:, np.newaxis, :] * mean[:, np.newaxis]
            self.sums = np.zeros(x.shape[0])
        self.sums += x.sum(axis=1)
        self.frames += x.shape[1]
        y, self.zi = scipy.signal.sosfilt(self.sos, x, axis=1, zi=self.zi)
        return y.astype(np.float32)

    @property
    def offset(self) -> tuple[float, ...]:
        """The input's mean per channel so far (full scale 1.0)."""
        if self.sums is None or not self.frames:
            return ()
        return tuple(float(v) for v in self.sums / self.frames)


# --- the low band ------------------------------------------------------------------------------
class LowBandLimiter:
    """A gain on the low band alone, ahead of the limiter, that takes the low band's peaks down
    where they would make the wideband limiter duck everything above them (`mix.master_plan`'s doc
    says why and with what effect).

    Crossover: a linear-phase FIR low-pass at `crossover_hz` (a Hann-windowed sinc; its
    transition runs from about half to one and a half times the crossover) gives the low band;
    the rest is the input, delayed alike, less the low band. The two sum to the input exactly,
    so where the gain is 1 the output *is* the input.

    Gain: `budget` (linear, full scale 1) is the level the limiter will leave alone, as it stands
    at this point of the chain. A sample x = l + r (low band, rest) over it needs the low band
    scaled by (budget - r sign(l)) / |l| to come down to it, but never by less than
    (budget / |x|) ** `LIMITER_TIMES`: the low band is never turned down more than twice, in dB,
    what the limiter would have turned it down with everything else (nor than
    `max_reduction_db`), and
    where the rest alone is over the budget the limiter still does that part. Per hop, the
    least over the hop and the channels is the gain the low band needs; that need is bridged
    over `bridge_ms` (the crests of a tone down to 25 Hz: one gain for all of them, or the gain
    would ride each half-cycle), released with `release_ms`, and held and ramped in over
    `lookahead_ms` as `Limiter` does it; one gain for every channel. Where nothing reaches the
    budget the crossover is not even computed.

    `process(x)` takes blocks of any length and returns what is ready; `finish()` the rest. In
    all the output has the input's length; within a call it lags by up to `latency` frames.
    """

    LIMITER_TIMES: ClassVar[float] = 2.0  # the most it takes, in dB, for the limiter's 1
    LOW_SHARE: ClassVar[float] = 0.5  # acts where the low band is more than this of |l| + |r|
    LOW_SHARE_RAMP: ClassVar[float] = 0.25  # and in full from this more

    def __init__(self, sample_rate: int, hop: int, *, budget: float, crossover_hz: float,
                 max_reduction_db: float, release_ms: float, lookahead_ms: float = 5.0,
                 bridge_ms: float = 20.0):  # fmt: skip
        half = round(1.55 * sample_rate / crossover_hz)  # Hann: transition ~3.1 fs / taps
        self._fir = scipy.signal.firwin(2 * half + 1, crossover_hz, window="hann", fs=sample_rate)
        self._fir = self._fir.astype(np.float32)
        self._half = half
        self.hop, self.budget = hop, budget
        self._floor = 10.0 ** (-max_reduction_db / 20.0)
        self._bridge = odd_hops(bridge_ms, sample_rate, hop)
        self._limiter = Limiter(
            threshold_dbtp=0.0,
            lookahead_hops=2 * max(1, round(lookahead_ms / 1000 * sample_rate / hop / 2)),
            hold_hops=2,
            release_hops=release_ms / 1000 * sample_rate / hop,
        )
        look, hold = self._limiter.lookahead_hops, self._limiter.hold_hops
        self._reach = self._bridge - 1  # hops the bridge reads either side
        self._future = self._reach + look + hold + 2  # hops ahead a hop's gain depends on
        self._context = 2 * (look + hold) + 2  # and behind it, once released
        self._buffer: np.ndarray | None = None  # the input from frame `_start - _half` on
        self._start = 0  # the next frame to put out
        self._received = 0
        self._needs = np.zeros(self._reach)  # the need (dB) of the hops before `_start`
        self._released = np.zeros(self._context)  # and once bridged and released
        self._last_gain = 1.0
        self.reduction_db: list[np.ndarray] = []  # per hop put out
        self._energy = np.zeros(2)  # of what it took in and put out so far

    @property
    def loss_db(self) -> float:
        """The energy it took away so far (dB): about the loudness, where the low band is not
        mostly under 40 Hz, which BS.1770 weighs down."""
        if not self._energy[1] > 0:
            return 0.0
        return float(10 * np.log10(self._energy[0] / self._energy[1]))

    @property
    def latency(self) -> int:
        return self._half + self._future * self.hop

    def process(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float32)
        if self._buffer is None:
            self._buffer = np.zeros((x.shape[0], self._half), dtype=np.float32)
        self._buffer = np.concatenate([self._buffer, x], axis=1)
        self._received += x.shape[1]
        return self._emit()

    def finish(self) -> np.ndarray:
        """The rest of the output: what the input so far gives once it ends."""
        if self._buffer is None:
            return np.zeros((1, 0), dtype=np.float32)
        end, start = self._received, self._start
        pad = self._half + (self._future + 2) * self.hop
        self._buffer = np.pad(self._buffer, ((0, 0), (0, pad)))
        self._received += pad
        out = self._emit()
        return out[:, : end - start]

    def _allowed(self, x: np.ndarray, low: np.ndarray) -> np.ndarray:
        """Per sample, the most the low band may be scaled by (see the class doc), <= 1."""
        b = self.budget
        rest = x - low
        with np.errstate(divide="ignore", invalid="ignore"):
            alone = (b - rest * np.sign(low)) / np.abs(low)
            as_limiter = (b / np.abs(x)) ** self.LIMITER_TIMES
            allowed = np.minimum(np.maximum(alone, as_limiter), 1.0)
            share = np.abs(low) / (np.abs(low) + np.abs(rest))
        weight = np.clip((share - self.LOW_SHARE) / self.LOW_SHARE_RAMP, 0.0, 1.0)
        return np.where(np.abs(low) > 1e-9, allowed**weight, 1.0)

    def _emit(self) -> np.ndarray:
        hop, half, b = self.hop, self._half, self.budget
        complete = (self._received - half - self._start) // hop  # hops whose low band is known
        ready = complete - self._future
        if ready <= 0:
            return np.zeros((self._buffer.shape[0], 0), dtype=np.float32)
        x = self._buffer[:, half : half + complete * hop]
        frames = ready * hop
        if float(np.max(np.abs(x))) <= b and not self._released.any():
            need, released = np.zeros(complete), np.zeros(ready)
            gains = np.ones(ready)
            y = x[:, :frames].copy()
            self._energy += np.vdot(y, y)
        else:
            low = scipy.signal.oaconvolve(
                self._buffer[:, : complete * hop + 2 * half], self._fir[np.newaxis], "valid", axes=1
            ).astype(np.float32, copy=False)
            per_hop = np.ones(complete)
            over = np.flatnonzero(np.abs(x).max(axis=0).reshape(complete, hop).max(axis=1) > b)
            if len(over):  # the rule, on the hops that hold a sample over the budget
                at = (over[:, np.newaxis] * hop + np.arange(hop)).ravel()
                per_hop[over] = (
                    self._allowed(x[:, at], low[:, at]).reshape(-1, len(over), hop).min(axis=(0, 2))
                )
            need = -20.0 * np.log10(np.clip(per_hop, self._floor, 1.0))
            needs = np.concatenate([self._needs, need])
            bridged = scipy.ndimage.maximum_filter1d(needs, self._bridge, mode="nearest")
            scipy.ndimage.minimum_filter1d(bridged, self._bridge, mode="nearest", output=bridged)
            released = release(
                bridged[self._reach : complete], self._limiter.release_hops, self._released[-1]
            )
            # held and ramped as the limiter does it, at its threshold 0 dB (a release of what
            # is released already changes nothing)
            reduction = self._limiter.reduction_db(
                np.concatenate([self._released, released]).astype(np.float32), 0.0
            )[self._context : self._context + ready]
            gains = 10.0 ** (-reduction.astype(np.float64) / 20.0)
            per_frame = ramp_gains(gains, self._last_gain, hop, frames)
            y = x[:, :frames] - (1.0 - per_frame) * low[:, :frames]
            self._energy += [np.vdot(x[:, :frames], x[:, :frames]), np.vdot(y, y)]
        self.reduction_db.append((-20.0 * np.log10(gains)).astype(np.float32))
        self._last_gain = float(gains[-1])
        self._needs = np.concatenate([self._needs, need[:ready]])[ready:]
        self._released = np.concatenate([self._released, released[:ready]])[ready:]
        self._start += frames
        self._buffer = self._buffer[:, frames:]
        return y
