"""Automix on what a DAW export holds beside the parts: cue, talkback and reference mixes, and
one side of a stereo pair without the other."""

from __future__ import annotations

import re

import numpy as np
import pytest

from bandmate.errors import UserError
from bandmate.io.audio import Audio
from bandmate.mix.automix import AutomixConfig, automix

RATE = 44_100
SECONDS = 4.0


def bass() -> Audio:
    t = np.arange(int(SECONDS * RATE)) / RATE
    return Audio((0.3 * np.sin(2 * np.pi * 55 * t)).astype(np.float32), RATE)


def chords(rng, root_hz: float = 262.0) -> Audio:
    """A keys part: a triad struck every 0.5 s with a little noise, mono."""
    t = np.arange(int(SECONDS * RATE)) / RATE
    env = np.exp(-(t % 0.5) * 4)
    x = sum(np.sin(2 * np.pi * root_hz * r * t) for r in (1.0, 1.26, 1.5)) * env
    x = x + 0.01 * rng.standard_normal(len(t))
    return Audio((0.1 * x).astype(np.float32), RATE)


def session(rng) -> list[tuple[str, Audio]]:
    return [("Bass.wav", bass()), ("Keys.wav", chords(rng))]


def sum_of(stems) -> Audio:
    """A cue or rough mix: the stems summed, mono."""
    return Audio(np.sum([a.samples for _, a in stems], axis=0).astype(np.float32), RATE)


@pytest.mark.parametrize(
    "name",
    ["Cue Mix.wav", "Headphone Mix.wav", "Monitor Mix_01.wav", "Talkback.wav", "Rough Mix.wav",
     "Bounce.wav", "Print.wav", "2 Mix.wav", "Stereo Out.wav", "HP Mix 2.wav", "Master.wav",
     "Master_01.wav", "Reference.wav", "Ref.wav"],
)  # fmt: skip
def test_a_cue_talkback_or_reference_mix_is_left_out_and_said(rng, name):
    # a "Cue Mix" (the band summed for the players' headphones) was balanced as a drum part,
    # every part in it doubled
    stems = session(rng)
    alone, _ = automix(stems)
    mixed, report = automix([*stems, (name, sum_of(stems))])
    assert [s.name for s in report.stems] == ["Bass.wav", "Keys.wav"]
    assert any(note.startswith(f"Left out {name}:") for note in report.notes)
    np.testing.assert_array_equal(mixed.samples, alone.samples)


@pytest.mark.parametrize(
    "name",
    ["Bass Print.wav", "Vox Bounce.wav", "Mix Bus Perc.wav", "Drum Bus.wav", "Cue Bells.wav"],
)
def test_a_part_named_with_a_mix_word_is_mixed(rng, name):
    # a part's print or a part summed on a bus is music: only the whole track name counts
    _, report = automix([*session(rng), (name, chords(rng, 330.0))])
    assert len(report.stems) == 3
    assert report.stems[2].loudness_after_lufs is not None


@pytest.mark.parametrize("name", ["Main.wav", "Mains_2.wav"])
def test_a_part_named_by_a_bare_mix_word_that_sums_nothing_is_mixed_and_said(rng, name):
    # "Vocals/Main.wav", the lead vocal, was left out as a master bus by its name alone
    t = np.arange(int(SECONDS * RATE)) / RATE
    lead = 0.2 * np.sin(2 * np.pi * 330 * t) * (1 + 0.5 * np.sin(2 * np.pi * 3 * t))
    _, report = automix([*session(rng), (name, Audio(lead.astype(np.float32), RATE))])
    assert [s.name for s in report.stems][2] == name
    assert report.stems[2].loudness_after_lufs is not None
    assert any(n.startswith(f"{name} is named as a master bus may be") for n in report.notes)


@pytest.mark.parametrize("name", ["Cued.wav", "Bounced.wav", "Maina.wav", "Mixb.wav"])
def test_a_mix_word_with_a_letter_run_on_is_a_part(rng, name):
    # (a part's sound: one that sums the others is left out whatever its name, test_automix_bus)
    _, report = automix([*session(rng), (name, chords(rng, 330.0))])
    assert [s.name for s in report.stems][2] == name


def test_a_cue_mix_given_a_level_is_mixed(rng):
    stems = session(rng)
    _, report = automix(
        [*stems, ("Cue Mix_01.wav", sum_of(stems))],
        config=AutomixConfig(levels={"Cue Mix": -10.0}),
    )
    assert [(s.name, s.level_from) for s in report.stems][2] == ("Cue Mix_01.wav", "given")


def test_a_session_of_nothing_but_a_rough_mix_is_refused_with_what_to_do(rng):
    with pytest.raises(UserError, match=re.escape("to master a finished mix, use bandmate master")):
        automix([("Rough Mix.wav", sum_of(session(rng)))])


def test_a_click_and_a_talkback_alone_are_refused_naming_both(rng):
    with pytest.raises(UserError, match="a click track or a cue, talkback or reference mix"):
        automix([("Click.wav", bass()), ("Talkback.wav", chords(rng))])


def test_a_lone_left_side_goes_left_and_is_said(rng):
    # "Keys L" without "Keys R" was put on the right by the alternation (+0.30), without a word
    stems = [("Bass.wav", bass()), ("Gtr.wav", chords(rng, 196.0)), ("Keys L.wav", chords(rng))]
    _, report = automix(stems)
    _, guitar, keys = report.stems
    assert keys.pan < 0 < guitar.pan  # the keys on the side their name gives, the guitar opposite
    assert keys.pan > -1  # at the keys' spread, not hard left with nothing opposite
    (note,) = [n for n in report.notes if n.startswith("Keys L.wav")]
    assert "right side is not among the stems" in note


@pytest.mark.parametrize("empty", [0, int(SECONDS * RATE)])
def test_a_side_whose_other_side_is_empty_or_silent_is_a_lone_side(rng, empty):
    # "Keys L" beside a 0-sample (or silent) "Keys R" went hard left, without a word
    other = Audio(np.zeros(empty, np.float32), RATE)
    stems = [("Bass.wav", bass()), ("Gtr.wav", chords(rng, 196.0)), ("Keys L.wav", chords(rng))]
    _, report = automix([*stems, ("Keys R.wav", other)])
    keys = report.stems[2]
    assert -1 < keys.pan < 0
    (note,) = [n for n in report.notes if n.startswith("Keys L.wav")]
    assert "right side is silent" in note


def test_a_lone_side_that_is_the_only_spread_part_is_centred_and_said(rng):
    _, report = automix([("Bass.wav", bass()), ("Keys_01.R.wav", chords(rng))])
    assert report.stems[1].pan == 0.0
    assert any(
        "Keys_01.R.wav is the right side" in n and "in the centre" in n for n in report.notes
    )


def test_both_sides_of_a_pair_are_not_a_lone_side(rng):
    stems = [("Bass.wav", bass()), ("Keys L.wav", chords(rng)), ("Keys R.wav", chords(rng))]
    _, report = automix(stems)
    assert [s.pan for s in report.stems] == [0.0, -1.0, 1.0]
    assert not any("side of a pair" in n for n in report.notes)


def delayed(audio: Audio, seconds: float, gain: float) -> Audio:
    x = np.zeros_like(audio.samples)
    shift = int(seconds * RATE)
    x[..., shift:] = gain * audio.samples[..., :-shift]
    return Audio(x, RATE)


def test_a_return_named_for_a_part_says_how_to_mix_it_as_the_part(rng):
    # "Gtr Delay" may be the guitar's delay return or the guitar with its delay printed; it is
    # read as a return, as before, but the user was not told, nor how to have it balanced
    guitar = chords(rng, 196.0)
    stems = [*session(rng), ("Gtr.wav", guitar), ("Gtr Delay.wav", delayed(guitar, 0.375, 0.3))]
    _, report = automix(stems)
    (note,) = [n for n in report.notes if n.startswith("Gtr Delay.wav")]
    assert "effects return" in note and "--level 'Gtr Delay.wav=" in note
    _, given = automix(stems, config=AutomixConfig(levels={"Gtr Delay": -6.0}))
    assert not any(n.startswith("Gtr Delay.wav") for n in given.notes)


@pytest.mark.parametrize(
    "name",
    ["Delay Return.wav", "Room Verb.wav", "Warm Verb.wav", "Sub Delay.wav", "Beat Delay.wav"],
)
def test_a_plain_return_needs_no_such_note(rng, name):
    # "Room Verb" was said to be maybe the drums printed with their reverb, "Sub Delay" the bass
    guitar = chords(rng, 196.0)
    stems = [*session(rng), ("Gtr.wav", guitar), (name, delayed(guitar, 0.375, 0.3))]
    _, report = automix(stems)
    assert not any(n.startswith(name) for n in report.notes)


def test_an_empty_stem_is_said_to_hold_nothing_not_padded(rng):
    # a 0-sample "Keys.wav" was "padded with 4.00 s of silence to the longest stem" and then
    # "silent": two notes that read as the mix's doing
    _, report = automix([("Bass.wav", bass()), ("Keys.wav", Audio(np.zeros(0, np.float32), RATE))])
    keys = [n for n in report.notes if n.startswith("Keys.wav")]
    assert keys == [
        "Keys.wav holds no audio (0 samples); it stays silent in the mix. If it should hold a "
        "part, export it again."
    ]
    assert report.stems[1].silent


def piano(rng, freqs_hz) -> Audio:
    """A piano-like part: the notes struck together every 0.5 s, three partials each."""
    t = np.arange(int(SECONDS * RATE)) / RATE
    env = np.exp(-(t % 0.5) * 4)
    x = sum(np.sin(2 * np.pi * f * k * t) / k for f in freqs_hz for k in (1, 2, 3)) * env
    return Audio((0.1 * x + 0.001 * rng.standard_normal(len(t))).astype(np.float32), RATE)


def test_an_unnamed_stereo_part_as_two_sides_is_one_part(rng):
    # a stereo piano exported as "Audio 1_01.L"/".R": its left side (the low notes) read as
    # bass, its right as keys, so the sides were two parts, both in the centre
    stems = [
        ("Audio 1_01.L.wav", piano(rng, [65.4, 98.0])),
        ("Audio 1_01.R.wav", piano(rng, [523.0, 659.0, 784.0])),
        ("Audio 2.wav", bass()),
    ]
    _, report = automix(stems)
    left, right, _ = report.stems
    assert left.role == right.role
    assert (left.pan, right.pan) == (-1.0, 1.0)


@pytest.mark.parametrize("tacet", [False, True])
def test_two_parts_exported_as_one_tracks_sides_keep_their_roles(rng, tacet):
    # a bass DI on "Audio 1_01.L" and a guitar on ".R" were both made bass, hard to their
    # sides, the guitar not high-passed, without a word: their levels do not rise and fall
    # together, as one part's two sides do. The silence of an intro and an ending both share
    # (`tacet`) is not rising and falling together
    t = np.arange(int(SECONDS * RATE)) / RATE
    pulse = 0.6 + 0.4 * np.sign(np.sin(2 * np.pi * 2 * t))  # a bass line's notes, 0.25 s each
    if tacet:
        pulse *= (t >= 0.3 * SECONDS) & (t < 0.8 * SECONDS)
    di = Audio((0.3 * np.sin(2 * np.pi * 55 * t) * pulse).astype(np.float32), RATE)
    strums = np.exp(-(t % 0.25) * 8) * sum(np.sin(2 * np.pi * 330 * k * t) / k for k in range(1, 8))
    if tacet:
        strums *= (t >= 0.3 * SECONDS) & (t < 0.8 * SECONDS)
    gtr = Audio((0.1 * strums).astype(np.float32), RATE)
    stems = [("Audio 1_01.L.wav", di), ("Audio 1_01.R.wav", gtr), ("Audio 2.wav", chords(rng))]
    _, report = automix(stems)
    left, right, _ = report.stems
    assert left.role == "bass" and right.role != "bass"
    assert left.highpass_hz is None and right.highpass_hz is not None
    assert not any("rise and fall together" in n for n in report.notes)


def test_one_parts_sides_read_as_two_roles_are_merged_and_said(rng):
    stems = [
        ("Audio 1_01.L.wav", piano(rng, [65.4, 98.0])),
        ("Audio 1_01.R.wav", piano(rng, [523.0, 659.0, 784.0])),
        ("Audio 2.wav", bass()),
    ]
    _, report = automix(stems)
    assert any(
        n.startswith("Audio 1_01.L.wav and Audio 1_01.R.wav rise and fall together")
        for n in report.notes
    )


@pytest.mark.parametrize("live", [0, 1])
@pytest.mark.parametrize("other_db", [None, -35.0])
def test_a_stereo_stem_with_one_channel_silent_is_mixed_as_the_mono_part(rng, live, other_db):
    # kept stereo, the pan by role only scaled its one live channel: the part stayed in one
    # speaker and landed up to 3 dB off its level, louder or quieter by the side it fell on;
    # then mixed as mono, it was panned by alternation, away from the side that held it. A
    # channel 35 dB down (crosstalk) is as good as silent
    keys = chords(rng)
    one_sided = np.zeros((2, keys.samples.shape[1]), np.float32)
    one_sided[live] = keys.samples[0]
    if other_db is not None:
        one_sided[1 - live] = keys.samples[0] * 10 ** (other_db / 20)
    stems = [("Bass.wav", bass()), ("Gtr.wav", chords(rng, 196.0))]
    _, mono = automix([*stems, ("Keys.wav", keys)])
    _, stereo = automix([*stems, ("Keys.wav", Audio(one_sided, RATE))])
    assert stereo.stems[2].pan == abs(mono.stems[2].pan) * (2 * live - 1) != 0
    assert stereo.stems[1].pan * stereo.stems[2].pan < 0  # the guitar takes the other side
    assert stereo.stems[2].loudness_after_lufs == pytest.approx(
        mono.stems[2].loudness_after_lufs, abs=0.1
    )
    other = "right" if live == 0 else "left"
    assert any(
        n.startswith(f"Keys.wav is stereo with nothing in its {other}") for n in stereo.notes
    )


def test_a_session_recorded_into_one_side_of_every_track_is_not_lopsided(rng):
    # every stem on input 1 of a stereo track (the right channel empty): each sent to its live
    # side, both guitars went left, and the notes said "toward the left" of the centred bass
    def left_only(audio):
        x = np.zeros((2, audio.samples.shape[1]), np.float32)
        x[0] = audio.samples[0]
        return Audio(x, RATE)

    stems = [("Bass.wav", bass()), ("Gtr 1.wav", chords(rng, 196.0)), ("Gtr 2.wav", chords(rng))]
    _, report = automix([(name, left_only(audio)) for name, audio in stems])
    bass_pan, first, second = (s.pan for s in report.stems)
    assert bass_pan == 0 and first * second < 0
    assert any(n.startswith("Bass.wav is stereo with nothing in its right channel") and
               "in the centre" in n for n in report.notes)  # fmt: skip


def test_a_stereo_stem_with_one_side_flipped_in_polarity_is_said(rng):
    # its channels opposite, the keys vanished from the mix summed to mono, without a word
    keys = chords(rng).samples[0]
    flipped = Audio(np.stack([keys, -0.95 * keys]), RATE)
    wide = Audio(np.stack([keys, np.roll(keys, 441)]), RATE)  # an ordinary image: 10 ms apart
    stems = [("Bass.wav", bass())]
    _, report = automix([*stems, ("Keys.wav", flipped)])
    (note,) = [n for n in report.notes if n.startswith("Keys.wav")]
    assert "opposite in polarity" in note and "flip the polarity of one channel" in note
    _, plain = automix([*stems, ("Keys.wav", wide)])
    assert not any(n.startswith("Keys.wav") for n in plain.notes)


@pytest.mark.parametrize("gain", [-0.3, -0.005])
def test_a_quieter_inverted_side_is_not_said_to_vanish_in_mono(rng, gain):
    # a right side 10 dB under the left and inverted (its mono sum 3.5 dB down) was said to
    # "all but vanish"; one 46 dB down was at once "nothing in its right channel" and that
    keys = chords(rng).samples[0]
    _, report = automix(
        [("Bass.wav", bass()), ("Keys.wav", Audio(np.stack([keys, gain * keys]), RATE))]
    )
    assert not any("opposite in polarity" in n for n in report.notes)


@pytest.mark.parametrize("frames", [0, int(SECONDS * 48_000)])
def test_an_empty_or_silent_stem_does_not_set_the_sessions_rate(frames):
    # a 0-sample 48 kHz "Keys.wav" tied the vote with the only real stem, at 44.1 kHz, and won:
    # the bass was resampled, and the mix written at 48 kHz
    empty = Audio(np.zeros((2, frames), np.float32), 48_000)
    mix, report = automix([("Bass.wav", bass()), ("Keys.wav", empty)])
    assert mix.sample_rate == RATE
    assert report.stems[0].resampled_from_hz is None
    assert not any(n.startswith("Bass.wav was resampled") for n in report.notes)


def test_an_empty_stem_at_another_rate_is_not_said_to_be_resampled():
    # "Keys.wav was resampled from 48000 Hz to 44100 Hz" beside "Keys.wav holds no audio"
    empty = Audio(np.zeros((2, 0), np.float32), 48_000)
    _, report = automix([("Bass.wav", bass()), ("Keys.wav", empty)])
    assert [n for n in report.notes if n.startswith("Keys.wav")] == [
        "Keys.wav holds no audio (0 samples); it stays silent in the mix. If it should hold a "
        "part, export it again."
    ]


@pytest.mark.parametrize("name", ["Master.wav", "Reference.wav"])
def test_a_master_print_with_a_limiters_latency_is_left_out(rng, name):
    # a print of the mix through a chain with lookahead (64 samples late) was checked by whether
    # the other stems sum to it, read 55% explained, and mixed in: every part twice; beside a
    # lead vocal named "Main" (mixed as a part), it was checked without the vocal too
    stems = session(rng)
    late = np.roll(sum_of(stems).samples, 64, axis=-1)
    t = np.arange(int(SECONDS * RATE)) / RATE
    lead = Audio((0.2 * np.sin(2 * np.pi * 330 * t)).astype(np.float32), RATE)
    _, report = automix([*stems, ("Main.wav", lead), (name, Audio(late, RATE))])
    assert [s.name for s in report.stems] == ["Bass.wav", "Keys.wav", "Main.wav"]
    assert any(note.startswith(f"Left out {name}:") for note in report.notes)
