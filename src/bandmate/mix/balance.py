"""Automix's balance model and what it reads: a stem's content features, none of which moves
with its gain (`stem_features`: peak-to-loudness ratio, octave shares, brightness, loudness
range, onset rate), the song context some of them are read in (`song_relative_features`), and
the model that turns role and features into a level (`BalanceModel`, fitted by
bench/fit_mix.py into data/mixing/balance.toml). `mix.automix` documents how the levels are
used; the README's design section, how the model was chosen.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np
import scipy.signal

from bandmate.io.audio import Audio
from bandmate.mix.meter import loudness_range, measure_loudness

ROLES = ("drums", "bass", "keys", "guitar", "pad", "lead", "vocal")
BALANCE_BANDS_HZ = (63.0, 500.0, 1000.0)  # octave bands whose share of the energy is a feature
HIGH_SHARE_HZ = 4000.0


@dataclass(frozen=True)
class BalanceFeature:
    """One content feature of the balance model: its scaling and its weight (LU per scale).

    A `song_relative` feature is read as the stem's value less the mean over the song's stems
    (`song_relative_features`): how the stem stands against the rest of its song. The mean,
    being the same for every stem of the song, would cancel out of a linear model's level
    differences; it counts through the scale and the ±clip, which then bound how far a stem may
    stand out from its own song rather than from the training set, and it keeps what moves every
    stem alike (a long song's sections widen every stem's loudness range) from counting.
    """

    name: str
    mean: float
    scale: float
    weight_lu: float
    song_relative: bool = False


@dataclass(frozen=True)
class BalanceModel:
    """A stem's level (LU, relative to the other stems) from its role and its content.

    level = role_lu[role] + sum over features of weight_lu * clip((value - mean) / scale, ±clip)
    Only differences between a mix's stems matter. The features (`stem_features`) do not change
    with the stem's gain, so the model sees through the offsets it has to undo. A feature that a
    stem lacks (the loudness range of a stem under 3 s) counts as average: it adds nothing.
    """

    role_lu: Mapping[str, float]
    features: tuple[BalanceFeature, ...]
    clip: float

    def level_lu(self, role: str, features: Mapping[str, float]) -> float:
        """One stem's level from its features, the song-relative ones already made relative
        (`levels_lu` does that for a whole song)."""
        total = self.role_lu[role]
        for f in self.features:
            value = features.get(f.name)
            if value is None:
                continue
            z = (value - f.mean) / f.scale
            total += f.weight_lu * min(max(z, -self.clip), self.clip)
        return total

    def levels_lu(
        self, roles: Sequence[str], features: Sequence[Mapping[str, float]]
    ) -> list[float | None]:
        """Each stem's level, a song at a time: `features[k]` is stem k's `stem_features` (an
        empty mapping for a silent stem, whose level is None)."""
        relative = [f.name for f in self.features if f.song_relative]
        song = song_relative_features(features, relative)
        return [
            self.level_lu(role, values) if values else None
            for role, values in zip(roles, song, strict=True)
        ]


def song_relative_features(
    features: Sequence[Mapping[str, float]], names: Sequence[str]
) -> list[dict[str, float]]:
    """Copies of the stems' features with each of `names` taken relative to the song: the
    stem's value less the mean over the song's stems that have one. Silent stems (empty
    features) stay empty and count for nothing."""
    out = [dict(f) for f in features]
    for name in names:
        values = [f[name] for f in out if name in f]
        if not values:
            continue
        mean = sum(values) / len(values)
        for f in out:
            if name in f:
                f[name] -= mean
    return out


@cache
def load_balance() -> BalanceModel:
    """The balance model fitted by bench/fit_mix.py (data/mixing/balance.toml)."""
    text = (resources.files("bandmate.data") / "mixing" / "balance.toml").read_text("utf-8")
    data = tomllib.loads(text)
    features = tuple(
        BalanceFeature(
            name,
            float(row["mean"]),
            float(row["scale"]),
            float(row["weight_lu"]),
            bool(row.get("song_relative", False)),
        )
        for name, row in data["features"].items()
    )
    role_lu = {role: float(value) for role, value in data["role_lu"].items()}
    missing = set(ROLES) - set(role_lu)
    assert not missing, f"balance.toml lacks roles {missing}"
    return BalanceModel(role_lu=role_lu, features=features, clip=float(data["clip"]))


def stem_spectrum(
    samples: np.ndarray, sample_rate: int, frames: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(frequencies, power): the Welch spectrum (4096-frame Hann segments) of a stem's mono sum,
    the one spectrum that its features, the masking stage and the role guess read; `frames` as
    `welch` takes it."""
    return welch(samples.mean(axis=0, dtype=np.float64), sample_rate, frames=frames)


WELCH_BATCH = 256  # segments transformed at once: bounds the memory to a few MB a thread


def welch(
    x: np.ndarray, rate: int, segment: int = 4096, frames: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """`scipy.signal.welch(x, rate, nperseg=segment)`'s result (periodic Hann window, half
    overlap, each segment's mean removed, one-sided power spectral density) for a 1-D signal.

    `frames` (at least `len(x)`) is the length of the signal that `x` begins, silent after `x`:
    a short stem in a longer song has the spectrum of the stem padded with silence to the song's
    length, without the padding. The silent segments add nothing to the sum; they count only in
    the mean it is divided by.

    The same arithmetic in batches of segments through NumPy's FFT: SciPy's general
    short-time-FFT path takes five times as long on a song, mostly removing the means.
    """
    total = len(x) if frames is None else max(frames, len(x))
    n = min(segment, total)
    if n == 0:
        return np.zeros(1), np.zeros(1)
    hop = max(1, n // 2)
    if len(x) < total and (len(x) < n or np.any(x[-n:])):
        x = np.pad(x, (0, min(n, total - len(x))))  # the silence that segments reach into
    window = scipy.signal.get_window("hann", n)
    segments = np.lib.stride_tricks.sliding_window_view(x, n)[::hop]
    power = np.zeros(n // 2 + 1)
    for start in range(0, len(segments), WELCH_BATCH):
        batch = segments[start : start + WELCH_BATCH]
        spectra = np.fft.rfft((batch - batch.mean(axis=1, keepdims=True)) * window, axis=1)
        power += np.sum(spectra.real**2 + spectra.imag**2, axis=0)
    count = (total - n) // hop + 1  # the segments of the whole signal, silent ones too
    power *= 1.0 / (rate * float(np.sum(window**2)) * count)
    power[1 : (n + 1) // 2] *= 2  # one-sided: every bin but 0 and (for even n) Nyquist
    return np.fft.rfftfreq(n, 1.0 / rate), power


def stem_features(
    samples: np.ndarray, sample_rate: int, loudness=None, spectrum=None, frames: int | None = None
) -> dict[str, float]:
    """The content features of a stem that the balance model reads; none depends on its gain.

    `samples` is (channels, frames); `loudness` is its `measure_loudness` result and `spectrum`
    its `stem_spectrum`, when already measured. `frames`, when longer than `samples`, is the
    length of the song the stem begins, silent after `samples` (a short stem beside longer
    ones): the spectrum and the onset rate are those of the stem padded with silence to it. The
    loudness is read from `samples` as given, which should hold the 3 s of silence after the
    stem's end that the meter's windows reach into (`_conform` leaves them). Returns, for a stem
    that is not silent:
    - plr_lu: peak-to-loudness ratio (sample peak less integrated loudness): a percussive or
      sparse stem reads high, a dense sustained one low. The sample peak rather than the true
      peak: the feature wants peakiness, not inter-sample overs, and the oversampling would
      double the cost of measuring every stem;
    - band_63_db, band_500_db, band_1000_db: the share of the stem's energy (Welch spectrum of
      the mono sum) in the octave around 63 Hz, 500 Hz and 1 kHz, in dB;
    - high_db: the share above 4 kHz, in dB;
    - centroid_log2_hz: the spectral centroid (the same spectrum's power-weighted mean frequency),
      in octaves (log2 of Hz): how bright the stem is as a whole, which the four shares see only
      band by band;
    - lra_lu: its loudness range (`loudness_range_lu`, from the same measurement), absent for
      a stem under 3 s: a part that swells or plays soft and loud sections reads high;
    - onsets_per_s: its onset rate (`onset_rate_per_s`).
    The model reads the last three relative to the song (`song_relative_features`). A silent stem
    gives an empty dict.
    """
    loudness = loudness or measure_loudness(Audio(samples, sample_rate), true_peak=False)
    if loudness.plr_lu is None:
        return {}
    if spectrum is None:
        spectrum = stem_spectrum(samples, sample_rate, frames)
    freqs, power = spectrum
    total = power.sum() + 1e-30

    def share_db(mask) -> float:
        return 10 * math.log10(max(power[mask].sum() / total, 1e-9))

    features = {"plr_lu": loudness.plr_lu}
    for centre in BALANCE_BANDS_HZ:
        band = (freqs >= centre / math.sqrt(2)) & (freqs < centre * math.sqrt(2))
        features[f"band_{centre:.0f}_db"] = share_db(band)
    features["high_db"] = share_db(freqs >= HIGH_SHARE_HZ)
    centroid_hz = float((freqs * power).sum() / total)
    features["centroid_log2_hz"] = math.log2(max(centroid_hz, 1.0))
    lra = loudness_range_lu(loudness.short_term_lufs)
    if lra is not None:
        features["lra_lu"] = lra
    features["onsets_per_s"] = onset_rate_per_s(samples, sample_rate, frames)
    return features


def loudness_range_lu(short_term_lufs: np.ndarray) -> float | None:
    """EBU Tech 3342's loudness range (`meter.loudness_range`) with the absolute gate taken 70 LU
    under the loudest window rather than at -70 LUFS, so that a stem's gain does not move it (the
    fixed gate drops more of a quiet stem's decaying tail). None when there is no window."""
    values = short_term_lufs[np.isfinite(short_term_lufs)]
    if not len(values):
        return None
    return loudness_range(values, absolute_gate_lufs=float(values.max()) - 70)[0]


ONSET_JUMP_DB = 9.0  # a 10 ms frame this much louder than the one before is an onset


def onset_rate_per_s(samples: np.ndarray, sample_rate: int, frames: int | None = None) -> float:
    """Onsets per second: the 10 ms frames of the channels' sum whose energy jumps by more than
    `ONSET_JUMP_DB` over the previous frame, among frames within 40 dB of the loudest.

    `samples` is (channels, frames); `frames`, when longer, the length of the signal it begins,
    silent after it (as `welch` takes it): the onsets are counted over that whole length. The
    energies are summed in float32 without a squared copy (a few ms for a 3-minute stem); a gain
    does not move the count.
    """
    hop = max(1, sample_rate // 100)
    total = max(samples.shape[1], frames or 0)
    ticks = total // hop
    if ticks < 2:
        return 0.0
    mono = samples.sum(axis=0, dtype=np.float32)
    held = min(ticks, -(-len(mono) // hop))  # the ticks that hold any of `samples`
    if held * hop > len(mono):
        mono = np.pad(mono, (0, held * hop - len(mono)))
    mono = mono[: held * hop].reshape(held, hop)
    energy = np.einsum("ij,ij->i", mono, mono).astype(np.float64) / hop
    if not np.any(energy):
        return 0.0
    energy += energy.max() * 1e-12
    jumps = 10 * np.log10(energy[1:] / energy[:-1])
    active = energy[1:] > energy.max() * 1e-4
    onsets = np.count_nonzero((jumps > ONSET_JUMP_DB) & active)
    return float(onsets / (total / sample_rate))
