"""The drum tokenizer: round trips up to the bins, microtiming, voices, the vocabulary."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bandmate.arrange.drums import DRUM_VOICES
from bandmate.score import Note, Role, Score, TimeSignature, Track
from bandmate.tokens.base import BOS, EOS, Tokenizer
from bandmate.tokens.drums import DrumTokenizer
from tests.builders import drums, make_score, piano
from tests.tokens.strategies import TPB, meter_maps

TOKENIZER = DrumTokenizer()
STEP = TPB // 4  # a 16th note at 480 ticks per beat
VOICES = list(DRUM_VOICES)


def names(tokens: list[int]) -> list[str]:
    vocab = TOKENIZER.token_names()
    return [vocab[t] for t in tokens]


def kit(*hits: tuple[int, int, int], name: str = "Drums") -> Track:
    """A drum track from (onset ticks, GM note, velocity) hits, each a 16th long."""
    notes = (Note(onset, STEP, pitch, velocity) for onset, pitch, velocity in hits)
    return Track(name, is_drum=True, role=Role.DRUMS, notes=notes)


def bin_middle(velocity_bin: int) -> int:
    """The velocity a decoded hit of this bin has (8 bins over 1-127)."""
    return 1 + (2 * velocity_bin + 1) * 127 // 16


def fine_ticks(point: int) -> int:
    """Tick of a point on the microtiming grid: 7 shifts per 16th, halves rounded up."""
    return (2 * point * STEP + 7) // 14


def drum_notes(score: Score) -> tuple[Note, ...]:
    return score.track("Drums").notes


# --- the stream a drummer can read ----------------------------------------------------------------
def test_a_groove_reads_as_expected():
    score = make_score(
        kit(
            (0, 36, 110), (0, 42, 80), (240, 42, 60), (480, 38, 100), (480 + 17, 42, 70),
            (720, 42, 60), (960 + 3, 36, 100), (1920 - 34, 36, 96),
        )
    )  # fmt: skip
    assert names(TOKENIZER.encode(score)) == [
        "<bos>", "METER_4_4",
        "BAR",
        "STEP_0", "DRUM_kick", "VEL_6", "SHIFT_+0", "DRUM_hat", "VEL_4", "SHIFT_+0",
        "STEP_2", "DRUM_hat", "VEL_3", "SHIFT_+0",
        "STEP_4", "DRUM_snare", "VEL_6", "SHIFT_+0", "DRUM_hat", "VEL_4", "SHIFT_+1",
        "STEP_6", "DRUM_hat", "VEL_3", "SHIFT_+0",
        "STEP_8", "DRUM_kick", "VEL_6", "SHIFT_+0",
        "BAR",
        "STEP_0", "DRUM_kick", "VEL_5", "SHIFT_-2",  # a push ahead of the next downbeat
        "<eos>",
    ]  # fmt: skip


def test_aliases_join_their_family_and_other_notes_are_dropped():
    score = make_score(
        kit((0, 48, 90), (120, 59, 90), (240, 58, 90), (360, 33, 90), (480, 86, 90)),
        piano((0, 1, 60)),
    )
    decoded = drum_notes(TOKENIZER.decode(TOKENIZER.encode(score)))
    expected = [DRUM_VOICES[v] for v in ("tom_mid", "ride", "kick")]
    assert [n.pitch for n in decoded] == expected
    assert [n.onset_ticks for n in decoded] == [0, 120, 480]


def test_drum_tracks_are_merged_and_doubles_keep_the_louder_hit():
    score = make_score(
        kit((0, 36, 70), (0, 42, 80), name="Kit"),
        kit((0, 36, 120), (240, 38, 90), name="Perc"),
    )
    decoded = drum_notes(TOKENIZER.decode(TOKENIZER.encode(score)))
    assert [(n.onset_ticks, n.pitch, n.velocity) for n in decoded] == [
        (0, 36, bin_middle(7)),
        (0, 42, bin_middle(4)),
        (240, 38, bin_middle(5)),
    ]


def test_a_score_without_drums_is_its_meter_only():
    tokens = TOKENIZER.encode(make_score(piano((0, 4, 60)), meter=(6, 8)))
    assert names(tokens) == ["<bos>", "METER_6_8", "BAR", "<eos>"]
    assert TOKENIZER.decode(tokens).time_signatures == (TimeSignature(0, 6, 8),)


# --- round trips ----------------------------------------------------------------------------------
@st.composite
def grooves(draw) -> Score:
    """Drum hits on the microtiming grid with velocities at bin middles, over a meter map that
    changes and has short bars."""
    meters, end = draw(meter_maps(steps_per_beat=4))
    last_point = (end // STEP + 4) * 7
    hits = draw(
        st.dictionaries(
            st.tuples(st.integers(0, last_point), st.sampled_from(VOICES)),
            st.integers(0, 7),
            max_size=40,
        )
    )
    notes = [
        Note(fine_ticks(point), STEP, DRUM_VOICES[voice], bin_middle(velocity_bin))
        for (point, voice), velocity_bin in hits.items()
    ]
    track = Track("Drums", is_drum=True, role=Role.DRUMS, notes=notes)
    return Score(tracks=(track,), time_signatures=meters)


@settings(max_examples=60, deadline=None)
@given(grooves())
def test_a_groove_on_the_grid_survives_a_round_trip(score):
    tokens = TOKENIZER.encode(score)
    assert tokens[0] == BOS and tokens[-1] == EOS
    decoded = TOKENIZER.decode(tokens)
    assert drum_notes(decoded) == drum_notes(score)
    assert decoded.time_signatures == score.time_signatures
    assert TOKENIZER.encode(decoded) == tokens


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 8 * TPB), st.sampled_from(VOICES), st.integers(1, 127)),
        max_size=30,
    )
)
def test_any_groove_comes_back_quantized_to_the_bins(hits):
    score = make_score(kit(*[(onset, DRUM_VOICES[v], velocity) for onset, v, velocity in hits]))
    tokens = TOKENIZER.encode(score)
    decoded = TOKENIZER.decode(tokens)
    assert len(drum_notes(decoded)) <= len(hits)
    for onset, voice, velocity in hits:
        # a hit of this voice within half a shift (120/7/2 ticks), as loud up to half a bin
        # (of two hits that land together, the louder is kept)
        assert any(
            n.pitch == DRUM_VOICES[voice]
            and abs(n.onset_ticks - onset) <= 9
            and n.velocity >= velocity - 8
            for n in drum_notes(decoded)
        )
    assert TOKENIZER.encode(decoded) == tokens


def test_microtiming_keeps_a_laid_back_snare_and_a_rushed_hat():
    # 510 ticks is 2/7 of a step after step 4; 700 ticks is 1/7 of a step before step 6
    score = make_score(kit((510, 38, 100), (700, 42, 80)))
    tokens = TOKENIZER.encode(score)
    assert names(tokens)[3:11] == [
        "STEP_4", "DRUM_snare", "VEL_6", "SHIFT_+2", "STEP_6", "DRUM_hat", "VEL_4", "SHIFT_-1",
    ]  # fmt: skip
    decoded = drum_notes(TOKENIZER.decode(tokens))
    assert [(n.onset_ticks, n.pitch) for n in decoded] == [(514, 38), (703, 42)]


# --- decoding what a model samples ----------------------------------------------------------------
@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, TOKENIZER.vocab_size - 1), max_size=80))
def test_any_token_stream_decodes_to_a_score(tokens):
    assert isinstance(TOKENIZER.decode(tokens), Score)


def test_a_hit_without_velocity_or_shift_gets_defaults():
    ids = TOKENIZER.token_id
    tokens = [BOS, ids("BAR"), ids("STEP_4"), ids("DRUM_snare"), ids("STEP_8"), ids("VEL_2")]
    assert drum_notes(TOKENIZER.decode(tokens)) == (Note(480, STEP, 38, bin_middle(4)),)


# --- the vocabulary -------------------------------------------------------------------------------
def test_every_voice_is_one_drum_token():
    pitch_ids = TOKENIZER.pitch_token_ids()
    assert sorted(pitch_ids) == sorted(DRUM_VOICES.values())
    vocab = TOKENIZER.token_names()
    assert {i for i in range(len(vocab)) if TOKENIZER.is_pitch_token(i)} == set(pitch_ids.values())
    assert all(TOKENIZER.pitch_of(i) == note for note, i in pitch_ids.items())
    assert vocab[:3] == ["<pad>", "<bos>", "<eos>"]
    assert len(set(vocab)) == len(vocab)
    assert [v for v in vocab if v.startswith("SHIFT_")] == [f"SHIFT_{s:+d}" for s in range(-3, 4)]


def test_the_vocabulary_is_saved_and_restored():
    tokenizer = DrumTokenizer(velocity_bins=4, voices=["kick", "snare", "hat"], meters=["4/4"])
    saved = json.loads(json.dumps(tokenizer.to_dict()))
    restored = Tokenizer.from_dict(saved)
    assert isinstance(restored, DrumTokenizer)
    assert restored.token_names() == tokenizer.token_names()
    assert DrumTokenizer().token_names() == TOKENIZER.token_names()  # deterministic
    # voices left out of the vocabulary are dropped
    score = make_score(drums((0, 0.25, 36), (0, 0.25, 49)))
    assert [n.pitch for n in drum_notes(restored.decode(restored.encode(score)))] == [36]


def test_bad_settings_are_refused():
    with pytest.raises(ValueError):
        DrumTokenizer(shift_bins=6)
    with pytest.raises(ValueError):
        DrumTokenizer(voices=["kick", "cajon"])
    with pytest.raises(ValueError):
        DrumTokenizer(velocity_bins=0)
