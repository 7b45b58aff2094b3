"""The JSB Chorales NLL protocol, in one place, for every model bandmate compares.

A chorale of `n` steps is scored as the `4 * n` tokens S, A, T, B of every step (see
`bandmate.tokens.chorale`), each conditioned on every token before it in the same chorale. The
figure is minus the mean natural-log probability over EVERY scored token of the split — the sum
over all chorales divided by the total token count, not a mean of per-chorale means — in nats per
token: the note-wise protocol under which the Music Transformer paper reports Coconet 0.436 and
Music Transformer 0.335 on `valid`.

Not scored: `<bos>` (it is given, not predicted) and `<eos>` (the published figures count only
the pitch/rest tokens of the steps, and a model's chance of ending a chorale says nothing about
its harmony). A model may still put probability on `<eos>` or other special tokens; that mass is
simply lost to it, which can only make its figure worse, never better.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

VOICES_PER_STEP = 4


def check_log_probs(log_probs: np.ndarray, steps: Sequence, *, where: str = "chorale") -> None:
    """Raise ValueError unless `log_probs` holds one finite log-probability per token of `steps`.

    `log_probs`: shape (4 * len(steps),), natural logs, each <= 0.
    """
    expected = VOICES_PER_STEP * len(steps)
    shape = np.shape(log_probs)
    if shape != (expected,):
        raise ValueError(
            f"{where}: expected {expected} log-probabilities (4 per step x {len(steps)} steps), "
            f"got an array of shape {shape}"
        )
    _check_values(np.asarray(log_probs, dtype=np.float64), where)


def _check_values(values: np.ndarray, where: str) -> None:
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{where}: log-probabilities must be finite")
    if np.any(values > 1e-9):
        raise ValueError(f"{where}: log-probabilities must be <= 0 (natural logs of probabilities)")


def nll_nats_per_token(
    log_probs_per_chorale: Sequence[np.ndarray],
    chorales: Sequence[Sequence] | None = None,
) -> float:
    """Minus the mean log-probability over every token of every chorale, in nats per token.

    `log_probs_per_chorale[k]`: shape (4 * len(chorales[k]),), one natural-log probability per
    S, A, T, B token of chorale k (no `<bos>`, no `<eos>`). Give `chorales` to check the lengths.
    """
    if chorales is not None:
        if len(chorales) != len(log_probs_per_chorale):
            raise ValueError(
                f"{len(log_probs_per_chorale)} arrays of log-probabilities "
                f"for {len(chorales)} chorales"
            )
        for k, (lp, steps) in enumerate(zip(log_probs_per_chorale, chorales, strict=True)):
            check_log_probs(lp, steps, where=f"chorale {k}")
    arrays = [np.asarray(lp, dtype=np.float64).reshape(-1) for lp in log_probs_per_chorale]
    total_tokens = sum(a.size for a in arrays)
    if total_tokens == 0:
        raise ValueError("no tokens to score")
    for k, a in enumerate(arrays):
        if a.size % VOICES_PER_STEP:
            raise ValueError(f"chorale {k}: {a.size} log-probabilities is not 4 per step")
        _check_values(a, f"chorale {k}")
    return float(-sum(a.sum() for a in arrays) / total_tokens)


def score_split(model, chorales: Sequence[Sequence]) -> float:
    """NLL in nats/token of `model` (anything with `token_log_probs(steps) -> np.ndarray`)."""
    log_probs = [np.asarray(model.token_log_probs(steps)) for steps in chorales]
    return nll_nats_per_token(log_probs, chorales)
