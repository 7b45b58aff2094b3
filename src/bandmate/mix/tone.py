"""The master's tonal balance: target curves, the octave shares a mix and its reference are
compared over, a lossy reference's encoder cut, and the EQ that moves a mix's balance toward a
target (`plan_tone`; pedalboard's shelving and peaking filters). `mix.master` runs it as the
chain's third stage; its module docstring says how the stage behaves.
"""

from __future__ import annotations

import contextlib
import math
import os
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources

import numpy as np

from bandmate.errors import UserError
from bandmate.io.audio import audio_info, read_blocks
from bandmate.mix.analysis import BLOCK_SECONDS, OCTAVE_CENTERS_HZ, Analysis

DEFAULT_CURVE = "balanced"
# lossy formats, whose encoders cut the top of the spectrum (see `encoder_cutoff_hz`)
LOSSY_SUBTYPES = frozenset({"MPEG_LAYER_I", "MPEG_LAYER_II", "MPEG_LAYER_III", "VORBIS", "OPUS"})
CODEC_FLOOR_DB, CODEC_READ_SECONDS = 50.0, 60.0
# a cut at or above this leaves a reference's top octave to be matched: music holds little above
# it, and left out, the band went unmatched (a dark mix toward a bright 320 or 192 kbit/s MP3,
# cut at 20.3 and 18.9 kHz, got no 16 kHz EQ where the lossless reference gave +6 dB)
CODEC_MATCHED_FROM_HZ = 18_000.0


# --- target curves -----------------------------------------------------------------------------
def load_curves() -> dict[str, dict]:
    """The target curves of `data/mastering/curves.toml`: name -> {description, bands_db}."""
    text = (resources.files("bandmate.data") / "mastering" / "curves.toml").read_text("utf-8")
    return tomllib.loads(text)


def curve_shares_db(name: str) -> tuple[float, ...]:
    """The octave-band shares (dB, summing to 0 dB) of target curve `name`."""
    curves = load_curves()
    if name not in curves:
        raise UserError(f"Unknown target curve {name!r}; use one of {', '.join(curves)}.")
    bands = np.asarray(curves[name]["bands_db"], dtype=float)
    assert len(bands) == len(OCTAVE_CENTERS_HZ), name
    return tuple(bands - 10.0 * np.log10(np.sum(10.0 ** (bands / 10.0))))


# --- tonal balance -----------------------------------------------------------------------------
def comparable_shares_db(
    mix: Analysis, reference: Analysis, reference_cutoff_hz: float | None = None
):
    """The octave-band shares (dB) of `mix` and `reference`, each summing to 0 dB over the bands
    that both hold alike, None in the others: (mix shares, reference shares).

    A band counts where the two files' Nyquist frequencies cover about the same part of it
    (within a tenth of its width): a 22.05 kHz file holds no 16 kHz band and a 32 kHz file only
    its lower 40 %. Each file's shares sum to 0 dB over the bands it holds, so a band that one
    lacks had raised the other's every other band against it: white noise at 22.05 kHz against
    white noise at 192 kHz was boosted by 3 dB in nine bands, and at 32 kHz against 44.1 kHz cut
    by 1.2 dB in nine and boosted by 2.2 dB at 16 kHz, a band it cannot fill.
    `reference_cutoff_hz`, where a lossy encoder cut the reference (`encoder_cutoff_hz`), stands
    for its Nyquist frequency in the same way.
    """

    def covered(top_hz: float, center: float) -> float:
        low, high = center / math.sqrt(2), center * math.sqrt(2)
        return float(np.clip((top_hz - low) / (high - low), 0.0, 1.0))

    rates = (
        mix.loudness.sample_rate / 2,
        min(reference.loudness.sample_rate / 2, reference_cutoff_hz or math.inf),
    )
    pairs = [(a, b) for (_, a), (_, b) in zip(mix.octave_bands_db, reference.octave_bands_db,
                                              strict=True)]  # fmt: skip
    alike = [
        a is not None
        and b is not None
        and abs(
            covered(rates[0], 1000.0 * 2.0 ** (k - 5)) - covered(rates[1], 1000.0 * 2.0 ** (k - 5))
        )
        <= 0.1
        for k, (a, b) in enumerate(pairs)
    ]

    def renormalised(shares: list[float | None]) -> tuple[float | None, ...]:
        power = [10.0 ** (s / 10.0) for s, ok in zip(shares, alike, strict=True) if ok]
        total = sum(power)
        if total <= 0:
            return tuple(None for _ in shares)
        return tuple(
            s - 10.0 * math.log10(total) if ok else None
            for s, ok in zip(shares, alike, strict=True)
        )

    return renormalised([a for a, _ in pairs]), renormalised([b for _, b in pairs])


def encoder_cutoff_hz(path: str | os.PathLike) -> float | None:
    """The frequency above which a lossy encoder (MP3, Vorbis, Opus) cut the file at `path`, or
    None for a lossless file or one with no cut under 95 % of its Nyquist frequency or under
    `CODEC_MATCHED_FROM_HZ`.

    Encoders low-pass what they cannot afford (LAME at 128 kbit/s near 17 kHz, at 56 kbit/s
    near 11 kHz) and leave next to nothing above, 60 to 100 dB under the music. A reference
    matched as if it held that part had its cut copied into the master: the 16 kHz band of a mix
    mastered toward a 128 kbit/s MP3 of itself was cut by 1.6 dB, of a 96 kbit/s one by 3.2 dB,
    and a 56 kbit/s one also cut the 8 kHz band by 2 dB. The cut is the highest frequency whose
    level (mean power over 250 Hz) is within `CODEC_FLOOR_DB` of the level from 1 to 4 kHz, in the
    first `CODEC_READ_SECONDS` of the file; only lossy files are read, for a dark recording has
    little up there too but keeps it.
    """
    info = audio_info(path)
    if info.subtype not in LOSSY_SUBTYPES:
        return None
    rate, size = info.samplerate, 4096
    window = np.hanning(size).astype(np.float32)
    power, read = np.zeros(size // 2 + 1), 0
    with contextlib.closing(read_blocks(path, BLOCK_SECONDS, purpose="used as a reference")) as b:
        for block in b:
            count = block.shape[1] // size
            if count:
                frames = block[:, : count * size].reshape(block.shape[0], count, size) * window
                power += np.sum(np.abs(np.fft.rfft(frames, axis=-1)) ** 2, axis=(0, 1))
            read += block.shape[1]
            if read >= CODEC_READ_SECONDS * rate:
                break
    freqs = np.fft.rfftfreq(size, 1.0 / rate)
    width = max(1, round(250.0 / (rate / size)))
    smooth = np.convolve(power, np.ones(width) / width, mode="same")
    middle = float(np.mean(power[(freqs >= 1000.0) & (freqs < 4000.0)]))
    if not middle > 0:
        return None
    heard = np.flatnonzero(smooth >= middle * 10 ** (-CODEC_FLOOR_DB / 10))
    cutoff = float(freqs[heard[-1]])
    return cutoff if cutoff < min(0.95 * rate / 2, CODEC_MATCHED_FROM_HZ) else None


@dataclass(frozen=True)
class ToneMatch:
    """The EQ stage: per octave band (centres as in `mix.analysis`), all in dB.

    `wanted_db` is the move toward the target after the limits and `intensity`; `filter_gains_db`
    are the gains of the ten filters that give it (their skirts overlap, so they differ a little);
    `achieved_db` is the change the filters make, averaged over each band.
    """

    target_db: tuple[float | None, ...]
    measured_db: tuple[float | None, ...]
    wanted_db: tuple[float, ...]
    filter_gains_db: tuple[float, ...]
    achieved_db: tuple[float, ...]

    @property
    def active(self) -> bool:
        return any(abs(g) > 0.01 for g in self.filter_gains_db)


def eq_plugins(sample_rate: int, gains_db) -> list:
    """A low shelf, eight octave peaks (Q 1.41: one octave wide) and a high shelf."""
    import pedalboard

    plugins = []
    for k, gain in enumerate(gains_db):
        center = 1000.0 * 2.0 ** (k - 5)
        if abs(gain) < 0.05:
            continue  # a filter that would do nothing audible costs as much as any other
        if k == 0:
            plugins.append(pedalboard.LowShelfFilter(center * math.sqrt(2), gain, 0.707))
        elif k == len(gains_db) - 1:
            corner = min(center / math.sqrt(2), 0.45 * sample_rate)
            plugins.append(pedalboard.HighShelfFilter(corner, gain, 0.707))
        elif center < 0.45 * sample_rate:
            plugins.append(pedalboard.PeakFilter(center, gain, math.sqrt(2)))
    return plugins


def _eq_band_response_db(sample_rate: int, gains_db) -> np.ndarray:
    """The change the EQ makes to each octave band's energy, averaged over the band (dB)."""
    import pedalboard

    size = 1 << 15
    impulse = np.zeros((1, size), dtype=np.float32)
    impulse[0, 0] = 1.0
    response = pedalboard.Pedalboard(eq_plugins(sample_rate, gains_db))(impulse, sample_rate)
    power = np.abs(np.fft.rfft(response[0].astype(np.float64))) ** 2
    freqs = np.fft.rfftfreq(size, 1.0 / sample_rate)
    return band_means_db(sample_rate, lambda points: np.interp(points, freqs, power))


def band_means_db(sample_rate: int, power_at: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """A power response (`power_at(frequencies)`) averaged over each octave band (dB); 0 for a
    band above Nyquist."""
    out = []
    for k in range(len(OCTAVE_CENTERS_HZ)):
        center = 1000.0 * 2.0 ** (k - 5)
        points = center * 2.0 ** np.linspace(-0.5, 0.5, 9)
        points = points[points < 0.49 * sample_rate]
        out.append(10 * np.log10(np.mean(power_at(points))) if len(points) else 0)
    return np.array(out)


def plan_tone(
    measured_db,
    target_db,
    sample_rate: int,
    *,
    max_eq_db: float,
    floor_share_db: float,
    intensity: float,
) -> ToneMatch:
    """Filter gains that move `measured_db` band shares toward `target_db`: each band by at most
    `max_eq_db`, times `intensity`; a band holding less than `floor_share_db` is never boosted."""
    wanted = np.zeros(len(OCTAVE_CENTERS_HZ))
    for k, (have, want) in enumerate(zip(measured_db, target_db, strict=True)):
        if have is None or want is None or not math.isfinite(have):
            continue
        move = float(np.clip(want - have, -max_eq_db, max_eq_db))
        if have < floor_share_db:
            move = min(move, 0.0)
        wanted[k] = move * intensity
    gains = wanted.copy()
    achieved = np.zeros_like(wanted)
    if np.any(np.abs(wanted) > 0.01):
        # the filters' skirts overlap: correct the gains a few times toward what is wanted
        for _ in range(4):
            achieved = _eq_band_response_db(sample_rate, gains)
            gains = np.clip(gains + (wanted - achieved), -2 * max_eq_db, 2 * max_eq_db)
        achieved = _eq_band_response_db(sample_rate, gains)
    return ToneMatch(
        target_db=tuple(target_db),
        measured_db=tuple(measured_db),
        wanted_db=tuple(float(w) for w in wanted),
        filter_gains_db=tuple(float(g) for g in gains),
        achieved_db=tuple(float(a) for a in achieved),
    )
