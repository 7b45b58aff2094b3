"""The lead-sheet tokenizer: round trips, monophony, quantization, the vocabulary."""

from __future__ import annotations

import itertools
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bandmate.errors import UserError
from bandmate.io.formats import read_score
from bandmate.io.midi import write_midi
from bandmate.score import ChordEvent, KeyChange, Note, Role, Score, TimeSignature, Track
from bandmate.theory import NO_CHORD, QUALITIES, ChordSymbol, Key, parse_chord
from bandmate.tokens.bars import TokenizeError
from bandmate.tokens.base import BOS, EOS, PAD, Tokenizer
from bandmate.tokens.melody import ROOT_NAMES, TOKEN_QUALITIES, MelodyTokenizer
from tests.builders import bass, drums, make_score, notes, piano
from tests.tokens.strategies import TPB, meter_maps

TOKENIZER = MelodyTokenizer()
STEP = TPB // 12  # ticks per grid step at 480 ticks per beat


def names(tokens: list[int]) -> list[str]:
    vocab = TOKENIZER.token_names()
    return [vocab[t] for t in tokens]


def lead(*spec, name: str = "Lead") -> Track:
    return Track(name, program=73, role=Role.MELODY, notes=notes(*spec))


def melody_of(score: Score) -> tuple[Note, ...]:
    return score.track("Melody").notes


def chord_content(score: Score) -> list[tuple]:
    return [(c.onset_ticks, c.symbol.root, c.symbol.quality, c.symbol.bass) for c in score.chords]


# --- the stream a musician can read ---------------------------------------------------------------
def test_a_lead_sheet_reads_as_expected():
    score = make_score(
        lead((0, 1, 67), (1, 0.5, 70), (1.5, 2.5, 72), (4, 1 / 3, 74), (4 + 1 / 3, 1 / 3, 75)),
        keys=(KeyChange(0, Key(3)),),
        chords=(ChordEvent(0, parse_chord("Ebmaj7")), ChordEvent(1920, parse_chord("Cm7/Bb"))),
    )
    assert names(TOKENIZER.encode(score)) == [
        "<bos>", "KEY_Eb_major", "METER_4_4",
        "BAR", "POS_0", "CHORD_Eb_maj7", "PITCH_67", "DUR_12", "POS_12", "PITCH_70", "DUR_6",
        "POS_18", "PITCH_72", "DUR_30",
        "BAR", "POS_0", "CHORD_C_m7", "BASS_Bb", "PITCH_74", "DUR_4", "POS_4", "PITCH_75", "DUR_4",
        "<eos>",
    ]  # fmt: skip


def test_a_pickup_bar_is_a_short_bar_and_survives():
    # one-beat pickup: 3/4 at tick 0 and again at 480, as read_musicxml writes it
    score = Score(
        tracks=(lead((0, 1, 62), (1, 3, 67)),),
        time_signatures=(TimeSignature(0, 3, 4), TimeSignature(480, 3, 4)),
        chords=(ChordEvent(480, parse_chord("G")),),
    )
    tokens = TOKENIZER.encode(score)
    assert names(tokens) == [
        "<bos>", "METER_3_4", "BAR", "POS_0", "PITCH_62", "DUR_12",
        "POS_12", "METER_3_4", "BAR", "POS_0", "CHORD_G_maj", "PITCH_67", "DUR_36", "<eos>",
    ]  # fmt: skip
    decoded = TOKENIZER.decode(tokens)
    assert decoded.time_signatures == score.time_signatures
    assert decoded.bar_grid.bar_start(1) == 480
    assert melody_of(decoded) == score.tracks[0].notes


# --- round trips ----------------------------------------------------------------------------------
@st.composite
def lead_sheets(draw) -> Score:
    """A monophonic melody on the 12-per-beat grid with chords, meter changes and maybe a key."""
    meters, end = draw(meter_maps(steps_per_beat=12))
    end_steps = end // STEP + 12
    onsets = sorted(draw(st.sets(st.integers(0, end_steps), max_size=24)))
    melody = []
    for i, onset in enumerate(onsets):
        longest = 96 if i + 1 == len(onsets) else min(96, onsets[i + 1] - onset)
        duration = draw(st.integers(1, longest))
        pitch = draw(st.integers(36, 96))
        melody.append(Note(onset * STEP, duration * STEP, pitch, 90))
    chords = []
    for onset in sorted(draw(st.sets(st.integers(0, end_steps), max_size=12))):
        if draw(st.integers(0, 9)) == 0:
            symbol = NO_CHORD
        else:
            root = draw(st.integers(0, 11))
            bass = draw(st.none() | st.integers(0, 11))
            bass_name = None if bass is None else ROOT_NAMES[bass]
            quality = draw(st.sampled_from(TOKEN_QUALITIES))  # what round-trips
            symbol = ChordSymbol(root, ROOT_NAMES[root], quality, bass, bass_name)
        chords.append(ChordEvent(onset * STEP, symbol))
    mode = draw(st.sampled_from(["major", "minor"]))
    key = draw(st.none() | st.builds(Key, st.integers(0, 11), st.just(mode)))
    return Score(
        tracks=(Track("Melody", role=Role.MELODY, notes=melody),),
        time_signatures=meters,
        chords=tuple(chords),
        keys=() if key is None else (KeyChange(0, key),),
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lead_sheets())
def test_a_lead_sheet_on_the_grid_survives_a_round_trip(score):
    tokens = TOKENIZER.encode(score)
    assert tokens[0] == BOS and tokens[-1] == EOS and PAD not in tokens
    decoded = TOKENIZER.decode(tokens)
    assert melody_of(decoded) == score.tracks[0].notes
    assert decoded.time_signatures == score.time_signatures
    assert decoded.keys == score.keys
    assert chord_content(decoded) == chord_content(score)
    assert TOKENIZER.encode(decoded) == tokens


def test_chords_are_spelled_as_the_key_signature_spells_them():
    chords = (ChordEvent(0, parse_chord("A#7")), ChordEvent(480, parse_chord("Gbm/Db")))
    spelled = {}
    for key in (None, Key(5), Key(2), Key(0)):  # none, F major, D major, C major
        score = make_score(chords=chords, keys=() if key is None else (KeyChange(0, key),))
        spelled[key] = [str(c.symbol) for c in TOKENIZER.decode(TOKENIZER.encode(score)).chords]
    assert spelled[None] == spelled[Key(0)] == ["Bb7", "F#m/C#"]
    assert spelled[Key(5)] == ["Bb7", "Gbm/Db"]
    assert spelled[Key(2)] == ["A#7", "F#m/C#"]


def test_no_chord_and_slash_chords_round_trip():
    chords = tuple(
        ChordEvent(i * 480, parse_chord(text))
        for i, text in enumerate(["C6/9", "N.C.", "Am7/G", "Bb13#11", "F#m7b5"])
    )
    decoded = TOKENIZER.decode(TOKENIZER.encode(make_score(chords=chords)))
    assert [str(c.symbol) for c in decoded.chords] == ["C6/9", "N.C.", "Am7/G", "Bb13#11", "F#m7b5"]


def test_modes_become_major_or_minor_keys():
    for mode, expected in [("dorian", "KEY_D_minor"), ("mixolydian", "KEY_D_major")]:
        score = make_score(keys=(KeyChange(0, Key(2, mode)),))
        assert names(TOKENIZER.encode(score))[1] == expected


# --- what the encoder makes of real-world input ---------------------------------------------------
def test_polyphony_keeps_the_top_note_and_cuts_at_the_next_onset():
    score = make_score(lead((0, 2, 60), (0, 2, 64), (0, 2, 67), (1, 1, 72), (2, 2, 65)))
    assert melody_of(TOKENIZER.decode(TOKENIZER.encode(score))) == notes(
        (0, 1, 67), (1, 1, 72), (2, 2, 65)
    )


def test_off_grid_notes_are_quantized_to_the_grid():
    score = make_score(
        Track(
            "Lead", role=Role.MELODY, notes=(Note(7, 233, 60), Note(455, 30, 62), Note(1001, 5, 64))
        )
    )
    # 7 -> step 0, 240 -> step 6; 455 -> 440 (step 11), 485 -> 480; 1001 -> 1000, a one-step note
    assert melody_of(TOKENIZER.decode(TOKENIZER.encode(score))) == (
        Note(0, 240, 60), Note(440, 40, 62), Note(1000, 40, 64)
    )  # fmt: skip


def test_other_tick_resolutions_come_back_at_480():
    score = Score(
        tracks=(Track("Lead", notes=(Note(8, 40, 60), Note(48, 48, 62))),),
        ticks_per_beat=96,  # 8 ticks per step; a 6/8 bar is 288 ticks
        time_signatures=(TimeSignature(0, 6, 8), TimeSignature(288 * 2, 3, 4)),
    )
    decoded = TOKENIZER.decode(TOKENIZER.encode(score))
    assert melody_of(decoded) == (Note(40, 200, 60), Note(240, 240, 62))
    assert decoded.time_signatures == (TimeSignature(0, 6, 8), TimeSignature(2880, 3, 4))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.builds(Note, st.integers(0, 4000), st.integers(1, 3000), st.integers(0, 127)),
        max_size=20,
    ),
    st.lists(st.tuples(st.integers(0, 4000), st.sampled_from(["C", "Dm7", "G7/B"])), max_size=6),
)
def test_any_input_becomes_a_monophonic_line_in_range_that_encodes_the_same(melody, chords):
    score = make_score(
        Track("Lead", notes=melody),
        chords=tuple(ChordEvent(tick, parse_chord(text)) for tick, text in chords),
    )
    tokens = TOKENIZER.encode(score)
    line = melody_of(TOKENIZER.decode(tokens))
    assert all(a.end_ticks <= b.onset_ticks for a, b in itertools.pairwise(line))
    assert all(36 <= n.pitch <= 96 and n.onset_ticks % STEP == 0 for n in line)
    assert TOKENIZER.encode(TOKENIZER.decode(tokens)) == tokens


def test_pitches_outside_the_range_move_by_octaves_and_long_notes_are_cut():
    score = make_score(lead((0, 1, 24), (1, 1, 108), (2, 12, 60)))
    assert melody_of(TOKENIZER.decode(TOKENIZER.encode(score))) == notes(
        (0, 1, 36), (1, 1, 96), (2, 8, 60)
    )


def test_the_melody_track_is_chosen_by_role_then_order():
    melody = lead((0, 1, 72))
    score = make_score(drums((0, 1, 36)), piano((0, 1, 48)), melody)
    assert melody_of(TOKENIZER.decode(TOKENIZER.encode(score))) == melody.notes
    without_melody = make_score(drums((0, 1, 36)), piano((0, 1, 48)))
    assert [n.pitch for n in melody_of(TOKENIZER.decode(TOKENIZER.encode(without_melody)))] == [48]


def test_a_track_without_notes_is_not_taken_for_the_melody():
    # a file whose first track is an instrument set up and never played (a DAW's template)
    # was learnt as "no pitched notes", the tune on its second track left out
    tune = piano((0, 1, 67), (1, 1, 69), (2, 2, 71))
    unplayed = Track("Track 1", 0, role=tune.role)
    score = make_score(drums((0, 1, 36)), unplayed, tune)
    assert melody_of(TOKENIZER.decode(TOKENIZER.encode(score))) == tune.notes
    empty_lead = lead()
    assert melody_of(TOKENIZER.decode(TOKENIZER.encode(make_score(empty_lead, tune)))) == tune.notes


# A piano piece from a notation program: a track per staff, same program, sounding together. The
# right hand plays the tune over chord tones; the left hand an accompaniment in eighths.
RIGHT_HAND = [(i, 1, p) for i, p in enumerate([72, 74, 76, 77, 79, 77, 76, 74] * 2)]
RIGHT_HAND_CHORDS = [(i, 2, 64) for i in range(0, 16, 2)]  # chords under the tune
LEFT_HAND = [(i / 2, 0.5, p) for i, p in enumerate([48, 55, 52, 55] * 8)]


def staves(first: str, second: str, *, left_first: bool) -> Score:
    right = Track(first, 0, role=Role.CHORDS, notes=notes(*RIGHT_HAND, *RIGHT_HAND_CHORDS))
    left = Track(second, 0, role=Role.CHORDS, notes=notes(*LEFT_HAND))
    return make_score(*((left, right) if left_first else (right, left)))


def learnt_pitches(score: Score) -> list[int]:
    return [n.pitch for n in melody_of(TOKENIZER.decode(TOKENIZER.encode(score)))]


@pytest.mark.parametrize("left_first", [True, False])
@pytest.mark.parametrize(
    "right, left",
    [("Piano", "Piano"), ("Piano RH", "Piano LH"), ("Right Hand", "Left Hand"),
     ("Piano (R.H.)", "Piano (L.H.)"), ("Piano Treble", "Piano Bass"),
     ("Klavier rechts", "Klavier links"), ("PianoRH", "PianoLH"),
     ("Piano m.d.", "Piano m.g."), ("Mano derecha", "Mano izquierda")],
)  # fmt: skip
def test_a_piano_on_two_staves_is_learnt_from_its_right_hand(tmp_path, right, left, left_first):
    # a piano piece exported as a track per staff, its left hand first, was learnt from (and
    # checked for copying by) its bass line
    score = staves(right, left, left_first=left_first)
    tune = [p for _, _, p in RIGHT_HAND]
    assert learnt_pitches(score) == tune
    write_midi(score, tmp_path / "piano.mid")
    assert learnt_pitches(read_score(tmp_path / "piano.mid")) == tune


@pytest.mark.parametrize(
    ("first", "second"),
    [("Track 1", "Track 2"), ("Guitar 1", "Guitar 2"), ("Synth 1", "Synth 2"), ("Flute", "Flute 2"),
     ("Track 1 (channel 1)", "Track 2 (channel 2)"), ("", "")],
)  # fmt: skip
def test_two_parts_on_one_program_told_apart_by_a_number_keep_the_first(first, second):
    # a DAW's low tune on "Track 1" under chords voiced above it on "Track 2", a lead guitar
    # under a rhythm guitar, a flute doubled an octave up: taken for a piano's two staves, the
    # part above was read as the tune (and a copy of the tune went unflagged)
    tune = [(i, 1, p - 12) for i, _, p in RIGHT_HAND]
    above = [(i, 2, p) for i in range(0, 16, 2) for p in (67, 72, 76)]
    score = make_score(
        Track(first, 0, role=Role.CHORDS, notes=notes(*tune)),
        Track(second, 0, role=Role.CHORDS, notes=notes(*above)),
    )
    assert learnt_pitches(score) == [p for _, _, p in tune]


def test_parts_that_are_not_staves_of_one_instrument_keep_the_first():
    tune = [p for _, _, p in RIGHT_HAND]
    low = [p for _, _, p in LEFT_HAND]
    # a bass part first (its own program) and a keyboard lead: the bass, as before
    bass_line = bass(*LEFT_HAND)
    keys_lead = piano(*RIGHT_HAND, name="Keys")
    assert learnt_pitches(make_score(bass_line, keys_lead)) == low
    # the lead first and then the bass: the lead
    assert learnt_pitches(make_score(keys_lead, bass_line)) == tune
    # a duet of two instruments on one program: the first, though it is lower
    bassoon = Track("Bassoon", 0, role=Role.OTHER, notes=notes(*LEFT_HAND))
    flute = Track("Flute", 0, role=Role.OTHER, notes=notes(*RIGHT_HAND))
    assert learnt_pitches(make_score(bassoon, flute)) == low
    # the same piano twice, one after the other (two movements): the first
    later = Track(
        "Piano", 0, role=Role.CHORDS, notes=notes(*[(o + 32, d, p) for o, d, p in RIGHT_HAND])
    )
    assert learnt_pitches(make_score(piano(*LEFT_HAND), later)) == low
    # a MELODY part anywhere still wins over two piano staves
    melody = lead((0, 1, 60), (1, 1, 62))
    assert learnt_pitches(
        make_score(*staves("Piano", "Piano", left_first=False).tracks, melody)
    ) == [60, 62]


def test_an_empty_score_is_one_empty_bar():
    tokens = TOKENIZER.encode(Score())
    assert names(tokens) == ["<bos>", "METER_4_4", "BAR", "<eos>"]
    assert TOKENIZER.decode(tokens).is_empty


def test_a_meter_without_a_token_is_a_user_error_that_names_it():
    score = make_score(lead((0, 1, 60)), meter=(11, 16))
    with pytest.raises(TokenizeError, match="11/16") as error:
        TOKENIZER.encode(score)
    assert isinstance(error.value, UserError)


# --- decoding what a model samples ----------------------------------------------------------------
@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, TOKENIZER.vocab_size - 1), max_size=80))
def test_any_token_stream_decodes_to_a_score(tokens):
    assert isinstance(TOKENIZER.decode(tokens), Score)


def test_decoding_stops_at_eos_and_skips_dangling_tokens():
    ids = TOKENIZER.token_id
    tokens = [
        BOS, ids("BAR"), ids("DUR_12"), ids("POS_0"), ids("PITCH_60"), ids("POS_12"),
        ids("PITCH_62"), ids("DUR_12"), EOS, ids("PITCH_64"), ids("DUR_12"),
    ]  # fmt: skip
    assert melody_of(TOKENIZER.decode(tokens)) == (Note(480, 480, 62),)
    with pytest.raises(ValueError, match="outside"):
        TOKENIZER.decode([TOKENIZER.vocab_size])


# --- the vocabulary -------------------------------------------------------------------------------
def test_pitch_tokens_are_one_per_pitch_and_nothing_else():
    pitch_ids = TOKENIZER.pitch_token_ids()
    assert sorted(pitch_ids) == list(range(36, 97))
    vocab = TOKENIZER.token_names()
    assert {i for i in range(len(vocab)) if TOKENIZER.is_pitch_token(i)} == set(pitch_ids.values())
    assert all(vocab[i] == f"PITCH_{p}" for p, i in pitch_ids.items())
    assert not TOKENIZER.is_pitch_token(-1) and not TOKENIZER.is_pitch_token(len(vocab))
    assert all(TOKENIZER.pitch_of(i) == p for p, i in pitch_ids.items())
    with pytest.raises(ValueError, match="not a pitch"):
        TOKENIZER.pitch_of(TOKENIZER.token_id("BAR"))


def test_the_vocabulary_starts_with_the_specials_and_has_no_duplicates():
    vocab = TOKENIZER.token_names()
    assert vocab[:3] == ["<pad>", "<bos>", "<eos>"]
    assert len(set(vocab)) == len(vocab) == TOKENIZER.vocab_size
    assert sum(v.startswith("CHORD_") for v in vocab) == 12 * len(TOKEN_QUALITIES) + 1


def test_the_vocabulary_is_saved_and_restored():
    tokenizer = MelodyTokenizer(lowest_pitch=48, highest_pitch=84, meters=["4/4", "3/4"])
    saved = json.loads(json.dumps(tokenizer.to_dict()))
    restored = Tokenizer.from_dict(saved)
    assert isinstance(restored, MelodyTokenizer)
    assert restored.token_names() == tokenizer.token_names()
    assert restored.settings() == tokenizer.settings()
    assert MelodyTokenizer().token_names() == TOKENIZER.token_names()  # deterministic
    saved["tokens"] = saved["tokens"][:-1]
    with pytest.raises(ValueError, match="differs"):
        Tokenizer.from_dict(saved)


def test_bad_settings_are_refused():
    with pytest.raises(ValueError):
        MelodyTokenizer(lowest_pitch=60, highest_pitch=65)
    with pytest.raises(ValueError):
        MelodyTokenizer(steps_per_beat=7)
    with pytest.raises(ValueError):
        MelodyTokenizer(meters=["4/3"])


def test_the_chord_vocabulary_is_frozen_and_later_qualities_take_the_nearest_token():
    # a quality the chart reader learnt after the shipped models were trained (C7sus4b9, Cm11b5)
    # must not shift their token ids; it is written as the nearest quality they know
    from bandmate.tokens.melody import token_quality

    assert set(TOKEN_QUALITIES) <= set(QUALITIES) and len(TOKEN_QUALITIES) == 53
    assert token_quality("m7") == "m7"
    assert token_quality("7sus4b9") == "7sus4"
    assert token_quality("m11b5") == "m7b5"
    assert token_quality("13b9#11") in ("13b9", "7b9#11")
    later = [q for q in QUALITIES if q not in TOKEN_QUALITIES]
    assert later and all(token_quality(q) in TOKEN_QUALITIES for q in later)
