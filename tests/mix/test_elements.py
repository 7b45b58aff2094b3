"""Stems that make one part between them: a drum kit in pieces, a part as two mono sides."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from bandmate.arrange.backing import backing
from bandmate.arrange.style import load_style
from bandmate.errors import UserError
from bandmate.io.audio import Audio
from bandmate.jobs.backing import balance_stems
from bandmate.mix.automix import AutomixConfig, automix
from bandmate.mix.elements import element_groups, match_stems, stereo_pairs, stereo_side
from bandmate.mix.meter import measure_loudness
from bandmate.mix.roles import role_from_name
from bandmate.render import render_stems

RATE = 44_100
PIECES = {
    "Kick": {35, 36},
    "Snare": {37, 38, 39, 40},
    "Hats": {42, 44, 46},
    "Overheads": {49, 51, 52, 53, 55, 57, 59},
}


@pytest.mark.parametrize(
    ("name", "side"),
    [
        ("Keys L.wav", ("keys", -1)),
        ("Keys L.aif", ("keys", -1)),  # an AIFF pair was two keys stems, panned 0.3 each way
        ("Piano.R.AIFF", ("piano", 1)),
        ("07_gtr_right.wav", ("gtr", 1)),
        ("OH (R)", ("oh", 1)),
        ("Vocal.wav", None),  # a name that ends in l is not a left side
        ("Bass", None),
        ("L", None),
    ],
)
def test_stereo_sides_by_name(name, side):
    assert stereo_side(name) == side


def test_a_kit_in_pieces_and_pairs_are_elements():
    names = ["01 Kick In", "Snare Top", "OH L", "OH R", "Tom 1", "Perc", "Bass DI", "Keys L",
             "Keys R", "Vocal"]  # fmt: skip
    roles = [role_from_name(n) for n in names]
    assert roles[:6] == ["drums"] * 6
    assert stereo_pairs(names, roles) == [(2, 3), (7, 8)]
    # the kit's pieces are one element (its overhead pair with them), the percussion is not
    assert element_groups(names, roles) == [[0, 1, 2, 3, 4], [7, 8]]


@pytest.fixture(scope="module")
def kit_session():
    """A rock backing track with its kit rendered piece by piece, at the style's balance."""
    style = load_style("rock")
    score = backing("| C | Am | F | G |", style=style, seed=1, intro=False, ending=False)
    stems, gains = balance_stems(
        render_stems(score, sample_rate=RATE), [style.part(t.name).level_db for t in score.tracks]
    )
    drums = next(t for t in score.tracks if t.is_drum)
    split = score.replace(
        tracks=tuple(
            replace(drums, name=name, notes=tuple(n for n in drums.notes if n.pitch in pitches))
            for name, pitches in PIECES.items()
        )
    )
    gain = 10 ** (gains[0] / 20)
    pieces = [Audio(a.samples * gain, RATE) for a in render_stems(split, sample_rate=RATE)]
    others = [(t.name, s) for t, s in zip(score.tracks[1:], stems[1:], strict=True)]
    return stems[0], list(zip(PIECES, pieces, strict=True)), others


def test_a_kit_given_as_its_pieces_sits_where_the_whole_kit_would(kit_session, rng):
    # each piece was set about as loud as a whole kit, so the kit came out 2-8 dB over the band
    kit, pieces, others = kit_session
    offsets = rng.uniform(-12, 12, len(pieces) + len(others))
    given = [
        (name, Audio(a.samples * 10 ** (o / 20), RATE))
        for (name, a), o in zip(pieces + others, offsets, strict=True)
    ]
    _, split = automix(given)
    # the kit as it sounds in the mix: the pieces summed, each at the gain automix gave it
    kit_after = sum(
        a.samples * 10 ** (s.gain_db / 20)
        for (_, a), s in zip(given[: len(pieces)], split.stems, strict=False)
    )
    bass_after = split.stems[len(pieces)].loudness_after_lufs
    kit_over_bass = measure_loudness(Audio(kit_after, RATE)).integrated_lufs - bass_after
    _, whole = automix([("Drums", kit), *others])
    want = whole.stems[0].loudness_after_lufs - whole.stems[1].loudness_after_lufs
    assert kit_over_bass == pytest.approx(want, abs=1.5)
    truth = measure_loudness(kit).integrated_lufs - measure_loudness(others[0][1]).integrated_lufs
    assert abs(kit_over_bass - truth) < 2.5, (kit_over_bass, truth)


def test_a_stereo_pair_of_mono_files_is_panned_hard_and_balanced_as_one(kit_session):
    _, _, others = kit_session
    piano = dict(others)["Piano"]
    left, right = Audio(piano.samples[:1], RATE), Audio(piano.samples[1:], RATE)
    _, pair = automix([("Piano L.wav", left), ("Piano R.wav", right), *others[:1]])
    _, whole = automix([("Piano.wav", piano), *others[:1]])
    assert [s.pan for s in pair.stems[:2]] == [-1.0, 1.0]
    sides = np.concatenate(
        [
            a.samples * 10 ** (s.gain_db / 20)
            for a, s in zip((left, right), pair.stems, strict=False)
        ]
    )
    together = measure_loudness(Audio(sides, RATE)).integrated_lufs
    want = whole.stems[0].loudness_after_lufs - whole.stems[1].loudness_after_lufs
    assert together - pair.stems[2].loudness_after_lufs == pytest.approx(want, abs=0.2)


def _sum_after(given, report, which) -> float:
    """The loudness in the mix of the stems `which` (indices) together, each at its gain."""
    together = sum(
        given[k][1].samples * np.float32(10 ** (report.stems[k].gain_db / 20)) for k in which
    )
    return measure_loudness(Audio(together, RATE)).integrated_lufs


def test_a_level_given_for_a_kit_in_pieces_sets_the_whole_kit(kit_session, rng):
    # --level drums=-9 for a kit that came as its pieces: it names no stem, so it was refused,
    # and a level per piece would set each piece, not the kit, at -9
    _, pieces, others = kit_session
    offsets = rng.uniform(-12, 12, len(pieces) + len(others))
    given = [
        (name, Audio(a.samples * np.float32(10 ** (o / 20)), RATE))
        for (name, a), o in zip(pieces + others, offsets, strict=True)
    ]
    kit = range(len(pieces))
    _, model = automix(given)
    _, report = automix(given, config=AutomixConfig(levels={"drums": -9.0, "Bass": 0.0}))
    bass = report.stems[len(pieces)].loudness_after_lufs
    assert _sum_after(given, report, kit) - bass == pytest.approx(-9.0, abs=0.5)
    # the pieces keep the places within the kit that the model gave them
    inside = [report.stems[k].gain_db - model.stems[k].gain_db for k in kit]
    assert max(inside) - min(inside) < 0.2, inside
    assert [s.level_from for s in report.stems] == ["given"] * (len(pieces) + 1) + ["model"] * (
        len(others) - 1
    )


def test_a_level_given_for_a_pair_by_the_name_its_sides_share(kit_session):
    _, _, others = kit_session
    piano = dict(others)["Piano"]
    given = [
        ("Piano L.wav", Audio(piano.samples[:1], RATE)),
        ("Piano R.wav", Audio(piano.samples[1:], RATE)),
        others[0],
    ]
    _, report = automix(given, config=AutomixConfig(levels={"piano": -12.0, "bass": 0.0}))
    # each side hard to its own channel
    sides = np.concatenate(
        [
            a.samples * 10 ** (s.gain_db / 20)
            for (_, a), s in zip(given[:2], report.stems[:2], strict=True)
        ]
    )
    together = measure_loudness(Audio(sides, RATE)).integrated_lufs
    assert together - report.stems[2].loudness_after_lufs == pytest.approx(-12.0, abs=0.1)


def test_a_level_for_a_part_and_for_one_of_its_stems_is_refused():
    names = ["Kick.wav", "Snare.wav", "Bass.wav"]
    elements = {"drums": ["Kick.wav", "Snare.wav"]}
    assert match_stems({"DRUMS": -6, "bass": 0}, names, "The level", elements) == {
        "drums": -6,
        "Bass.wav": 0,
    }
    with pytest.raises(UserError, match=r"for drums and for Kick\.wav, which is part of it"):
        match_stems({"drums": -6, "kick": -3}, names, "The level", elements)
    with pytest.raises(UserError, match=r"names no stem.*one part, drums \(Kick.wav \+ Snare"):
        match_stems({"keys": -6}, names, "The level", elements)


def test_an_aiff_pair_is_panned_hard_as_a_wav_pair_is():
    t = np.arange(RATE) / RATE
    left = Audio(0.2 * np.sin(2 * np.pi * 262 * t), RATE)
    right = Audio(0.2 * np.sin(2 * np.pi * 330 * t), RATE)
    for suffix in (".wav", ".aif"):
        _, report = automix([(f"Piano L{suffix}", left), (f"Piano R{suffix}", right)])
        assert [s.pan for s in report.stems] == [-1.0, 1.0], suffix


@pytest.mark.parametrize(
    ("name", "role"),
    [
        ("Lead Vox.wav", "vocal"),
        ("Vocal", "vocal"),
        ("Backing Vocals.wav", "pad"),  # under the lead and spread, as a pad: not on top with it
        ("BV 2", "pad"),
        ("BGV", "pad"),
        ("Harmonies L", "pad"),
        ("Choir", "pad"),
        ("Harmonica", "lead"),
        ("OH L", "drums"),
        ("Tom 2", "drums"),
        ("Room Mics", "drums"),
        ("Bathroom Piano", "keys"),
    ],
)
def test_session_names_give_their_roles(name, role):
    assert role_from_name(name) == role
