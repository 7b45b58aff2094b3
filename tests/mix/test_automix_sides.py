"""Automix on a stereo track exported as two mono files ("Audio 1.L.wav", "Track 3_R.wav"):
where the two sides go when they are read as one part, as two parts, or at two lengths and
rates."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import resample_poly

from bandmate.io.audio import Audio, read_audio, write_audio
from bandmate.mix.automix import AutomixConfig, automix_files

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


@pytest.mark.parametrize(
    "names", [("Audio 1.L.wav", "Audio 1.R.wav"), ("Track 3_L.wav", "Track 3_R.wav")]
)
def test_an_unnamed_tracks_sides_read_as_two_parts_keep_their_sides_and_are_said(
    rng, tmp_path, names
):
    # a drum loop on an unnamed track's left side and a bass on its right read as two parts,
    # drums and bass, both centred roles: both went to the centre, the track's image collapsed
    # to mono, and nothing said so
    left, right = names
    stems = {
        left: Audio(loop(rng).astype(np.float32), RATE),
        right: Audio(bass_line().astype(np.float32), RATE),
        "Keys.wav": Audio(chords().astype(np.float32), RATE),
    }
    report, mix = mix_folder(tmp_path, stems)
    by_name = {s.name: s for s in report.stems}
    assert (by_name[left].role, by_name[right].role) == ("drums", "bass")
    assert (by_name[left].pan, by_name[right].pan) == (-1.0, 1.0)
    assert by_name[right].highpass_hz is None  # still balanced and filtered as the bass it is
    (note,) = [n for n in report.notes if n.startswith(f"{left} and {right} are the two sides")]
    assert "(drums and bass)" in note and "hard to its side" in note
    # the bass (55 Hz) sounds from the right: its band is far louder there than on the left
    spectrum = np.abs(np.fft.rfft(mix, axis=1))
    low = spectrum[:, 50 * int(SECONDS) : 60 * int(SECONDS)].sum(axis=1)
    assert low[1] > 10 * low[0]


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
