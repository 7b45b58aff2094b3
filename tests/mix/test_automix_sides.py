"""Automix on a stereo track exported as two mono files ("Audio 1.L.wav", "Track 3_R.wav"):
where the two sides go when they are read as one part, as two parts, or at two lengths and
rates."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import resample_poly

from bandmate.io.audio import Audio, read_audio, write_audio
from bandmate.mix.automix import AutomixConfig, automix_files, stem_rows

RATE = 44_100
SECONDS = 4.0


def _t(rate: int = RATE, seconds: float = SECONDS) -> np.ndarray:
    return np.arange(int(seconds * rate)) / rate


def loop(rng) -> np.ndarray:
    """A drum loop: a noise burst every quarter second."""
    t = _t()
    return 0.3 * rng.standard_normal(len(t)) * np.exp(-(t % 0.25) * 30)


def bass_line() -> np.ndarray:
    """A bass line's notes, 0.25 s each, at 55 Hz."""
    t = _t()
    return 0.3 * np.sin(2 * np.pi * 55 * t) * (0.6 + 0.4 * np.sign(np.sin(2 * np.pi * 2 * t)))


def chords(rate: int = RATE, seconds: float = SECONDS) -> np.ndarray:
    """A keys part: a triad struck every 0.5 s."""
    t = _t(rate, seconds)
    return (
        0.1
        * sum(np.sin(2 * np.pi * 262 * r * t) for r in (1.0, 1.26, 1.5))
        * np.exp(-(t % 0.5) * 4)
    )


def mix_folder(tmp_path, stems: dict[str, Audio], **config):
    folder = tmp_path / "export"
    folder.mkdir()
    for name, audio in stems.items():
        write_audio(audio, folder / name)
    report = automix_files([folder], tmp_path / "mix.wav", config=AutomixConfig(**config))
    return report, read_audio(tmp_path / "mix.wav").samples


def guitar(rng) -> np.ndarray:
    """A strummed guitar (read as keys by its sound) on the dotted eighths, across the bass."""
    t = _t()
    strings = sum(np.sin(2 * np.pi * f * t) for f in (330, 415, 494, 659, 831))
    return 0.05 * (strings + 0.05 * rng.standard_normal(len(t))) * np.exp(-((t + 0.1) % 0.375) * 6)


def low_end_left_over_right_db(mix) -> float:
    """How many dB the 50-60 Hz band (the bass) is louder on the left than on the right."""
    spectrum = np.abs(np.fft.rfft(mix, axis=1)) ** 2
    low = spectrum[:, 50 * int(SECONDS) : 60 * int(SECONDS)].sum(axis=1)
    return float(10 * np.log10(low[0] / low[1]))


@pytest.mark.parametrize(
    "names", [("Audio 1.L.wav", "Audio 1.R.wav"), ("Track 3_L.wav", "Track 3_R.wav")]
)
def test_an_unnamed_tracks_sides_read_as_two_parts_are_each_placed_by_role_and_said(
    rng, tmp_path, names
):
    # a bass DI on an unnamed track's left side and a guitar on its right read as two parts:
    # the bass, a centred role, stays in the centre (kept hard left, its low end was 19 dB
    # louder there), and the guitar keeps its side, as the track had it
    left, right = names
    stems = {
        left: Audio(bass_line().astype(np.float32), RATE),
        right: Audio(guitar(rng).astype(np.float32), RATE),
        "Drums.wav": Audio(loop(rng).astype(np.float32), RATE),
    }
    report, mix = mix_folder(tmp_path, stems)
    by_name = {s.name: s for s in report.stems}
    assert by_name[left].role == "bass" and by_name[right].role != "bass"
    assert (by_name[left].pan, by_name[right].pan) == (0.0, 1.0)
    assert by_name[left].highpass_hz is None  # still balanced and filtered as the bass it is
    (note,) = [n for n in report.notes if n.startswith(f"{left} and {right} are one track's")]
    assert "the bass in the centre" in note and "hard right" in note
    assert note.count(". ") == 0  # one sentence
    assert abs(low_end_left_over_right_db(mix)) < 1.0


def test_an_unnamed_tracks_sides_of_two_centred_parts_are_both_centred(rng, tmp_path):
    stems = {
        "Audio 1.L.wav": Audio(loop(rng).astype(np.float32), RATE),
        "Audio 1.R.wav": Audio(bass_line().astype(np.float32), RATE),
        "Keys.wav": Audio(chords().astype(np.float32), RATE),
    }
    report, mix = mix_folder(tmp_path, stems)
    left, right, _ = report.stems
    assert (left.role, right.role, left.pan, right.pan) == ("drums", "bass", 0.0, 0.0)
    assert abs(low_end_left_over_right_db(mix)) < 1.0


@pytest.mark.parametrize(
    ("noise", "amplitude"), [("hiss", 0.001), ("hiss", 0.00316), ("hum", 0.003), ("hum", 0.01)]
)
def test_a_mono_bass_recorded_into_a_stereo_track_beside_noise_is_a_centred_mono_part(
    rng, tmp_path, noise, amplitude
):
    # one side of the track holds the bass, the other only its input's hiss (-60 dBFS) or a
    # mains hum: read as two parts (bass and pad), the bass went hard left and the hiss was
    # raised 24 dB as a pad. Hiss at -50 dBFS, 26.5 dB under the bass (under the 30 dB that
    # makes a side noise by its level alone), and a hum 26 dB under it were raised 16.5 and 24
    # dB as parts: their sound says they are noise
    t = _t()
    hiss = (
        amplitude * rng.standard_normal(len(t))
        if noise == "hiss"
        else amplitude * np.sin(2 * np.pi * 60 * t)
    )
    stems = {
        "Audio 1.L.wav": Audio(bass_line().astype(np.float32), RATE),
        "Audio 1.R.wav": Audio(hiss.astype(np.float32), RATE),
        "Drums.wav": Audio(loop(rng).astype(np.float32), RATE),
        "Keys.wav": Audio(chords().astype(np.float32), RATE),
    }
    report, mix = mix_folder(tmp_path, stems)
    by_name = {s.name: s for s in report.stems}
    bass, noise = by_name["Audio 1.L.wav"], by_name["Audio 1.R.wav"]
    assert bass.role == "bass" and bass.pan == 0.0
    assert abs(low_end_left_over_right_db(mix)) < 1.0
    # the hiss keeps its distance under the bass
    gap = bass.loudness_before_lufs - noise.loudness_before_lufs
    assert bass.loudness_after_lufs - noise.loudness_after_lufs >= gap - 1.0
    (note,) = [n for n in report.notes if "Audio 1.R.wav" in n]
    assert "mono bass part in the centre" in note
    assert not any("are one track's two sides" in n for n in report.notes)
    # the report says what it is, not the part it was read as
    assert noise.role == "noise"
    (row,) = [r for r in stem_rows(report) if r[0] == "Audio 1.R.wav"]
    assert row[1].startswith("noise")


@pytest.mark.parametrize(("track", "role"), [("Gtr 2", "guitar"), ("Audio 1", "pad")])
def test_the_note_on_a_noise_side_suggests_the_role_its_name_gives(rng, tmp_path, track, role):
    # the note said --role '<side>=pad' whatever the track was named, where the note on a stem
    # of noise suggests the role its name gives
    t = _t()
    stems = {
        f"{track}.L.wav": Audio(chords().astype(np.float32), RATE),
        f"{track}.R.wav": Audio((0.001 * rng.standard_normal(len(t))).astype(np.float32), RATE),
        "Drums.wav": Audio(loop(rng).astype(np.float32), RATE),
        "Bass.wav": Audio(bass_line().astype(np.float32), RATE),
    }
    report, _ = mix_folder(tmp_path, stems)
    (note,) = [n for n in report.notes if n.startswith(f"{track}.L.wav's right side")]
    assert f"--role '{track}.R={role}'" in note


def test_a_faint_side_given_a_role_by_its_own_name_is_a_part_and_by_the_tracks_is_noise(
    rng, tmp_path
):
    # a role given for the faint side itself was not heard: it stayed noise, 31 dB under; and
    # one given for the track, as the note on a track of two parts says, raised its hiss 26 dB
    t = _t()
    stems = {
        "Audio 1.L.wav": Audio(bass_line().astype(np.float32), RATE),
        "Audio 1.R.wav": Audio((0.001 * rng.standard_normal(len(t))).astype(np.float32), RATE),
        "Drums.wav": Audio(loop(rng).astype(np.float32), RATE),
        "Keys.wav": Audio(chords().astype(np.float32), RATE),
    }
    for folder, roles, noise in [
        ("side", {"Audio 1.R": "pad"}, False),
        ("track", {"Audio 1": "bass"}, True),
    ]:
        (tmp_path / folder).mkdir()
        report, _ = mix_folder(tmp_path / folder, stems, roles=roles)
        by_name = {s.name: s for s in report.stems}
        bass, hiss = by_name["Audio 1.L.wav"], by_name["Audio 1.R.wav"]
        gap = bass.loudness_after_lufs - hiss.loudness_after_lufs
        assert any("no part" in n for n in report.notes) is noise
        assert (gap >= bass.loudness_before_lufs - hiss.loudness_before_lufs - 1.0) is noise
        assert bass.pan == 0.0  # a centred role, part or not


def test_a_tracks_sides_given_one_role_as_the_note_says_are_one_part(rng, tmp_path):
    stems = {
        "Audio 1.L.wav": Audio(loop(rng).astype(np.float32), RATE),
        "Audio 1.R.wav": Audio(bass_line().astype(np.float32), RATE),
        "Keys.wav": Audio(chords().astype(np.float32), RATE),
    }
    report, _ = mix_folder(tmp_path, stems, roles={"Audio 1": "drums"})
    left, right, _ = report.stems
    assert (left.role, right.role, left.pan, right.pan) == ("drums", "drums", -1.0, 1.0)
    assert not any("are the two sides of one track" in n for n in report.notes)


def test_a_tracks_sides_at_two_lengths_and_rates_are_one_part_hard_to_their_sides(tmp_path):
    # the right side exported at 48 kHz and cut 1 s short: still the two sides of one part
    right = resample_poly(chords(RATE, SECONDS - 1.0), 160, 147)
    stems = {
        "Piano_01.L.wav": Audio(chords().astype(np.float32), RATE),
        "Piano_01.R.wav": Audio(right.astype(np.float32), 48_000),
        "Bass.wav": Audio(bass_line().astype(np.float32), RATE),
    }
    report, _ = mix_folder(tmp_path, stems)
    _, left, right = report.stems  # (the files in name order)
    assert left.role == right.role == "keys"
    assert (left.pan, right.pan) == (-1.0, 1.0)
    assert not any("are the two sides of one track" in n for n in report.notes)
