"""Automix on sessions as DAWs export them: a click track, a vocal's double, an effects return,
a role typed as a user types it."""

from __future__ import annotations

import re

import numpy as np
import pytest
import scipy.signal

from bandmate.errors import UserError
from bandmate.io.audio import Audio
from bandmate.mix.automix import AutomixConfig, automix
from bandmate.mix.roles import role_from_name

RATE = 44_100
SECONDS = 4.0


def bass() -> Audio:
    t = np.arange(int(SECONDS * RATE)) / RATE
    return Audio((0.3 * np.sin(2 * np.pi * 55 * t)).astype(np.float32), RATE)


def click() -> Audio:
    """A metronome at 120 bpm: 20 ms blips of 1.5 kHz."""
    x = np.zeros(int(SECONDS * RATE), np.float32)
    t = np.arange(int(0.02 * RATE)) / RATE
    blip = 0.9 * np.sin(2 * np.pi * 1500 * t) * np.exp(-t * 200)
    for start in range(0, len(x) - len(blip), RATE // 2):
        x[start : start + len(blip)] = blip
    return Audio(x, RATE)


def voice(rng, seconds: float = SECONDS) -> Audio:
    """A sung-like tone: harmonics of 220 Hz with vibrato and a little breath."""
    t = np.arange(int(seconds * RATE)) / RATE
    phase = 2 * np.pi * np.cumsum(220 * (1 + 0.01 * np.sin(2 * np.pi * 5.5 * t))) / RATE
    x = sum(np.sin(k * phase) / k for k in range(1, 12)) + 0.02 * rng.standard_normal(len(t))
    return Audio((0.15 * x).astype(np.float32), RATE)


def test_a_click_track_is_left_out_of_the_mix_and_said():
    alone, _ = automix([("Bass.wav", bass())])
    mixed, report = automix([("Bass.wav", bass()), ("Click.wav", click())])
    assert [s.name for s in report.stems] == ["Bass.wav"]
    assert any("Left out Click.wav" in note for note in report.notes)
    np.testing.assert_array_equal(mixed.samples, alone.samples)


@pytest.mark.parametrize(
    "name",
    ["Metronome.wav", "click_01.L.wav", "12-Click Track.wav", "Click_Track.wav", "Click-Track.wav",
     "Click Trk.wav", "Click (Metronome).wav", "Metro.wav", "Count-in Click.wav", "Count In.wav"],
)  # fmt: skip
def test_daw_names_for_a_click_are_left_out(name):
    _, report = automix([("Bass.wav", bass()), (name, click())])
    assert [s.name for s in report.stems] == ["Bass.wav"]


def test_a_click_given_a_role_is_mixed():
    _, report = automix(
        [("Bass.wav", bass()), ("Click.wav", click())],
        config=AutomixConfig(roles={"click": "drums"}),
    )
    assert [s.name for s in report.stems] == ["Bass.wav", "Click.wav"]
    assert report.stems[1].loudness_after_lufs is not None


def test_a_level_names_a_click_as_the_daw_session_shows_it():
    # the level named the track "Click" of "Click_01.wav", but the click was left out first and
    # the level then named no stem
    _, report = automix(
        [("Bass.wav", bass()), ("Click_01.wav", click())],
        config=AutomixConfig(levels={"Click": -20.0}),
    )
    assert [(s.name, s.level_from) for s in report.stems] == [
        ("Bass.wav", "model"),
        ("Click_01.wav", "given"),
    ]


def test_a_session_of_nothing_but_a_click_is_refused_with_what_to_do():
    with pytest.raises(UserError, match=re.escape("--role 'Click.wav=drums'")):
        automix([("Click.wav", click())])


@pytest.mark.parametrize("name", ["Clicky Synth.wav", "Rim Click.wav", "05-Click Perc.wav"])
def test_a_part_named_like_a_click_is_not_taken_for_one(name):
    # a drummer's rim clicks are part of the song: only a stem named as a click track is left out
    _, report = automix([("Bass.wav", bass()), (name, click())])
    assert len(report.stems) == 2


@pytest.mark.parametrize("role", ["Bass", " bass ", "BASS"])
def test_a_role_is_read_as_a_user_types_it(role):
    _, report = automix(
        [("Audio 1.wav", bass()), ("Audio 2.wav", click())],
        config=AutomixConfig(roles={"Audio 2": role}),
    )
    assert report.stems[1].role == "bass"
    assert report.stems[1].role_from == "given"


@pytest.mark.parametrize(
    "name", ["Vox Dbl.wav", "7-Vox Dbl.wav", "Lead Vocal Double.wav", "Vox_Dbl_bip.wav"]
)
def test_a_vocal_double_is_not_read_as_the_lead_vocal(name):
    assert role_from_name(name) == "pad"


@pytest.mark.parametrize("name", ["Double Bass.wav", "Gtr Dbl.wav", "Lead Vox.wav"])
def test_other_doubles_keep_their_roles(name):
    assert role_from_name(name) == {"D": "bass", "G": "guitar", "L": "vocal"}[name[0]]


def test_a_vocal_double_sits_under_the_lead_rather_than_as_loud(rng):
    # an exported double as loud as the lead was set at the lead's level: the vocal 6 dB up
    take = voice(rng)
    _, report = automix([("Vox.wav", take), ("Vox Dbl.wav", take), ("Bass.wav", bass())])
    lead, double, _ = (s.loudness_after_lufs for s in report.stems)
    assert lead - double >= 6.0


def test_a_vocal_named_as_a_double_leads_a_session_with_no_other_vocal(rng):
    # read as a backing vocal, a session's only vocal sat under the keys
    stems = [
        ("Bass.wav", bass()),
        ("Keys.wav", chords(rng)),
        ("Lead Vocal Doubled.wav", voice(rng)),
    ]
    _, report = automix(stems)
    assert report.stems[2].role == "vocal"
    _, with_lead = automix([*stems, ("Lead Vocal.wav", voice(rng))])
    assert [s.role for s in with_lead.stems[2:]] == ["pad", "vocal"]


def test_a_stereo_reverb_return_stays_in_the_centre(rng):
    # read as a pad it was panned 0.3 to one side: its left and right 4 dB apart
    wet = (0.1 * rng.standard_normal((2, int(SECONDS * RATE)))).astype(np.float32)
    t = np.arange(int(SECONDS * RATE)) / RATE
    keys = Audio((0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), RATE)
    mixed, report = automix(
        [("Keys.wav", keys), ("Verb Return.wav", Audio(wet, RATE))],
        config=AutomixConfig(roles={"Verb Return": "pad"}),
    )
    assert report.stems[1].pan == 0.0
    left, right = np.sum(mixed.samples.astype(np.float64) ** 2, axis=1)
    assert abs(10 * np.log10(left / right)) < 0.5  # the image not pulled to one side


def test_a_level_names_a_track_as_the_daw_session_shows_it():
    # Logic bounces "Lead Vox" as "Lead Vox_bip.wav"; "--level 'Lead Vox=-3'" named no stem
    t = np.arange(int(SECONDS * RATE)) / RATE
    keys = Audio((0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), RATE)
    _, report = automix(
        [("Audio 1_bip.wav", bass()), ("Keys_bip.wav", keys)],
        config=AutomixConfig(levels={"Keys": -9.0}),
    )
    bass_after, keys_after = (s.loudness_after_lufs for s in report.stems)
    assert report.stems[1].level_from == "given"
    assert keys_after - bass_after == pytest.approx(-9.0, abs=0.3)


def test_a_level_names_a_pro_tools_split_mono_pair_by_its_track_name():
    # Pro Tools exports a stereo track "Bass" as "Bass_01.L.wav" and "Bass_01.R.wav"
    t = np.arange(int(SECONDS * RATE)) / RATE
    keys = Audio((0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), RATE)

    def mixed(key):
        stems = [("Bass_01.L.wav", bass()), ("Bass_01.R.wav", bass()), ("Keys_01.wav", keys)]
        return automix(stems, config=AutomixConfig(levels={key: -10.0}))

    by_track, report = mixed("Bass")
    by_part, _ = mixed("bass_01")  # the part's name as the error message lists it
    assert [s.level_from for s in report.stems] == ["given", "given", "model"]
    np.testing.assert_array_equal(by_track.samples, by_part.samples)


def test_a_role_names_a_pro_tools_split_mono_pair_by_its_track_name():
    # roles are read before sides are paired, so "Keys" named no stem of "Keys_01.L"/".R"
    t = np.arange(int(SECONDS * RATE)) / RATE
    keys = Audio((0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), RATE)
    stems = [("Bass.wav", bass()), ("Keys_01.L.wav", keys), ("Keys_01.R.wav", keys)]
    _, report = automix(stems, config=AutomixConfig(roles={"Keys": "pad"}))
    assert [(s.role, s.role_from) for s in report.stems[1:]] == [("pad", "given")] * 2


def test_a_daw_suffix_does_not_hide_an_ambiguous_name():
    with pytest.raises(UserError, match="names 2 stems"):
        automix(
            [("Gtr_01.wav", bass()), ("Gtr_02.wav", bass())],
            config=AutomixConfig(levels={"Gtr": -3.0}),
        )


def chords(rng) -> Audio:
    """A keys part: a triad in 0.5 s strikes with a little noise, stereo."""
    t = np.arange(int(SECONDS * RATE)) / RATE
    env = np.exp(-(t % 0.5) * 4)
    x = sum(np.sin(2 * np.pi * f * t) for f in (262.0, 330.0, 392.0)) * env
    x = np.stack([x, 0.9 * x]) + 0.01 * rng.standard_normal((2, len(t)))
    return Audio((0.1 * x).astype(np.float32), RATE)


def test_a_duplicated_track_is_balanced_as_one_part_not_6_db_over(rng):
    keys = chords(rng)
    _, alone = automix([("Bass.wav", bass()), ("Keys.wav", keys)])
    _, twice = automix([("Bass.wav", bass()), ("Keys.wav", keys), ("Keys copy.wav", keys)])

    def over(report):  # the keys' level over the bass's
        return report.stems[1].loudness_after_lufs - report.stems[0].loudness_after_lufs

    # the two copies add in phase: their sum is 6 dB over each
    assert over(twice) + 6.02 == pytest.approx(over(alone), abs=0.5)
    assert twice.stems[1].pan == twice.stems[2].pan  # one part, one place
    assert any("hold the same part" in note for note in twice.notes)


def test_a_level_given_to_one_copy_sets_the_part(rng):
    # only the named copy moved: the part came out about 1 dB over the level asked for
    keys = chords(rng)
    stems = [("Bass.wav", bass()), ("Keys.wav", keys), ("Keys copy.wav", keys)]
    _, report = automix(stems, config=AutomixConfig(levels={"Keys": -3.0}))
    assert [s.level_from for s in report.stems] == ["model", "given", "given"]
    assert report.stems[1].gain_db == pytest.approx(report.stems[2].gain_db, abs=0.01)


def test_two_parts_of_one_role_are_not_taken_for_copies(rng):
    keys = chords(rng)
    t = np.arange(int(SECONDS * RATE)) / RATE
    organ = Audio((0.1 * np.sin(2 * np.pi * 196 * t)).astype(np.float32), RATE)
    _, report = automix([("Bass.wav", bass()), ("Keys.wav", keys), ("Organ Keys.wav", organ)])
    assert not any("hold the same part" in note for note in report.notes)


def session_with_a_return(rng):
    """(dry stems, the wet signal of a reverb return 20 dB under the vocal sent to it)."""
    take = voice(rng)
    tail = np.exp(-np.arange(RATE) / (0.4 * RATE)) * rng.standard_normal((2, RATE))
    dry = take.samples[0]
    wet = np.stack([scipy.signal.fftconvolve(dry, tail[c])[: len(dry)] for c in (0, 1)])
    wet *= 10 ** (-20 / 20) * np.sqrt(np.mean(take.samples**2) / np.mean(wet**2))
    stems = [("Vox.wav", take), ("Bass.wav", bass()), ("Keys.wav", chords(rng))]
    return stems, wet.astype(np.float32)


@pytest.mark.parametrize(
    "name",
    ["Verb Return.wav", "Reverb Bus.wav", "Delay Slap.wav", "Reverb (Hall).wav", "Aux B.wav"],
)
def test_a_reverb_return_keeps_its_place_against_the_stems_it_was_sent_from(rng, name):
    # balanced as a pad part, a return 20 dB under the vocal it came from came up to 10 dB under
    stems, wet = session_with_a_return(rng)
    _, report = automix([*stems, (name, Audio(wet, RATE))])
    *dry, verb = (s.gain_db for s in report.stems)
    assert verb == pytest.approx(float(np.median(dry)), abs=1.0)


def test_a_return_exported_as_two_sides_keeps_its_place_too(rng):
    # Pro Tools' "Verb Return.L"/".R" made a pair, which was balanced as a pad part: 11 dB up
    stems, wet = session_with_a_return(rng)
    _, whole = automix([*stems, ("Verb Return.wav", Audio(wet, RATE))])
    sides = [("Verb Return.L.wav", Audio(wet[0], RATE)), ("Verb Return.R.wav", Audio(wet[1], RATE))]
    _, split = automix([*stems, *sides])
    assert [s.gain_db for s in split.stems[3:]] == pytest.approx(
        [whole.stems[3].gain_db] * 2, abs=1
    )


@pytest.mark.parametrize("name", ["Aux Perc.wav", "Aux Shaker 2.wav"])
def test_a_part_named_with_an_effects_word_first_is_balanced_as_a_part(rng, name):
    # "Aux Perc" (a shaker) was kept at its level as sent, as a reverb return is: a hot one sat
    # 2.4 dB over the vocal and held the mix 2.4 LU under its target
    t = np.arange(int(SECONDS * RATE)) / RATE
    shaker = 0.5 * rng.standard_normal((2, len(t))) * np.exp(-(t % 0.25) * 40)
    stems, _ = session_with_a_return(rng)
    _, plain = automix([*stems, ("Shaker.wav", Audio(shaker.astype(np.float32), RATE))])
    _, named = automix([*stems, (name, Audio(shaker.astype(np.float32), RATE))])
    assert named.stems[3].gain_db == pytest.approx(plain.stems[3].gain_db, abs=0.5)


def test_an_fx_track_is_centred_but_balanced_as_a_part(rng):
    # "FX" is as often risers and hits as a return: a hot one kept as sent held the whole mix
    # 11 LU under its target, its peaks on the ceiling
    hits = np.zeros((2, int(SECONDS * RATE)), np.float32)
    hits[:, RATE : RATE + 2205] = 0.5 * rng.standard_normal((2, 2205))
    _, report = automix(
        [("Bass.wav", bass()), ("Keys.wav", chords(rng)), ("FX.wav", Audio(hits, RATE))],
        config=AutomixConfig(roles={"FX": "pad"}),
    )
    bass_row, _, fx = report.stems
    assert fx.pan == 0.0
    assert fx.loudness_after_lufs < bass_row.loudness_after_lufs


def test_a_return_given_a_level_takes_it(rng):
    wet = (0.05 * rng.standard_normal((2, int(SECONDS * RATE)))).astype(np.float32)
    _, report = automix(
        [("Bass.wav", bass()), ("Keys.wav", chords(rng)), ("FX.wav", Audio(wet, RATE))],
        config=AutomixConfig(levels={"FX": -12.0}),
    )
    assert report.stems[2].level_from == "given"
