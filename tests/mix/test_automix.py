"""automix on rendered backing stems and generated signals: balance, roles, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from bandmate.arrange.backing import backing
from bandmate.arrange.style import load_style
from bandmate.errors import AudioFormatError, UserError
from bandmate.io.audio import Audio
from bandmate.jobs.backing import balance_stems
from bandmate.mix.automix import (
    STAGES,
    AutomixConfig,
    automix,
    automix_files,
)
from bandmate.mix.balance import load_balance, stem_features
from bandmate.mix.meter import measure_loudness
from bandmate.mix.roles import detect_role_from_content, role_from_name
from bandmate.render import render_stems, stem_filenames

RATE = 44_100


@pytest.fixture(scope="module")
def pop_stems() -> list[tuple[str, Audio]]:
    """A pop backing track's stems as `bandmate backing` writes them: at the style's levels."""
    style = load_style("pop")
    score = backing(
        "| C | Am | F | G |", style=style, tempo_bpm=120, seed=1, intro=False, ending=False
    )
    levels = [style.part(t.name).level_db for t in score.tracks]
    stems, _ = balance_stems(render_stems(score, sample_rate=RATE), levels)
    return list(zip(stem_filenames([t.name for t in score.tracks]), stems, strict=True))


def relative(levels) -> np.ndarray:
    levels = np.asarray(levels, dtype=float)
    return levels - levels.max()


def tone(
    freq_hz: float,
    seconds: float = 3.0,
    level_db: float = -20.0,
    rate: int = RATE,
    channels: int = 2,
) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    x = 10 ** (level_db / 20) * np.sin(2 * np.pi * freq_hz * t)
    return np.tile(x, (channels, 1)).astype(np.float32)


def test_gain_offsets_are_undone(pop_stems, rng):
    original = relative([measure_loudness(a).integrated_lufs for _, a in pop_stems])
    offsets = rng.uniform(-12, 12, len(pop_stems))
    given = [
        (n, Audio(a.samples * 10 ** (o / 20), RATE))
        for (n, a), o in zip(pop_stems, offsets, strict=True)
    ]
    mix, report = automix(given)
    after = relative([s.loudness_after_lufs for s in report.stems])
    error = np.abs(after - original)
    # the balance model was fitted on other charts; pop's own balance is within a few dB of it
    assert error.max() <= 4.0, error
    assert np.median(error) <= 2.0, error
    # the offsets themselves were far worse
    assert np.median(np.abs(relative(offsets + original) - original)) > np.median(error)
    assert [s.role for s in report.stems] == ["drums", "bass", "keys", "guitar", "pad"]
    assert report.stages == STAGES
    assert mix.channels == 2 and mix.sample_rate == RATE
    assert report.mix_true_peak_dbtp <= -3.0 + 0.05
    assert report.mix_lufs <= -20.0 + 0.05


def test_balance_hits_the_model_levels():
    """Steady tones at random levels land on the balance model's levels relative to the loudest."""
    model = load_balance()
    stems = {
        "bass": tone(110, level_db=-35),
        "Piano": tone(440, level_db=-8),
        "Strings": tone(660, level_db=-20),
    }
    _, report = automix({k: Audio(v, RATE) for k, v in stems.items()})
    got = relative([s.loudness_after_lufs for s in report.stems])
    want = relative(
        model.levels_lu(("bass", "keys", "pad"), [stem_features(x, RATE) for x in stems.values()])
    )
    np.testing.assert_allclose(got, want, atol=0.5)


@pytest.mark.parametrize("level", [-6.0, -10.0, -3.0])
def test_a_level_given_is_the_level_in_the_mix(pop_stems, level):
    # `--level drums=-6` put each stem given it 6 dB under the model's loudest element, which
    # could be that stem itself: turned down, the next loudest led the mix, and the table read
    # -5.6 (given) for a bossa nova's drums. Each stem given a level under 0 is that far under
    # the loudest stem of the mix, whichever the model would have led with
    for name, _ in pop_stems:
        _, report = automix(pop_stems, config=AutomixConfig(levels={name: level}))
        after = relative([s.loudness_after_lufs for s in report.stems])
        (k,) = [k for k, s in enumerate(report.stems) if s.level_from == "given"]
        assert after[k] == pytest.approx(level, abs=0.15), name
    # two given: both where asked, the loudest of the others at 0
    drums, bass = pop_stems[0][0], pop_stems[1][0]
    _, report = automix(pop_stems, config=AutomixConfig(levels={drums: -3.0, bass: -4.0}))
    after = relative([s.loudness_after_lufs for s in report.stems])
    assert after[:2] == pytest.approx([-3.0, -4.0], abs=0.15)
    assert max(after[2:]) == 0.0


def test_features_ignore_gain(pop_stems):
    """The balance model's features, and so its levels, do not move with a stem's gain."""
    _, drums = pop_stems[0]
    quiet = drums.samples * 10 ** (-15 / 20)
    a, b = stem_features(drums.samples, RATE), stem_features(quiet, RATE)
    assert a.keys() == b.keys() and len(a) == len(load_balance().features)
    for name in a:
        # 0.2: only BS.1770's absolute gate (-70 LUFS) moves with gain, dropping a quiet tail
        assert a[name] == pytest.approx(b[name], abs=0.2), name
    assert stem_features(np.zeros((2, RATE), np.float32), RATE) == {}


@pytest.mark.parametrize("freq_hz", [100.0, 1000.0, 5000.0])
def test_centroid_reads_a_tone_frequency(freq_hz):
    """The brightness feature is the spectral centroid in octaves: a sine's own frequency."""
    centroid = stem_features(tone(freq_hz), RATE)["centroid_log2_hz"]
    assert 2**centroid == pytest.approx(freq_hz, rel=0.01)


def test_percussive_stem_sits_lower_than_sustained():
    """Of two stems of one role and one spectrum, the one with the higher peak-to-loudness ratio
    gets less level (smooth 50 ms bursts, so that only the peakiness differs)."""
    model = load_balance()
    steady = tone(440)
    burst = np.hanning(RATE // 20)
    envelope = np.zeros(steady.shape[1])
    for start in range(0, steady.shape[1] - len(burst), RATE // 2):
        envelope[start : start + len(burst)] = burst
    hits = (steady * envelope).astype(np.float32)
    level = dict(
        zip(
            ("steady", "hits"),
            model.levels_lu(("keys", "keys"), [stem_features(x, RATE) for x in (steady, hits)]),
            strict=True,
        )
    )
    # by how much is learnt from the styles' authored levels (3.2 LU as fitted now)
    assert level["hits"] < level["steady"] - 1.0


def drum_hits(seconds: float, quiet_db: float = 0.0, quiet_seconds: float = 0.0) -> np.ndarray:
    """Noise bursts (a kick-and-snare stand-in) on every beat at 120 bpm, stereo; the first
    `quiet_seconds` are played `quiet_db` softer."""
    rng = np.random.default_rng(7)
    n = int(seconds * RATE)
    hit = rng.standard_normal(RATE // 10) * np.exp(-np.arange(RATE // 10) / (RATE * 0.02))
    mono = np.zeros(n)
    for start in range(0, n - len(hit), RATE // 2):
        gain = 10 ** (quiet_db / 20) if start < quiet_seconds * RATE else 1.0
        mono[start : start + len(hit)] += 0.3 * gain * hit
    return np.tile(mono, (2, 1)).astype(np.float32)


def test_drums_that_swell_sit_further_back():
    """Drums that play a soft verse and a full chorus (a loudness range far beyond the rest of
    the song's, as ballads' brushes and out choruses have) are set further back under the
    steady parts than drums that play the whole song at one strength."""
    seconds = 12.0
    band = {"bass": tone(82, seconds, -30), "Strings": tone(440, seconds, -25)}

    def drums_under_strings(drums: np.ndarray) -> float:
        _, report = automix(
            {**{k: Audio(v, RATE) for k, v in band.items()}, "drums": Audio(drums, RATE)}
        )
        after = {s.name: s.loudness_after_lufs for s in report.stems}
        return after["drums"] - after["Strings"]

    steady = drums_under_strings(drum_hits(seconds))
    swelling = drums_under_strings(drum_hits(seconds, quiet_db=-15, quiet_seconds=seconds / 2))
    # 4.2 dB further back as fitted now: the swelling part reads beyond the ±3 cap
    assert swelling < steady - 2.0, (steady, swelling)


@pytest.mark.parametrize(
    ("name", "role"),
    [
        ("03-bass.wav", "bass"),
        ("Piano", "keys"),
        ("Strings", "pad"),
        ("01-drums.flac", "drums"),
        ("Lead Vox", "vocal"),
        ("gtr_rhythm", "guitar"),
        ("Brass", "lead"),
        ("Bassoon", "lead"),  # not a bass
        ("track7", None),
        # a number that is the name, not the track's place (it was cut off and the role lost)
        ("808.wav", "bass"),
        ("02 808", "bass"),
        ("Upright", "bass"),
        ("Upright Piano", "keys"),
        ("Cajon", "drums"),
        ("Hammond B3", "pad"),
        ("Ad Libs", "pad"),
        ("Marimba", "keys"),
        ("Sharp Lead", "lead"),
    ],
)
def test_roles_from_names(name, role):
    assert role_from_name(name) == role


def test_roles_from_content(rng):
    low = tone(60, channels=1)
    assert detect_role_from_content(low, RATE) == "bass"
    clicks = np.zeros((1, 3 * RATE), np.float32)
    for start in range(0, 3 * RATE, RATE // 4):  # 4 noise bursts a second
        clicks[0, start : start + 800] = rng.normal(0, 0.3, 800) * np.exp(-np.arange(800) / 150)
    assert detect_role_from_content(clicks, RATE) == "drums"
    assert detect_role_from_content(tone(500, channels=1), RATE) == "pad"


def test_given_roles_win():
    _, report = automix(
        {"track1": Audio(tone(300), RATE)}, config=AutomixConfig(roles={"track1": "lead"})
    )
    assert (report.stems[0].role, report.stems[0].role_from) == ("lead", "given")


def test_silent_stem_stays_silent():
    stems = {"bass": tone(110), "piano": np.zeros((2, 3 * RATE), np.float32)}
    mix, report = automix({k: Audio(v, RATE) for k, v in stems.items()})
    silent = report.stems[1]
    assert silent.silent and silent.loudness_after_lufs is None and silent.gain_db is None
    assert any("piano" in n and "silent" in n for n in report.notes)
    assert np.all(np.isfinite(mix.samples))


def test_a_stem_under_the_gate_is_called_quiet_not_silent():
    # -86 dBTP of music is not silence: the note said it "stays silent in the mix"
    stems = {"bass": tone(110), "piano": tone(440) * 1e-4}
    _, report = automix({k: Audio(v, RATE) for k, v in stems.items()})
    assert report.stems[1].silent  # nothing to balance: no block passes the -70 LUFS gate
    assert any("piano is too quiet to measure" in n for n in report.notes)
    assert not any("silent" in n for n in report.notes)
    _, report = automix({"piano": Audio(tone(440) * 1e-4, RATE)})
    assert any("too quiet to measure" in n for n in report.notes)
    assert not any("silent" in n for n in report.notes)


def test_all_silent_gives_silence():
    mix, report = automix({"a": Audio(np.zeros((1, RATE)), RATE)})
    assert not np.any(mix.samples) and report.mix_lufs is None


@pytest.mark.parametrize("seconds", [0.005, 0.3])
def test_stems_all_too_short_to_measure_are_refused(seconds):
    # they read as silent: the notes said every stem was silent and the mix was written silent
    stems = {"bass": Audio(tone(110, seconds), RATE), "piano": Audio(tone(440, seconds), RATE)}
    with pytest.raises(UserError, match="too short to balance"):
        automix(stems)


def test_a_short_stem_among_long_ones_is_mixed():
    stems = {"bass": Audio(tone(110, 3.0), RATE), "hit": Audio(tone(2000, 0.3), RATE)}
    mix, report = automix(stems)
    assert not report.stems[1].silent and report.stems[1].loudness_after_lufs is not None
    assert np.any(mix.samples[:, : RATE // 4])


def test_a_stem_that_is_mostly_dc_offset_does_not_hold_the_mix_down(rng):
    # an interface's 0.02 offset under a take that is all but silent read -57 LUFS from the
    # K-weighting's start-up, was turned up 13 dB, and its offset held the mix at -33.7 LUFS
    take = 0.02 + 1e-4 * rng.standard_normal((2, 3 * RATE))
    stems = {
        "bass": Audio(tone(110), RATE),
        "piano": Audio(tone(440), RATE),
        "vocal": Audio(take.astype(np.float32), RATE),
    }
    mix, report = automix(stems)
    assert report.mix_lufs == pytest.approx(-20.0, abs=0.1)
    assert abs(float(mix.samples.mean())) < 1e-3
    assert any("vocal" in note and "DC offset of 0.02" in note for note in report.notes)


def test_a_stem_whose_lone_click_holds_the_mix_down_is_named(pop_stems):
    # a vocal track holding nothing but a click reads -39 LUFS (BS.1770 measures 0.4 s at a
    # time), was balanced as the lead, and its peak, 36 dB over that, held the whole mix 10 dB
    # under its target; nothing said why
    rate = pop_stems[0][1].sample_rate
    click = np.zeros((1, pop_stems[0][1].frames), np.float32)
    click[0, click.shape[1] // 2] = 0.5
    _, report = automix([*pop_stems, ("vocal.wav", Audio(click, rate))])
    assert report.mix_lufs < -27
    (note,) = [n for n in report.notes if n.startswith("The mix sits")]
    assert "under its -20 LUFS target: the peaks of vocal.wav, 36 dB over its loudness" in note
    assert "tame them" in note
    # a mix the ceiling holds a little under its target is no such case, nor a kit alone, nor
    # every part at a target the ceiling allows no mix without a limiter (6-7 dB under)
    for stems, config in (
        (pop_stems, AutomixConfig()),
        (pop_stems[:1], AutomixConfig()),
        (pop_stems, AutomixConfig(target_lufs=-14)),
    ):
        _, report = automix(stems, config=config)
        assert not any(n.startswith("The mix sits") for n in report.notes), report.notes


def test_an_ordinary_offset_is_left_alone():
    # a SoundFont's pad sits up to 10% of its peak off centre, as the balance model was fitted
    pad = tone(330) + np.float32(0.01)
    _, report = automix({"bass": Audio(tone(110), RATE), "pad": Audio(pad, RATE)})
    assert not any("DC offset" in note for note in report.notes)


def test_the_soundfonts_pads_keep_their_offset_as_the_balance_model_was_fitted(pop_stems):
    # the SoundFont's warm pad sits 1.2-1.4 times its RMS off centre in bench/mix.py's pop, house,
    # hip-hop and bossa nova tracks; taking that out moved the model's features and the bench's
    # median from 1.42 to 1.54 dB. Only an offset that dwarfs the signal is removed.
    pad = dict(pop_stems)["05-pad.wav"].samples
    centred = pad - pad.mean(axis=1, keepdims=True)
    like_the_pads = centred + np.float32(1.3) * centred.std(axis=1, keepdims=True)
    _, report = automix({"bass": dict(pop_stems)["02-bass.wav"], "pad": Audio(like_the_pads, RATE)})
    assert not any("DC offset" in note for note in report.notes)
    take = np.float32(1e-4) * rng_noise(pad.shape) + np.float32(0.02)  # an all-but-silent take
    _, report = automix({"bass": dict(pop_stems)["02-bass.wav"], "take": Audio(take, RATE)})
    assert any("DC offset" in note for note in report.notes)


def rng_noise(shape) -> np.ndarray:
    return np.random.default_rng(5).standard_normal(shape).astype(np.float32)


def test_sample_rates_and_lengths_conform():
    stems = [
        ("bass", Audio(tone(110, seconds=3.0), 44_100)),
        ("piano", Audio(tone(440, seconds=2.0, rate=48_000), 48_000)),
        ("pad", Audio(tone(660, seconds=3.0), 44_100)),
    ]
    mix, report = automix(stems)
    assert mix.sample_rate == 44_100 and mix.frames == 3 * 44_100
    piano = report.stems[1]
    assert piano.resampled_from_hz == 48_000
    assert piano.padded_seconds == pytest.approx(1.0, abs=0.01)
    assert any("resampled from 48000 Hz" in n for n in report.notes)
    assert any("padded" in n for n in report.notes)


@pytest.mark.parametrize("rate", [176_400, 192_000])
def test_stems_at_the_highest_rates_mix(rate):
    # the mix's true peak was measured with an oversampler that has no phases at these rates:
    # ValueError from max() of nothing, a traceback for the user
    stems = {"bass": Audio(tone(110, rate=rate), rate), "piano": Audio(tone(440, rate=rate), rate)}
    mix, report = automix(stems)
    assert mix.sample_rate == rate
    assert report.mix_lufs == pytest.approx(-20.0, abs=0.1)
    assert report.mix_true_peak_dbtp <= -3.0 + 1e-6


def test_a_few_samples_of_padding_are_not_a_note():
    # stems from a DAW, or resampled, differ by a sample or two: "padded with 0.00 s of silence"
    stems = [
        ("bass", Audio(tone(110, seconds=3.0), RATE)),
        ("piano", Audio(tone(440, seconds=3.0)[:, :-2], RATE)),
    ]
    _, report = automix(stems)
    assert report.stems[1].padded_seconds == 0.0
    assert not any("padded" in note for note in report.notes)


def test_mono_stems_become_stereo_and_spread():
    stems = {
        "piano": Audio(tone(440, channels=1), RATE),
        "guitar": Audio(tone(330, channels=1), RATE),
    }
    mix, report = automix(stems)
    assert mix.channels == 2
    assert report.stems[0].pan < 0 < report.stems[1].pan


def test_an_odd_spread_part_stays_in_the_centre_so_the_sides_balance():
    alone, report = automix({"piano": Audio(tone(440, channels=1), RATE)})
    assert report.stems[0].pan == 0.0
    left, right = np.sqrt(np.mean(alone.samples**2, axis=1))
    assert left == pytest.approx(right, rel=1e-3)
    three = {name: Audio(tone(f, channels=1), RATE) for name, f in
             (("piano", 440), ("guitar", 330), ("organ", 262))}  # fmt: skip
    _, report = automix(three)
    pans = sorted(s.pan for s in report.stems)
    assert pans[0] < 0 == pans[1] < pans[2]  # one each side, one in the centre


def test_nan_refused():
    x = tone(110)
    x[0, 100] = np.nan
    with pytest.raises(AudioFormatError, match="NaN"):
        automix({"bass": Audio(x, RATE)})


def test_a_blown_up_stem_handed_in_as_an_array_is_refused_as_a_file_of_it_is():
    # the Python API checked for NaN only: a sample at +600 dBFS (a plugin that blew up) was
    # balanced 600 dB down and its part silently lost
    x = tone(110)
    x[0, RATE // 2] = 1e30
    drums = Audio(tone(3000), RATE)
    with pytest.raises(
        AudioFormatError, match=r"'bass' holds a sample at \+600 dBFS \(at 0\.50 s\)"
    ):
        automix({"drums": drums, "bass": Audio(x, RATE)})


def test_three_channels_refused():
    with pytest.raises(AudioFormatError, match="3 channels"):
        automix({"bass": Audio(np.zeros((3, RATE), np.float32), RATE)})


def test_inputs_unchanged(pop_stems):
    copies = [a.samples.copy() for _, a in pop_stems]
    automix(pop_stems)
    for (_, a), c in zip(pop_stems, copies, strict=True):
        np.testing.assert_array_equal(a.samples, c)


def test_a_polarity_inverted_copy_is_named_as_cancelling(rng):
    # a part exported twice, once flipped (or a snare's bottom mic left unflipped): the two all
    # but vanish from the mix, while the table showed each at a healthy level
    chord = tone(262, 2.0) + tone(330, 2.0) + 0.01 * rng.standard_normal((2, 2 * RATE))
    _, report = automix(
        [("keys.wav", Audio(chord, RATE)), ("keys copy.wav", Audio(-chord, RATE)),
         ("bass.wav", Audio(tone(55, 2.0, -14.0), RATE))]
    )  # fmt: skip
    cancel = [n for n in report.notes if "cancel each other" in n]
    assert len(cancel) == 1 and cancel[0].startswith("keys")
    assert "keys.wav" in cancel[0] and "keys copy.wav" in cancel[0]
    assert "bass.wav" not in cancel[0]


def test_stems_that_cancel_to_silence_are_not_called_silent():
    # the note said "Every stem is silent" of two loud stems, one the other flipped
    bass = tone(55, 2.0, -14.0)
    _, report = automix([("bass.wav", Audio(bass, RATE)), ("bass 2.wav", Audio(-bass, RATE))])
    assert report.mix_lufs is None
    assert not [n for n in report.notes if "Every stem is silent" in n]
    assert [n for n in report.notes if "cancel each other out: nothing in their sum" in n]
    assert [n for n in report.notes if "together they are silent" in n]


def test_a_song_whose_stems_do_not_cancel_gets_no_such_note(pop_stems):
    _, report = automix(pop_stems)
    assert not [n for n in report.notes if "cancel" in n]


def test_many_long_stems_are_mixed_without_holding_each_three_times(rng):
    # a session of 12 four-minute stems took 4.6 GB: every stem was held as read, as prepared
    # and as finished until the sum; each is now let go once it is in the sum
    import tracemalloc

    names = ["kick", "snare", "bass", "gtr L", "gtr R", "keys", "pad", "lead vox"]
    stems = []
    for k, name in enumerate(names):
        x = tone(55 * 2 ** (k / 2), seconds=20.0, level_db=-20 - k)
        x += 0.01 * rng.standard_normal(x.shape).astype(np.float32)
        stems.append((name, Audio(x, RATE)))
    size = sum(a.samples.nbytes for _, a in stems)
    tracemalloc.start()
    try:
        automix(stems)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2.4 * size  # it was 3.2 times the stems; now 1.8


def test_stems_read_from_files_are_held_about_once(tmp_path, rng):
    # bandmate mix held every stem twice, as read and as prepared, until the end: a session of
    # 24 five-minute stems is 2.8 GB at 48 kHz. Each is now let go once it is prepared.
    import tracemalloc

    import soundfile as sf

    from bandmate.mix.automix import automix_files

    size = 0
    for k, name in enumerate(["kick", "snare", "bass", "guitar", "organ", "keys", "pad", "vox"]):
        x = tone(55 * 2 ** (k / 2), seconds=12.0, level_db=-20 - k)
        x += 0.01 * rng.standard_normal(x.shape).astype(np.float32)
        sf.write(tmp_path / f"{name}.wav", x.T, RATE, subtype="FLOAT")
        size += x.astype(np.float32).nbytes
    tracemalloc.start()
    try:
        automix_files([tmp_path], tmp_path.parent / "mix.wav")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2.4 * size  # it was 2.9 times the stems; now 2.0, most of it one stem's work


def test_progress_is_reported_per_stem_and_a_stop_leaves_no_mix(tmp_path):
    import soundfile as sf

    stems = tmp_path / "stems"
    stems.mkdir()
    for k, name in enumerate(["bass", "keys", "pad"]):
        sf.write(stems / f"{name}.wav", tone(110 * (k + 1), seconds=2.0).T, RATE)
    calls = []
    automix_files([stems], tmp_path / "mix.wav", progress=lambda d, t: calls.append((d, t)))
    assert calls[0] == (0, 6) and calls[-1] == (6, 6)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)

    class Stop(BaseException):
        pass

    def stop(done, total):
        if done:
            raise Stop

    with pytest.raises(Stop):
        automix_files([stems], tmp_path / "again.wav", progress=stop)
    assert not (tmp_path / "again.wav").exists()
