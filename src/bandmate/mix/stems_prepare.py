"""Automix's stages for each stem before the balance (`mix.automix` documents them all):
conform (one rate and length, a dominant DC offset removed: `_conform`), level and high-pass
(`_prepare`, which also measures the stem, its balance features and its masking bands), and the
noise floor a stem holds between its parts (`_noise_only`), measured as silence.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np
import scipy.signal

from bandmate.io.audio import Audio, check_usable
from bandmate.mix.balance import onset_rate_per_s, stem_features, stem_spectrum, welch
from bandmate.mix.dynamics import DC_HIGHPASS_HZ, DcBlocker
from bandmate.mix.meter import (
    ABSOLUTE_GATE_LUFS,
    MOMENTARY_SECONDS,
    SERIES_STEP_SECONDS,
    SHORT_TERM_SECONDS,
    integrated_lufs,
    measure_loudness,
    tick_frames,
)

MASKING_BANDS_HZ = (125.0, 250.0, 500.0, 1000.0, 2000.0, 4000.0)


@dataclass(frozen=True)
class _NoiseFloor:
    """A stem's noise floor (`_noise_only`): the 100 ms steps of the meter's series that hold
    nothing else, its level (LUFS) and how long the stem holds it alone (s)."""

    quiet: np.ndarray
    lufs: float
    seconds: float


@dataclass(frozen=True)
class _Prepared:
    """A stem after the level and high-pass stages, with what later stages need of it."""

    signal: np.ndarray
    before: float | None  # its integrated loudness as it came; None when silent
    features: dict[str, float]  # its `stem_features`; empty when silent
    highpass_hz: float | None
    bands: np.ndarray | None  # `_band_shares` at the working level; None when silent
    floor: _NoiseFloor | None = None  # its noise floor between its parts, if it has one


def _prepare(x, rate, frames, settings, working_lufs) -> _Prepared:
    """Stages 3 and 4 for one stem: measure it and its balance features, bring it to the working
    level and high-pass it. `frames` is the song's length (`_conform`).

    A stem that holds a noise floor between its parts (`_noise_only`) is measured with those
    stretches silent, as if it had been edited: its loudness and features are those of its part.
    The masking stage's band levels come from the stem's one spectrum, moved by the working gain
    and the high-pass filter's response, rather than from a second spectrum of the filtered stem.
    """
    loudness = measure_loudness(Audio(x, rate), true_peak=False)
    floor = _noise_only(x, rate, loudness.momentary_lufs)
    measured = x
    if floor is not None:
        measured = _silenced(x, rate, floor.quiet)
        loudness = measure_loudness(Audio(measured, rate), true_peak=False)
    before = _finite(loudness.integrated_lufs)
    if before is None:
        return _Prepared(x, None, {}, None, None)
    freqs, power = stem_spectrum(measured, rate, frames)
    features = stem_features(measured, rate, loudness, (freqs, power), frames)
    del measured
    gain = _gain(working_lufs - before)
    power = power * gain**2
    if settings.highpass_hz:
        sos = _highpass_sos(rate, settings.highpass_hz)
        power = power * np.abs(scipy.signal.sosfreqz(sos, worN=freqs, fs=rate)[1]) ** 2
        sos[0, :3] *= gain  # the gain rides on the filter: one pass over the stem
        x = scipy.signal.sosfilt(sos, x, axis=1).astype(np.float32)
    else:
        x = x * np.float32(gain)
    bands = _band_shares(freqs, power)
    return _Prepared(x, before, features, settings.highpass_hz, bands, floor)


# A noise floor: a stem's quietest 100 ms steps, if they hold one steady level of noise (a
# preamp's hiss, a room) far under its loud part. BS.1770's -70 LUFS gate passes a vocal take's
# hiss at -50 dBFS between its phrases, and where the part plays seldom its relative gate (10 LU
# under the mean) does too; the hiss then reads as a long quiet stretch of the part, which widens
# its loudness range, brightens its spectrum and lowers its loudness. A vocal singing 10% of a
# 47 s pop backing track at -20 dBFS RMS was put 3.2 dB under where the same take with digital
# silence between its phrases went (white hiss at -50 dBFS; 3 to 5 dB off either way at -45 to
# -50 dBFS, 0.3 at -60). Measured with its noise-only stretches silent it lands within 0.2 dB of
# the clean take at -60 to -45 dBFS. Music's soft passages are told from noise by their spectrum
# (partials, not a flat floor) and mostly by their unsteadiness at 100 ms steps.
NOISE_FLOOR_PERCENTILE = 5.0  # the floor is read at this percentile of the momentary levels

NOISE_FLOOR_GAP_DB = 15.0  # the part's loudest block at least this far over the floor

NOISE_FLOOR_WIDTH_DB = 3.0  # momentary levels this close over the floor are the floor

NOISE_FLOOR_STEADY_DB = 0.5  # the floor's level changes by at most this much from step to step

NOISE_FLOOR_SHARE = 0.05  # and makes up at least this share of the stem's steps

NOISE_FLOOR_FLATNESS = 0.5  # its spectrum at least this flat within octaves (`_octave_flatness`)

NOISE_FLOOR_SAMPLE_SECONDS = 20.0  # the floor's spectrum is read from this much of it at most

NOISE_FLOOR_ONSETS_PER_S = 0.5  # and it holds fewer onsets than this (hiss none, hi-hats many)


def _noise_only(x: np.ndarray, rate: int, momentary_lufs: np.ndarray) -> _NoiseFloor | None:
    """The noise floor of a stem (channels, frames) between its parts, from the stem and its
    momentary loudness series (`Loudness.momentary_lufs`); None for a stem with no steady floor
    of noise under its part.

    The floor must be noise: its spectrum flat within each octave (`_octave_flatness`), where a
    soft passage of a part (a strummed guitar under its loud chorus, as steady at 100 ms steps)
    is made of partials, and without onsets, where a part's steady soft stretch that is noise
    too (hi-hats alone in an intro, a shaker) is struck. A step is noise only when every 400 ms
    block over it reads within `NOISE_FLOOR_WIDTH_DB` of the floor (or silence): the part's
    attacks and tails beside the floor are kept.

    Blocks under BS.1770's absolute gate count as silence: after a stem's last sound its
    K-weighting rings on down to -3000 LUFS, finite, and a floor read among those missed the
    hiss of every take followed by digital silence (a stem shorter than the song, a take trimmed
    at its end), which was balanced 4.4 dB off, and read dither as hiss.
    """
    levels = np.asarray(momentary_lufs, dtype=np.float64)
    levels = np.where(levels > ABSOLUTE_GATE_LUFS, levels, -np.inf)
    heard = levels[np.isfinite(levels)]
    if len(heard) < 2 / NOISE_FLOOR_SHARE:
        return None
    floor = float(np.percentile(heard, NOISE_FLOOR_PERCENTILE))
    if float(heard.max()) - floor < NOISE_FLOOR_GAP_DB:
        return None
    at_floor = ~(levels > floor + NOISE_FLOOR_WIDTH_DB)  # silent blocks (-inf) count as floor
    both = at_floor[1:] & at_floor[:-1] & np.isfinite(levels[1:]) & np.isfinite(levels[:-1])
    if np.count_nonzero(both) < NOISE_FLOOR_SHARE * len(levels):
        return None
    if float(np.median(np.abs(levels[1:][both] - levels[:-1][both]))) > NOISE_FLOOR_STEADY_DB:
        return None
    # the floor's spectrum, from up to NOISE_FLOOR_SAMPLE_SECONDS of the blocks that read it
    step = _series_step_frames(rate)
    starts = np.flatnonzero(at_floor & np.isfinite(levels))
    starts = starts[: round(NOISE_FLOOR_SAMPLE_SECONDS / SERIES_STEP_SECONDS)]
    floor_audio = np.concatenate([x[:, i * step : (i + 1) * step] for i in starts], axis=1)
    if _octave_flatness(floor_audio, rate) < NOISE_FLOOR_FLATNESS:
        return None
    if onset_rate_per_s(floor_audio, rate) >= NOISE_FLOOR_ONSETS_PER_S:
        return None
    blocks = round(MOMENTARY_SECONDS / SERIES_STEP_SECONDS)  # the blocks over each step
    steps = len(levels) + blocks - 1
    heard_over = np.zeros(steps, dtype=bool)
    for shift in range(blocks):
        heard_over[shift : shift + len(levels)] |= ~at_floor
    seconds = np.count_nonzero(at_floor & np.isfinite(levels)) * SERIES_STEP_SECONDS
    return _NoiseFloor(~heard_over, floor, float(seconds))


def _octave_flatness(x: np.ndarray, rate: int) -> float:
    """The spectral flatness (geometric over arithmetic mean of the Welch spectrum's bins) of
    `x`'s mono sum in each octave from 250 Hz to 8 kHz (those under 0.45 times the rate),
    averaged weighted by the octaves' energy: near 1 for hiss (white, pink or brown: any slope
    is nearly flat within an octave), near 0 where partials hold the energy. 0 for a signal too
    short or silent."""
    return spectrum_flatness(*welch(x.mean(axis=0, dtype=np.float64), rate), 250.0, rate)


def spectrum_flatness(freqs: np.ndarray, power: np.ndarray, lowest_hz: float, rate: int) -> float:
    """`_octave_flatness` of a spectrum (`power` at `freqs`) over the octaves from `lowest_hz` up
    to 8 kHz (those under 0.45 times the rate); an octave of fewer than 4 bins, or with a silent
    one, is left out."""
    flatness, energy = [], []
    low = lowest_hz
    while low < 8000.0:
        band = power[(freqs >= low) & (freqs < min(2 * low, 0.45 * rate))]
        low *= 2
        if len(band) < 4 or not np.all(band > 0):
            continue
        flatness.append(float(np.exp(np.mean(np.log(band))) / np.mean(band)))
        energy.append(float(np.sum(band)))
    return float(np.average(flatness, weights=energy)) if flatness else 0.0


def _silenced(x: np.ndarray, rate: int, quiet: np.ndarray) -> np.ndarray:
    """A copy of `x` with the 100 ms steps of the meter's series marked in `quiet` silent."""
    step = _series_step_frames(rate)
    out = x.copy()
    mask = np.repeat(quiet, step)[: x.shape[1]]
    out[:, : len(mask)][:, mask] = 0.0
    return out


def _series_step_frames(rate: int) -> int:
    """The frames of one step of the meter's momentary series (100 ms in whole ticks)."""
    tick = tick_frames(rate)
    return round(SERIES_STEP_SECONDS * rate / tick) * tick


def _conform(audios: list[Audio], notes: list[str], names: list[str]):
    """(signals, the song's length in frames, rate, resampled-from per stem, padded frames per
    stem, the DC offset removed from each stem or None, and per stem the side whose channel
    alone held it (-1 left, 1 right, `_one_channel`) or 0), as float32.

    The song is as long as the longest stem, and a shorter one is silent after its end, but its
    signal is not padded to that length: it is carried with `TAIL_SECONDS` of that silence at
    most, and every later stage reads it so (its features and spectrum as of the padded stem,
    `frames`; the mix adds it in at its place). Memory then goes with the stems' lengths, not
    their number times the longest's: nine 10-second stems beside one of 10 minutes were ten
    10-minute stems. A signal may be its input's own array: no later stage changes an array in
    place."""
    for name, a in zip(names, audios, strict=True):
        check_usable(a, f"Stem {name!r}", "mixed")
    # the session's rate is the most stems' rate, of the stems that hold any sound: an empty or
    # silent file's rate (a 0-sample 48 kHz export) had the only real stem resampled
    sounding = [a for a in audios if a.samples.shape[1] and np.any(a.samples)]
    counts = Counter(a.sample_rate for a in sounding or audios)
    rate = max(counts, key=lambda r: (counts[r], r))
    signals, resampled, offsets, live_sides = [], [], [], []
    for name, a in zip(names, audios, strict=True):
        x = a.samples.astype(np.float32, copy=False)
        offset = _dominant_dc(x)
        offsets.append(offset)  # (said once it is known whether anything is left)
        if offset is not None:
            x = DcBlocker(a.sample_rate, DC_HIGHPASS_HZ).process(x)  # as the master removes it
        gram = _channel_gram(x)
        live = _one_channel(gram)
        opposite = None if live is not None else _opposite_channels(gram)
        if opposite is not None:
            notes.append(
                f"{name}'s two channels are nearly opposite in polarity: summed to mono, as a "
                f"phone or a club's system plays it, the part falls {opposite:.0f} dB, all but "
                "vanishing; flip the polarity of one channel and mix again."
            )
        live_sides.append(0 if live is None else 2 * live - 1)  # automix's notes say so
        if live is not None:
            x = x[live : live + 1]
        if a.sample_rate != rate:
            g = math.gcd(rate, a.sample_rate)
            x = scipy.signal.resample_poly(x, rate // g, a.sample_rate // g, axis=1)
            x = x.astype(np.float32)
            if x.shape[1]:  # (an empty stem's note says it holds nothing)
                notes.append(f"{name} was resampled from {a.sample_rate} Hz to {rate} Hz.")
        signals.append(x)
        resampled.append(a.sample_rate if a.sample_rate != rate else None)
    frames = max(x.shape[1] for x in signals)
    padded = [frames - x.shape[1] for x in signals]
    for name, n in zip(names, padded, strict=True):
        # stems a DAW exports, or that resampling rounds, differ by a few samples: not worth a
        # note ("padded with 0.00 s"); the report's padded_seconds still says
        if n == frames:  # (an empty file: "padded with 6.00 s" read as a fault of the mix)
            notes.append(
                f"{name} holds no audio (0 samples); it stays silent in the mix. If it should "
                "hold a part, export it again."
            )
        elif n / rate >= 0.005:
            notes.append(f"{name} was padded with {n / rate:.2f} s of silence to the longest stem.")
    tail = math.ceil(TAIL_SECONDS * rate)
    signals = [
        np.pad(x, ((0, 0), (0, min(n, tail)))) if n else x
        for x, n in zip(signals, padded, strict=True)
    ]
    return signals, frames, rate, resampled, padded, offsets, live_sides


# a stereo stem's channel this far under the other holds nothing of the part (a mono source
# printed hard to one side keeps -inf there; a part panned three quarters to a side, -15 dB).
# At 40 dB, a channel 35 dB down (crosstalk, a pan pot short of hard) kept the part in one
# speaker whatever its pan said
ONE_CHANNEL_DB = 30.0


def _channel_gram(x: np.ndarray) -> np.ndarray | None:
    """The (2, 2) sums of products of a stereo stem's channels (float64), None for a mono one
    or one of no frames: one pass that `_one_channel` and `_opposite_channels` both read."""
    if x.shape[0] != 2 or not x.shape[1]:
        return None
    return np.einsum("in,jn->ij", x, x).astype(np.float64)


def _one_channel(gram: np.ndarray | None) -> int | None:
    """The channel (0 left, 1 right) of a stereo stem that holds it all, the other silent or
    `ONE_CHANNEL_DB` under it, from its `_channel_gram`; None for a mono stem, a silent one or
    a stereo one.

    Such a stem is a mono part exported as stereo (a mono track bounced through a stereo bus
    panned hard, one input of a stereo pair). Kept stereo, the pan by role could not move it:
    the pan law scales the two channels, and with one silent the part stayed in one speaker
    whatever the pan said."""
    if gram is None:
        return None
    energy = np.diag(gram)
    loud = int(np.argmax(energy))
    if energy[loud] <= 0 or energy[1 - loud] > energy[loud] * 10 ** (-ONE_CHANNEL_DB / 10):
        return None
    return loud


# a stereo stem whose channels' mono sum holds this share of their energies or less (10 dB
# under them) is one signal with one side's polarity flipped (a cable, a plug-in's phase
# button). Measured on the sum itself: the correlation alone said so of a side 10 dB under the
# other and inverted, whose sum loses 3.5 dB. A stereo widener's image stays well above it
OPPOSITE_MONO_SHARE = 0.1


def _opposite_channels(gram: np.ndarray | None) -> float | None:
    """How many dB a stereo stem's mono sum falls under its two channels apart (from its
    `_channel_gram`) where its sum holds `OPPOSITE_MONO_SHARE` of them or less (one side's
    polarity flipped), else None (mono, silent, or an ordinary image)."""
    if gram is None or gram[0, 0] <= 0 or gram[1, 1] <= 0:
        return None
    apart = gram[0, 0] + gram[1, 1]
    share = max(float(apart + 2 * gram[0, 1]), 0.0) / float(apart)
    if share > OPPOSITE_MONO_SHARE:
        return None
    return -10 * math.log10(max(share, 1e-12))


# the silence a short stem is carried with after its end: the meter's 3 s short-term windows
# that start in the stem reach that far into it, and its filters ring on into it (the high-pass
# and the masking cuts for a few ms; the meter's K-weighting falls 100 dB in 0.1 s); past it
# the padded stem held nothing any stage could read
TAIL_SECONDS = SHORT_TERM_SECONDS + 1.0

# an offset this many times the rest of the signal is removed: the General MIDI SoundFont's warm
# pads sit 1.2-1.4 times theirs off centre, and the balance model was fitted on them so (taking
# theirs out moved bench/mix.py's median from 1.42 to 1.54 dB)
DC_DOMINANCE = 3.0


def _dominant_dc(x: np.ndarray) -> float | None:
    """The largest channel's DC offset of a stem whose offset dwarfs the rest of its signal (the
    mean over `DC_DOMINANCE` times the RMS about the mean), else None.

    Such a stem is mostly offset: an interface's DC under a take that is all but silent, or a
    track exported off centre. The K-weighting's start-up reads the step at its first sample as
    sound (-57 LUFS for a 0.02 offset over noise at -80 dBFS), so it was turned up 13 dB, and its
    offset, counting in full toward the mix's true peak, held the whole mix 14 LU under its
    target. Ordinary stems are left exactly as they are (a SoundFont's pads sit up to 10% of
    their peak off centre, and the balance model was fitted on them so).
    """
    if not x.shape[1]:
        return None
    # one pass for the sum and one for the energy (x.std's two float64 passes cost 0.04 s a
    # 3-minute stem, 4% of the backing job's time budget over its stems)
    frames = x.shape[1]
    mean = x.sum(axis=1, dtype=np.float64) / frames
    energy = np.einsum("ij,ij->i", x, x).astype(np.float64) / frames
    rest = np.sqrt(np.maximum(energy - mean**2, 0.0))
    if not np.any(np.abs(mean) > DC_DOMINANCE * rest):
        return None
    return float(np.max(np.abs(mean)))


def _highpass_sos(rate: int, cutoff_hz: float) -> np.ndarray:
    return scipy.signal.butter(2, cutoff_hz, "highpass", fs=rate, output="sos")


def _band_shares(freqs: np.ndarray, power: np.ndarray) -> np.ndarray:
    """Each masking band's share of a spectrum's energy, and the band's level (dB), as
    (2, bands)."""
    total = power.sum() + 1e-30
    bands = np.array(
        [
            power[(freqs >= c / math.sqrt(2)) & (freqs < c * math.sqrt(2))].sum()
            for c in MASKING_BANDS_HZ
        ]
    )
    return np.stack([bands / total, 10 * np.log10(bands + 1e-30)])


def _lufs(x: np.ndarray | None, rate: int) -> float | None:
    if x is None or not np.any(x):
        return None
    return _finite(integrated_lufs(Audio(x, rate)))


def _finite(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else value


def _gain(db: float) -> float:
    return 10 ** (db / 20)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)
