"""Log-probabilities of token sequences under a model, by the task's grammar.

Each token is conditioned on every token before it in its sequence. The distribution at a position
is the model's softmax restricted to what the task's grammar allows there (chorales: a pitch or
the rest; `<eos>` only at a step boundary), exactly what the sampler draws from; the n-gram
baseline spreads its probability over the same tokens, so the two are compared on equal terms.

A sequence longer than the model's `max_len` is scored with a sliding window: windows of
`max_len` tokens that advance by half a window, each scoring only the tokens the previous one did
not, so every token after the first window sees at least `max_len / 2` tokens of context. A
window starts wherever it falls (positions and voice types are counted from the start of the
piece, so a window that starts mid-step is no problem): the model was trained on such random
crops. The chorale recipe's model has a 1,024-token context (256 steps, 16 bars of 4/4), so 26
of the 76 valid chorales are scored this way, each token with at least 8 bars before it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from bandmate.models.transformer import DecoderTransformer


def _windows(n: int, window: int) -> list[tuple[int, int, int]]:
    """(start, end, first_scored) per window over a sequence of n tokens; positions 1..n-1 are
    each scored once, by the window [start, end) that holds them and most context."""
    if n <= window:
        return [(0, n, 1)]
    stride = max(1, window // 2)
    spans, start, scored = [], 0, 1
    while scored < n:
        end = min(start + window, n)
        spans.append((start, end, scored))
        scored = end
        start += stride
    return spans


@torch.no_grad()
def sequence_log_probs(
    model: DecoderTransformer,
    task,
    sequences: Sequence[np.ndarray],
    batch_tokens: int = 16384,
) -> list[np.ndarray]:
    """Per sequence (n,) of tokens, the (n - 1,) natural-log probabilities of tokens 1..n-1.

    Windows of similar length are batched together (padding at the end of a causal sequence
    changes nothing before it); `batch_tokens` bounds a batch's size.
    """
    was_training = model.training
    model.eval()
    window = model.config.max_len
    items = [
        (k, start, end, scored)
        for k, seq in enumerate(sequences)
        for start, end, scored in _windows(len(seq), window)
    ]
    items.sort(key=lambda item: item[1] - item[2])  # longest first
    out = [np.zeros(max(len(seq) - 1, 0)) for seq in sequences]
    i = 0
    while i < len(items):
        longest = items[i][2] - items[i][1]
        batch = items[i : i + max(1, batch_tokens // max(longest, 1))]
        i += len(batch)
        tokens = np.zeros((len(batch), longest), dtype=np.int64)  # (B, T), padded with <pad>
        types = np.zeros((len(batch), longest), dtype=np.int64)
        masks = np.zeros((len(batch), longest, model.config.vocab_size), dtype=bool)
        for b, (k, start, end, _) in enumerate(batch):
            tokens[b, : end - start] = sequences[k][start:end]
            types[b] = task.token_types(longest, start)
            masks[b] = task.grammar_mask(longest, start)
        logits, _ = model(
            torch.from_numpy(tokens),
            torch.from_numpy(types) if model.config.n_token_types else None,
        )  # (B, T, V)
        logits = logits.masked_fill(~torch.from_numpy(masks), float("-inf"))
        log_probs = torch.log_softmax(logits.double(), dim=-1)  # (B, T, V)
        for b, (k, start, end, scored) in enumerate(batch):
            # the logits at window position j predict token start + j + 1
            rows = torch.arange(scored - start - 1, end - start - 1)
            targets = torch.from_numpy(sequences[k][scored:end])
            out[k][scored - 1 : end - 1] = log_probs[b, rows, targets].numpy()
    model.train(was_training)
    return out
