"""The meter against EBU Tech 3341 and Tech 3342 cases synthesised here, and the analysis figures.

The cases follow the EBU's descriptions (a 1 kHz sine, in stereo, at the levels and for the
durations given); the tolerances are the EBU's: ±0.1 LU for loudness, +0.2/-0.4 dB for true peak,
±1 LU for loudness range.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import scipy.signal
import soundfile as sf

from bandmate.errors import AudioFormatError, InputFileError
from bandmate.io.audio import Audio, write_audio
from bandmate.mix.analysis import analysis_rows, analyze, analyze_file
from bandmate.mix.meter import (
    LoudnessMeter,
    interpolated_magnitudes,
    interpolated_peak,
    k_weighting_sos,
    measure_loudness,
    true_peak_branches,
    true_peak_dbtp,
    true_peak_filter,
)
from bandmate.mix.signals import sine_tp, tone

RATES = [44_100, 48_000, 96_000]


# --- K-weighting ---------------------------------------------------------------------------------
def test_k_weighting_at_48k_is_the_bs1770_table():
    shelf = [1.53512485958697, -2.69169618940638, 1.19839281085285]
    shelf += [1.0, -1.69065929318241, 0.73248077421585]
    high_pass = [1.0, -2.0, 1.0, 1.0, -1.99004745483398, 0.99007225036621]
    table = [shelf, high_pass]
    assert np.allclose(k_weighting_sos(48_000), table, atol=1e-12)


@pytest.mark.parametrize("rate", [22_050, 44_100, 96_000, 192_000])
def test_k_weighting_has_the_same_response_at_every_rate(rate):
    freqs = np.array([20.0, 50.0, 100.0, 1000.0, 4000.0, 10_000.0])
    reference = scipy.signal.sosfreqz(k_weighting_sos(48_000), freqs, fs=48_000)[1]
    response = scipy.signal.sosfreqz(k_weighting_sos(rate), freqs, fs=rate)[1]
    error_db = 20 * np.log10(np.abs(response) / np.abs(reference))
    limit = 0.03 if rate == 22_050 else 0.01  # the shelf is near Nyquist at 22.05 kHz
    assert np.all(np.abs(error_db) < limit), error_db


# --- Tech 3341: integrated, momentary, short-term ----------------------------------------------
@pytest.mark.parametrize("rate", [22_050, *RATES])
@pytest.mark.parametrize("level", [-23.0, -33.0])
def test_cases_1_and_2_a_steady_sine_reads_its_level(rate, level):
    lo = measure_loudness(tone((level, 20), rate=rate))
    for value in (lo.integrated_lufs, lo.max_momentary_lufs, lo.max_short_term_lufs):
        assert value == pytest.approx(level, abs=0.1)
    assert np.all(np.abs(lo.momentary_lufs - level) < 0.1)
    assert np.all(np.abs(lo.short_term_lufs - level) < 0.1)


@pytest.mark.parametrize(
    "segments",
    [
        [(-36, 10), (-23, 60), (-36, 10)],  # case 3: the relative gate drops the quiet ends
        [(-72, 10), (-36, 10), (-23, 60), (-36, 10), (-72, 10)],  # case 4: both gates
        [(-26, 20), (-20, 20.1), (-26, 20)],  # case 5: the gate is relative, the quiet counts
    ],
    ids=["case3", "case4", "case5"],
)
def test_gating_cases_read_minus_23(segments):
    assert measure_loudness(tone(*segments)).integrated_lufs == pytest.approx(-23.0, abs=0.1)


def test_case_9_short_term_of_a_3_s_period_is_steady():
    lo = measure_loudness(tone(*[(-20, 1.34), (-30, 1.66)] * 20))
    assert np.all(np.abs(lo.short_term_lufs - -23.0) < 0.1)


def test_case_12_momentary_of_a_400_ms_period_is_steady():
    lo = measure_loudness(tone(*[(-20, 0.18), (-30, 0.22)] * 25))
    assert np.all(np.abs(lo.momentary_lufs - -23.0) < 0.1)


def test_cases_10_and_11_short_term_maximum_of_3_s_bursts():
    # bursts off the 100 ms grid (offsets in steps of 137 ms): the maximum still finds each
    for i in range(0, 20, 4):
        burst = tone((None, 0.137 * i), (-38.0 + i, 3), (None, 1.0))
        assert measure_loudness(burst).max_short_term_lufs == pytest.approx(-38 + i, abs=0.1)
    bursts = tone(*[s for i in range(20) for s in ((None, 0.137 * i), (-38.0 + i, 3), (None, 1))])
    assert measure_loudness(bursts).max_short_term_lufs == pytest.approx(-19.0, abs=0.1)


@pytest.mark.parametrize("rate", [44_100, 48_000])
def test_cases_13_and_14_momentary_maximum_of_400_ms_bursts(rate):
    for i in range(20):
        # 20 ms steps as in Tech 3341, plus 3.7 ms so that bursts fall between the meter's ticks
        burst = tone((None, 0.0237 * i), (-38.0 + i, 0.4), (None, 0.6), rate=rate)
        assert measure_loudness(burst).max_momentary_lufs == pytest.approx(-38 + i, abs=0.1)


# --- Tech 3341: true peak ----------------------------------------------------------------------
@pytest.mark.parametrize("rate", RATES)
@pytest.mark.parametrize(
    ("divisor", "phase_deg", "amplitude", "expected_dbtp"),
    [(4, 0.0, 0.5, -6.0), (4, 45.0, 0.5, -6.0), (6, 60.0, 0.5, -6.0), (8, 67.5, 0.5, -6.0),
     (4, 45.0, 1.41, 3.0)],
    ids=["case15", "case16", "case17", "case18", "case19"],
)  # fmt: skip
def test_true_peak_cases_15_to_19(rate, divisor, phase_deg, amplitude, expected_dbtp):
    lo = measure_loudness(sine_tp(rate / divisor, phase_deg, amplitude, rate))
    assert expected_dbtp - 0.4 <= lo.true_peak_dbtp <= expected_dbtp + 0.2
    assert lo.sample_peak_dbfs <= lo.true_peak_dbtp


def test_a_full_scale_sine_between_the_samples_reads_0_dbtp(rng):
    # near fs/4 at random phases the samples miss the crest by up to 3 dB; the true peak may not
    for freq_hz in (11_025.0, 11_900.0, *rng.uniform(1000, 14_000, size=6)):
        phase = rng.uniform(0, 360)
        lo = measure_loudness(sine_tp(freq_hz, phase, 1.0, 48_000, seconds=0.5))
        assert -0.4 <= lo.true_peak_dbtp <= 0.2, (freq_hz, phase, lo.true_peak_dbtp)
    lo = measure_loudness(sine_tp(12_000.0, 45.0, 1.0, 48_000, seconds=0.5))
    assert lo.sample_peak_dbfs == pytest.approx(-3.01, abs=0.01)


@pytest.mark.parametrize("rate", [44_100, 96_000])
def test_true_peak_of_noise_agrees_with_16x_oversampling(rng, rate):
    noise = np.clip(rng.standard_normal((2, rate)) * 0.3, -1, 1)  # clipped: dense overs
    reference = np.max(np.abs(scipy.signal.resample_poly(noise, 16, 1, axis=-1)))
    error_db = measure_loudness(Audio(noise, rate)).true_peak_dbtp - 20 * np.log10(reference)
    assert -0.4 <= error_db <= 0.2


@pytest.mark.parametrize("rate", [48_000, 96_000, 176_400, 192_000])
def test_true_peak_alone_reads_what_the_meter_reads(rng, rate):
    # at 176.4 kHz and up the meter does not oversample; true_peak_dbtp raised ValueError there,
    # so `bandmate mix` crashed on 192 kHz stems
    audio = Audio(np.clip(rng.standard_normal((2, rate // 2)) * 0.3, -1, 1), rate)
    assert true_peak_dbtp(audio) == pytest.approx(measure_loudness(audio).true_peak_dbtp, abs=1e-9)


def _every_interpolated_value(x: np.ndarray, factor: int) -> np.ndarray:
    """|x| run through each polyphase branch between the samples, by plain convolution."""
    fir = true_peak_filter(factor)
    branches = [np.convolve(x, fir[p::factor], mode="valid") for p in range(1, factor)]
    return np.max(np.abs(branches), axis=0)


@pytest.mark.parametrize("factor", [2, 4])
def test_the_interpolated_values_are_the_branches_convolved(rng, factor):
    # one value per pair of neighbouring samples, each at its own place: the limiter reads them
    # hop by hop, so values shifted by a frame would let a peak through a hop early or late
    x = rng.standard_normal(3 * 4096 + 77) * np.repeat(rng.uniform(0, 1, 13), 4096)[: 3 * 4096 + 77]
    got = interpolated_magnitudes(x, true_peak_branches(factor))
    assert np.allclose(got, _every_interpolated_value(x, factor), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("factor", [2, 4])
@pytest.mark.parametrize(
    "kind", ["bursts", "limited", "short", "one loud sample", "across a boundary"]
)
def test_the_true_peak_skips_nothing_that_could_pass(rng, factor, kind):
    # the oversampling is skipped where the samples could not reach the peak found so far, in
    # chunks and in stretches within them; the peak must be the one filtering everything finds
    frames = {"short": 90, "one loud sample": 20_000}.get(kind, 50_000)
    x = rng.standard_normal(frames) * 0.05
    if kind == "bursts":  # drum hits: loud for a few ms, every 40 ms
        x *= 1 + 15 * (np.arange(frames) % 1800 < 120)
    elif kind == "limited":  # a master: its samples everywhere within 1 dB of its ceiling
        x = np.clip(rng.standard_normal(frames), -1, 1) * 0.89
    elif kind == "one loud sample":
        x[12_345] = 0.9
    elif kind == "across a boundary":
        # silence, then 12 samples of a sine at fs/4 whose samples miss its crest by 3 dB, just
        # after the start of a stretch of 64 outputs (and of a chunk of 4096): the outputs that
        # read the crest belong to the stretch before, which holds only silence itself
        x[:] = 0.0
        burst = np.sin(np.pi / 2 * np.arange(12) + np.pi / 4)
        for start in (64 * 100 + 1, 4096 * 3 + 1):
            x[start : start + 12] = burst
    expected = float(_every_interpolated_value(x, factor).max())
    branches = true_peak_branches(factor)
    assert interpolated_peak(x, branches) == pytest.approx(expected, rel=1e-12)
    # a floor under the peak changes nothing; one over it is returned as it is
    sample_peak = float(np.abs(x).max())
    assert interpolated_peak(x, branches, sample_peak) == pytest.approx(max(expected, sample_peak))
    assert interpolated_peak(x, branches, 2 * expected) == 2 * expected


# --- Tech 3342: loudness range -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("segments", "expected_lu"),
    [
        ([(-20, 20), (-30, 20)], 10),
        ([(-20, 20), (-15, 20)], 5),
        ([(-40, 20), (-20, 20)], 20),
        ([(-50, 20), (-35, 20), (-20, 20), (-35, 20), (-50, 20)], 15),
    ],
    ids=["case1", "case2", "case3", "case4"],
)
def test_tech_3342_loudness_range(segments, expected_lu):
    assert measure_loudness(tone(*segments)).loudness_range_lu == pytest.approx(expected_lu, abs=1)


# --- channels, blocks, edge cases --------------------------------------------------------------
def test_mono_reads_3_lu_below_the_same_signal_on_both_channels():
    stereo = measure_loudness(tone((-23, 5)))
    mono = measure_loudness(tone((-23, 5), channels=1))
    assert stereo.integrated_lufs - mono.integrated_lufs == pytest.approx(10 * math.log10(2), 1e-6)
    one_side = tone((-23, 5)).samples * np.array([[1.0], [0.0]])
    assert measure_loudness(Audio(one_side, 48_000)).integrated_lufs == pytest.approx(
        mono.integrated_lufs, abs=1e-9
    )


def test_blocks_of_any_size_give_the_same_result(rng):
    audio = Audio(rng.standard_normal((2, 48_000 * 7)) * np.linspace(0.01, 0.5, 48_000 * 7), 48_000)
    whole = measure_loudness(audio)
    pieces = measure_loudness(audio, block_seconds=0.0371)
    assert pieces.integrated_lufs == pytest.approx(whole.integrated_lufs, abs=1e-9)
    assert pieces.loudness_range_lu == pytest.approx(whole.loudness_range_lu, abs=1e-9)
    assert pieces.true_peak_dbtp == pytest.approx(whole.true_peak_dbtp, abs=1e-9)
    assert np.allclose(pieces.short_term_lufs, whole.short_term_lufs, atol=1e-9)


def test_silence_reads_minus_infinity_without_dividing_by_zero():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        analysis = analyze(Audio(np.zeros((2, 48_000 * 4)), 48_000))
    lo = analysis.loudness
    assert lo.integrated_lufs == -math.inf and lo.max_short_term_lufs == -math.inf
    assert lo.true_peak_dbtp == -math.inf and lo.sample_peak_dbfs == -math.inf
    assert lo.loudness_range_lu is None and lo.plr_lu is None
    assert analysis.crest_factor_db is None and analysis.correlation is None
    assert "silent" in analysis.notes[0]
    data = analysis.to_dict()
    assert data["integrated_lufs"] is None and data["true_peak_dbtp"] is None


def test_the_json_series_read_silence_after_the_music_as_silence():
    # once a song stops in digital silence, the K-weighting rings on and decays: the momentary
    # series read down to -3000 LUFS there, which `analyze --json` printed (ffmpeg reads -inf)
    data = analyze(tone((-23, 3), (None, 6))).to_dict()  # 3 s of tone, then 6 s of zeros
    for key in ("momentary_lufs", "short_term_lufs"):
        series = data[key]  # value j: the window from j / 10 s on
        assert all(v is None or v >= -150 for v in series)
        assert series[-1] is None  # long after the tone: silence
        assert series[0] == pytest.approx(-23, abs=0.2)


def test_audio_shorter_than_the_windows():
    assert "no samples" in analyze(Audio(np.zeros((2, 0)), 48_000)).notes[0]
    lo = measure_loudness(tone((-23, 0.3)))
    assert lo.integrated_lufs is None and lo.max_momentary_lufs is None
    lo = measure_loudness(tone((-23, 1.0)))
    assert lo.integrated_lufs == pytest.approx(-23, abs=0.1) and lo.max_short_term_lufs is None
    assert any("shorter than 3 s" in note for note in analyze(tone((-23, 1.0))).notes)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_and_infinite_samples_are_refused(bad):
    samples = tone((-23, 1)).samples.copy()
    samples[1, 1234] = bad
    with pytest.raises(AudioFormatError, match="NaN or infinite"):
        measure_loudness(Audio(samples, 48_000))


def test_three_channels_are_refused():
    with pytest.raises(AudioFormatError, match="3 channels"):
        LoudnessMeter(48_000, 3)


# --- analysis ----------------------------------------------------------------------------------
def pink_noise(rng, seconds, rate=48_000, channels=2) -> np.ndarray:
    spectrum = rng.standard_normal((channels, seconds * rate // 2 + 1)) * (1 + 0j)
    spectrum[:, 1:] /= np.sqrt(np.arange(1, spectrum.shape[1]))  # -3 dB per octave
    spectrum[:, 0] = 0
    x = np.fft.irfft(spectrum, n=seconds * rate)
    return 0.1 * x / np.std(x)


def test_octave_bands_of_a_sine_and_of_pink_noise(rng):
    bands = dict(analyze(tone((-20, 3), freq_hz=1000.0)).octave_bands_db)
    assert bands[1000] == pytest.approx(0.0, abs=0.01)
    assert all(share < -60 for center, share in bands.items() if center != 1000)

    pink = dict(analyze(Audio(pink_noise(rng, 8), 48_000)).octave_bands_db)
    shares = np.array(list(pink.values()))
    assert np.all(np.abs(shares - 10 * math.log10(1 / 10)) < 1.0), pink  # ten equal octaves
    assert 10 * math.log10(np.sum(10 ** (shares / 10))) == pytest.approx(0.0, abs=1e-9)


def test_bands_above_nyquist_are_none():
    bands = dict(analyze(tone((-20, 1), rate=22_050)).octave_bands_db)
    assert bands[16000] is None and bands[8000] is not None


def test_crest_factor_of_a_sine_is_3_db():
    analysis = analyze(tone((-6, 2)))
    assert analysis.crest_factor_db == pytest.approx(10 * math.log10(2), abs=0.01)
    assert analysis.rms_dbfs == pytest.approx(-9.01, abs=0.01)
    assert analysis.loudness.plr_lu == pytest.approx(0.0, abs=0.1)  # -6 dBTP at -6 LUFS


def test_stereo_correlation_and_width(rng):
    x = pink_noise(rng, 2, channels=1)[0]
    same = analyze(Audio(np.stack([x, x]), 48_000))
    assert same.correlation == pytest.approx(1.0) and same.side_to_mid_db == -math.inf
    opposite = analyze(Audio(np.stack([x, -x]), 48_000))
    assert opposite.correlation == pytest.approx(-1.0) and opposite.side_to_mid_db == math.inf
    unrelated = analyze(Audio(pink_noise(rng, 4), 48_000))
    assert abs(unrelated.correlation) < 0.05
    assert unrelated.side_to_mid_db == pytest.approx(0.0, abs=0.5)
    mono = analyze(Audio(x, 48_000))
    assert mono.correlation is None and mono.side_to_mid_db is None
    assert any("mono" in note for note in mono.notes)


def test_channels_opposite_in_polarity_are_named(rng):
    # a mix with one channel flipped vanishes on a mono speaker; the table said "correlation
    # -1.00, side/mid inf dB" and no more
    x = pink_noise(rng, 2, channels=1)[0]
    flipped = analyze(Audio(np.stack([x, -x]), 48_000)).notes
    assert [n for n in flipped if "opposite in polarity" in n and "it cancels out" in n]
    partly = analyze(Audio(np.stack([x, -x + 0.5 * pink_noise(rng, 2, channels=1)[0]]), 48_000))
    assert -0.99 < partly.correlation <= -0.5
    assert [n for n in partly.notes if "much of it cancels out" in n]
    wide = analyze(Audio(pink_noise(rng, 2), 48_000))
    assert not [n for n in wide.notes if "polarity" in n]


def test_a_clipped_mix_is_named_and_a_full_scale_peak_is_not(rng, tmp_path):
    # a mix exported too hot, its tops cut flat, got no word from analyze or master
    from bandmate.mix.analysis import BLOCK_SECONDS

    t = np.arange(12 * 48_000) / 48_000
    # 100 Hz from a peak: two flat tops a period, one of them across the first block's end
    clipped = np.clip(2.0 * np.cos(2 * np.pi * 100 * t), -1.0, 1.0)
    assert clipped[int(BLOCK_SECONDS * 48_000) - 1] == 1.0
    audio = Audio(np.stack([clipped, 0.5 * clipped]).astype(np.float32), 48_000)
    path = tmp_path / "hot.wav"
    write_audio(audio, path, subtype="PCM_16")
    analysis = analyze_file(path)  # read in blocks
    assert analysis.clipped_runs == analyze(audio).clipped_runs == 2 * 1200 + 1
    assert [n for n in analysis.notes if "clipped in 2401 places" in n]
    assert analysis.to_dict()["clipped_runs"] == 2401
    for smooth in (np.sin(2 * np.pi * 50 * t), 1.3 * np.sin(2 * np.pi * 50 * t)):
        # a slow sine peaking at full scale, and a float file's overs, are not clipped
        stereo = np.stack([smooth, smooth]).astype(np.float32)
        assert analyze(Audio(stereo, 48_000)).clipped_runs == 0


@pytest.mark.parametrize(("frames", "shown"), [(220, "4.99 ms"), (19_845, "450 ms"),
                                               (132_300, "3.00 s"), (0, "0.00 s")])  # fmt: skip
def test_the_table_gives_a_short_files_length_in_ms(frames, shown):
    # a 5 ms file read "0.00 s" beside the peaks measured in it
    audio = Audio(0.1 * np.sin(np.arange(frames) / 10.0)[np.newaxis, :], 44_100)
    assert dict(analysis_rows(analyze(audio)))["format"] == f"mono, 44100 Hz, {shown}"


def test_a_file_is_measured_as_the_audio_it_holds(tmp_path, rng):
    audio = Audio(pink_noise(rng, 12), 48_000)  # longer than one 10 s reading block
    write_audio(audio, tmp_path / "noise.wav", subtype="FLOAT")
    from_file, in_memory = analyze_file(tmp_path / "noise.wav"), analyze(audio)
    a, b = from_file.to_dict(), in_memory.to_dict()
    for key in ("integrated_lufs", "loudness_range_lu", "true_peak_dbtp", "crest_factor_db",
                "stereo_correlation", "side_to_mid_db"):  # fmt: skip
        assert a[key] == pytest.approx(b[key], abs=1e-4), key
    for band_a, band_b in zip(a["octave_bands"], b["octave_bands"], strict=True):
        assert band_a["share_db"] == pytest.approx(band_b["share_db"], abs=1e-4)
    labels = [label for label, _ in analysis_rows(from_file)]
    assert {"integrated", "true peak", "loudness range", "stereo"} <= set(labels)


def test_bad_files_are_refused(tmp_path, rng):
    text = tmp_path / "notes.wav"
    text.write_text("this is not audio")
    with pytest.raises(InputFileError, match="not a readable audio file"):
        analyze_file(text)
    with pytest.raises(InputFileError, match="does not exist"):
        analyze_file(tmp_path / "missing.wav")
    three = tmp_path / "three.wav"
    sf.write(three, rng.standard_normal((4800, 3)) * 0.1, 48_000)
    with pytest.raises(AudioFormatError, match="3 channels"):
        analyze_file(three)
    nan = tmp_path / "nan.wav"
    samples = rng.standard_normal((48_000 * 11, 2)) * 0.1
    samples[48_000 * 10 + 7, 0] = np.nan  # in the second block read
    sf.write(nan, samples, 48_000, subtype="FLOAT")
    with pytest.raises(AudioFormatError, match="NaN or infinite"):
        analyze_file(nan)
