import pytest
from hypothesis import given
from hypothesis import strategies as st

from bandmate.corpus.jsb import load_jsb
from bandmate.errors import UserError
from bandmate.score import Role, Track
from bandmate.tokens.base import BOS, EOS, PAD, SPECIALS, Tokenizer
from bandmate.tokens.chorale import ChoraleTokenizer
from tests.builders import make_score, notes

TOKENIZER = ChoraleTokenizer()

# two bars' worth of a cadence, with a rest in the alto and a held soprano
STEPS = [
    (72, 67, 64, 48),
    (72, 67, 64, 48),
    (72, -1, 65, 50),
    (71, 62, 67, 43),
    (72, 64, 67, 36),
]


def voice(name, role, *spec):
    """A chorale track as steps_to_score writes it: (onset_16ths, length_16ths, pitch)."""
    beats = [(onset / 4, length / 4, pitch) for onset, length, pitch in spec]
    return Track(name, program=52, role=role, notes=notes(*beats))


def test_vocabulary_is_specials_rest_then_every_pitch_in_range():
    names = TOKENIZER.token_names()
    assert names[:3] == list(SPECIALS)
    assert names[TOKENIZER.rest_token_id] == "REST"
    ids = list(TOKENIZER.pitch_token_ids().values())
    assert [names[i] for i in ids] == [f"PITCH_{p}" for p in range(28, 97)]
    assert all(TOKENIZER.pitch_of(t) == p for p, t in TOKENIZER.pitch_token_ids().items())
    assert TOKENIZER.vocab_size == 3 + 1 + 69
    assert TOKENIZER.step_token_ids() == [TOKENIZER.rest_token_id, *ids]


def test_default_range_holds_jsb_in_every_key():
    pitches = [
        p for split in ("train", "valid", "test") for c in load_jsb(split) for s in c for p in s
    ]
    low, high = min(p for p in pitches if p >= 0), max(pitches)
    assert TOKENIZER.min_pitch <= low - 6 and high + 6 <= TOKENIZER.max_pitch


def test_encode_is_bos_then_satb_per_step_then_eos():
    tokens = TOKENIZER.encode(STEPS)
    assert len(tokens) == 4 * len(STEPS) + 2
    assert tokens[0] == BOS and tokens[-1] == EOS
    assert tokens[1:5] == [TOKENIZER.token_for(p) for p in STEPS[0]]
    assert tokens[1 + 4 * 2 + 1] == TOKENIZER.rest_token_id  # step 2, alto
    assert [TOKENIZER.voice_of_position(i) for i in range(6)] == [0, 1, 2, 3, 0, 1]


def test_steps_tokens_steps_is_exact():
    assert TOKENIZER.decode(TOKENIZER.encode(STEPS)) == STEPS
    for chorale in load_jsb("valid")[:5]:
        assert TOKENIZER.decode(TOKENIZER.encode(chorale)) == chorale


@given(st.lists(st.tuples(*[st.sampled_from([-1, *range(28, 97)])] * 4), max_size=40))
def test_any_steps_round_trip(steps):
    assert TOKENIZER.decode(TOKENIZER.encode(steps)) == steps
    assert TOKENIZER.score_to_steps(TOKENIZER.steps_to_score(steps)) == _trim(steps)


def _trim(steps):
    """A score ends with its last note, so trailing all-silent steps do not come back."""
    steps = list(steps)
    while steps and steps[-1] == (-1, -1, -1, -1):
        steps.pop()
    return steps


def test_decode_skips_padding_stops_at_eos_and_drops_a_cut_step():
    tokens = TOKENIZER.encode(STEPS[:2])
    assert TOKENIZER.decode([PAD, *tokens, PAD, *tokens[1:5]]) == STEPS[:2]
    assert TOKENIZER.decode(tokens[:-1] + tokens[1:3]) == STEPS[:2]  # half a step at the end


def test_bad_steps_are_refused_with_a_reason():
    with pytest.raises(ValueError, match="outside"):
        TOKENIZER.encode([(100, 60, 55, 48)])
    with pytest.raises(ValueError, match="4"):
        TOKENIZER.encode([(72, 60, 55)])
    with pytest.raises(ValueError):
        TOKENIZER.pitch_of(EOS)
    with pytest.raises(ValueError):
        ChoraleTokenizer(60, 50)


def test_to_dict_from_dict_rebuilds_the_same_vocabulary():
    narrow = ChoraleTokenizer(min_pitch=36, max_pitch=84)
    rebuilt = Tokenizer.from_dict(narrow.to_dict())
    assert isinstance(rebuilt, ChoraleTokenizer)
    assert rebuilt.token_names() == narrow.token_names()
    assert rebuilt.encode(STEPS) == narrow.encode(STEPS)
    changed = {**narrow.to_dict(), "tokens": TOKENIZER.token_names()}
    with pytest.raises(ValueError, match="differs"):
        Tokenizer.from_dict(changed)


def test_steps_to_score_holds_equal_pitches_as_one_note():
    score = TOKENIZER.steps_to_score(STEPS, tempo_bpm=90)
    expected = make_score(
        voice("Soprano", Role.MELODY, (0, 3, 72), (3, 1, 71), (4, 1, 72)),
        voice("Alto", Role.CHORDS, (0, 2, 67), (3, 1, 62), (4, 1, 64)),
        voice("Tenor", Role.CHORDS, (0, 2, 64), (2, 1, 65), (3, 2, 67)),
        voice("Bass", Role.BASS, (0, 2, 48), (2, 1, 50), (3, 1, 43), (4, 1, 36)),
        tempo_bpm=90,
    )
    assert score == expected


def test_score_steps_score_round_trip():
    for chorale in load_jsb("test")[:3]:
        score = TOKENIZER.steps_to_score(chorale)
        steps = TOKENIZER.score_to_steps(score)
        assert steps == _trim(chorale)
        assert TOKENIZER.steps_to_score(steps) == score


def test_score_to_steps_reads_four_unnamed_parts_from_high_to_low():
    score = make_score(
        voice("Low", Role.OTHER, (0, 4, 48)),
        voice("High", Role.OTHER, (0, 4, 72)),
        voice("Mid 2", Role.OTHER, (0, 2, 60), (2, 2, 62)),
        voice("Mid 1", Role.OTHER, (0, 4, 67)),
    )
    assert TOKENIZER.score_to_steps(score) == [(72, 67, 60, 48)] * 2 + [(72, 67, 62, 48)] * 2


def test_score_to_steps_quantizes_to_the_grid():
    # an alto 8th note that starts a 32nd late still fills two 16ths (halves round up)
    score = make_score(
        voice("Soprano", Role.MELODY, (0, 4, 72)),
        Track("Alto", notes=notes((1 / 8, 1 / 2, 67))),
        voice("Tenor", Role.CHORDS, (0, 4, 64)),
        voice("Bass", Role.BASS, (0, 4, 48)),
    )
    steps = TOKENIZER.score_to_steps(score)
    assert steps == [(72, -1, 64, 48), (72, 67, 64, 48), (72, 67, 64, 48), (72, -1, 64, 48)]


def test_score_without_four_voices_is_a_user_error():
    score = make_score(voice("Soprano", Role.MELODY, (0, 4, 72)))
    with pytest.raises(UserError, match="four voices"):
        TOKENIZER.score_to_steps(score)
