"""DecoderTransformer: shapes, causality, the key/value cache, rotary positions, tying."""

from __future__ import annotations

import pytest
import torch

from bandmate.models.transformer import DecoderTransformer, TransformerConfig


def make_model(**overrides) -> DecoderTransformer:
    torch.manual_seed(0)
    fields = dict(vocab_size=20, d_model=32, n_layers=2, n_heads=4, d_ff=64, dropout=0.0)
    fields.update(overrides)
    return DecoderTransformer(TransformerConfig(max_len=64, **fields)).eval()


def test_logits_have_one_row_per_token_and_vocabulary_entry():
    model = make_model()
    logits, cache = model(torch.randint(0, 20, (3, 10)))
    assert logits.shape == (3, 10, 20)
    assert len(cache) == 2 and cache[0][0].shape == (3, 4, 10, 8)  # (B, H, T, D)


def test_a_token_never_sees_the_tokens_after_it():
    model = make_model()
    tokens = torch.randint(0, 20, (1, 12))
    changed = tokens.clone()
    changed[0, 7:] = (changed[0, 7:] + 1) % 20
    before, _ = model(tokens)
    after, _ = model(changed)
    torch.testing.assert_close(before[0, :7], after[0, :7])
    assert not torch.allclose(before[0, 7:], after[0, 7:])


def test_one_token_at_a_time_with_the_cache_equals_the_whole_sequence():
    model = make_model(n_token_types=3)
    tokens = torch.randint(0, 20, (2, 15))
    types = torch.randint(0, 3, (2, 15))
    whole, _ = model(tokens, types)
    logits, cache = model(tokens[:, :5], types[:, :5], cache=[])
    steps = [logits]
    for i in range(5, 15):
        logits, cache = model(tokens[:, i : i + 1], types[:, i : i + 1], cache=cache)
        steps.append(logits)
    torch.testing.assert_close(torch.cat(steps, dim=1), whole, atol=1e-5, rtol=1e-5)


def test_attention_depends_on_relative_positions_only():
    # with rotary embeddings, a window of tokens scores the same wherever it starts, as long as
    # it is seen from its own start: the model has no absolute position table
    model = make_model()
    tokens = torch.randint(0, 20, (1, 30))
    logits, _ = model(tokens[:, 10:])
    assert logits.shape == (1, 20, 20)
    assert not any("position" in name for name, _ in model.named_parameters())


def test_the_output_projection_is_the_token_embedding():
    model = make_model()
    names = list(model.state_dict())
    assert "token_embedding.weight" in names
    assert not any("head" in n for n in names)  # nothing stored twice
    assert "rope_cos" not in names  # derived from the config, not saved


def test_token_types_change_the_prediction_and_are_required_when_configured():
    model = make_model(n_token_types=4)
    tokens = torch.randint(0, 20, (1, 8))
    a, _ = model(tokens, torch.zeros(1, 8, dtype=torch.long))
    b, _ = model(tokens, torch.ones(1, 8, dtype=torch.long))
    assert not torch.allclose(a, b)
    with pytest.raises(ValueError, match="token_types"):
        model(tokens)


def test_a_sequence_longer_than_max_len_is_refused():
    with pytest.raises(ValueError, match="max_len"):
        make_model()(torch.zeros(1, 65, dtype=torch.long))


def test_config_round_trips_through_a_dict_and_checks_head_size():
    config = TransformerConfig(vocab_size=73, d_model=64, n_heads=4, n_token_types=5)
    assert TransformerConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ValueError, match="even"):
        TransformerConfig(vocab_size=10, d_model=30, n_heads=2)  # 15 per head: odd
