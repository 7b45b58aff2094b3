"""Mastering files nobody had tried: a quiet recording with one loud bang, a file of ticks, a mix
in opposite polarity, music that ends in digital silence, an MP3 as the reference; and the
report's series, lines and picture."""

from __future__ import annotations

import dataclasses
import json
import re

import numpy as np
import pytest
import scipy.signal
import soundfile as sf

from bandmate.io.audio import Audio
from bandmate.mix.analysis import OCTAVE_CENTERS_HZ
from bandmate.mix.master import MasterConfig, master, master_file
from bandmate.mix.meter import measure_loudness
from bandmate.mix.report import master_figure, stage_lines
from bandmate.mix.tone import encoder_cutoff_hz
from tests.mix.test_master import music


def test_a_quiet_recording_with_one_loud_bang_lands_near_the_target():
    # 12 s of music at -40 LUFS opened by 45 ms of a square wave near full scale: the bang holds
    # nearly all of the gated loudness, and no chain meets -14 LUFS under -1 dBTP. With EQ and
    # compression the compressor took the bang's body down and let its onset through, and the
    # master stopped at -29.2 LUFS, where the plain chain comes to -15.1
    base = music(np.random.default_rng(7), seconds=12.0, lufs=-40.0)
    x = base.samples.copy()
    n = 2000
    x[:, :n] += 0.99 * np.sign(np.sin(2 * np.pi * 351 * np.arange(n) / base.sample_rate))
    out, report = master(Audio(x, base.sample_rate))
    loudness = measure_loudness(out)
    assert loudness.integrated_lufs > -16.0, report.notes
    assert loudness.true_peak_dbtp <= -1.0 + 0.1
    assert report.shaping_left_out
    assert any("EQ and compression were left out" in note for note in report.notes)
    assert not report.reached  # and it says so: out of reach either way


def test_a_file_of_ticks_is_not_compressed_by_30_db():
    # single-sample ticks in silence: the analysis leaves every one out of the octave bands as a
    # click, and a balance of nothing had put the compressor's threshold 120 dB down
    rate = 44_100
    x = np.zeros((2, 6 * rate), dtype=np.float32)
    x[:, 100 :: rate // 2] = 0.9
    _, report = master(Audio(x, rate))
    assert float(np.max(report.compressor_reduction_db)) < 1.0


def test_a_mix_in_opposite_polarity_is_named_in_the_notes(rng):
    mono = music(rng, seconds=5.0, channels=1, lufs=-24.0).samples[0]
    x = np.stack([mono, -mono])
    out, report = master(Audio(x, 44_100))
    assert measure_loudness(out).integrated_lufs == pytest.approx(-14.0, abs=0.2)
    assert any("opposite in polarity" in note and "master keeps" in note for note in report.notes)
    _, plain = master(music(rng, seconds=5.0, lufs=-24.0))
    assert not any("polarity" in note for note in plain.notes)


def test_every_series_of_the_report_ends_with_the_audio(rng):
    # the low band stage counted the hops of its tail padding: its series ran one 100 ms step
    # past the compressor's and the limiter's; and a reduction of nothing read -0.0 in the JSON
    _, report = master(music(rng, seconds=2.0, lufs=-24.0))
    data = report.to_dict()["stages"]
    lengths = {
        stage: len(data[stage]["reduction_db_every_100ms"])
        for stage in ("compression", "low_band", "limiter")
    }
    assert set(lengths.values()) == {20}, lengths
    assert not re.search(r"-0\.0(?!\d)", json.dumps(report.to_dict()))


def test_the_loudness_panel_keeps_its_scale_and_its_time_around_silence(rng):
    # 5 s of digital silence, 3 s of music, 10 s of silence: the meter's filters decay into the
    # silence reading down to -3000 LUFS, and the panel's scale went down with them; and its
    # time ran over the music's few seconds alone, beside the reduction panel's whole file
    song = music(rng, seconds=3.0, lufs=-24.0)
    silence = np.zeros((2, 44_100))
    x = np.concatenate([*[silence] * 5, song.samples, *[silence] * 10], axis=1)
    _, report = master(Audio(x, 44_100), config=MasterConfig())
    loudness, _, reduction, _ = master_figure(report).axes
    low, high = loudness.get_ylim()
    assert low > -80.0 and high > -14.0
    assert loudness.get_xlim() == pytest.approx((0.0, 18.0))
    assert reduction.get_xlim() == pytest.approx((0.0, 18.0))


def test_the_stage_lines_read_no_negative_zero(rng):
    # a trim of a hundred-thousandth of a dB down read "trim: -0.000 dB", and a limiter that
    # took nothing "-0.00 LU of loudness"
    _, report = master(music(rng, seconds=2.0, lufs=-24.0))
    tiny = dataclasses.replace(report, trim_db=-1e-5, limiter_loss_lu=-1e-4, gain_db=-1e-4)
    lines = "\n".join(stage_lines(tiny))
    assert "trim: +0.000 dB" in lines and "gain: +0.00 dB" in lines
    assert not re.search(r"-0\.0+(?!\d)", lines), lines


def test_a_lossy_reference_is_matched_only_below_its_encoders_cut(tmp_path, rng):
    # the mix's own MP3 at about 110 kbit/s as the reference: its encoder cut it near 15.5 kHz,
    # and the 16 kHz band of the master was cut to copy that; now the band is left out, said so
    song = music(rng, seconds=6.0, lufs=-20.0)
    mix, mp3 = tmp_path / "mix.wav", tmp_path / "reference.mp3"
    sf.write(mix, song.samples.T, song.sample_rate, subtype="PCM_24")
    sf.write(mp3, song.samples.T, song.sample_rate, format="MP3", compression_level=0.7,
             bitrate_mode="CONSTANT")  # fmt: skip
    assert 11_300 < encoder_cutoff_hz(mp3) < 19_000
    assert encoder_cutoff_hz(mix) is None
    report = master_file(mix, tmp_path / "master.wav", reference_path=mp3)
    wanted = dict(zip(OCTAVE_CENTERS_HZ, report.tone.wanted_db, strict=True))
    assert abs(wanted[16000]) < 0.3, wanted
    assert all(abs(w) < 1.0 for w in wanted.values()), wanted
    assert any("reference is lossy" in note and "16000 Hz" in note for note in report.notes)
    plain = master_file(mix, tmp_path / "again.wav", reference_path=mix)
    assert not any("lossy" in note for note in plain.notes)


def test_a_high_bitrate_lossy_reference_is_matched_over_its_top_octave(tmp_path, rng):
    # a 320 kbit/s MP3 is cut near 20 kHz: taken as a lower Nyquist, that left the 16 kHz band
    # out of the match, so a dark mix got no top-octave lift toward a bright reference (+6 dB
    # toward the same reference as a WAV)
    rate, n = 44_100, 44_100 * 8
    white = np.fft.rfft(rng.standard_normal((2, n)))
    pink = np.fft.irfft(white / np.sqrt(np.maximum(np.fft.rfftfreq(n, 1 / rate), 20.0)), n)
    pink /= np.abs(pink).max()
    dark = scipy.signal.sosfilt(scipy.signal.butter(1, 3000, fs=rate, output="sos"), pink)
    mix, wav, mp3 = tmp_path / "mix.wav", tmp_path / "reference.wav", tmp_path / "reference.mp3"
    sf.write(mix, 0.3 * dark.T, rate, subtype="PCM_24")
    sf.write(wav, 0.5 * pink.T, rate, subtype="PCM_24")
    sf.write(mp3, 0.5 * pink.T, rate, format="MP3", compression_level=0.0,
             bitrate_mode="CONSTANT")  # fmt: skip
    lift = {}
    for reference in (wav, mp3):
        report = master_file(mix, tmp_path / f"{reference.suffix}.wav", reference_path=reference)
        lift[reference.suffix] = report.tone.achieved_db[-1]
        assert not any("lossy" in note for note in report.notes)
    assert lift[".wav"] > 3.0 and abs(lift[".mp3"] - lift[".wav"]) < 1.0, lift
