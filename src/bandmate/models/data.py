"""Training data as token arrays, read from the corpus ledger once and then cached.

Reading a collection is the slow part of training a melody model: music21 parses each of ~10,000
ABC tunes (about 35 ms each), and the chords of a bare tune are labelled (`theory.harmony`). The
result depends only on the items (their hashes), the tokenizer (its saved dict) and how a piece
is prepared (`PREPARE_VERSION`), so it is cached under that digest in
`$BANDMATE_HOME/cache/` (default `~/.cache/bandmate/`): a second run, a resumed run and the
evaluation of a split read a file of integers instead. A cache file is written atomically; one
that does not load is rebuilt. An item that cannot be read is marked unreadable in the ledger,
as `Ledger.training_items` does, and left out.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from bandmate.corpus.ledger import Ledger, LedgerEntry
from bandmate.errors import UserError
from bandmate.io.files import atomic_path
from bandmate.score.model import Score

#: Raise when the way a piece becomes tokens changes (the labeller, a task's preparation).
PREPARE_VERSION = 1

Prepare = Callable[[Score, LedgerEntry], "np.ndarray | None"]


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


def encoded_pieces(
    name: str,
    tokenizer,
    entries: Sequence[LedgerEntry],
    prepare: Prepare,
    *,
    ledger: Ledger | None = None,
    cache_dir: Path | None = None,
) -> list[np.ndarray]:
    """Token arrays of every readable piece of `entries`, `prepare`d, from the cache if it can.

    prepare(score, entry) -> tokens, or None to leave the piece out.
    """
    ledger = ledger or Ledger()
    folder = cache_dir or default_cache_dir()
    path = folder / f"{name}-{_digest(name, tokenizer.to_dict(), entries)[:24]}.npz"
    if path.is_file():
        try:
            with np.load(path) as saved:
                tokens, offsets = saved["tokens"], saved["offsets"]
            bounds = itertools.pairwise(offsets)
            return [tokens[a:b].astype(np.int64) for a, b in bounds]
        except (OSError, ValueError, KeyError):
            pass  # a damaged cache file is rebuilt
    pieces: list[np.ndarray] = []
    for entry, score in ledger.read_entries(entries):
        try:
            tokens = prepare(score, entry)
        except (ValueError, UserError):
            continue  # a meter or a part the tokenizer has no token for
        if tokens is not None and len(tokens) > 2:
            pieces.append(np.asarray(tokens, dtype=np.int32))
    folder.mkdir(parents=True, exist_ok=True)
    offsets = np.cumsum([0] + [len(p) for p in pieces])
    flat = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int32)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez(f, tokens=flat, offsets=offsets)
    return [p.astype(np.int64) for p in pieces]
