"""The ledger: a record of every item bandmate may learn from, so a model can say what it learnt.

Each item (`LedgerEntry`) is recorded once per collection with its sha256, where it is, its
licence text and class, whether it is cleared for commercial use, its split, whether it could be
read (and why not) and when it was recorded. An entry changes only when an item that fails to
read while training is marked unreadable, when such an item is found again, and when the code's
licence row for a built-in collection changes (its items follow it). A model card embeds
`describe(entries)`: the collections, item counts, licences, commercial flags and one sha256
over the items' hashes.

**Storage.** One SQLite file (stdlib `sqlite3`): `$BANDMATE_HOME/ledger.sqlite`, else
`$XDG_DATA_HOME/bandmate/ledger.sqlite`, else `~/.local/share/bandmate/ledger.sqlite`. SQLite
because the ledger is queried (by collection, split, licence) from several processes at once
(a web job and a trainer) and must survive a crash half-way through an import; a JSON file
would need locking and rewriting whole. A command that finds the ledger held by another waits
for it up to `Ledger.busy_timeout_s` (30 s), then says the ledger is in use (SQLite's "database is
locked"), never that it is damaged.

**Built-in collections** are recorded on first use (`items`, `summary`, `training_items` or
`check_commercial` naming them, or `register_builtin`): listing and hashing their files, not
parsing them, so they are recorded as "ok"; an item that later fails to read while training is
marked "unreadable" with the reason. Recording all seven (some 14,000 items in 2,900 files)
takes about a second; recording one again, to pick up new items, about a tenth of that.

**Splits.** JSB items keep the dataset's own split. Every other item's split comes from its hash:
the first 32 bits as a fraction of 2**32, below 0.90 train, below 0.95 valid, else test. It is
deterministic, needs no list to be kept, and an item has the same split in every collection and
on every machine, so the same bytes can never be in one model's train set and its test set. (The
same music in two encodings, a JSB chorale and its MusicXML in `bach-chorales`, has two hashes:
the hash cannot see that, so a model should not train on one of those and test on the other.)

**Users' folders** (`add_folder`): every file whose suffix bandmate reads is found recursively,
hashed and read; a file that cannot be read (not music, a corrupt or truncated MIDI file, a score
without notes) is recorded as "unreadable" with the reason and listed in the report. Files are
only ever opened for reading. A file with the same bytes as another, or the same notes as a
recorded item (`sources.music_sha256`: the same tune saved at another tempo or resolution, as a
type-0 and a type-1 file, played by other instruments), is the same piece: it is not recorded,
and the report says which file it repeats (of a symbolic link and the file it points to, the
file is recorded). The same piece twice would count twice in training and, under two hashes,
could land in train and in valid. Adding the same folder again records only files whose bytes
are new (the same bytes are the same item, so nothing is duplicated, and an unchanged folder is
not parsed again); an item marked unreadable because its file had gone becomes readable again
when its bytes are found once more. A folder belongs to one collection: adding it under a second
name is refused, as is a folder inside a collection's folder or one that holds a collection's
folder, and reusing a name for another folder or another licence, because the same files under
two licences would make the record contradict itself.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import sqlite3
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from bandmate.corpus.sources import (
    BUILTIN_COLLECTIONS,
    Collection,
    CorpusError,
    find_music_files,
    music_sha256,
    read_music_bytes,
    sha256_bytes,
    user_collection,
)
from bandmate.errors import InputFileError, UserError
from bandmate.io.formats import READ_SUFFIXES
from bandmate.progress import ProgressCallback, no_progress
from bandmate.score.model import Score

SPLITS = ("train", "valid", "test")
# cumulative share of the hash range that goes to train, then valid; test takes the rest
SPLIT_BOUNDS = (0.90, 0.95)
OK = "ok"
UNREADABLE = "unreadable"
LEDGER_FILE = "ledger.sqlite"
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS collections (
    name TEXT PRIMARY KEY,
    builtin INTEGER NOT NULL,
    source TEXT NOT NULL,
    folder TEXT,
    licence TEXT NOT NULL,
    licence_class TEXT NOT NULL,
    commercial INTEGER NOT NULL,
    complete INTEGER NOT NULL DEFAULT 0,
    added_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS items (
    item_id TEXT PRIMARY KEY,
    collection TEXT NOT NULL REFERENCES collections(name),
    source TEXT NOT NULL,
    reference TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    licence TEXT NOT NULL,
    licence_class TEXT NOT NULL,
    commercial INTEGER NOT NULL,
    split TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    added_at TEXT NOT NULL,
    music_sha256 TEXT,
    UNIQUE (collection, sha256)
);
CREATE INDEX IF NOT EXISTS items_by_collection ON items (collection, split, status);
"""
_ITEM_COLUMNS = (
    "item_id, collection, source, reference, sha256, licence, licence_class, commercial, split, "
    "status, reason, added_at"
)


@dataclass(frozen=True)
class LedgerEntry:
    """One recorded item. `item_id` is "collection:" plus the first 12 hex digits of `sha256`.

    reference: where the item is: a path in music21's corpus ("bach/bwv66.6.mxl"), a tune of an
        ABC book ("essenFolksong/erk5.abc#3"), a JSB split and index ("train/12"), a style file,
        or a path relative to a user's folder.
    status: "ok" or "unreadable" (then `reason` says why, in a sentence).
    added_at: when it was recorded, ISO 8601 in UTC.
    """

    item_id: str
    collection: str
    source: str
    reference: str
    sha256: str
    licence: str
    licence_class: str
    commercial: bool
    split: str
    status: str
    reason: str
    added_at: str

    @property
    def ok(self) -> bool:
        return self.status == OK


@dataclass(frozen=True)
class AddReport:
    """What `Ledger.add_folder` did.

    added: items recorded now (readable or not); already_recorded: readable files whose bytes
    were in the collection already; duplicates: files left out as the same piece as another
    (references): their bytes equal an earlier file's in this folder, or their notes a recorded
    item's (`music_sha256`); duplicate_reasons: (reference, which file it repeats) of each;
    unreadable: every file of this folder that could not be read, recorded now or before;
    unopened: (reference, reason) of files the system would not let us open, which have no
    bytes to hash and so are not recorded.
    """

    collection: str
    folder: Path
    licence: str
    licence_class: str
    commercial: bool
    added: tuple[LedgerEntry, ...]
    already_recorded: tuple[LedgerEntry, ...]
    duplicates: tuple[str, ...]
    unreadable: tuple[LedgerEntry, ...]
    unopened: tuple[tuple[str, str], ...] = ()
    duplicate_reasons: tuple[tuple[str, str], ...] = ()

    @property
    def added_ok(self) -> tuple[LedgerEntry, ...]:
        return tuple(e for e in self.added if e.ok)


@dataclass(frozen=True)
class CollectionSummary:
    """Counts for one recorded collection. `splits` counts readable items only."""

    name: str
    source: str
    licence: str
    licence_class: str
    commercial: bool
    builtin: bool
    complete: bool
    items: int
    ok: int
    unreadable: int
    splits: dict[str, int]


def default_ledger_path() -> Path:
    """`$BANDMATE_HOME/ledger.sqlite`, else under `$XDG_DATA_HOME` or `~/.local/share`."""
    home = os.environ.get("BANDMATE_HOME")
    if home:
        return Path(home).expanduser() / LEDGER_FILE
    data = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data).expanduser() / "bandmate" / LEDGER_FILE


def split_for(sha256: str) -> str:
    """The split of an item from its hash: 90% train, 5% valid, 5% test, the same everywhere."""
    fraction = int(sha256[:8], 16) / 2**32
    for split, bound in zip(SPLITS, SPLIT_BOUNDS, strict=False):
        if fraction < bound:
            return split
    return SPLITS[-1]


def item_id(collection: str, sha256: str) -> str:
    return f"{collection}:{sha256[:12]}"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Ledger:
    """The ledger in one SQLite file (default: `default_ledger_path()`, read when it is made)."""

    #: how long a command waits for another that holds the ledger (a write is committed per
    #: file, so a wait is short unless the other is stuck), before it says so and gives up
    busy_timeout_s: float = 30.0

    def __init__(
        self, path: str | os.PathLike | None = None, *, busy_timeout_s: float | None = None
    ):
        self.path = Path(path) if path is not None else default_ledger_path()
        if busy_timeout_s is not None:
            self.busy_timeout_s = busy_timeout_s

    def __repr__(self) -> str:
        return f"Ledger({str(self.path)!r})"

    # --- collections --------------------------------------------------------------------------
    def collection_names(self) -> list[str]:
        """The built-in collections, then the users' ones, each group sorted."""
        with self._connect() as db:
            users = [r[0] for r in db.execute("SELECT name FROM collections WHERE builtin = 0")]
        return [*BUILTIN_COLLECTIONS, *sorted(users)]

    def collection(self, name: str) -> Collection:
        """The row of a collection, built-in or a user's; an unknown name is a CorpusError."""
        if name in BUILTIN_COLLECTIONS:
            return BUILTIN_COLLECTIONS[name]
        with self._connect() as db:
            row = db.execute(
                "SELECT folder, licence FROM collections WHERE name = ? AND builtin = 0", (name,)
            ).fetchone()
        if row is None:
            raise CorpusError(
                f"Unknown collection {name!r}; choose one of: {', '.join(self.collection_names())}."
            )
        return user_collection(name, row[0], row[1])

    def folder(self, name: str) -> Path | None:
        """The folder a user's collection was added from (None for a built-in or unknown one)."""
        with self._connect() as db:
            row = db.execute(
                "SELECT folder FROM collections WHERE name = ? AND builtin = 0", (name,)
            ).fetchone()
        return Path(row[0]) if row is not None and row[0] else None

    def unrecorded_builtins(self) -> list[str]:
        """The built-in collections not yet recorded (they will be on first use)."""
        with self._connect() as db:
            known = {r[0] for r in db.execute("SELECT name FROM collections WHERE builtin = 1")}
        return [n for n in BUILTIN_COLLECTIONS if n not in known]

    def register_builtin(
        self, name: str, *, limit: int | None = None, progress: ProgressCallback = no_progress
    ) -> int:
        """Record a built-in collection's items (the first `limit` of them); the number new.

        Recording again adds only items not yet recorded. With a limit, the collection is
        marked incomplete, and is completed by a later call without one.
        """
        if name not in BUILTIN_COLLECTIONS:
            raise CorpusError(
                f"Unknown built-in collection {name!r}; choose one of: "
                f"{', '.join(BUILTIN_COLLECTIONS)}."
            )
        coll = BUILTIN_COLLECTIONS[name]
        items = []
        for item in coll.list_items():
            if limit is not None and len(items) >= limit:
                break
            items.append(item)
        now = _now()
        with self._connect() as db:
            self._upsert_builtin(db, coll, complete=limit is None, now=now)
            before = db.total_changes
            for done, item in enumerate(items, start=1):
                entry = self._entry(coll, item.reference, item.sha256, item.split, OK, "", now)
                self._insert(db, entry)
                progress(done, len(items))
            return db.total_changes - before

    def add_folder(
        self,
        folder: str | os.PathLike,
        name: str,
        licence: str,
        *,
        progress: ProgressCallback = no_progress,
    ) -> AddReport:
        """Record a user's folder of MIDI, MusicXML and ABC files as collection `name`.

        Every file is read (never written) to check that it holds music; see the module's
        docstring for what happens to unreadable files, duplicates and a folder added again.
        """
        root = self._check_folder(folder)
        name = self._check_new_name(name)
        licence = " ".join(str(licence).split())
        if not licence:
            raise CorpusError(
                "Give the licence of the music with --licence, e.g. --licence 'own work' or "
                "--licence 'CC BY 4.0'."
            )
        coll = user_collection(name, root, licence)
        # a link beside the file it points to has the same bytes: the file is kept, so that
        # the item stays readable when the link (a playlist's, say) is tidied away
        files = sorted(find_music_files(root), key=Path.is_symlink)
        if not files:
            raise CorpusError(
                f"No music files in {str(folder)!r} (searched all its sub-folders for "
                f"{', '.join(READ_SUFFIXES)})."
            )
        now = _now()
        added, already, unreadable, unopened = [], [], [], []
        duplicates: list[tuple[str, str]] = []  # (reference, why it is left out)
        with self._connect() as db:
            self._claim_folder(db, coll, root, now)
            known = {e.sha256: e for e in self._query(db, "collection = ?", [name])}
            music = self._music_of(db, name, root, known.values())  # notes' hash -> reference
            first_with: dict[str, str] = {}  # a file's sha256 -> the first reference with it
            for done, path in enumerate(files, start=1):
                progress(done - 1, len(files))
                reference = path.relative_to(root).as_posix()
                if not _is_utf8(reference):  # the ledger (SQLite text) cannot hold the name
                    unopened.append(
                        (
                            reference,
                            f"{shown_name(reference)} has a name that is not UTF-8, which the "
                            "ledger cannot record; rename it and add the folder again.",
                        )
                    )
                    continue
                try:
                    data = path.read_bytes()
                except OSError as e:
                    unopened.append((reference, f"{reference!r} cannot be opened ({e.strerror})."))
                    continue
                sha = sha256_bytes(data)
                if sha in first_with:
                    duplicates.append(
                        (reference, f"{reference!r} has the same bytes as {first_with[sha]!r}.")
                    )
                    continue
                first_with[sha] = reference
                if sha in known:
                    entry = known[sha]
                    if not entry.ok:
                        scores, reason = _read_for_ledger(data, path, reference)
                        if not reason:  # moved back, say
                            entry = self._restore(db, entry, reference, music_sha256(scores))
                    (already if entry.ok else unreadable).append(entry)
                    continue
                scores, reason = _read_for_ledger(data, path, reference)
                notes_hash = music_sha256(scores) if scores else None
                if notes_hash in music:
                    duplicates.append(
                        (
                            reference,
                            f"{reference!r} holds the same notes as {music[notes_hash]!r} (at "
                            "another tempo, resolution or sound, say), so it is the same piece.",
                        )
                    )
                    continue
                entry = self._entry(
                    coll, reference, sha, None, UNREADABLE if reason else OK, reason, now
                )
                self._insert(db, entry, notes_hash)
                db.commit()  # hold the write lock only briefly: reading the next file is slow
                added.append(entry)
                if reason:
                    unreadable.append(entry)
                else:
                    music[notes_hash] = reference
            progress(len(files), len(files))
        return AddReport(
            collection=name,
            folder=root,
            licence=licence,
            licence_class=coll.licence_class,
            commercial=coll.commercial,
            added=tuple(added),
            already_recorded=tuple(already),
            duplicates=tuple(reference for reference, _ in duplicates),
            unreadable=tuple(unreadable),
            duplicate_reasons=tuple(duplicates),
            unopened=tuple(unopened),
        )

    # --- queries ------------------------------------------------------------------------------
    def items(
        self,
        collections: Iterable[str] | None = None,
        *,
        split: str | None = None,
        commercial_only: bool = False,
        include_unreadable: bool = False,
        limit: int | None = None,
    ) -> list[LedgerEntry]:
        """The recorded items of `collections` (default: every collection), in a fixed order.

        Built-in collections named here and not yet recorded are recorded first. `split` keeps
        one split; `commercial_only` keeps only items cleared for commercial use; unreadable
        items are left out unless `include_unreadable`.
        """
        names = self._resolve(collections)
        if split is not None and split not in SPLITS:
            raise CorpusError(f"Unknown split {split!r}; choose one of: {', '.join(SPLITS)}.")
        where = [f"collection IN ({', '.join('?' * len(names))})"]
        params: list = list(names)
        if split is not None:
            where.append("split = ?")
            params.append(split)
        if commercial_only:
            where.append("commercial = 1")
        if not include_unreadable:
            where.append("status = ?")
            params.append(OK)
        with self._connect() as db:
            entries = self._query(db, " AND ".join(where), params, limit=limit)
        order = {n: i for i, n in enumerate(names)}
        return sorted(entries, key=lambda e: order[e.collection])  # stable: keeps rowid order

    def summary(self, collections: Iterable[str] | None = None) -> list[CollectionSummary]:
        """Counts per collection: items, readable and not, per split, licence, commercial."""
        names = self._resolve(collections)
        out = []
        with self._connect() as db:
            for name in names:
                row = db.execute(
                    "SELECT source, licence, licence_class, commercial, builtin, complete "
                    "FROM collections WHERE name = ?",
                    (name,),
                ).fetchone()
                counts = Counter()
                for status, split, n in db.execute(
                    "SELECT status, split, COUNT(*) FROM items WHERE collection = ? "
                    "GROUP BY status, split",
                    (name,),
                ):
                    counts[status] += n
                    if status == OK:
                        counts[split] += n
                out.append(
                    CollectionSummary(
                        name=name,
                        source=row[0],
                        licence=row[1],
                        licence_class=row[2],
                        commercial=bool(row[3]),
                        builtin=bool(row[4]),
                        complete=bool(row[5]),
                        items=counts[OK] + counts[UNREADABLE],
                        ok=counts[OK],
                        unreadable=counts[UNREADABLE],
                        splits={s: counts[s] for s in SPLITS},
                    )
                )
        return out

    # --- reading ------------------------------------------------------------------------------
    def read_item(self, entry: LedgerEntry) -> list[Score]:
        """The Scores of a recorded item (most items are one Score; a user's ABC book is many).

        Raises InputFileError when the item cannot be read or its bytes no longer match the
        recorded hash.
        """
        return self.collection(entry.collection).read_item(entry.reference, entry.sha256)

    def training_items(
        self,
        collections: Iterable[str] | None = None,
        split: str | None = None,
        commercial_only: bool = False,
    ) -> Iterator[tuple[LedgerEntry, Score]]:
        """(entry, Score) for every readable item: what a trainer iterates over.

        An item that fails to read is skipped and marked unreadable in the ledger with the
        reason, so that `describe` of the entries a trainer actually saw stays true.
        """
        entries = self.items(collections, split=split, commercial_only=commercial_only)
        yield from self.read_entries(entries)

    def read_entries(
        self, entries: Sequence[LedgerEntry], progress: ProgressCallback = no_progress
    ) -> Iterator[tuple[LedgerEntry, Score]]:
        """(entry, Score) for every readable Score of `entries`; an item that fails to read is
        skipped and marked unreadable with the reason. progress(done, total) counts items."""
        for done, entry in enumerate(entries, start=1):
            try:
                scores = self.read_item(entry)
            except InputFileError as e:
                self.mark_unreadable(entry, str(e))
                scores = []
            for score in scores:
                yield entry, score
            progress(done, len(entries))

    def mark_unreadable(self, entry: LedgerEntry, reason: str) -> None:
        with self._connect() as db:
            db.execute(
                "UPDATE items SET status = ?, reason = ? WHERE item_id = ?",
                (UNREADABLE, reason, entry.item_id),
            )

    def check_commercial(self, collections: Iterable[str]) -> None:
        """Raise a CorpusError naming every collection not cleared for commercial use."""
        names = self._resolve(collections, record=False)
        rows = [self.collection(n) for n in names]
        refused = [c for c in rows if not c.commercial]
        if refused:
            listed = ", ".join(f"{c.name} ({c.licence_class})" for c in refused)
            raise CorpusError(
                f"Not cleared for commercial use: {listed}; leave "
                f"{'it' if len(refused) == 1 else 'them'} out or do not use --commercial."
            )

    @staticmethod
    def describe(entries: Iterable[LedgerEntry]) -> dict:
        """The module's `describe`, here too so that `ledger.describe(entries)` reads well."""
        return describe(entries)

    # --- internals ----------------------------------------------------------------------------
    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, timeout=self.busy_timeout_s)
        except (OSError, sqlite3.Error) as e:  # a file where the folder should be, no permission
            raise CorpusError(
                f"The corpus ledger {str(self.path)!r} cannot be opened "
                f"({getattr(e, 'strerror', None) or e}); set BANDMATE_HOME to a folder you can "
                "write."
            ) from None
        try:
            try:
                db.executescript(_SCHEMA)
                columns = {row[1] for row in db.execute("PRAGMA table_info(items)")}
                if "music_sha256" not in columns:  # a ledger from before it was kept
                    db.execute("ALTER TABLE items ADD COLUMN music_sha256 TEXT")
            except sqlite3.DatabaseError as e:  # not SQLite: damaged, or another program's file
                if _is_busy(e):
                    raise self._busy() from None
                raise CorpusError(
                    f"The corpus ledger {str(self.path)!r} is damaged ({e}); move it aside and "
                    "run again (the built-in collections are recorded anew; add your own "
                    "folders again with `bandmate corpus add`)."
                ) from None
            try:
                yield db
                db.commit()
            except sqlite3.OperationalError as e:
                if _is_busy(e):
                    raise self._busy() from None
                raise
        finally:
            db.close()

    def _busy(self) -> CorpusError:
        # "database is locked" is SQLite's word for busy, not damage: a user told to move the
        # ledger aside threw away a healthy one while another command was writing it
        return CorpusError(
            f"The corpus ledger {str(self.path)!r} is in use by another bandmate command "
            f"(waited {self.busy_timeout_s:g} s for it); wait for that command to finish and "
            "run again."
        )

    def _resolve(self, collections: Iterable[str] | None, *, record: bool = True) -> list[str]:
        """Check collection names (None: all) and record the built-in ones on first use."""
        if isinstance(collections, str):
            collections = [collections]
        known = self.collection_names()
        names = known if collections is None else list(dict.fromkeys(collections))
        unknown = [n for n in names if n not in known]
        if unknown:
            raise CorpusError(
                f"Unknown collection {unknown[0]!r}; choose one of: {', '.join(known)}."
            )
        if record:
            missing = set(self.unrecorded_builtins())
            for name in names:
                if name in missing:
                    self.register_builtin(name)
        return names

    @staticmethod
    def _check_folder(folder: str | os.PathLike) -> Path:
        path = Path(folder).expanduser()
        if not path.exists():
            raise InputFileError(f"Folder {str(folder)!r} does not exist; check the path.")
        if not path.is_dir():
            raise InputFileError(
                f"{str(folder)!r} is not a folder; give the folder that holds your music files."
            )
        if not _is_utf8(str(path.resolve())):
            raise InputFileError(
                f"The path of folder {shown_name(str(folder))} is not UTF-8, which the ledger "
                "cannot record; rename the folder (or move the files to one whose path is UTF-8)."
            )
        return path.resolve()

    @staticmethod
    def _check_new_name(name: str) -> str:
        name = str(name).strip()
        if name.lower() in {n.lower() for n in BUILTIN_COLLECTIONS}:
            raise CorpusError(
                f"{name!r} is the name of a built-in collection; choose another --name."
            )
        if not _NAME_RE.fullmatch(name):
            raise CorpusError(
                f"Collection name {name!r} is not usable; use up to 64 letters, digits, '.', "
                "'_' and '-', starting with a letter or digit."
            )
        return name

    def _claim_folder(self, db, coll: Collection, root: Path, now: str) -> None:
        """Record a user collection, or check that it is the same folder and licence again."""
        row = db.execute(
            "SELECT folder, licence FROM collections WHERE name = ?", (coll.name,)
        ).fetchone()
        if row is not None:
            if row[0] != str(root):
                raise CorpusError(
                    f"Collection {coll.name!r} is already the folder {row[0]!r}; choose another "
                    "--name for this folder."
                )
            if row[1] != coll.licence:
                raise CorpusError(
                    f"Collection {coll.name!r} was added with licence {row[1]!r}, not "
                    f"{coll.licence!r}; give the same --licence, or add the folder under another "
                    "name."
                )
            return
        other = db.execute(
            "SELECT name FROM collections WHERE folder = ? AND builtin = 0", (str(root),)
        ).fetchone()
        if other is not None:
            raise CorpusError(
                f"Folder {str(root)!r} is already collection {other[0]!r}; use --name {other[0]} "
                "to record its new files."
            )
        for other_name, folder in db.execute(
            "SELECT name, folder FROM collections WHERE builtin = 0"
        ).fetchall():
            if root.is_relative_to(folder):
                raise CorpusError(
                    f"Folder {str(root)!r} lies inside {folder!r}, which is already collection "
                    f"{other_name!r}; its files are recorded there (add {folder!r} with --name "
                    f"{other_name} to record new ones)."
                )
            if Path(folder).is_relative_to(root):
                raise CorpusError(
                    f"Folder {str(root)!r} holds {folder!r}, which is already collection "
                    f"{other_name!r}; add the folders beside it one by one, so that no file is "
                    "recorded twice."
                )
        db.execute(
            "INSERT INTO collections VALUES (?, 0, ?, ?, ?, ?, ?, 1, ?)",
            (coll.name, coll.source, str(root), coll.licence, coll.licence_class,
             int(coll.commercial), now),
        )  # fmt: skip

    @staticmethod
    def _upsert_builtin(db, coll: Collection, *, complete: bool, now: str) -> None:
        """Record a built-in collection's row; keep its items' licence in step with the code."""
        db.execute(
            "INSERT INTO collections VALUES (?, 1, ?, NULL, ?, ?, ?, ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET source = excluded.source, "
            "licence = excluded.licence, licence_class = excluded.licence_class, "
            "commercial = excluded.commercial, complete = MAX(complete, excluded.complete)",
            (coll.name, coll.source, coll.licence, coll.licence_class, int(coll.commercial),
             int(complete), now),
        )  # fmt: skip
        db.execute(
            "UPDATE items SET source = ?, licence = ?, licence_class = ?, commercial = ? "
            "WHERE collection = ?",
            (coll.source, coll.licence, coll.licence_class, int(coll.commercial), coll.name),
        )

    @staticmethod
    def _restore(db, entry: LedgerEntry, reference: str, notes_hash: str) -> LedgerEntry:
        """Mark an item readable again, found at `reference` (it was gone or unreadable)."""
        db.execute(
            "UPDATE items SET status = ?, reason = '', reference = ?, music_sha256 = ? "
            "WHERE item_id = ?",
            (OK, reference, notes_hash, entry.item_id),
        )
        return replace(entry, status=OK, reason="", reference=reference)

    @staticmethod
    def _music_of(db, name: str, root: Path, entries: Iterable[LedgerEntry]) -> dict[str, str]:
        """{hash of the notes (`music_sha256`): reference} of a user collection's readable items.

        An item recorded before the ledger kept that hash has it computed now, from its file,
        once (a file that is gone or changed is passed over: it is no longer what was recorded).
        """
        rows = dict(
            db.execute(
                "SELECT item_id, music_sha256 FROM items WHERE collection = ? AND status = ?",
                (name, OK),
            )
        )
        music: dict[str, str] = {}
        for entry in entries:
            if not entry.ok:
                continue
            notes_hash = rows.get(entry.item_id)
            if notes_hash is None:
                path = root / entry.reference
                try:
                    data = path.read_bytes()
                except OSError:
                    continue
                if sha256_bytes(data) != entry.sha256:
                    continue
                scores, _ = _read_for_ledger(data, path, entry.reference)
                if not scores:
                    continue
                notes_hash = music_sha256(scores)
                db.execute(
                    "UPDATE items SET music_sha256 = ? WHERE item_id = ?",
                    (notes_hash, entry.item_id),
                )
            music.setdefault(notes_hash, entry.reference)
        return music

    @staticmethod
    def _entry(coll: Collection, reference, sha256, split, status, reason, now) -> LedgerEntry:
        return LedgerEntry(
            item_id=item_id(coll.name, sha256),
            collection=coll.name,
            source=coll.source,
            reference=reference,
            sha256=sha256,
            licence=coll.licence,
            licence_class=coll.licence_class,
            commercial=coll.commercial,
            split=split or split_for(sha256),
            status=status,
            reason=reason,
            added_at=now,
        )

    @staticmethod
    def _insert(db, e: LedgerEntry, notes_hash: str | None = None) -> None:
        db.execute(
            f"INSERT OR IGNORE INTO items ({_ITEM_COLUMNS}, music_sha256) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (e.item_id, e.collection, e.source, e.reference, e.sha256, e.licence,
             e.licence_class, int(e.commercial), e.split, e.status, e.reason, e.added_at,
             notes_hash),
        )  # fmt: skip

    @staticmethod
    def _query(db, where: str, params, *, limit: int | None = None) -> list[LedgerEntry]:
        sql = f"SELECT {_ITEM_COLUMNS} FROM items WHERE {where} ORDER BY rowid"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [LedgerEntry(*row[:7], bool(row[7]), *row[8:]) for row in db.execute(sql, params)]


def _read_for_ledger(data: bytes, path: Path, reference: str) -> tuple[list[Score], str]:
    """The Scores of a user's file and "", or [] and why it cannot be learnt from."""
    try:
        return read_music_bytes(data, path, reference), ""
    except UserError as e:
        return [], str(e)
    except Exception as e:  # a reader's bug on a strange file: skip the file, say why
        return [], f"{reference!r} could not be read ({type(e).__name__}: {e})."


# --- for model cards and trainers --------------------------------------------------------------
def describe(entries: Iterable[LedgerEntry]) -> dict:
    """What a model learnt from, as JSON-ready data for its model card.

    {"items": n, "sha256": hex digest of the sorted item hashes joined by newlines,
     "commercial": whether every item is cleared for commercial use,
     "collections": [{"name", "source", "licence", "licence_class", "commercial", "items",
                      "splits": {"train": n, "valid": n, "test": n}}, ...] sorted by name}

    An entry given twice counts once; the result does not depend on the entries' order.
    """
    unique = {e.item_id: e for e in entries}
    by_collection: dict[str, list[LedgerEntry]] = {}
    for e in unique.values():
        by_collection.setdefault(e.collection, []).append(e)
    collections = []
    for name in sorted(by_collection):
        group = by_collection[name]
        first = group[0]
        splits = Counter(e.split for e in group)
        collections.append(
            {
                "name": name,
                "source": first.source,
                "licence": first.licence,
                "licence_class": first.licence_class,
                "commercial": all(e.commercial for e in group),
                "items": len(group),
                "splits": {s: splits[s] for s in SPLITS},
            }
        )
    hashes = sorted({e.sha256 for e in unique.values()})
    return {
        "items": len(unique),
        "sha256": hashlib.sha256("\n".join(hashes).encode("ascii")).hexdigest(),
        "commercial": all(e.commercial for e in unique.values()),
        "collections": collections,
    }


def training_items(
    collections: Iterable[str] | None = None,
    split: str | None = None,
    commercial_only: bool = False,
    *,
    ledger: Ledger | None = None,
) -> Iterator[tuple[LedgerEntry, Score]]:
    """`Ledger.training_items` on the default ledger (or `ledger`)."""
    return (ledger or Ledger()).training_items(collections, split, commercial_only)


def check_commercial(collections: Iterable[str], *, ledger: Ledger | None = None) -> None:
    """`Ledger.check_commercial` on the default ledger (or `ledger`)."""
    (ledger or Ledger()).check_commercial(collections)


__all__ = [
    "OK",
    "SPLITS",
    "UNREADABLE",
    "AddReport",
    "CollectionSummary",
    "Ledger",
    "LedgerEntry",
    "check_commercial",
    "default_ledger_path",
    "describe",
    "split_for",
    "training_items",
]


def not_recorded(missing: Sequence[str], licence_of: Mapping, ledger_path, consequence: str) -> str:
    """The sentence for collections a model learnt from that the ledger at `ledger_path` does
    not hold (a folder added under another BANDMATE_HOME, or a ledger moved aside): what cannot
    be done (`consequence`, where "{its}" stands for "its" or "their"), and the command that
    adds each back with its licence from the model card (`licence_of`: name -> licence, LICENCE
    where the card gives none: `corpus add` refuses a folder without one)."""
    import shlex

    def command(name: str) -> str:
        licence = licence_of.get(name)
        shown = shlex.quote(licence) if licence else "LICENCE"
        return f"`bandmate corpus add DIR --name {name} --licence {shown}`"

    listed = ", ".join(repr(name) for name in missing)
    them = "that folder" if len(missing) == 1 else "those folders"
    its = "its" if len(missing) == 1 else "their"
    commands = "; ".join(command(name) for name in missing)
    unknown = any(not licence_of.get(name) for name in missing)
    note = " (LICENCE: the licence the music was added with)" if unknown else ""
    return (
        f"The model learnt from the collection{'s' if len(missing) > 1 else ''} {listed}, which "
        f"the corpus ledger {str(ledger_path)!r} does not hold, so "
        f"{consequence.format(its=its)}; add {them} again with {commands}{note}, or set "
        "BANDMATE_HOME to the ledger it was trained with."
    )


def shown_name(name: str) -> str:
    """A file name quoted for a message, a byte that is not UTF-8 written as the byte (\\xe9),
    where `repr` would write the lone surrogate Python decoded it to (\\udce9)."""
    if _is_utf8(name):
        return repr(name)
    return "'" + os.fsencode(name).decode("utf-8", "backslashreplace") + "'"


def _is_busy(e: sqlite3.Error) -> bool:
    """Whether SQLite gave up waiting for another connection (SQLITE_BUSY or SQLITE_LOCKED)."""
    code = getattr(e, "sqlite_errorname", "") or ""
    return code.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "is locked" in str(e)


def _is_utf8(name: str) -> bool:
    """Whether a file name decoded from the file system is real text (a byte that is not UTF-8
    comes back as a lone surrogate, which SQLite refuses to store)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
