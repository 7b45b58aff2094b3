"""automix on a stem, or one side of a track, that holds nothing but noise: the hiss of a track
armed and left unused, a ground loop's hum. Read by its sound as a part, it was raised to its
role's level, a blast of hiss in the mix; it stays where it came, under the parts. And the
parts that share something with noise (held, steady, broadband, low and pure, or quiet) stay
parts."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import scipy.signal

from bandmate.io.audio import Audio
from bandmate.mix.automix import AutomixConfig, automix, stem_rows
from bandmate.mix.roles import load_roles, noise_kind, role_from_name
from bandmate.render import render_stems
from tests.builders import drums, make_score, piano

RATE = 44_100
SECONDS = 6.0


def _t() -> np.ndarray:
    return np.arange(round(SECONDS * RATE)) / RATE


def _band(rng) -> dict[str, Audio]:
    """A drum loop, a bass line and keys, each at about -20 dBFS RMS."""
    t = _t()
    loop = 0.3 * rng.standard_normal(len(t)) * np.exp(-(t % 0.25) * 30)
    bass = 0.3 * np.sin(2 * np.pi * 55 * t) * (0.6 + 0.4 * np.sign(np.sin(2 * np.pi * 2 * t)))
    keys = sum(0.1 * np.sin(2 * np.pi * 262 * r * t) for r in (1.0, 1.26, 1.5))
    keys = keys * np.exp(-(t % 0.5) * 4)
    return {
        name: Audio(x[None].astype(np.float32), RATE)
        for name, x in (("Drums.wav", loop), ("Bass.wav", bass), ("Keys.wav", keys))
    }


def _at_dbfs(x: np.ndarray, rms_dbfs: float) -> Audio:
    """`x` (frames) or (channels, frames) as float32 `Audio` at `rms_dbfs` RMS."""
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    x = x * 10 ** (rms_dbfs / 20) / np.sqrt(np.mean(x**2))
    return Audio(x.astype(np.float32), RATE)


def _hiss(rng) -> np.ndarray:
    return rng.standard_normal((2, len(_t())))


def _hum() -> np.ndarray:
    """A ground loop's hum: 50 Hz and its harmonics, mono."""
    t = _t()
    return sum(np.sin(2 * np.pi * 50 * h * t) / h**1.5 for h in range(1, 12))


def _rumble(rng, seconds: float = SECONDS) -> np.ndarray:
    """A room's rumble (air handling, traffic): brown noise over 40 Hz, mono."""
    highpass = scipy.signal.butter(2, 40.0, "highpass", fs=RATE, output="sos")
    return scipy.signal.sosfilt(highpass, np.cumsum(rng.standard_normal(round(seconds * RATE))))


def _noise(rng, kind: str) -> np.ndarray:
    """Noise of `kind`, as `noise_kind` names it; hum and hiss: hiss 3 dB under the hum."""
    if kind == "hum and hiss":
        hum, hiss = _hum(), rng.standard_normal(len(_t()))
        return hum + hiss * np.sqrt(np.mean(hum**2) / 2)
    return {"hiss": _hiss, "hum": lambda _: _hum(), "rumble": _rumble}[kind](rng)


def _raised_over_band_db(report, name: str) -> float:
    """How many dB more gain the stem `name` got than the median of the band's stems: 0 where
    it stays as far under them as it came."""
    gains = {s.name: s.gain_db for s in report.stems}
    return gains[name] - float(np.median([g for n, g in gains.items() if n != name]))


@pytest.mark.parametrize(
    ("name", "noise", "dbfs"),
    [
        ("Audio 4.wav", "hiss", -55.0),
        ("Gtr 2.wav", "hiss", -60.0),
        ("Audio 4.wav", "hum", -48.0),
        ("Audio 4.wav", "late hiss", -55.0),
        ("Audio 4.wav", "hum and hiss", -48.0),
        ("Audio 4.wav", "rumble", -45.0),
    ],
)
def test_a_stem_of_nothing_but_hiss_or_hum_stays_as_far_under_the_parts_as_it_came(
    rng, name, noise, dbfs
):
    # an armed, unused track's hiss read as a pad (or, named "Gtr 2", as a guitar) was raised
    # to its role's level, 20-30 dB over where it came
    # hiss 3 dB under a hum, or a rumble, was raised 29 dB as a part, or 39 dB as a bass
    x = _noise(rng, noise.removeprefix("late "))
    if noise == "late hiss":  # its region starts 1 s in, after digital silence
        x[..., :RATE] = 0.0
        noise = "hiss"
    stem = _at_dbfs(x, dbfs)
    _, report = automix({**_band(rng), name: stem})
    assert abs(_raised_over_band_db(report, name)) < 0.5
    assert {s.name: s.role for s in report.stems}[name] == "noise"
    (note,) = [n for n in report.notes if n.startswith(name)]
    assert f"nothing but steady {noise}" in note and "--role" in note
    assert note.count(". ") == 0  # one sentence
    (row,) = [r for r in stem_rows(report) if r[0] == name]
    assert row[1].startswith("noise")
    assert report.to_dict()["stems"][-1]["role"] == "noise"


def test_a_noise_stem_given_a_role_by_its_name_is_mixed_as_that_part(rng):
    name = "Audio 4.wav"
    stems = {**_band(rng), name: _at_dbfs(_hiss(rng), -55.0)}
    _, report = automix(stems, config=AutomixConfig(roles={name: "pad"}))
    assert _raised_over_band_db(report, name) > 10.0  # raised toward a pad's level, as asked
    assert {s.name: s.role for s in report.stems}[name] == "pad"
    assert not any("nothing but steady" in n for n in report.notes)


def _rendered(track, seconds: float = SECONDS) -> np.ndarray:
    """`track` rendered by FluidSynth, cut to `seconds`."""
    (audio,) = render_stems(make_score(track, tempo_bpm=90), sample_rate=RATE)
    return audio.samples[:, : round(seconds * RATE)]


def _held(program: int, *pitches: int):
    """A track of `pitches` held together for 12 beats (8 s at 90 BPM), GM `program`."""
    return replace(piano(*[(0, 12, p) for p in pitches]), program=program)


def _synthesized(rng, kind: str) -> np.ndarray:
    t = _t()
    if kind == "pad":  # a chord held through the stem, each voice with a slow vibrato
        return sum(
            np.sin(2 * np.pi * f * t + 0.3 * np.sin(2 * np.pi * 5 * t)) for f in (220, 277, 330)
        )
    if kind == "sub":  # a held sub-bass sine, near the mains and its own partials none
        return np.sin(2 * np.pi * 49.0 * t)
    if kind == "shaker":  # sixteenths at 100 BPM, soft, no silence between them
        return rng.standard_normal(len(t)) * (0.4 + np.exp(-(t % 0.15) * 40))
    if kind == "brushes":  # a swish on every beat and a tap on 2 and 4, over a held swirl
        swish = 0.6 + 0.4 * np.sin(np.pi * t / 0.6) ** 2
        tap = np.exp(-((t - 0.6) % 1.2) * 50)
        return rng.standard_normal(len(t)) * (swish + tap)
    raise ValueError(kind)


@pytest.mark.parametrize(
    "part",
    [
        "pad",
        "sub",
        "shaker",
        "brushes",
        "organ drone",
        "string pad",
        "brush kit",
        "piano",
    ],
)
def test_a_quiet_steady_part_is_not_taken_for_noise(rng, part):
    # each shares something with hiss or hum (held and steady, broadband, low and pure) and
    # comes 25-30 dB under the band, as a floor does: its sound tells it from noise
    rendered = {
        "organ drone": lambda: _rendered(_held(19, 31, 43)),  # church organ, G1 and G2
        "string pad": lambda: _rendered(_held(48, 55, 60, 64)),
        "brush kit": lambda: _rendered(
            replace(drums(*[(b / 2, 0.5, 38) for b in range(18)]), program=40)
        ),
        "piano": lambda: _rendered(piano(*[(b, 1, 60 + b % 5) for b in range(9)])),
    }
    x = rendered[part]() if part in rendered else _synthesized(rng, part)
    name = "Audio 4.wav"
    _, report = automix({**_band(rng), name: _at_dbfs(x, -48.0)})
    assert {s.name: s.role for s in report.stems}[name] != "noise"
    assert not any("nothing but steady" in n for n in report.notes)


@pytest.mark.parametrize(
    ("name", "noise", "role"), [("Audio 4.wav", "hiss", None), ("Gtr DI.wav", "hum", "guitar")]
)
def test_a_loud_white_noise_bed_is_a_part(rng, name, noise, role):
    # a wind or noise bed used as sound design: steady, flat hiss, but among the parts' level;
    # or a hum at a part's level: a part, with its role's high-pass (it was left unfiltered,
    # +9 dB under 100 Hz for a pink bed, +6 dB at 50 Hz for a hum mixed as guitar)
    x = _hum() if noise == "hum" else _hiss(rng)
    _, report = automix({**_band(rng), name: _at_dbfs(x, -30.0)})
    (stem,) = [s for s in report.stems if s.name == name]
    assert stem.role != "noise"
    assert role is None or stem.role == role
    assert stem.highpass_hz == load_roles()[stem.role].highpass_hz
    assert stem.highpass_hz is not None and stem.highpass_hz >= 80.0
    assert not any("nothing but steady" in n for n in report.notes)


# F4, E5, F5, E6: each partial of a held note lies within a hair of a harmonic of 50 or 60 Hz
# (F4 349.2 Hz, 7 x 49.9), and a held choir "ooh" or ocarina on one was taken for hum
HELD_ON_THE_MAINS_COMB = {"F4": 65, "E5": 76, "F5": 77, "E6": 88}


@pytest.mark.parametrize("voice", ["sine", "voice oohs", "ocarina"])
@pytest.mark.parametrize("note", sorted(HELD_ON_THE_MAINS_COMB))
def test_a_held_note_on_the_mains_comb_is_no_hum(voice, note):
    pitch = HELD_ON_THE_MAINS_COMB[note]
    if voice == "sine":
        x = np.sin(2 * np.pi * 440.0 * 2 ** ((pitch - 69) / 12) * _t())[None]
    else:
        x = _rendered(_held({"voice oohs": 53, "ocarina": 79}[voice], pitch))
    assert noise_kind(x.astype(np.float32), RATE) is None


@pytest.mark.parametrize("hum", ["50 Hz", "60 Hz", "50.3 Hz", "buzz", "clipped"])
def test_mains_hum_and_buzz_are_hum(hum):
    t = _t()
    x = {
        "50 Hz": _hum(),
        "60 Hz": sum(np.sin(2 * np.pi * 60 * h * t) / h**1.5 for h in range(1, 12)),
        "50.3 Hz": sum(np.sin(2 * np.pi * 50.3 * h * t) / h**1.5 for h in range(1, 12)),
        "buzz": sum(np.sin(2 * np.pi * 50 * h * t) / h for h in range(1, 40)),
        "clipped": np.clip(5 * np.sin(2 * np.pi * 60 * t), -1, 1),
    }[hum]
    assert noise_kind(np.asarray(x, np.float32)[None], RATE) == "hum"


@pytest.mark.parametrize(("hiss", "under_db"), [("white", 0.0), ("white", 5.0), ("pink", 3.0)])
def test_hum_over_hiss_is_hum_and_hiss(rng, hiss, under_db):
    # the hiss took the hum's share of the energy under 80%, and its peaks made the spectrum
    # no hiss's: a part
    noise = rng.standard_normal(len(_t()))
    if hiss == "pink":
        noise = scipy.signal.lfilter([1.0], [1.0, -0.9], noise)
    hum = _hum()
    x = hum + noise * np.sqrt(np.mean(hum**2) / np.mean(noise**2)) * 10 ** (-under_db / 20)
    assert noise_kind(x.astype(np.float32)[None], RATE) == "hum and hiss"


@pytest.mark.parametrize(("seed", "late_s"), [(0, 0), (1, 0), (2, 0), (3, 0), (4, 8), (5, 14)])
def test_a_rumble_is_rumble(seed, late_s):
    # over 100 Hz or so, a noise's level reads unsteady at 400 ms and jumps at 10 ms for its own
    # randomness (a rumble over 40 Hz held as steady in 5 of 20 takes): it is read through its
    # first difference, once its samples say it is Gaussian noise -- not counting the digital
    # silence before a region that starts late (its kurtosis 3 / (1 - share of silence)), and
    # read from the middle of the region, not of the stem (which held only silence)
    x = _rumble(np.random.default_rng(seed), seconds=20.0)
    x[: round(late_s * RATE)] = 0.0
    assert noise_kind(x.astype(np.float32)[None], RATE) == "rumble"


def test_pink_noise_to_1_hz_is_hiss(rng):
    # 39% of its energy lies under 31 Hz, where nothing is heard as a rumble: counted, it was
    # named rumble in the note
    spectrum = np.fft.rfft(rng.standard_normal(len(_t())))
    freqs = np.fft.rfftfreq(len(_t()), 1 / RATE)
    x = np.fft.irfft(spectrum / np.sqrt(np.maximum(freqs, 1.0)), len(_t()))
    assert noise_kind(x.astype(np.float32)[None], RATE) == "hiss"


def test_a_kick_over_its_hiss_floor_is_no_rumble(rng):
    # through its first difference a kick's thumps sink under a hiss 15 dB under it, and its
    # spectrum is smooth: its samples, a Gaussian noise's kurtosis 3 against its 20, keep it a
    # part
    x = _rendered(drums(*[(b, 1, 36) for b in range(12)]))
    x = x + np.sqrt(np.mean(x**2)) * 10 ** (-15 / 20) * rng.standard_normal(x.shape)
    assert noise_kind(x.astype(np.float32), RATE) is None


def test_a_part_resting_through_the_middle_over_its_hiss_is_no_noise(rng):
    # a synth bass playing the first and last 6 s of 24 over its hiss floor 20 dB under: the
    # middle 8 s, where the noise test reads a sample, hold only the hiss, and the part was
    # taken for hiss (its raw levels span 24 dB, through its first difference 0.2 dB)
    notes = [(b / 2, 0.5, 40 + 5 * (b % 3)) for b in (*range(18), *range(54, 72))]
    x = _rendered(replace(piano(*notes), program=38), seconds=24.0)
    x = x + np.sqrt(np.mean(x**2)) * 0.1 * rng.standard_normal(x.shape)
    assert noise_kind(x.astype(np.float32), RATE) is None


def test_a_quiet_held_ooh_on_f4_is_raised_as_a_part(rng):
    # a held choir "ooh" on F4 at -42 dBFS was called noise and left 15 dB too quiet
    name = "Oohs.wav"
    x = _rendered(_held(53, HELD_ON_THE_MAINS_COMB["F4"]))
    _, report = automix({**_band(rng), name: _at_dbfs(x, -42.0)})
    assert {s.name: s.role for s in report.stems}[name] != "noise"
    assert _raised_over_band_db(report, name) > 8.0
    assert not any("nothing but steady" in n for n in report.notes)


def test_noise_kept_under_the_meters_gate_shows_its_gain(rng):
    # a hot band moves an unused track's hiss under the meter's -70 LUFS gate: its row read
    # "silent" with gain "-" (JSON gain_db null) though it is in the mix
    name = "Audio 4.wav"
    band = {k: replace(v, samples=v.samples * np.float32(4)) for k, v in _band(rng).items()}
    _, report = automix({**band, name: _at_dbfs(_hiss(rng), -66.0)})
    (row,) = [r for r in stem_rows(report) if r[0] == name]
    assert row[1].startswith("noise") and row[2] != "-" and row[5] != "silent"
    (stem,) = [s for s in report.to_dict()["stems"] if s["name"] == name]
    assert stem["gain_db"] is not None and stem["loudness_after_lufs"] < -70.0
    assert abs(_raised_over_band_db(report, name)) < 0.5


@pytest.mark.parametrize("name", ["Drums Room.wav", "Gtr 2.wav"])
def test_noise_on_a_named_stem_is_said_heard_and_suggests_the_names_role(rng, name):
    # the note said --role '<stem>=pad' whatever the name, and the table's bare "noise" read
    # as if the name had said noise
    named = role_from_name(name, load_roles())
    _, report = automix({**_band(rng), name: _at_dbfs(_hiss(rng), -55.0)})
    (row,) = [r for r in stem_rows(report) if r[0] == name]
    assert row[1] == "noise (content)"
    assert report.to_dict()["stems"][-1]["role_from"] == "content"
    (note,) = [n for n in report.notes if n.startswith(name)]
    assert named not in (None, "pad") and f"'{name[:-4]}={named}'" in note
