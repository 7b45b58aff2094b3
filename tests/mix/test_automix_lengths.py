"""automix on stems of different lengths: a short stem is the same stem padded with silence to
the longest, in the mix and the report, without being held at that length."""

from __future__ import annotations

import numpy as np
import soundfile as sf

from bandmate.io.audio import Audio
from bandmate.mix.automix import automix
from tests.builders import mix_peak_rss_bytes

RATE = 48_000


def _stem(rng, freq_hz: float, seconds: float) -> np.ndarray:
    """(frames, 2) a tone over a little noise, as soundfile writes it."""
    t = np.arange(round(seconds * RATE)) / RATE
    x = 0.1 * np.sin(2 * np.pi * freq_hz * t) + 0.01 * rng.standard_normal(len(t))
    return np.stack([x, 0.9 * x]).T


def test_short_stems_beside_a_long_one_cost_memory_by_their_own_length(tmp_path, rng):
    # nine 10-second stems beside one of 10 minutes peaked at 4 GB: every stem was padded to
    # the longest, ten 10-minute stems' worth; a session's one-shots and intro pads are short
    long_seconds, short_seconds, shorts = 60.0, 1.0, 11
    alone, session = tmp_path / "alone", tmp_path / "session"
    for folder in (alone, session):
        folder.mkdir()
        sf.write(folder / "lead.wav", _stem(rng, 220.0, long_seconds), RATE, subtype="PCM_16")
    for k in range(shorts):
        x = _stem(rng, 55.0 * 2 ** (k / 3), short_seconds)
        sf.write(session / f"fx{k}.wav", x, RATE, subtype="PCM_16")
    long_bytes = round(long_seconds * RATE) * 2 * 4  # the long stem as float32
    base = mix_peak_rss_bytes(alone, tmp_path / "alone.wav")
    peak = mix_peak_rss_bytes(session, tmp_path / "session.wav")
    # padded, the eleven short stems cost 13 times the long stem; held at their own length
    # (each with a few seconds of the silence after it) under 2 times
    assert peak - base < 4 * long_bytes, (peak - base) / long_bytes


def _padded(audio: Audio, frames: int) -> Audio:
    x = audio.samples
    return Audio(np.pad(x, ((0, 0), (0, frames - x.shape[1]))), audio.sample_rate)


def test_a_short_stem_mixes_as_the_same_stem_padded_with_silence(rng):
    # the song is 20 s; a one-shot of a second, a pad that stops at 6 s, a kit's sides that stop
    # at different times (one part), an unnamed stem whose role comes from its sound, and a
    # short stem at another rate: each mixes exactly as it does padded to the song's length
    rate, seconds = 22_050, 20.0
    t = np.arange(round(seconds * rate)) / rate

    def part(freq_hz, stop_s, level=0.1, onsets_hz=0.0, rate_hz=rate):
        n = round(stop_s * rate_hz)
        tt = np.arange(n) / rate_hz
        x = level * np.sin(2 * np.pi * freq_hz * tt) + 0.003 * rng.standard_normal(n)
        if onsets_hz:
            x *= np.exp(-((tt * onsets_hz) % 1.0) * 8)
        return Audio(np.stack([x, 0.8 * x]).astype(np.float32), rate_hz)

    def mono(x: Audio) -> Audio:
        return Audio(x.samples[:1], x.sample_rate)

    stems = {
        "bass.wav": part(55.0, seconds),
        "keys.wav": part(262.0, seconds, onsets_hz=2.0),
        "fx.wav": part(1500.0, 1.0, level=0.3),
        "pad.wav": part(440.0, 6.0),
        "drums L.wav": mono(part(3000.0, 12.0, onsets_hz=4.0)),
        "drums R.wav": mono(part(3100.0, 17.5, onsets_hz=4.0)),
        "take 3.wav": part(330.0, 9.3, onsets_hz=3.0),
        "vox.wav": part(600.0, 7.7, rate_hz=44_100),
    }
    frames = len(t)
    padded = {name: a if a.sample_rate != rate else _padded(a, frames) for name, a in stems.items()}
    mix, report = automix(stems)
    whole, whole_report = automix(padded)
    assert np.array_equal(mix.samples, whole.samples)
    strip = ("padded_seconds",)
    rows = [{k: v for k, v in vars(s).items() if k not in strip} for s in report.stems]
    whole_rows = [{k: v for k, v in vars(s).items() if k not in strip} for s in whole_report.stems]
    assert rows == whole_rows
    assert report.mix_lufs == whole_report.mix_lufs
    assert [s.padded_seconds for s in report.stems if s.name == "fx.wav"] == [19.0]
    assert any("fx.wav was padded with 19.00 s" in note for note in report.notes)
