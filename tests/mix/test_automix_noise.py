"""automix on a stem that carries a noise floor between its parts: a vocal take that sings for
a few seconds and holds its preamp's hiss for the rest of the song."""

from __future__ import annotations

import numpy as np
import pytest

from bandmate.io.audio import Audio
from bandmate.mix.automix import automix

RATE = 22_050
SECONDS = 30.0


def _band(rng) -> dict[str, Audio]:
    """A bass and a keys part that play throughout: notes struck twice a second."""
    t = np.arange(round(SECONDS * RATE)) / RATE
    struck = np.exp(-(t % 0.5) * 6)
    bass = 0.3 * np.sin(2 * np.pi * 55 * t) * struck
    keys = sum(0.08 * np.sin(2 * np.pi * f * t) for f in (262, 330, 392)) * struck
    keys = keys + 0.002 * rng.standard_normal(len(t))
    return {
        "bass.wav": Audio(np.stack([bass, bass]).astype(np.float32), RATE),
        "keys.wav": Audio(np.stack([keys, 0.9 * keys]).astype(np.float32), RATE),
    }


def _take(rng, hiss_dbfs: float | None, sings_s: float = 3.0) -> Audio:
    """A mono vocal take: `sings_s` of a sung line (harmonics, vibrato, syllables, breath) at
    -20 dBFS RMS from 10 s in, and white hiss at `hiss_dbfs` RMS all through (None: digital
    silence)."""
    n = round(SECONDS * RATE)
    t = np.arange(round(sings_s * RATE)) / RATE
    f0 = 220 * (1 + 0.01 * np.sin(2 * np.pi * 5.5 * t)) * 2 ** (np.floor(t / 0.5) % 5 / 12)
    phase = 2 * np.pi * np.cumsum(f0) / RATE
    line = sum(np.sin(h * phase) / h**1.5 for h in range(1, 12))
    line *= 0.5 + 0.5 * np.sin(2 * np.pi * 2 * t) ** 2
    line += 0.02 * rng.standard_normal(len(t))  # breath
    line *= 10 ** (-20 / 20) / np.sqrt(np.mean(line**2))
    x = np.zeros(n)
    x[10 * RATE : 10 * RATE + len(line)] = line
    if hiss_dbfs is not None:
        x += 10 ** (hiss_dbfs / 20) * rng.standard_normal(n)
    return Audio(x[None].astype(np.float32), RATE)


def _vocal_over_bass_db(band, take) -> tuple[float, tuple[str, ...]]:
    """(the vocal's gain less the bass's, dB: where the sung line sits against the band; the
    report's notes)."""
    _, report = automix({**band, "vocal.wav": take})
    gains = {s.name: s.gain_db for s in report.stems}
    return gains["vocal.wav"] - gains["bass.wav"], report.notes


@pytest.mark.parametrize("hiss_dbfs", [-50.0, -45.0])
def test_a_take_with_hiss_between_its_phrases_sits_where_it_would_without(rng, hiss_dbfs):
    # a vocal that sings 1.5 s of a 30 s song over hiss was balanced 0.8 dB (hiss at -50 dBFS)
    # to 4.5 dB (-45 dBFS) away from the same take with digital silence between its phrases
    # (3 to 5 dB beside a backing track's stems): the hiss passed BS.1770's -70 LUFS gate and
    # read as a long quiet stretch of the part, which lowered its loudness, widened its
    # loudness range and brightened its spectrum
    band = _band(rng)
    clean, _ = _vocal_over_bass_db(band, _take(rng, None, sings_s=1.5))
    hissy, notes = _vocal_over_bass_db(band, _take(rng, hiss_dbfs, sings_s=1.5))
    assert hissy == pytest.approx(clean, abs=0.5)
    assert any("vocal.wav holds a steady noise floor" in note for note in notes)


def test_a_part_that_plays_soft_then_loud_is_measured_whole(rng):
    # a guitar strummed steadily, its first half 20 dB under its second: its soft half is as
    # steady from one 100 ms step to the next as hiss is, but made of partials, not noise; it
    # counts in the part's loudness range as it did
    band = _band(rng)
    t = np.arange(round(SECONDS * RATE)) / RATE
    strums = np.exp(-(t % 0.25) * 2)
    level = np.where(t < SECONDS / 2, 0.01, 0.1)
    guitar = level * strums * sum(np.sin(2 * np.pi * 196 * h * t) / h for h in range(1, 20))
    take = Audio(guitar[None].astype(np.float32), RATE)
    _, report = automix({**band, "guitar.wav": take})
    assert not any("noise floor" in note for note in report.notes)


@pytest.mark.parametrize("cut", ["shorter than the song", "trimmed to silence at its end"])
def test_a_take_with_hiss_followed_by_silence_sits_where_it_would_without(rng, cut):
    # after its last sound a stem's K-weighted level rings on down to -3000 LUFS: the floor was
    # read among those levels, the hiss missed, and the take balanced 4.4 dB off the clean one
    band = _band(rng)
    clean, _ = _vocal_over_bass_db(band, _take(rng, None, sings_s=1.5))
    take = _take(rng, -45.0, sings_s=1.5)
    samples = take.samples.copy()
    if cut == "shorter than the song":
        samples = samples[:, : 20 * RATE]
    else:
        samples[:, -2 * RATE :] = 0.0
    hissy, notes = _vocal_over_bass_db(band, Audio(samples, RATE))
    assert hissy == pytest.approx(clean, abs=0.5)
    assert any("vocal.wav holds a steady noise floor" in note for note in notes)


def test_dither_between_phrases_is_not_called_hiss(rng):
    take = _take(rng, -101.0, sings_s=1.5)  # 16-bit dither: under BS.1770's -70 LUFS gate
    _, notes = _vocal_over_bass_db(_band(rng), take)
    assert not any("noise floor" in note for note in notes)


def test_hi_hats_alone_in_an_intro_are_part_of_the_drums(rng):
    # steady sixteenths of noise bursts, 18 dB under the kit that follows: as flat and as steady
    # at 100 ms steps as hiss, but struck
    t = np.arange(round(SECONDS * RATE)) / RATE
    burst = np.exp(-(t % 0.125) * 60) * rng.standard_normal(len(t))
    kick = np.sin(2 * np.pi * 60 * t) * np.exp(-(t % 0.5) * 12)
    intro = t < 8.0
    drums = np.where(intro, 0.02 * burst, 0.16 * burst + 0.6 * kick)
    _, report = automix({**_band(rng), "drums.wav": Audio(drums[None].astype(np.float32), RATE)})
    assert not any("noise floor" in note for note in report.notes)
