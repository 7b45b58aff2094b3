"""The JSB data, the NLL protocol and the n-gram baseline (trained on small slices: fast)."""

import hashlib
import math

import numpy as np
import pytest

from bandmate.corpus.jsb import JSB_SPLITS, chorale_hash, jsb_path, load_jsb
from bandmate.errors import UserError
from bandmate.models.ngram import NgramModel, select_ngram
from bandmate.models.nll import check_log_probs, nll_nats_per_token, score_split
from bandmate.tokens.base import BOS
from bandmate.tokens.chorale import ChoraleTokenizer

TOKENIZER = ChoraleTokenizer()
JSB_SHA256 = "79294cc374f9252e95ef4b703161524c1c53dc1f712c236f00f1c1f5d54af5a7"


@pytest.fixture(scope="module")
def slices():
    """(train, valid): 40 and 8 whole JSB chorales."""
    return load_jsb("train")[:40], load_jsb("valid")[:8]


@pytest.fixture(scope="module")
def ngram(slices):
    return NgramModel(9, transpositions=range(-2, 3)).fit(slices[0])


# --- the data ------------------------------------------------------------------------------------
def test_jsb_ships_with_its_split_and_attribution():
    assert JSB_SPLITS == ("train", "valid", "test")
    splits = {split: load_jsb(split) for split in JSB_SPLITS}
    assert [len(splits[s]) for s in JSB_SPLITS] == [229, 76, 77]
    assert [sum(map(len, splits[s])) for s in JSB_SPLITS] == [55228, 18408, 18900]
    assert hashlib.sha256(jsb_path().read_bytes()).hexdigest() == JSB_SHA256
    assert "Coconet" in (jsb_path().parent / "ABOUT.md").read_text(encoding="utf-8")
    first = splits["train"][0]
    assert first[0] == (74, 70, 65, 58) and all(len(step) == 4 for step in first)


def test_chorale_hash_is_stable_and_canonical():
    assert chorale_hash(load_jsb("train")[0]) == (
        "eb3e79aaa9b99ff94ba0fc5c4dc9fc85544dee4322470fe7719928ee26b1d4ef"
    )
    as_lists = [[60, -1, 55, 48]]
    expected = hashlib.sha256(b"[[60,-1,55,48]]").hexdigest()
    assert chorale_hash(as_lists) == chorale_hash([(60, -1, 55, 48)]) == expected
    assert chorale_hash(np.array(as_lists)) == expected


def test_load_jsb_gives_fresh_lists_and_refuses_unknown_splits():
    load_jsb("valid")[0].clear()
    assert len(load_jsb("valid")[0]) > 0
    with pytest.raises(UserError, match="train, valid, test"):
        load_jsb("validation")


# --- the protocol --------------------------------------------------------------------------------
def test_uniform_model_scores_log_vocabulary_size():
    v = 70
    chorales = [[(60, 55, 52, 48)] * 3, [(62, 57, 53, 50)] * 5]
    log_probs = [np.full(4 * len(c), -math.log(v)) for c in chorales]
    assert nll_nats_per_token(log_probs, chorales) == pytest.approx(math.log(v))


def test_nll_is_the_mean_over_tokens_not_over_chorales():
    short, long = np.log(np.full(4, 0.5)), np.log(np.full(12, 0.25))
    expected = (4 * math.log(2) + 12 * math.log(4)) / 16
    assert nll_nats_per_token([short, long]) == pytest.approx(expected)
    assert nll_nats_per_token([short, long]) != pytest.approx((math.log(2) + math.log(4)) / 2)


def test_nll_checks_one_log_probability_per_token():
    steps = [(60, 55, 52, 48)] * 2
    check_log_probs(np.zeros(8), steps)
    with pytest.raises(ValueError, match="expected 8"):  # <eos> (or <bos>) scored as well
        nll_nats_per_token([np.zeros(9)], [steps])
    with pytest.raises(ValueError, match="<= 0"):
        nll_nats_per_token([np.full(8, 0.1)], [steps])
    with pytest.raises(ValueError, match="finite"):
        nll_nats_per_token([np.full(8, -np.inf)], [steps])
    with pytest.raises(ValueError, match="chorales"):
        nll_nats_per_token([np.zeros(8)], [steps, steps])


# --- the n-gram ----------------------------------------------------------------------------------
def test_ngram_distributions_sum_to_one(ngram, slices):
    seen = TOKENIZER.encode(slices[0][0])
    unseen = TOKENIZER.encode([(90, 30, 88, 29)] * 3)  # a context no chorale has
    for prefix in ([BOS], seen[:2], seen[:40], seen[:-1], unseen[:-1], unseen[:3]):
        probs = ngram.next_token_probs(prefix)
        assert probs.shape == (TOKENIZER.vocab_size,)
        assert probs.sum() == pytest.approx(1.0, abs=1e-12)
        assert np.all(probs[TOKENIZER.step_token_ids()] > 0)
        assert np.all(probs[:3] == 0)  # <pad>, <bos>, <eos> are never predicted


def test_token_log_probs_are_the_next_token_distributions(ngram, slices):
    chorale = slices[1][0][:12]
    tokens = TOKENIZER.encode(chorale)
    log_probs = ngram.token_log_probs(chorale)
    assert log_probs.shape == (4 * len(chorale),)
    for i in range(len(log_probs)):
        expected = np.log(ngram.next_token_probs(tokens[: i + 1])[tokens[i + 1]])
        assert log_probs[i] == pytest.approx(expected, rel=1e-12)


def test_a_fit_holds_every_lower_order(slices):
    train, valid = slices[0][:10], slices[1][:2]
    big = NgramModel(7, transpositions=(0,)).fit(train)
    for order in (1, 3, 5):
        small = NgramModel(order, transpositions=(0,)).fit(train)
        for chorale in valid:
            np.testing.assert_allclose(
                big.at_order(order).token_log_probs(chorale), small.token_log_probs(chorale)
            )


def test_ngram_beats_a_unigram_on_valid(ngram, slices):
    unigram = NgramModel(1, transpositions=range(-2, 3)).fit(slices[0])
    uniform = math.log(len(TOKENIZER.step_token_ids()))
    nll_unigram, nll_ngram = score_split(unigram, slices[1]), score_split(ngram, slices[1])
    assert nll_unigram < uniform
    assert nll_ngram < 0.6 * nll_unigram


def test_select_ngram_chooses_on_valid(slices):
    train, valid = slices[0][:15], slices[1][:3]
    chosen, tried = select_ngram(train, valid, orders=(1, 5, 9), transposition_sets=((0,),))
    assert [m.order for m, _ in tried] == [1, 5, 9]
    assert chosen.order != 1
    assert score_split(chosen, valid) == min(nll for _, nll in tried)


def test_transpositions_multiply_training_data_within_the_range_only(slices):
    chorale = [(72, 67, 64, 48)] * 4  # 16 tokens
    model = NgramModel(3, transpositions=range(-6, 6)).fit([chorale])
    assert model.training_tokens == 12 * 16
    narrow = ChoraleTokenizer(min_pitch=45, max_pitch=75)  # room for -3..+3 only
    model = NgramModel(3, tokenizer=narrow, transpositions=range(-6, 6)).fit([chorale])
    assert model.training_tokens == 7 * 16
    assert model.token_log_probs(chorale).shape == (16,)  # evaluation is never transposed
    with pytest.raises(RuntimeError, match="fit"):
        NgramModel(3).token_log_probs(chorale)
