"""An interpolated Kneser-Ney n-gram baseline for the JSB Chorales, on the chorale serialization.

The model reads the same token stream as the Transformer (`bandmate.tokens.chorale`: S, A, T, B
per 16th step after `<bos>`) and gives every token a probability conditioned on the `order - 1`
tokens before it in the chorale (`<bos>` pads the start), so its NLL is directly comparable
(`bandmate.models.nll`). Smoothing is interpolated modified Kneser-Ney (Chen & Goodman 1998): three
absolute discounts per order from that order's count-of-counts, lower orders built from
continuation counts, and a uniform distribution over the step tokens at the bottom. The discounts
are the closed-form estimates; `select_ngram` chooses the order and the transposition augmentation
on `valid` (scaling all discounts by 0.7 to 1.3 gained at most 0.001 nats there: not tuned).

Two choices, both about what the model may know:
- Every context also holds the voice (soprano .. bass) of the token being predicted, which the
  position in the stream fixes (token `i` after `<bos>` is voice `i % 4`); a Transformer reads the
  same fact from its positions. Without it a short context cannot tell a soprano from a tenor.
- Probabilities are spread over the step tokens only (the rest and the pitches), never over
  `<pad>`, `<bos>` or `<eos>`: the protocol does not score `<eos>`, so the mass a model puts on
  the end of a chorale mid-way (tiny in any case) is simply not spent.

Counting is NumPy throughout. An order-k n-gram is named by one int64, `id of its (k-1)-token
suffix * B + the token before that suffix` (B = number of step tokens + 1), so a table is a sorted
array, a look-up is `np.searchsorted`, and the order is not limited by the width of an integer.
One fit at order n holds every lower order too: `at_order(k)` scores exactly as a fit at order k.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from bandmate.tokens.base import BOS
from bandmate.tokens.chorale import SILENT, ChoraleTokenizer


@dataclass(frozen=True)
class _Counts:
    """Counts of one order's n-grams and, per context, what interpolation needs."""

    counts: np.ndarray  # (n,) int64, aligned with _Level.keys
    context_totals: np.ndarray  # (m,) float64: sum of counts over the context's n-grams
    context_backoff: np.ndarray  # (m,) float64: the discount taken from the context in total
    discounts: np.ndarray  # (4,) float64: D(0) = 0, D(1), D(2), D(3+)

    @classmethod
    def build(cls, counts: np.ndarray, context_of_gram: np.ndarray, n_contexts: int) -> _Counts:
        discounts = _modified_kn_discounts(counts)
        taken = discounts[np.minimum(counts, 3)]
        return cls(
            counts,
            np.bincount(context_of_gram, weights=counts, minlength=n_contexts),
            np.bincount(context_of_gram, weights=taken, minlength=n_contexts),
            discounts,
        )


@dataclass(frozen=True)
class _Level:
    """The n-grams of one order k: raw counts (used when k is the model's order) and
    continuation counts (used when a higher order interpolates with this one)."""

    keys: np.ndarray  # (n,) int64, sorted: the n-grams (voice, k - 1 tokens, token)
    context_keys: np.ndarray  # (m,) int64, sorted: their contexts (voice, k - 1 tokens)
    raw: _Counts
    continuation: _Counts | None  # None at the highest order fitted


@dataclass(frozen=True)
class _Positions:
    """Tokens to score: voice (N,), target code (N,), and where each target lies in `history`
    (the codes of its chorale, `<bos>`-padded), so that `back(m)` is the code m tokens earlier."""

    voice: np.ndarray
    target: np.ndarray
    history: np.ndarray
    at: np.ndarray

    def back(self, m: int) -> np.ndarray:
        return self.history[self.at - m]


class NgramModel:
    """Interpolated modified Kneser-Ney over chorale tokens.

    order: tokens per n-gram, the predicted one included (so `order - 1` tokens of context).
    transpositions: semitone shifts applied to every training chorale (0 = as written); a shift
    that would take a chorale outside the tokenizer's pitch range is skipped for that chorale.
    Evaluation data are never transposed. The defaults are the settings `select_ngram` chose on
    `valid` (bench/jsb.py): order 21 (five steps of context) and all twelve transpositions.
    """

    def __init__(
        self,
        order: int = 21,
        *,
        tokenizer: ChoraleTokenizer | None = None,
        transpositions: Iterable[int] = range(-6, 6),
        voice_aware: bool = True,
    ):
        if order < 1:
            raise ValueError(f"n-gram order must be >= 1, got {order}")
        self.order = order
        self.tokenizer = tokenizer or ChoraleTokenizer()
        self.transpositions = tuple(int(t) for t in transpositions)
        self.voice_aware = voice_aware
        self.step_ids = np.asarray(self.tokenizer.step_token_ids(), dtype=np.int64)
        self.base = len(self.step_ids) + 1  # code 0 is <bos>, codes 1.. are the step tokens
        self._code_of_id = np.zeros(self.tokenizer.vocab_size, dtype=np.int64)
        self._code_of_id[self.step_ids] = np.arange(1, self.base)
        self._levels: list[_Level] = []  # index k - 1 holds order k
        self.training_tokens = 0

    def __repr__(self) -> str:
        state = f"{self.training_tokens} training tokens" if self._levels else "not fitted"
        return (
            f"NgramModel(order={self.order}, transpositions={self.transpositions}, "
            f"voice_aware={self.voice_aware}, {state})"
        )

    # --- training ----------------------------------------------------------------------------
    def fit(self, chorales: Iterable[Sequence[Sequence[int]]]) -> NgramModel:
        """Count the n-grams of `chorales` (lists of SATB steps), transposed as configured."""
        codes = []
        for steps in chorales:
            for shift in self.transpositions:
                shifted = _transpose(steps, shift, self.tokenizer)
                if shifted is not None and len(shifted):
                    codes.append(self._codes(shifted))
        if not codes:
            raise ValueError("no chorales to fit the n-gram model on")
        positions = self._positions(codes)
        self.training_tokens = len(positions.target)

        # name the n-gram and the context of every order at every training position
        levels = []
        gram = positions.voice * self.base + positions.target
        context = positions.voice
        for k in range(1, self.order + 1):
            keys, first, gram_ids = np.unique(gram, return_index=True, return_inverse=True)
            context_keys, context_ids = np.unique(context, return_inverse=True)
            # an n-gram fixes its context; its first occurrence tells which one that is
            context_of_gram = context_ids[first]
            raw = _Counts.build(np.bincount(gram_ids), context_of_gram, len(context_keys))
            continuation = None
            if k < self.order:
                # one token further back: the order k + 1 names, and the continuation counts
                # of order k (how many distinct tokens were seen just before each n-gram)
                gram = gram_ids * self.base + positions.back(k)
                context = context_ids * self.base + positions.back(k)
                longer = np.unique(gram)
                counts = np.bincount(longer // self.base, minlength=len(keys))
                continuation = _Counts.build(counts, context_of_gram, len(context_keys))
            levels.append(_Level(keys, context_keys, raw, continuation))
        self._levels = levels
        return self

    def at_order(self, order: int) -> NgramModel:
        """This fitted model scoring at a lower `order` (the same as fitting at that order)."""
        self._check_fitted()
        if not 1 <= order <= len(self._levels):
            raise ValueError(f"order must be 1..{len(self._levels)} for this fit, got {order}")
        lower = copy.copy(self)
        lower.order = order
        lower._levels = self._levels[:order]
        return lower

    # --- scoring -----------------------------------------------------------------------------
    def token_log_probs(self, steps: Sequence[Sequence[int]]) -> np.ndarray:
        """Natural-log probability of each S, A, T, B token of `steps`: shape (4 * len(steps),).

        Token j is conditioned on the tokens before it in this chorale only (and `<bos>`).
        """
        self._check_fitted()
        if len(steps) == 0:
            return np.zeros(0)
        return np.log(self._probs(self._positions([self._codes(steps)])))

    def next_token_probs(self, tokens: Sequence[int]) -> np.ndarray:
        """P(next token | `tokens`) over the whole vocabulary: shape (vocab_size,), sums to 1.

        `tokens` are the chorale's tokens so far (a leading `<bos>` is allowed); the special
        tokens get probability 0.
        """
        self._check_fitted()
        tokens = [int(t) for t in tokens]
        if tokens and tokens[0] == BOS:
            tokens = tokens[1:]
        codes = self._code_of_id[np.asarray(tokens, dtype=np.int64)]
        if np.any(codes == 0):
            raise ValueError("the context may hold step tokens (rest and pitches) only")
        # every step token as a candidate for the same slot after `codes`
        history = np.concatenate([np.zeros(self.order - 1, np.int64), codes, [0]])
        n = self.base - 1
        voice = len(tokens) % 4 if self.voice_aware else 0
        positions = _Positions(
            voice=np.full(n, voice, dtype=np.int64),
            target=np.arange(1, self.base, dtype=np.int64),
            history=history,
            at=np.full(n, len(history) - 1),
        )
        probs = np.zeros(self.tokenizer.vocab_size)
        probs[self.step_ids] = self._probs(positions)
        return probs

    def _probs(self, positions: _Positions) -> np.ndarray:
        """Interpolated KN probability of every target in `positions`: shape (N,)."""
        probs = np.full(len(positions.target), 1.0 / (self.base - 1))  # uniform over step tokens
        gram = positions.voice * self.base + positions.target
        context = positions.voice
        gram_seen = context_seen = np.ones(len(gram), dtype=bool)
        for k, level in enumerate(self._levels[: self.order], start=1):
            # once an n-gram (or context) is unseen, every longer one is unseen too
            gram_id, found = _lookup(level.keys, gram)
            gram_seen = gram_seen & found
            context_id, found = _lookup(level.context_keys, context)
            context_seen = context_seen & found
            table = level.raw if k == self.order else level.continuation
            count = np.where(gram_seen, table.counts[gram_id], 0)
            total = np.where(context_seen, table.context_totals[context_id], 1.0)
            backoff = np.where(context_seen, table.context_backoff[context_id], 0.0)
            discounted = (count - table.discounts[np.minimum(count, 3)]) / total
            probs = np.where(context_seen, discounted + backoff / total * probs, probs)
            if k < self.order:  # one token further back
                gram = gram_id * self.base + positions.back(k)
                context = context_id * self.base + positions.back(k)
        return probs

    # --- helpers -----------------------------------------------------------------------------
    def _codes(self, steps: Sequence[Sequence[int]]) -> np.ndarray:
        ids = np.asarray(self.tokenizer.encode(steps)[1:-1], dtype=np.int64)
        return self._code_of_id[ids]

    def _positions(self, chorales: list[np.ndarray]) -> _Positions:
        """Every token of `chorales` (arrays of codes), each chorale padded with `<bos>`."""
        pad = self.order - 1
        history = np.concatenate([np.concatenate([np.zeros(pad, np.int64), c]) for c in chorales])
        starts = np.cumsum([0] + [pad + len(c) for c in chorales[:-1]])
        at = np.concatenate(
            [s + pad + np.arange(len(c)) for s, c in zip(starts, chorales, strict=True)]
        )
        voice = np.concatenate([np.arange(len(c)) % 4 for c in chorales]).astype(np.int64)
        if not self.voice_aware:
            voice[:] = 0
        return _Positions(voice, history[at], history, at)

    def _check_fitted(self) -> None:
        if not self._levels:
            raise RuntimeError("fit the n-gram model before scoring with it")


def select_ngram(
    train: Sequence,
    valid: Sequence,
    *,
    orders: Iterable[int] = range(1, 25),
    transposition_sets: Iterable[Iterable[int]] = ((0,), range(-6, 6)),
    tokenizer: ChoraleTokenizer | None = None,
) -> tuple[NgramModel, list[tuple[NgramModel, float]]]:
    """Fit on `train` for every (transpositions, order); keep the lowest NLL on `valid`.

    One fit per transposition set, at the highest order, serves every lower order. Returns the
    chosen model and every (model, valid NLL in nats/token) tried, in order.
    """
    from bandmate.models.nll import score_split

    orders = sorted(set(orders))
    tried = []
    for transpositions in transposition_sets:
        full = NgramModel(orders[-1], tokenizer=tokenizer, transpositions=transpositions)
        full.fit(train)
        for order in orders:
            model = full.at_order(order)
            tried.append((model, score_split(model, valid)))
    best = min(tried, key=lambda pair: pair[1])[0]
    return best, tried


def _lookup(sorted_keys: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indices of `keys` in `sorted_keys` (clipped to a valid index) and whether each was there."""
    if len(sorted_keys) == 0:
        return np.zeros(len(keys), dtype=np.int64), np.zeros(len(keys), dtype=bool)
    idx = np.minimum(np.searchsorted(sorted_keys, keys), len(sorted_keys) - 1)
    return idx, sorted_keys[idx] == keys


def _modified_kn_discounts(counts: np.ndarray) -> np.ndarray:
    """D(0..3+) from the count-of-counts (Chen & Goodman), each kept within 0..c."""
    n1, n2, n3, n4 = (np.count_nonzero(counts == c) for c in (1, 2, 3, 4))
    if min(n1, n2, n3, n4) == 0:  # too few n-grams to estimate: a middling fixed discount
        return np.array([0.0, 0.5, 1.0, 1.5])
    y = n1 / (n1 + 2 * n2)
    d = np.array([0.0, 1 - 2 * y * n2 / n1, 2 - 3 * y * n3 / n2, 3 - 4 * y * n4 / n3])
    return np.clip(d, 0.0, [0.0, 1.0, 2.0, 3.0])


def _transpose(steps, shift: int, tokenizer: ChoraleTokenizer):
    """`steps` moved by `shift` semitones, or None if a pitch would leave the tokenizer's range."""
    if shift == 0:
        return steps
    pitches = [p for step in steps for p in step if p != SILENT]
    if pitches and not (
        tokenizer.min_pitch <= min(pitches) + shift and max(pitches) + shift <= tokenizer.max_pitch
    ):
        return None
    return [tuple(p if p == SILENT else p + shift for p in step) for step in steps]
