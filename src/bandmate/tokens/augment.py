"""Transposition augmentation: more training pieces from each one, in other keys.

A melody in C teaches a model little about the same tune in F#; transposing every training piece
to the keys around its own multiplies the data and evens out the keys. Drums are never moved.

For training data only. Never augment validation or test data: transposed copies of a test piece
are near-duplicates of one another, and copies of a training piece in the test set would leak it.
Split the corpus first (the split is by piece, before any augmentation), then augment the training
split.

Two forms: `transpositions` works on Scores (before encoding), `transpose_tokens` on encoded
streams (encode once, transpose on the fly while batching); both skip a transposition that would
push a note out of the pitch range rather than fold it back by octaves, which would bend the
melody.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator

from bandmate.score.model import Role, Score
from bandmate.score.transform import transpose
from bandmate.tokens.base import Tokenizer

#: From a fourth below to a tritone above: every key once, the original included.
DEFAULT_SEMITONES = range(-5, 7)


def transpositions(
    score: Score,
    semitones: Iterable[int] = DEFAULT_SEMITONES,
    *,
    lowest_pitch: int = 36,
    highest_pitch: int = 96,
    roles: Collection[Role] | None = None,
) -> Iterator[Score]:
    """Transposed copies of `score`, one per shift in `semitones` (0 gives the score itself).

    A shift is skipped when it would move a pitched note of the checked tracks outside
    `lowest_pitch..highest_pitch` (MIDI pitches; the default is MelodyTokenizer's range). The
    checked tracks are the non-drum tracks whose role is in `roles` (None: every non-drum track);
    the others move along unchecked. Notes, keys and chord symbols move (see
    `score.transform.transpose`); drum tracks stay exactly as they are.
    """
    pitches = [
        note.pitch
        for track in score.tracks
        if not track.is_drum and (roles is None or track.role in roles)
        for note in track.notes
    ]
    low, high = min(pitches, default=lowest_pitch), max(pitches, default=highest_pitch)
    for shift in semitones:
        if lowest_pitch <= low + shift and high + shift <= highest_pitch:
            yield transpose(score, shift)


def transpose_tokens(
    tokenizer: Tokenizer, tokens: Iterable[int], semitones: int
) -> list[int] | None:
    """`tokens` of `tokenizer` moved by `semitones`, or None if a pitch would leave its range.

    Works with any tokenizer that has a `transpose_tokens(tokens, semitones)` method (melody:
    pitches, chords and key move; drums: unchanged).
    """
    method = getattr(tokenizer, "transpose_tokens", None)
    if method is None:
        raise TypeError(f"the {tokenizer.kind} tokenizer cannot transpose tokens")
    return method(tokens, semitones)
