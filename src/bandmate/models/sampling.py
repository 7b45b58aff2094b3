"""Sampling with temperature and top-p, where hard constraints always hold.

Constraints are never left to the model's judgement: at every position the logits of every token
that would break one are set to -inf *before* temperature and top-p, so a sample cannot break
them, whatever the seed. A position is governed by, in this order:

1. a **fixed token** (infilling, harmonising a given melody): it is emitted as it is and fed
   back to the model, which then continues from it;
2. the **task's grammar** (`task.grammar_mask`; chorales: a pitch or the rest in every voice slot,
   `<eos>` only at a step boundary, so no chorale ends mid-step);
3. the **length**: `<eos>` is forbidden before it and forced at it;
4. the **pitch constraints**: allowed pitch classes (a key or scale) and a pitch range, applied to
   pitch tokens only (a rest is always allowed), per voice where the task has voices;
5. a **guide**, when one is given: an object that reads the tokens so far and says what may come
   next (`guide.mask(position, tokens)`: a lead sheet's bars and chords, a harmonisation's voice
   leading) and how to lean (`guide.bias(position, tokens)`: logits added before temperature,
   such as a preference for chord tones on strong beats). Either may return None (no opinion).

When the constraints leave nothing at a position the sampler raises a `UserError` that names the
position instead of emitting something that breaks them.

A left-to-right model does not see fixed tokens ahead of it, so it does not steer towards them;
it only continues coherently after each one. That is enough to harmonise a fixed soprano (the
soprano of a step precedes the other three voices of that step).
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import torch

from bandmate.errors import UserError
from bandmate.models.transformer import DecoderTransformer
from bandmate.tokens.base import BOS, EOS


@dataclass
class PitchConstraints:
    """Which pitches a pitch token may have.

    pitch_classes: allowed pitch classes 0..11 (C = 0), e.g. a scale; None = all twelve.
    pitch_range: (lowest, highest) MIDI pitch, inclusive; None = the tokenizer's whole range.
    voice_ranges: per voice index (chorales: 0 soprano .. 3 bass) a (lowest, highest) range that
        replaces `pitch_range` for that voice.
    """

    pitch_classes: Collection[int] | None = None
    pitch_range: tuple[int, int] | None = None
    voice_ranges: Mapping[int, tuple[int, int]] = field(default_factory=dict)

    def allowed(self, pitches: np.ndarray, voice: int | None = None) -> np.ndarray:
        """Boolean mask over `pitches` (vocab,), MIDI pitch per token (-1 = not a pitch: kept)."""
        ok = np.ones(len(pitches), dtype=bool)
        is_pitch = pitches >= 0
        if self.pitch_classes is not None:
            classes = np.zeros(12, dtype=bool)
            classes[[int(pc) % 12 for pc in self.pitch_classes]] = True
            ok &= ~is_pitch | classes[pitches % 12]
        span = self.voice_ranges.get(voice, self.pitch_range) if voice is not None else None
        span = span if span is not None else self.pitch_range
        if span is not None:
            ok &= ~is_pitch | ((pitches >= span[0]) & (pitches <= span[1]))
        return ok


class Guide(Protocol):
    """Steers a sample as it is written (see the module docstring); `tokens` are those so far,
    `<bos>` first, and `position` is where the next one goes (== len(tokens))."""

    def mask(self, position: int, tokens: Sequence[int]) -> np.ndarray | None:
        """Boolean (vocab,): the tokens allowed at `position`, or None for all."""

    def bias(self, position: int, tokens: Sequence[int]) -> np.ndarray | None:
        """Float (vocab,) added to the logits at `position`, or None."""


def _top_p_filter(logits: torch.Tensor, top_p: float) -> torch.Tensor:
    """Keep the smallest set of most probable tokens whose probability reaches top_p."""
    if top_p >= 1.0:
        return logits
    sorted_logits, order = torch.sort(logits, descending=True)  # (V,)
    cumulative = torch.softmax(sorted_logits, dim=-1).cumsum(dim=-1)
    # drop a token when the tokens before it already reach top_p (the top token always stays)
    drop = (cumulative - torch.softmax(sorted_logits, dim=-1)) >= top_p
    sorted_logits = sorted_logits.masked_fill(drop, float("-inf"))
    return torch.empty_like(logits).scatter_(0, order, sorted_logits)


@contextlib.contextmanager
def _one_thread():
    """Writing one token at a time is too small a job to share: torch's thread pool costs more
    than it saves (6x slower with 2 threads on a busy 2-core machine), so sampling uses one."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def sample_tokens(*args, **kwargs) -> list[int]:
    """One token sequence `<bos> ... <eos>` from `model`, meeting every constraint (see
    `_sample_tokens` for the arguments), on one CPU thread."""
    with _one_thread():
        return _sample_tokens(*args, **kwargs)


@torch.no_grad()
def _sample_tokens(
    model: DecoderTransformer,
    task,
    *,
    length: int | None = None,
    fixed: Mapping[int, int] | None = None,
    constraints: PitchConstraints | None = None,
    temperature: float = 1.0,
    top_p: float = 1.0,
    seed: int = 0,
    guide: Guide | None = None,
    prompt: Sequence[int] | None = None,
) -> list[int]:
    """One token sequence `<bos> ... <eos>` from `model`, meeting every constraint.

    length: exact number of tokens between `<bos>` and `<eos>` (None: until the model ends it or
        the model's context is full; then it stops without `<eos>` where the grammar does not
        allow one). fixed: position -> token id (position 0 is `<bos>`).
    temperature: > 0 (1 = the model's distribution; 0 = always the most probable token).
    top_p: nucleus sampling, 0 < top_p <= 1. seed: the same seed gives the same sample.
    guide: see `Guide`. prompt: tokens `<bos> ...` to continue (fed to the model at once, not
        checked against the constraints); the sample then starts at position len(prompt).
    """
    if temperature < 0 or not 0 < top_p <= 1:
        raise UserError("Use a temperature >= 0 and a top-p in (0, 1].")
    limit = model.config.max_len
    if length is not None and length + 2 > limit:
        raise UserError(f"A sample of {length} tokens does not fit this model's {limit} tokens.")
    fixed = dict(fixed or {})
    pitches = task.pitch_of_tokens()  # (V,) MIDI pitch or -1
    model.eval()
    generator = torch.Generator().manual_seed(seed)
    tokens = [int(t) for t in prompt] if prompt else [BOS]
    if len(tokens) >= limit:
        raise UserError(f"A prompt of {len(tokens)} tokens does not fit this model's {limit}.")
    logits, cache = model(*_prompt_input(model, task, tokens), cache=[])
    end = (length + 1) if length is not None else limit - 1
    for position in range(len(tokens), end + 1):
        grammar = task.grammar_mask(1, position - 1)[0]  # (V,) what may stand here
        mask = grammar.copy()
        if length is not None:
            mask[EOS] = False
        bias = guide_mask = None
        if guide is not None:
            guide_mask = guide.mask(position, tokens)
            bias = guide.bias(position, tokens)
        if position == end:  # the sample ends here, if the grammar (and the guide) let it
            may_end = grammar[EOS] and (guide_mask is None or guide_mask[EOS])
            if not may_end:
                if length is None:
                    break  # the context is full mid-piece: stop without <eos>
                raise UserError(f"A {task.name} cannot end after {position - 1} tokens.")
            mask[:] = False
            mask[EOS] = True
        if constraints is not None:
            mask &= constraints.allowed(pitches, task.voice_of(position))
        if guide_mask is not None:
            mask &= guide_mask
        if position in fixed:
            token = int(fixed[position])
            if not grammar[token]:
                raise UserError(
                    f"The token fixed at position {position} breaks the {task.name} grammar there."
                )
        else:
            if not mask.any():
                raise UserError(
                    f"The constraints leave no token to choose at position {position}; "
                    "widen the pitch range or the allowed pitch classes."
                )
            scores = logits[0, -1]  # (V,)
            if bias is not None:
                scores = scores + torch.from_numpy(np.asarray(bias, dtype=np.float32))
            scores = scores.masked_fill(~torch.from_numpy(mask), float("-inf"))
            if temperature == 0:
                token = int(scores.argmax())
            else:
                scores = _top_p_filter(scores / temperature, top_p)
                token = int(torch.multinomial(torch.softmax(scores, -1), 1, generator=generator))
        tokens.append(token)
        if token == EOS:
            break
        if position < limit - 1:
            logits, cache = model(*_step_input(model, task, token, position), cache=cache)
    return tokens


def _prompt_input(model, task, tokens: Sequence[int]):
    """(tokens (1, n), types (1, n) or None) for a whole prompt from position 0."""
    types = None
    if model.config.n_token_types:
        types = torch.from_numpy(task.token_types(len(tokens), 0)).view(1, -1)
    return torch.tensor([list(tokens)]), types


def _step_input(model, task, token: int, position: int):
    """(tokens (1, 1), types (1, 1) or None) for one token at `position`."""
    types = None
    if model.config.n_token_types:
        types = torch.from_numpy(task.token_types(1, position)).view(1, 1)
    return torch.tensor([[token]]), types
