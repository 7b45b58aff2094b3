"""Automix on a DAW export that holds the master bus beside the stems ("Main.wav", the song's
title, an unnamed "Audio 5.wav"): left out by its sound, where its name does not say it; and
parts that only follow others (overheads and a room mic beside the close mics, a bass amp beside
its DI) are mixed."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import butter, fftconvolve, sosfilt

from bandmate.io.audio import Audio, read_audio, write_audio
from bandmate.mix.automix import AutomixConfig, automix_files

RATE = 44_100
SECONDS = 6.0


def _t() -> np.ndarray:
    return np.arange(int(SECONDS * RATE)) / RATE


def _filtered(x, cutoff_hz, kind):
    return sosfilt(butter(4, cutoff_hz, kind, fs=RATE, output="sos"), x)


def kit(rng) -> dict[str, np.ndarray]:
    """A kit's close mics: a kick on the beat, a snare on 2 and 4, eighth-note hats, and a crash
    each bar that only the overheads and the room hear."""
    t = _t()
    kick = 0.5 * np.sin(2 * np.pi * 55 * t * (1 + 0.5 * np.exp(-(t % 0.5) * 30)))
    kick *= np.exp(-(t % 0.5) * 12)
    snare = 0.2 * rng.standard_normal(len(t)) * np.exp(-((t - 0.25) % 0.5) * 20) * (t % 1 >= 0.5)
    hats = 0.1 * _filtered(rng.standard_normal(len(t)), 7000, "hp") * np.exp(-(t % 0.25) * 40)
    crash = 0.08 * _filtered(rng.standard_normal(len(t)), 4000, "hp") * np.exp(-(t % 2.0) * 1.5)
    return {"kick": kick, "snare": snare, "hats": hats, "crash": crash}


def band(rng) -> dict[str, np.ndarray]:
    """A band's parts, mono: drums (one stem), a bass DI, keys and a lead line."""
    t = _t()
    pieces = kit(rng)
    pulse = 0.6 + 0.4 * np.sign(np.sin(2 * np.pi * 2 * t))
    return {
        "drums": sum(pieces.values()),
        "bass": 0.3 * np.sin(2 * np.pi * 55 * t + 0.3 * np.sin(2 * np.pi * 0.5 * t)) * pulse,
        "keys": 0.1
        * sum(np.sin(2 * np.pi * 262 * r * t) for r in (1, 1.26, 1.5))
        * np.exp(-(t % 0.5) * 4),
        "lead": 0.2
        * np.sin(2 * np.pi * 440 * t * (1 + 0.01 * np.sin(2 * np.pi * 5 * t)))
        * (0.5 + 0.5 * np.sin(2 * np.pi * 0.7 * t) ** 2),
    }


def master_bus(x: np.ndarray) -> np.ndarray:
    """The sum as a master chain prints it: a 30 Hz high-pass, a soft limiter, 64 samples late."""
    x = np.tanh(2 * _filtered(x, 30, "hp")) / 2
    return np.roll(x, 64)


def write(folder, stems: dict[str, np.ndarray]):
    folder.mkdir()
    for name, x in stems.items():
        write_audio(Audio(np.asarray(x, np.float32), RATE), folder / name)
    return folder


def mixed(folder, out, **config):
    report = automix_files([folder], out, config=AutomixConfig(**config))
    return report, read_audio(out).samples


def named_band(rng) -> dict[str, np.ndarray]:
    parts = band(rng)
    return {f"{k + 1:02d}-{name.title()}.wav": x for k, (name, x) in enumerate(parts.items())}


@pytest.mark.parametrize("bus", ["Main.wav", "Summer Nights.wav", "Audio 5.wav"])
def test_a_master_bus_whatever_its_name_is_left_out_and_said(rng, tmp_path, bus):
    # a master bus bounced beside the stems ("Main", the song's title, an unnamed track) was
    # mixed in as one more part: every part in it twice
    stems = named_band(rng)
    alone, alone_mix = mixed(write(tmp_path / "stems", stems), tmp_path / "alone.wav")
    stems[bus] = master_bus(sum(stems.values()))
    report, mix = mixed(write(tmp_path / "export", stems), tmp_path / "mix.wav")
    assert [s.name for s in report.stems] == [s.name for s in alone.stems]
    (note,) = [n for n in report.notes if n.startswith(f"Left out {bus}:")]
    assert "sum of the other stems" in note and f"--level '{bus}=-10'" in note
    np.testing.assert_array_equal(mix, alone_mix)


def test_a_master_bus_through_a_compressor_and_limiter_is_left_out(rng, tmp_path):
    # the chain's gain riding every band together (12 dB into a 4:1 compressor and a limiter)
    # took a plain correlation of the envelopes down to 0.84, and the print was mixed in
    from pedalboard import Compressor, HighShelfFilter, Limiter, Pedalboard

    stems = named_band(rng)
    chain = Pedalboard(
        [
            HighShelfFilter(8000, 3),
            Compressor(threshold_db=-12, ratio=4, attack_ms=10, release_ms=100),
            Limiter(threshold_db=-12),
        ]
    )
    stems["Main.wav"] = chain(np.float32(sum(stems.values()))[None], RATE)[0]
    report, _ = mixed(write(tmp_path / "export", stems), tmp_path / "mix.wav")
    assert "Main.wav" not in [s.name for s in report.stems]
    assert any(n.startswith("Left out Main.wav: its sound is the sum") for n in report.notes)


def test_a_master_bus_split_into_two_sides_is_left_out(rng, tmp_path):
    stems = named_band(rng)
    bus = master_bus(sum(stems.values()))
    stems["Song Bounce v2.L.wav"] = bus
    stems["Song Bounce v2.R.wav"] = 0.9 * bus
    report, _ = mixed(write(tmp_path / "export", stems), tmp_path / "mix.wav")
    assert len(report.stems) == 4
    # one note for the track, not one for each side
    (note,) = [n for n in report.notes if n.startswith("Left out Song Bounce v2.")]
    assert note.startswith("Left out Song Bounce v2.L.wav and Song Bounce v2.R.wav: their sound")
    assert note.count(". ") == 0 and note.endswith(".")


def test_a_master_bus_given_a_level_is_mixed(rng, tmp_path):
    stems = named_band(rng)
    stems["Main.wav"] = master_bus(sum(stems.values()))
    report, _ = mixed(write(tmp_path / "export", stems), tmp_path / "mix.wav", levels={"Main": -10})
    assert [s.name for s in report.stems][-1] == "Main.wav"
    assert not any("sum of the other stems" in n for n in report.notes)


def room(x: np.ndarray, rng) -> np.ndarray:
    """`x` in a room: 0.9 s of decaying noise as its response."""
    n = int(0.9 * RATE)
    response = rng.standard_normal(n) * np.exp(-np.arange(n) / RATE * 7)
    return 0.5 * fftconvolve(x, response / np.sqrt((response**2).sum()))[: len(x)]


def late(x: np.ndarray, seconds: float) -> np.ndarray:
    out = np.zeros_like(x)
    shift = int(seconds * RATE)
    out[shift:] = x[:-shift]
    return out


def test_unnamed_overheads_and_room_beside_the_close_mics_are_mixed(rng, tmp_path):
    # an unnamed kit ("Audio 1" ... "Audio 5"): the overheads and the room hear every piece,
    # but neither is the sum of the others
    pieces = kit(rng)
    overheads = late(0.05 * pieces["kick"] + 0.5 * pieces["snare"] + 0.8 * pieces["hats"], 0.003)
    stems = [
        pieces["kick"],
        pieces["snare"],
        pieces["hats"],
        overheads + pieces["crash"],
        room(sum(pieces.values()), rng),
    ]
    folder = write(tmp_path / "kit", {f"Audio {k + 1}.wav": x for k, x in enumerate(stems)})
    report, _ = mixed(folder, tmp_path / "mix.wav")
    assert len(report.stems) == 5
    assert not any("sum of the other stems" in n for n in report.notes)


def test_an_unnamed_bass_amp_beside_its_di_is_mixed(rng, tmp_path):
    # the amp follows its DI closely, and the DI the amp: neither is a mix of the session
    parts = band(rng)
    amp = 0.3 * np.tanh(3 * _filtered(parts["bass"], 800, "lp"))
    stems = {"Audio 1.wav": parts["bass"], "Audio 2.wav": amp, "Audio 3.wav": parts["keys"]}
    report, _ = mixed(write(tmp_path / "export", stems), tmp_path / "mix.wav")
    assert len(report.stems) == 3
    assert not any("sum of the other stems" in n for n in report.notes)


def piano_hands() -> tuple[np.ndarray, np.ndarray]:
    """A piano's two spot mics: the low notes (read as bass by their sound) and the high."""
    t = _t()

    def notes(freqs, period_s, phase_s, decay):
        at = t - phase_s
        which = (at // period_s).astype(int) % len(freqs)
        tones = [sum(np.sin(2 * np.pi * f * h * t) / h for h in (1, 2, 3, 4)) for f in freqs]
        return np.exp(-(at % period_s) * decay) * np.choose(which, tones)

    low = 0.3 * notes([65, 73, 82, 98], 0.5, 0.0, 4)
    high = 0.15 * notes([523, 587, 659, 784, 880], 0.25, 0.125, 8)
    return low, high


def test_a_pianos_room_mic_beside_its_spot_mics_is_mixed(rng, tmp_path):
    # the room mic hears both spots, a little late and in a room: its levels follow their sum
    # as a bounce of the mix would (1.7 dB), and it was left out
    low, high = piano_hands()
    ambience = late(low + high, 0.004)
    stems = {
        "Audio 1.wav": low,
        "Audio 2.wav": high,
        "Audio 3.wav": ambience + 0.3 * room(ambience, rng),
    }
    report, _ = mixed(write(tmp_path / "piano", stems), tmp_path / "mix.wav")
    assert len(report.stems) == 3
    assert not any("sum of the other stems" in n for n in report.notes)


def test_a_drum_exports_parallel_compression_bus_is_mixed(rng, tmp_path):
    # a drums-only export: the close mics and a parallel-compressed "Smash" of them, which a
    # producer blends in; it followed their sum, and was left out as a master bus
    from pedalboard import Compressor, Pedalboard

    pieces = kit(rng)
    close = pieces["kick"] + pieces["snare"] + pieces["hats"]
    smash = Pedalboard([Compressor(threshold_db=-30, ratio=10, attack_ms=1, release_ms=80)])
    stems = {
        "Kick.wav": pieces["kick"],
        "Snare.wav": pieces["snare"],
        "Hats.wav": pieces["hats"],
        "Smash.wav": 2 * smash(np.float32(close)[None], RATE)[0],
    }
    report, _ = mixed(write(tmp_path / "drums", stems), tmp_path / "mix.wav")
    assert "Smash.wav" in [s.name for s in report.stems]
    assert not any("sum of the other stems" in n for n in report.notes)


@pytest.mark.parametrize("late_ms", [5.0, 20.0])
def test_a_master_bus_printed_late_through_a_look_ahead_limiter_is_left_out(rng, tmp_path, late_ms):
    # a look-ahead limiter prints the bus 5 ms late or more: its 20 ms band levels moved 2.9 dB
    # from the sum's, past the 2.5 dB a mix is read within, and it was mixed in
    stems = named_band(rng)
    stems["Audio 5.wav"] = late(master_bus(sum(stems.values())), late_ms / 1000)
    report, _ = mixed(write(tmp_path / "export", stems), tmp_path / "mix.wav")
    assert "Audio 5.wav" not in [s.name for s in report.stems]
    assert any(n.startswith("Left out Audio 5.wav: its sound is the sum") for n in report.notes)


def test_a_one_shot_effect_that_is_a_slice_of_the_mix_is_mixed(rng, tmp_path):
    # an unnamed effect that sounds for the song's last second, as the mix does there (a
    # stutter or a tape stop printed from it): silent elsewhere, those frames read as a match
    stems = named_band(rng)
    shot = np.zeros(int(SECONDS * RATE))
    shot[-RATE:] = sum(stems.values())[-RATE:]
    stems["Audio 5.wav"] = shot
    report, _ = mixed(write(tmp_path / "export", stems), tmp_path / "mix.wav")
    assert "Audio 5.wav" in [s.name for s in report.stems]
    assert not any("sum of the other stems" in n for n in report.notes)


def test_two_bounces_of_the_mix_are_both_left_out(rng, tmp_path):
    # each bounce is in the other's sum, so neither held every stem alone and both were mixed in
    stems = named_band(rng)
    bus = master_bus(sum(stems.values()))
    stems["Summer Nights.wav"] = bus
    stems["Summer Nights v2.wav"] = 0.8 * np.tanh(1.5 * bus)
    report, _ = mixed(write(tmp_path / "export", stems), tmp_path / "mix.wav")
    assert len(report.stems) == 4
    assert sum(n.startswith("Left out Summer Nights") for n in report.notes) == 2


def test_a_master_bus_printed_with_a_fade_out_the_stems_lack_is_left_out(rng, tmp_path):
    # a bounce that fades out, 40 dB a second from 3.6 s of 6 (a producer's export): the
    # fade's tail, 40 dB under the bus's loudest from 4.6 s, is silence to the check, 17% of the
    # frames it reads, and the bus (more than 10% silent) was mixed in, every part twice
    stems = named_band(rng)
    t = _t()
    fade = 10 ** (-40 * np.maximum(t - 3.6, 0.0) / 20)
    stems["Summer Nights.wav"] = master_bus(sum(stems.values())) * fade
    report, _ = mixed(write(tmp_path / "export", stems), tmp_path / "mix.wav")
    assert "Summer Nights.wav" not in [s.name for s in report.stems]
