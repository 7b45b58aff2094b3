"""What a model learns, per task: its tokenizer, data, augmentation, token types and grammar.

Training (`train`), scoring (`registry`) and sampling (`sampling`) all read a task through the
same few hooks, so a chorale model is trained, scored and sampled under one set of rules:

- `encode_train(piece, rng)`: the tokens of one training example, augmented (chorales: a random
  transposition that keeps every pitch in the tokenizer's range);
- `token_types(n)`: the type of each of the first `n` token positions, fed to the model's type
  embedding (chorales: 0 for `<bos>`, 1..4 for soprano..bass);
- `grammar_mask(n, start)`: the token ids the grammar allows at each position (chorales: a step
  token (pitch or rest) everywhere, `<eos>` only where a new step could begin). Scoring and
  sampling mask every other token; training does not need to (the model learns the grammar).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from bandmate.errors import UserError
from bandmate.tokens.base import BOS, EOS, PAD, Tokenizer

TASKS = ("chorale", "melody", "drums")
JSB_COLLECTION = "jsb"
JSB_ATTRIBUTION = (
    "JSB Chorales (Boulanger-Lewandowski et al., ICML 2012), train split, as prepared for Coconet "
    "(Huang et al., ISMIR 2017) in czhuang/JSB-Chorales-dataset; the music (J. S. Bach) is in "
    "the public domain"
)
VOICES_PER_STEP = 4


def pitch_of_tokens(tokenizer: Tokenizer) -> np.ndarray:
    """(vocab,) the MIDI pitch of each token, -1 for every token that is not a pitch (drums:
    the GM note of each DRUM token), from the tokenizer's `pitch_token_ids()`."""
    pitches = np.full(tokenizer.vocab_size, -1, dtype=np.int64)
    for pitch, token in tokenizer.pitch_token_ids().items():
        pitches[token] = pitch
    return pitches


@dataclass
class ChoraleTask:
    """Four-part chorales, four tokens (S, A, T, B) per 16th step."""

    tokenizer: Tokenizer
    transpositions: tuple[int, ...] = tuple(range(-5, 7))  # -5..+6: every key once
    name: str = "chorale"
    n_token_types: int = 1 + VOICES_PER_STEP

    def __post_init__(self):
        self._step_ids = np.asarray(self.tokenizer.step_token_ids(), dtype=np.int64)

    # --- data --------------------------------------------------------------------------------
    def pieces(self, split: str) -> list:
        from bandmate.corpus.jsb import load_jsb

        return load_jsb(split)

    def check_data(self, collections: list[str] | None, commercial_only: bool) -> None:
        """Check the data asked for: only the JSB collection suits chorales."""
        if collections not in (None, [JSB_COLLECTION]):
            raise UserError(
                f"A chorale model learns from the {JSB_COLLECTION!r} collection only "
                f"(four-part steps); leave out --data or give --data {JSB_COLLECTION}."
            )
        if commercial_only:
            from bandmate.corpus import ledger

            ledger.check_commercial([JSB_COLLECTION])

    def data_record(self, split: str = "train") -> dict:
        """What the model learnt from, for its card, as `SequenceTask.data_record` gives it:
        every JSB chorale of `split` is learnt from (the tokenizer encodes any four-part step),
        so none is left out."""
        from bandmate.corpus.ledger import Ledger
        from bandmate.models.data import learnt_record

        entries = Ledger().items([JSB_COLLECTION], split=split)
        return {**learnt_record(entries, []), "split": split, "attribution": JSB_ATTRIBUTION}

    def allowed_shifts(self, steps: Sequence[Sequence[int]]) -> list[int]:
        """The transpositions of `steps` whose every pitch stays in the tokenizer's range."""
        pitches = [p for step in steps for p in step if p >= 0]
        if not pitches:
            return [0]
        low, high = min(pitches), max(pitches)
        tok = self.tokenizer
        return [
            s for s in self.transpositions if tok.min_pitch <= low + s and high + s <= tok.max_pitch
        ]

    def encode_train(self, steps, rng: np.random.Generator) -> np.ndarray:
        """Tokens (n,) of `steps` transposed by a shift drawn uniformly from `allowed_shifts`."""
        shifts = self.allowed_shifts(steps)
        shift = shifts[int(rng.integers(len(shifts)))]
        moved = [tuple(p + shift if p >= 0 else p for p in step) for step in steps]
        return np.asarray(self.tokenizer.encode(moved), dtype=np.int64)

    def encode(self, steps) -> np.ndarray:
        return np.asarray(self.tokenizer.encode(steps), dtype=np.int64)

    # --- what the model is told and what the grammar allows ------------------------------------
    def token_types(self, n: int, start: int = 0) -> np.ndarray:
        """Types (n,) of positions start..start+n-1: 0 = `<bos>`, 1 + voice for step tokens."""
        positions = np.arange(start, start + n)
        return np.where(positions == 0, 0, 1 + (positions - 1) % VOICES_PER_STEP)

    def voice_of(self, position: int) -> int | None:
        """The voice (0 soprano .. 3 bass) of the token at `position`; None for `<bos>`."""
        return None if position == 0 else (position - 1) % VOICES_PER_STEP

    def pitch_of_tokens(self) -> np.ndarray:
        return pitch_of_tokens(self.tokenizer)

    def grammar_mask(self, n: int, start: int = 0) -> np.ndarray:
        """Boolean (n, vocab): row j allows the tokens that may stand at position start + j + 1,
        i.e. what the logits at position start + j may predict."""
        mask = np.zeros((n, self.tokenizer.vocab_size), dtype=bool)
        mask[:, self._step_ids] = True
        nxt = np.arange(start, start + n) + 1
        mask[:, EOS] = (nxt >= 1 + VOICES_PER_STEP) & ((nxt - 1) % VOICES_PER_STEP == 0)
        return mask


# the ledger collections a melody or drum model learns from unless told otherwise
DEFAULT_COLLECTIONS = {
    "melody": ("essen", "oneills1850", "ryans-mammoth", "bach-chorales"),
    "drums": ("bandmate-styles",),
}
#: the melody style (a STYLE token) that a collection's tunes teach; other collections teach none
MELODY_STYLE_OF_COLLECTION = {
    "essen": "folk",
    "oneills1850": "irish",
    "ryans-mammoth": "fiddle",
    "bach-chorales": "chorale",
}


@dataclass
class SequenceTask:
    """Melodies or drum patterns: Scores from the corpus ledger, encoded once by the tokenizer.

    Augmentation is the tokenizer's own `transpose_tokens` (drums never move); the grammar only
    keeps `<pad>` and `<bos>` out of a piece. A piece the tokenizer cannot encode (no melody, no
    drums) is left out, and the card's `data_record` says so. A melody learns its chords and
    its style with it: a tune without chord symbols gets them from
    `theory.harmony.with_chords`, and a STYLE token says the kind of tune its collection holds
    (`MELODY_STYLE_OF_COLLECTION`). Encoded pieces are cached (`models.data`).
    """

    tokenizer: Tokenizer
    name: str
    transpositions: tuple[int, ...] = tuple(range(-5, 7))
    n_token_types: int = 0
    collections: tuple[str, ...] = ()
    commercial_only: bool = False

    # the items read for each split: the card's record of what was learnt needs the train
    # split's, and reading it again could differ (an item found unreadable is marked so)
    _encoded: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def check_data(self, collections: list[str] | None, commercial_only: bool) -> None:
        """Choose the ledger collections to learn from (None: the task's default) and check
        them (`commercial_only`: each must be cleared for commercial use). Nothing is read yet,
        so what the model learns from is known only after `pieces`: see `data_record`."""
        from bandmate.corpus import ledger

        self.collections = tuple(collections or DEFAULT_COLLECTIONS[self.name])
        self.commercial_only = commercial_only
        self._encoded = {}
        if commercial_only:
            ledger.check_commercial(self.collections)

    def pieces(self, split: str) -> list[np.ndarray]:
        from bandmate.corpus import ledger
        from bandmate.models.data import encode_items, without_repeats

        entries, repeats = without_repeats(
            ledger.Ledger().items(
                self.collections, split=split, commercial_only=self.commercial_only
            )
        )
        encoded = encode_items(self.name, self.tokenizer, entries, self.prepare)
        encoded.left_out = [*encoded.left_out, *repeats]
        self._encoded[split] = encoded
        return encoded.pieces

    def data_record(self, split: str = "train") -> dict:
        """What the model learnt from, for its card (`models.data.learnt_record`): the items of
        `split` that gave a piece, counted and hashed, and those left out with their reason (no
        pitched notes, no drum notes, unreadable, not encodable), including items the ledger
        had already found unreadable. Reads the split unless `pieces` has."""
        from bandmate.corpus.ledger import Ledger
        from bandmate.models.data import UNREADABLE, LeftOut, learnt_record

        if split not in self._encoded:
            self.pieces(split)
        encoded = self._encoded[split]
        entries = Ledger().items(
            self.collections,
            split=split,
            commercial_only=self.commercial_only,
            include_unreadable=True,
        )
        learnt = set(encoded.item_ids)
        left_out = list(encoded.left_out) + [
            LeftOut(e.item_id, UNREADABLE, e.reason)
            for e in entries
            if not e.ok and e.item_id not in learnt
        ]
        return {**learnt_record(entries, left_out), "split": split}

    def prepare(self, score, entry) -> np.ndarray | str:
        """The training tokens of one score of a ledger item, or why it is left out when it has
        no notes to learn (a melody task given only drums, a drum task given no drums)."""
        if self.name == "melody":
            from bandmate.theory.harmony import with_chords

            style = MELODY_STYLE_OF_COLLECTION.get(entry.collection)
            tokens = self.tokenizer.encode(with_chords(score), style=style)
        else:
            tokens = self.tokenizer.encode(score)
        if not any(self.tokenizer.is_pitch_token(t) for t in tokens):
            return "no pitched notes" if self.name == "melody" else "no drum notes"
        return np.asarray(tokens, dtype=np.int64)

    def encode(self, piece) -> np.ndarray:
        if isinstance(piece, np.ndarray):  # already tokens
            return piece
        return np.asarray(self.tokenizer.encode(piece), dtype=np.int64)

    def encode_train(self, piece, rng: np.random.Generator) -> np.ndarray:
        tokens = self.encode(piece)
        shift = self.transpositions[int(rng.integers(len(self.transpositions)))]
        moved = self.tokenizer.transpose_tokens(tokens.tolist(), shift) if shift else None
        return tokens if moved is None else np.asarray(moved, dtype=np.int64)

    def token_types(self, n: int, start: int = 0) -> np.ndarray:
        return np.zeros(n, dtype=np.int64)

    def voice_of(self, position: int) -> None:
        return None

    def pitch_of_tokens(self) -> np.ndarray:
        return pitch_of_tokens(self.tokenizer)

    def grammar_mask(self, n: int, start: int = 0) -> np.ndarray:
        mask = np.ones((n, self.tokenizer.vocab_size), dtype=bool)
        mask[:, [PAD, BOS]] = False
        return mask


def make_task(name: str, tokenizer: Tokenizer | None = None, **options):
    """The task called `name`, with its default tokenizer unless one is given."""
    if name == "chorale":
        from bandmate.tokens.chorale import ChoraleTokenizer

        return ChoraleTask(tokenizer or ChoraleTokenizer(), **options)
    if name == "melody":
        from bandmate.tokens.melody import MelodyTokenizer

        return SequenceTask(tokenizer or MelodyTokenizer(), name, **options)
    if name == "drums":
        from bandmate.tokens.drums import DrumTokenizer

        options["transpositions"] = (0,)  # drums never move
        return SequenceTask(tokenizer or DrumTokenizer(), name, **options)
    raise UserError(f"Unknown task {name!r}; choose one of {', '.join(TASKS)}.")
