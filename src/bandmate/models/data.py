"""Training data as token arrays, read from the corpus ledger once and then cached.

Reading a collection is the slow part of training a melody model: music21 parses each of ~10,000
ABC tunes (about 35 ms each), and the chords of a bare tune are labelled (`theory.harmony`). The
result depends only on the items (their hashes), the tokenizer (its saved dict) and how a piece
is prepared (`PREPARE_VERSION`), so it is cached under that digest in
`$BANDMATE_HOME/cache/` (default `~/.cache/bandmate/`): a second run, a resumed run and the
evaluation of a split read a file of integers instead. A cache file is written atomically; one
that does not load, or that predates a field (`CACHE_FORMAT`), is rebuilt in place. An item that
cannot be read is marked unreadable in the ledger, as `Ledger.training_items` does, and left
out.

Beside the tokens the cache keeps which item each piece came from and why each item that gave
no piece was left out, so that a model card can name exactly the items a model learnt from
(`models.tasks.SequenceTask.data_record`) without reading them again.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import zipfile
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bandmate.corpus.ledger import SPLITS, Ledger, LedgerEntry, describe
from bandmate.errors import InputFileError, UserError
from bandmate.io.files import atomic_path
from bandmate.score.model import Score
from bandmate.score.transform import split_at_silences

#: Raise when the way a piece becomes tokens changes (the labeller, a task's preparation).
PREPARE_VERSION = 6  # 2: the melody is the first track with notes; 3: a piano's highest staff;
# 4: a bare tune's chords are labelled from that staff too (`theory.harmony.melody_notes`);
# 5: parts named apart by a number ("Track 1"/"Track 2") are no staves; 6: a file is cut into
# pieces where it falls silent for 8 bars of 4/4 or more (`score.transform.split_at_silences`)
#: Raise when the cache file gains a field; a file of an older format is rebuilt, never misread.
CACHE_FORMAT = 2

#: prepare(score, entry) -> tokens, or a short reason (str) to leave the piece out; None is
#: taken as "no notes to learn"
Prepare = Callable[[Score, LedgerEntry], "np.ndarray | str | None"]

#: why an item gave no piece, beside the reasons a task's `prepare` gives
UNREADABLE = "unreadable"
NO_MUSIC = "no music"
NO_NOTES = "no notes to learn"
NOT_ENCODABLE = "not encodable"
REPEAT = "same bytes as an item of another collection"


@dataclass(frozen=True)
class LeftOut:
    """An item that gave no piece: `reason` is one of a few short phrases, so that items can be
    counted by it; `detail` is the sentence behind it, where there is one (an error message)."""

    item_id: str
    reason: str
    detail: str = ""


@dataclass
class EncodedItems:
    """The pieces of some ledger items: `pieces[k]` (n_k,) int64 tokens came from the item
    `item_ids[k]` (an item may give several pieces: a user's ABC book); `left_out` names every
    item that gave none, in the order of the entries."""

    pieces: list[np.ndarray]
    item_ids: list[str]
    left_out: list[LeftOut] = field(default_factory=list)


def default_cache_dir() -> Path:
    """`$BANDMATE_HOME/cache`, else `$XDG_CACHE_HOME/bandmate` or `~/.cache/bandmate`."""
    home = os.environ.get("BANDMATE_HOME")
    if home:
        return Path(home).expanduser() / "cache"
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache).expanduser() / "bandmate"


def _digest(name: str, tokenizer_dict: dict, entries: Sequence[LedgerEntry]) -> str:
    h = hashlib.sha256()
    h.update(json.dumps([name, PREPARE_VERSION, tokenizer_dict], sort_keys=True).encode())
    for entry in sorted(entries, key=lambda e: (e.collection, e.reference)):
        h.update(f"\n{entry.collection}\t{entry.reference}\t{entry.sha256}".encode())
    return h.hexdigest()


def encode_items(
    name: str,
    tokenizer,
    entries: Sequence[LedgerEntry],
    prepare: Prepare,
    *,
    ledger: Ledger | None = None,
    cache_dir: Path | None = None,
) -> EncodedItems:
    """Every readable piece of `entries`, `prepare`d, with the item each came from and the items
    left out, from the cache if it can."""
    ledger = ledger or Ledger()
    folder = cache_dir or default_cache_dir()
    path = folder / f"{name}-{_digest(name, tokenizer.to_dict(), entries)[:24]}.npz"
    if path.is_file():
        cached = _load(path)
        if cached is not None:
            return cached
    encoded = _encode(entries, prepare, ledger)
    folder.mkdir(parents=True, exist_ok=True)
    _save(path, encoded)
    return encoded


def _encode(entries: Sequence[LedgerEntry], prepare: Prepare, ledger: Ledger) -> EncodedItems:
    encoded = EncodedItems([], [])
    for entry in entries:
        try:
            scores = ledger.read_item(entry)
        except InputFileError as e:  # as `Ledger.read_entries` does
            ledger.mark_unreadable(entry, str(e))
            encoded.left_out.append(LeftOut(entry.item_id, UNREADABLE, str(e)))
            continue
        first_miss: LeftOut | None = None
        learnt = False
        for score in (piece for read in scores for piece in split_at_silences(read)):
            try:
                tokens = prepare(score, entry)
            except (ValueError, UserError) as e:  # a meter or a part with no token
                first_miss = first_miss or LeftOut(entry.item_id, NOT_ENCODABLE, str(e))
                continue
            if isinstance(tokens, str) or tokens is None or len(tokens) <= 2:
                reason = tokens if isinstance(tokens, str) else NO_NOTES
                first_miss = first_miss or LeftOut(entry.item_id, reason)
                continue
            encoded.pieces.append(np.asarray(tokens, dtype=np.int64))
            encoded.item_ids.append(entry.item_id)
            learnt = True
        if not learnt:
            encoded.left_out.append(first_miss or LeftOut(entry.item_id, NO_MUSIC))
    return encoded


def _save(path: Path, encoded: EncodedItems) -> None:
    offsets = np.cumsum([0] + [len(p) for p in encoded.pieces])
    pieces = encoded.pieces
    flat = np.concatenate(pieces).astype(np.int32) if pieces else np.zeros(0, dtype=np.int32)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez(
            f,
            format=np.int64(CACHE_FORMAT),
            tokens=flat,
            offsets=offsets,
            item_ids=np.asarray(encoded.item_ids, dtype=str),
            left_out_ids=np.asarray([m.item_id for m in encoded.left_out], dtype=str),
            left_out_reasons=np.asarray([m.reason for m in encoded.left_out], dtype=str),
            left_out_details=np.asarray([m.detail for m in encoded.left_out], dtype=str),
        )


def _load(path: Path) -> EncodedItems | None:
    """The cache file at `path`; None when it is damaged or of another format (a file from
    before `CACHE_FORMAT` 2 has tokens but no item ids: read, it would make a card that counts
    the items it cannot tell apart, so it is rebuilt)."""
    try:
        with np.load(path) as saved:
            if "format" not in saved.files or int(saved["format"]) != CACHE_FORMAT:
                return None
            tokens, offsets = saved["tokens"], saved["offsets"]
            item_ids = [str(i) for i in saved["item_ids"]]
            left_out = [
                LeftOut(str(i), str(r), str(d))
                for i, r, d in zip(
                    saved["left_out_ids"],
                    saved["left_out_reasons"],
                    saved["left_out_details"],
                    strict=True,
                )
            ]
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None  # a damaged cache file is rebuilt
    pieces = [tokens[a:b].astype(np.int64) for a, b in itertools.pairwise(offsets)]
    if len(pieces) != len(item_ids):
        return None
    return EncodedItems(pieces, item_ids, left_out)


def without_repeats(entries: Sequence[LedgerEntry]) -> tuple[list[LedgerEntry], list[LeftOut]]:
    """`entries` with each file's bytes once: an item whose sha256 an earlier entry has (the
    same file in two of a user's folders, added as two collections) would be learnt twice, so
    it is left out, saying which item it repeats. A collection holds each sha256 once already."""
    first: dict[str, LedgerEntry] = {}
    kept, repeats = [], []
    for entry in entries:
        seen = first.setdefault(entry.sha256, entry)
        if seen is entry:
            kept.append(entry)
        else:
            detail = (
                f"{entry.reference!r} has the same bytes as {seen.item_id} ({seen.reference!r})."
            )
            repeats.append(LeftOut(entry.item_id, REPEAT, detail))
    return kept, repeats


#: how many left-out items a card names one by one; past that it counts them by reason only
LEFT_OUT_LISTED = 100


def learnt_record(entries: Sequence[LedgerEntry], left_out: Sequence[LeftOut]) -> dict:
    """What a model learnt from, for its card: `ledger.describe` of the items of `entries` that
    are not `left_out`, so that its counts and its data hash are of the items learnt from, and
    what was left out and why.

    {**describe(learnt), "collections": [..., each with "left_out": n],
     "left_out": {"items": n, "reasons": {reason: n}, "listed": [{"collection", "item",
                  "reason"[, "detail"]}, ...]}}

    A collection every item of which was left out stays listed, with "items": 0, so that the
    card still says it was asked for and why it taught nothing (and `bandmate eval` scores the
    same splits that training did). A reader needs the count by reason to judge the data at a
    glance (one drum file in a folder of tunes, or a third of a collection in a meter the
    tokenizer lacks), and the items by name to fix a folder; a large corpus may leave out
    hundreds, so the first `LEFT_OUT_LISTED` (by collection and item) are named and the rest are
    counted only: the data hash names exactly the items learnt from in any case.
    """
    missed = {m.item_id: m for m in left_out}
    learnt = [e for e in entries if e.item_id not in missed]
    record = describe(learnt)
    asked = {c["name"]: c for c in describe(entries)["collections"]}
    by_name = {c["name"]: c for c in record["collections"]}
    for name, collection in asked.items():
        by_name.setdefault(name, {**collection, "items": 0, "splits": dict.fromkeys(SPLITS, 0)})
    gone = sorted(
        (e for e in {e.item_id: e for e in entries}.values() if e.item_id in missed),
        key=lambda e: (e.collection, e.reference),
    )
    for name, collection in by_name.items():
        collection["left_out"] = sum(e.collection == name for e in gone)
    listed = []
    for entry in gone[:LEFT_OUT_LISTED]:
        miss = missed[entry.item_id]
        listed.append(
            {
                "collection": entry.collection,
                "item": entry.reference,
                "reason": miss.reason,
                **({"detail": miss.detail} if miss.detail else {}),
            }
        )
    reasons = Counter(missed[e.item_id].reason for e in gone)
    record["collections"] = [by_name[name] for name in sorted(by_name)]
    record["left_out"] = {
        "items": len(gone),
        "reasons": dict(reasons.most_common()),
        "listed": listed,
    }
    return record
