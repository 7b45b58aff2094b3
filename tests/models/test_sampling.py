"""Sampling: hard constraints hold for every seed, because they are masks, not suggestions."""

from __future__ import annotations

import numpy as np
import pytest

from bandmate.errors import UserError
from bandmate.models.sampling import PitchConstraints, sample_tokens
from bandmate.tokens.base import BOS, EOS

C_MAJOR = {0, 2, 4, 5, 7, 9, 11}
RANGES = {0: (60, 79), 1: (55, 74), 2: (48, 67), 3: (36, 60)}
SEEDS = range(40)


def test_every_sample_meets_scale_ranges_length_and_grammar(tiny_chorale_model, chorale_task):
    tok = chorale_task.tokenizer
    constraints = PitchConstraints(pitch_classes=C_MAJOR, voice_ranges=RANGES)
    for seed in SEEDS:
        tokens = sample_tokens(
            tiny_chorale_model,
            chorale_task,
            length=4 * 12,
            constraints=constraints,
            temperature=1.5,  # hotter than usual: the untrained model would wander anywhere
            seed=seed,
        )
        assert tokens[0] == BOS and tokens[-1] == EOS and EOS not in tokens[1:-1]
        assert len(tokens) == 4 * 12 + 2
        steps = tok.decode(tokens)
        assert len(steps) == 12
        for step in steps:
            for voice, pitch in enumerate(step):
                if pitch >= 0:
                    assert pitch % 12 in C_MAJOR, (seed, step)
                    low, high = RANGES[voice]
                    assert low <= pitch <= high, (seed, voice, pitch)


def test_fixed_tokens_are_emitted_as_given_even_outside_the_constraints(
    tiny_chorale_model, chorale_task
):
    tok = chorale_task.tokenizer
    melody = [72, 71, 69, 67, 66, 67]  # F#: not in C major, yet a given note is kept
    fixed = {1 + 4 * i: tok.token_for(p) for i, p in enumerate(melody)}
    for seed in range(10):
        tokens = sample_tokens(
            tiny_chorale_model,
            chorale_task,
            length=4 * len(melody),
            fixed=fixed,
            constraints=PitchConstraints(pitch_classes=C_MAJOR),
            seed=seed,
        )
        steps = tok.decode(tokens)
        assert [s[0] for s in steps] == melody
        assert all(p % 12 in C_MAJOR for s in steps for p in s[1:] if p >= 0)


def test_the_same_seed_gives_the_same_sample_and_top_p_near_zero_is_greedy(
    tiny_chorale_model, chorale_task
):
    def draw(**kw):
        return sample_tokens(tiny_chorale_model, chorale_task, length=16, **kw)

    assert draw(seed=3) == draw(seed=3)
    assert draw(seed=3) != draw(seed=4)
    assert draw(top_p=1e-6, seed=1) == draw(temperature=0, seed=2)


def test_a_pitch_range_binds_every_voice(tiny_chorale_model, chorale_task):
    for seed in range(10):
        tokens = sample_tokens(
            tiny_chorale_model,
            chorale_task,
            length=20,
            constraints=PitchConstraints(pitch_range=(55, 65)),
            seed=seed,
        )
        pitches = [p for s in chorale_task.tokenizer.decode(tokens) for p in s if p >= 0]
        assert pitches and min(pitches) >= 55 and max(pitches) <= 65


def test_constraints_that_leave_nothing_are_a_user_error(tiny_chorale_model, chorale_task):
    # a range without any C-major pitch; the rest is still allowed, so forbid it as well
    no_rest = np.ones(chorale_task.tokenizer.vocab_size, dtype=bool)
    no_rest[chorale_task.tokenizer.rest_token_id] = False
    with pytest.raises(UserError, match="position 1"):
        sample_tokens(
            tiny_chorale_model,
            chorale_task,
            length=8,
            constraints=PitchConstraints(pitch_classes={1}, pitch_range=(60, 60)),
            guide=Forbid(no_rest),
        )


class Forbid:
    """A guide that allows only the tokens of `allowed` and leans nowhere."""

    def __init__(self, allowed):
        self.allowed = allowed

    def mask(self, position, tokens):
        return self.allowed

    def bias(self, position, tokens):
        return None


class Lean:
    """A guide that adds `bias` to every position's logits."""

    def __init__(self, bias):
        self.bias_values = bias

    def mask(self, position, tokens):
        return None

    def bias(self, position, tokens):
        return self.bias_values


def test_a_guides_bias_moves_the_sample_and_a_prompt_is_continued(tiny_chorale_model, chorale_task):
    tok = chorale_task.tokenizer
    lean = np.zeros(tok.vocab_size, dtype=np.float32)
    lean[tok.token_for(67)] = 50.0  # overwhelming: every free voice takes G4
    tokens = sample_tokens(tiny_chorale_model, chorale_task, length=8, guide=Lean(lean), seed=3)
    assert tokens[1:-1] == [tok.token_for(67)] * 8
    prompt = tokens[:5]
    more = sample_tokens(tiny_chorale_model, chorale_task, length=8, prompt=prompt, seed=4)
    assert more[:5] == prompt and len(more) == 10 and more[-1] == EOS


def test_a_chorale_cannot_end_mid_step(tiny_chorale_model, chorale_task):
    with pytest.raises(UserError, match="cannot end"):
        sample_tokens(tiny_chorale_model, chorale_task, length=6)


def test_a_fixed_token_that_breaks_the_grammar_is_refused(tiny_chorale_model, chorale_task):
    with pytest.raises(UserError, match="grammar"):
        sample_tokens(tiny_chorale_model, chorale_task, length=8, fixed={2: EOS})
