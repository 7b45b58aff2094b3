"""Stems whose names say nothing ("Audio 2.wav", as a DAW exports unnamed tracks) get their role
from their sound. A bass read as keys is high-passed at 90 Hz and panned off centre: its low end
is gone. Checked here on General MIDI instruments other than the ones the rule was measured on
(the styles' parts), playing the styles' parts."""

from dataclasses import replace

import numpy as np
import pytest

from bandmate.arrange.backing import backing
from bandmate.arrange.style import load_style
from bandmate.io.audio import Audio
from bandmate.mix.automix import automix
from bandmate.mix.roles import detect_role_from_content
from bandmate.render import render_stems

CHART = "| C | Am | F | G | C | F | G | C |"


def part_as(style_name: str, part: str, programs) -> list[Audio]:
    """`style_name`'s `part` over `CHART`, played by each of `programs` (GM; drum kits for a
    drum part)."""
    score = backing(CHART, style=load_style(style_name), seed=3, intro=False, ending=False)
    track = next(t for t in score.tracks if t.name == part)
    tracks = tuple(replace(track, name=f"{part} {p}", program=p) for p in programs)
    return render_stems(score.replace(tracks=tracks))


@pytest.mark.parametrize("style_name", ["pop", "country", "reggae"])
def test_a_bass_is_a_bass_whatever_its_sound(style_name):
    """Acoustic, fingered, picked, fretless and synth basses (the old rule read the picked and
    fingered basses of these styles as keys: under half their energy is below 150 Hz)."""
    basses = part_as(style_name, "Bass", [32, 33, 34, 35, 38, 39])
    roles = [detect_role_from_content(a.samples, a.sample_rate) for a in basses]
    assert roles == ["bass"] * len(basses)


def test_kits_are_drums_and_chords_are_not():
    kits = part_as("rock", "Drums", [0, 8, 16, 24, 25])  # standard, room, power, electronic, 808
    assert [detect_role_from_content(a.samples, a.sample_rate) for a in kits] == ["drums"] * 5
    # strummed and picked guitars, the old rule's drums (many onsets, a bright spectrum)
    guitars = part_as("samba", "Guitar", [24, 25, 26])
    roles = [detect_role_from_content(a.samples, a.sample_rate) for a in guitars]
    assert "drums" not in roles and "bass" not in roles, roles
    organs = part_as("rock", "Organ", [16, 17, 18])  # a 16' stop: as much low end as a bass
    roles = [detect_role_from_content(a.samples, a.sample_rate) for a in organs]
    assert "bass" not in roles, roles


def test_an_unnamed_bass_keeps_its_low_end_in_the_mix():
    bass, piano = part_as("country", "Bass", [34])[0], part_as("country", "Piano", [0])[0]
    mix, report = automix([("Audio 1.wav", bass), ("Audio 2.wav", piano)])
    assert report.stems[0].role == "bass"
    spectrum = np.abs(np.fft.rfft(mix.samples[0]))
    freqs = np.fft.rfftfreq(mix.frames, 1 / mix.sample_rate)
    low = np.sum(spectrum[freqs < 90] ** 2) / np.sum(spectrum**2)
    assert low > 0.08, low  # 0.11; read as keys and high-passed at 90 Hz, 0.03


def test_a_few_samples_get_a_role_not_an_error(rng):
    # the partials' range (80 Hz-4 kHz) holds no bin of a spectrum of 5 or 10 samples
    for frames in (5, 10, 100):
        noise = rng.standard_normal((1, frames)).astype(np.float32)
        assert detect_role_from_content(noise, 44_100) in {"pad", "keys"}
