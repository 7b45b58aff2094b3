"""The originality index: its arrays, the search tables made from them, and the stock material
(scales, arpeggios, progressions) that counts as held by every item (see the package docstring)."""

from __future__ import annotations

import functools
import json
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from bandmate.errors import UserError
from bandmate.rights.originality.features import (
    _SEP,
    INDEX_FOLDER,
    INDEX_PACKAGE,
    MAX_INTERVAL,
    MAX_RATIO_CLASS,
    RATIO_STEPS,
    STEPS_PER_BEAT,
    VOICE_NAMES,
    Line,
    _df_table,
    _full_hashes,
    _ItemFeatures,
    _lookup_df,
    _window_hashes,
    line_gaps,
)

# --- the index ----------------------------------------------------------------------------------
SEED_GAPS = 5  # a melody n-gram that anchors a match: 6 notes, 5 intervals
CONTEXT_GAPS = 2  # the n-gram model that weighs a match: a note after the two gaps before it
CHORD_GRAM = 3  # a progression n-gram: 4 chords, 3 changes
ANCHOR_MAX_DF_SHARE = 0.1  # n-grams in more of the items than this only extend a match


@dataclass(frozen=True)
class SourceRef:
    """The ledger item a match was found in, with its collection's licence."""

    item_id: str
    collection: str
    reference: str
    title: str
    licence: str
    licence_class: str
    commercial: bool

    def to_dict(self) -> dict:
        return dict(self.__dict__)


class OriginalityIndex:
    """Everything the shipped models learnt from, as arrays that are searched for matches.

    Melody: every line's notes, concatenated (`pitches`, `onset_steps`, `bars`, (notes,) int64),
    `line_offsets` (lines + 1,), `line_item` and `line_voice` (lines,). Chords: rows of (bar,
    root, quality class) per item (`chord_rows` (chords, 3), `chord_offsets`, `chord_item`).
    Drums: a code per bar (`drum_codes`, `drum_offsets`, `drum_item`). `items`: (collection,
    reference, sha256, title) per item; `collections`: name -> licence row; `card`: how it was
    built. The search tables are made from these on first use (about half a second).
    """

    def __init__(self, arrays: dict[str, np.ndarray], items, collections: dict, card: dict):
        self.arrays = arrays
        self.items = [tuple(i) for i in items]
        self.collections = collections
        self.card = card

    def __repr__(self) -> str:
        return (
            f"OriginalityIndex({len(self.items)} items, {len(self.arrays['pitches'])} notes, "
            f"{len(self.arrays['chord_rows'])} chords, {len(self.arrays['drum_codes'])} drum bars)"
        )

    # --- building, saving, loading --------------------------------------------------------------
    @classmethod
    def from_features(cls, features: Sequence[_ItemFeatures], collections: dict, card=None):
        items, item_of = [], {}
        notes: dict[str, list] = {"pitches": [], "onset_steps": [], "bars": []}
        line_offsets, line_item, line_voice = [0], [], []
        chord_rows, chord_offsets, chord_item = [], [0], []
        drum_codes, drum_offsets, drum_item = [], [0], []
        for feats in features:
            key = feats.entry[:3]
            if key not in item_of:
                item_of[key] = len(items)
                items.append(feats.entry)
            index = item_of[key]
            for line in feats.lines:
                if len(line.pitches) < 2:
                    continue
                notes["pitches"].append(line.pitches)
                notes["onset_steps"].append(line.onset_steps)
                notes["bars"].append(line.bars)
                line_offsets.append(line_offsets[-1] + len(line.pitches))
                line_item.append(index)
                line_voice.append(VOICE_NAMES.index(line.voice))
            if feats.chords is not None and len(feats.chords) > 1:
                chord_rows.append(feats.chords)
                chord_offsets.append(chord_offsets[-1] + len(feats.chords))
                chord_item.append(index)
            if feats.drums is not None and len(feats.drums):
                drum_codes.append(feats.drums)
                drum_offsets.append(drum_offsets[-1] + len(feats.drums))
                drum_item.append(index)

        def cat(parts, dtype, shape=(0,)):
            return np.concatenate(parts).astype(dtype) if parts else np.zeros(shape, dtype)

        arrays = {
            **{k: cat(v, np.int64) for k, v in notes.items()},
            "line_offsets": np.asarray(line_offsets, np.int64),
            "line_item": np.asarray(line_item, np.int64),
            "line_voice": np.asarray(line_voice, np.int64),
            "chord_rows": cat(chord_rows, np.int64, (0, 3)),
            "chord_offsets": np.asarray(chord_offsets, np.int64),
            "chord_item": np.asarray(chord_item, np.int64),
            "drum_codes": cat(drum_codes, np.uint32),
            "drum_offsets": np.asarray(drum_offsets, np.int64),
            "drum_item": np.asarray(drum_item, np.int64),
        }
        card = dict(card or {})
        card.setdefault("items", len(items))
        card.setdefault("notes", len(arrays["pitches"]))
        return cls(arrays, items, collections, card)

    def save(self, folder: str | Path) -> tuple[Path, Path]:
        """Write `index.npz` (compressed, small integer types) and `index.json` (the card)."""
        from bandmate.io.files import atomic_path

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        a = self.arrays
        lo = a["line_offsets"]
        packed = {
            "pitches": a["pitches"].astype(np.uint8),
            # onsets as steps since the previous note (0 at a line's start), bars as increments
            "ioi_steps": np.diff(a["onset_steps"], prepend=0).astype(np.int32),
            "first_onsets": a["onset_steps"][lo[:-1]].astype(np.int32),
            "bar_steps": np.diff(a["bars"], prepend=0).astype(np.int16),
            "first_bars": a["bars"][lo[:-1]].astype(np.int32),
            "line_lengths": np.diff(lo).astype(np.int32),
            "line_item": a["line_item"].astype(np.int32),
            "line_voice": a["line_voice"].astype(np.uint8),
            "chord_rows": a["chord_rows"].astype(np.int16),
            "chord_lengths": np.diff(a["chord_offsets"]).astype(np.int32),
            "chord_item": a["chord_item"].astype(np.int32),
            "drum_codes": a["drum_codes"],
            "drum_lengths": np.diff(a["drum_offsets"]).astype(np.int32),
            "drum_item": a["drum_item"].astype(np.int32),
            "items": np.frombuffer(
                zlib.compress(json.dumps(self.items, ensure_ascii=False).encode(), 9), np.uint8
            ),
        }
        npz, card = folder / "index.npz", folder / "index.json"
        with atomic_path(npz) as tmp, open(tmp, "wb") as f:
            np.savez_compressed(f, **packed)
        body = {**self.card, "collections": self.collections}
        with atomic_path(card) as tmp:
            tmp.write_text(json.dumps(body, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return npz, card

    @classmethod
    def load(cls, folder: str | Path) -> OriginalityIndex:
        folder = Path(folder)
        try:
            card = json.loads((folder / "index.json").read_text(encoding="utf-8"))
            with np.load(folder / "index.npz") as z:
                p = {k: z[k] for k in z.files}
        except (OSError, ValueError, KeyError) as e:
            raise UserError(
                f"The originality index in {str(folder)!r} cannot be read ({e}); rebuild it with "
                "`python -m bandmate.rights.originality build`."
            ) from None
        items = json.loads(zlib.decompress(p["items"].tobytes()).decode())
        collections = card.pop("collections", {})
        offsets = np.concatenate([[0], np.cumsum(p["line_lengths"], dtype=np.int64)])
        starts = offsets[:-1]
        onsets = p["ioi_steps"].astype(np.int64)
        onsets[starts] = p["first_onsets"]
        bars = p["bar_steps"].astype(np.int64)
        bars[starts] = p["first_bars"]
        arrays = {
            "pitches": p["pitches"].astype(np.int64),
            "onset_steps": _segment_cumsum(onsets, starts),
            "bars": _segment_cumsum(bars, starts),
            "line_offsets": offsets,
            "line_item": p["line_item"].astype(np.int64),
            "line_voice": p["line_voice"].astype(np.int64),
            "chord_rows": p["chord_rows"].astype(np.int64).reshape(-1, 3),
            "chord_offsets": np.concatenate([[0], np.cumsum(p["chord_lengths"], dtype=np.int64)]),
            "chord_item": p["chord_item"].astype(np.int64),
            "drum_codes": p["drum_codes"].astype(np.uint32),
            "drum_offsets": np.concatenate([[0], np.cumsum(p["drum_lengths"], dtype=np.int64)]),
            "drum_item": p["drum_item"].astype(np.int64),
        }
        return cls(arrays, items, collections, card)

    # --- what a match points at -----------------------------------------------------------------
    def source(self, item: int) -> SourceRef:
        collection, reference, sha256, title = self.items[item]
        row = self.collections.get(collection, {})
        return SourceRef(
            item_id=f"{collection}:{sha256[:12]}",
            collection=collection,
            reference=reference,
            title=title,
            licence=row.get("licence", ""),
            licence_class=row.get("licence_class", ""),
            commercial=bool(row.get("commercial", False)),
        )

    # --- search tables, made on first use -------------------------------------------------------
    @functools.cached_property
    def melody(self) -> _MelodyTables:
        return _MelodyTables(self.arrays, len(self.items))

    @functools.cached_property
    def chord_tables(self) -> _SequenceTables:
        a = self.arrays
        tokens, owners = [], []
        for k, item in enumerate(a["chord_item"]):
            rows = a["chord_rows"][a["chord_offsets"][k] : a["chord_offsets"][k + 1]]
            tokens.append(np.append(chord_tokens(rows), _SEP))
            owners.append(np.full(len(rows) + 1, item))
        stock = [np.append(chord_tokens(rows), _SEP) for rows in stock_progressions()]
        return _SequenceTables(tokens, owners, CHORD_GRAM, stock)

    @functools.cached_property
    def drum_tables(self) -> _SequenceTables:
        a = self.arrays
        tokens, owners = [], []
        for k, item in enumerate(a["drum_item"]):
            codes = a["drum_codes"][a["drum_offsets"][k] : a["drum_offsets"][k + 1]]
            tokens.append(np.append(codes.astype(np.int64), _SEP))
            owners.append(np.full(len(codes) + 1, item))
        return _SequenceTables(tokens, owners, 1)


def _segment_cumsum(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Cumulative sums that restart at each index of `starts` (where `values` hold the start)."""
    total = np.cumsum(values)
    base = np.zeros(len(values), dtype=np.int64)
    if len(starts):
        before = total[starts] - values[starts]
        base[starts] = before
        base = np.maximum.accumulate(np.where(np.isin(np.arange(len(values)), starts), base, 0))
    return total - base


#: Stock progressions as (semitones above the tonic, quality class) per chord: common property.
_MAJ, _MIN, _DIM, _DOM7 = 0, 1, 2, 5
STOCK_PROGRESSIONS = {
    "I-V-vi-IV": ((0, _MAJ), (7, _MAJ), (9, _MIN), (5, _MAJ)),
    "I-vi-IV-V": ((0, _MAJ), (9, _MIN), (5, _MAJ), (7, _MAJ)),
    "I-IV-V-I": ((0, _MAJ), (5, _MAJ), (7, _MAJ), (0, _MAJ)),
    "I-IV-V7-I": ((0, _MAJ), (5, _MAJ), (7, _DOM7), (0, _MAJ)),
    "I-IV-I-V": ((0, _MAJ), (5, _MAJ), (0, _MAJ), (7, _MAJ)),
    "I-V-IV-I": ((0, _MAJ), (7, _MAJ), (5, _MAJ), (0, _MAJ)),
    "ii-V-I": ((2, _MIN), (7, _DOM7), (0, _MAJ)),
    "vi-ii-V-I": ((9, _MIN), (2, _MIN), (7, _DOM7), (0, _MAJ)),
    "I-vi-ii-V": ((0, _MAJ), (9, _MIN), (2, _MIN), (7, _DOM7)),
    "i-iv-V-i": ((0, _MIN), (5, _MIN), (7, _MAJ), (0, _MIN)),
    "i-VI-III-VII": ((0, _MIN), (8, _MAJ), (3, _MAJ), (10, _MAJ)),
    "i-VII-VI-V": ((0, _MIN), (10, _MAJ), (8, _MAJ), (7, _MAJ)),
    "12-bar blues": tuple((r, _DOM7) for r in (0, 0, 0, 0, 5, 5, 0, 0, 7, 5, 0, 7)),
    "V-I": ((7, _MAJ), (0, _MAJ)),
    "V7-I": ((7, _DOM7), (0, _MAJ)),
    "V-i": ((7, _MAJ), (0, _MIN)),
}


def stock_progressions() -> list[np.ndarray]:
    """Each stock progression played three times over, as `chord_features` rows."""
    return [
        np.asarray([(bar, root, quality) for bar, (root, quality) in enumerate(chords * 3)])
        for chords in STOCK_PROGRESSIONS.values()
    ]


def chord_tokens(rows: np.ndarray) -> np.ndarray:
    """(n,) int64: per chord, its root's step from the chord before (mod 12) with both quality
    classes, so a progression reads the same in every key. The first chord has no step: its
    token is a separator (its quality is in the second token)."""
    if len(rows) == 0:
        return np.zeros(0, dtype=np.int64)
    roots, qualities = rows[:, 1], rows[:, 2]
    steps = np.diff(roots, prepend=roots[0]) % 12
    before = np.concatenate([[qualities[0]], qualities[:-1]])
    tokens = (steps * 16 + before) * 16 + qualities
    tokens[0] = _SEP
    return tokens


class _MelodyTables:
    """The index's melody as gaps (interval, rhythm ratio class) with n-gram tables.

    Gap g joins note g to note g + 1 of the flat note arrays; the last note of each line has a
    separator gap instead, so no n-gram spans two lines. `seed_keys`, `seed_pos`: every
    SEED_GAPS-interval n-gram's hash and gap position, sorted by hash. `df[kind, width]`, by
    intervals alone ("int") or by intervals and inner rhythm ("full"): for SEED_GAPS gaps,
    (hashes, items holding each), stock material (`stock_lines`) counted as held by every item,
    so a scale or an arpeggio never anchors a match; for 1 to CONTEXT_GAPS + 1 gaps, (hashes,
    occurrences), the n-gram model, from the corpus alone.
    """

    def __init__(self, a: dict[str, np.ndarray], n_items: int):
        pitches, onsets, offsets = a["pitches"], a["onset_steps"], a["line_offsets"]
        self.n_items = max(n_items, 1)
        self.intervals, self.ratios = _flat_gaps(pitches, onsets, offsets)
        self.onsets = onsets
        self.item_of_gap = np.repeat(a["line_item"], np.diff(offsets))
        self.bars = a["bars"]
        self.line_offsets = offsets
        self.line_voice = a["line_voice"]
        stock = [line_gaps(line.onset_steps, line.pitches) for line in stock_lines()]
        stock_int = np.concatenate([np.append(i, _SEP) for i, _ in stock])
        stock_rat = np.concatenate([np.append(r, _SEP) for _, r in stock])
        self.df = {}
        for width in (SEED_GAPS, *range(1, CONTEXT_GAPS + 2)):
            pos = np.flatnonzero(_no_separator(self.intervals, width))
            spos = np.flatnonzero(_no_separator(stock_int, width))
            owners = self.item_of_gap[pos]
            for kind, hashes, stock_hashes in (
                ("int", _window_hashes(self.intervals, width), _window_hashes(stock_int, width)),
                ("full", _full_hashes(self.intervals, self.ratios, width),
                 _full_hashes(stock_int, stock_rat, width)),
            ):  # fmt: skip
                if width == SEED_GAPS:  # anchors: by the items that hold an n-gram
                    table = _add_stock(_df_table(hashes[pos], owners), stock_hashes[spos], n_items)
                else:  # the n-gram model: by how often an n-gram occurs
                    table = np.unique(hashes[pos], return_counts=True)
                self.df[kind, width] = table
                if kind == "int" and width == SEED_GAPS:
                    order = np.argsort(hashes[pos], kind="stable")
                    self.seed_keys, self.seed_pos = hashes[pos][order], pos[order]
        self.anchor_max_df = max(2, int(ANCHOR_MAX_DF_SHARE * self.n_items))
        self.n_gaps = max(1, int(np.sum(self.intervals != _SEP)))

    def bits(self, qi: np.ndarray, qr: np.ndarray) -> dict[str, np.ndarray]:
        """How surprising each gap g of a query line is after the gaps before it, in bits, under
        an n-gram model of the corpus: P(gap | c gaps before) = (occurrences of the c + 1 gaps
        + P(gap | c - 1 gaps before)) / (occurrences of the c gaps + 1), down to P(gap) =
        (occurrences of it + 1) / (gaps in the corpus + 64).

        Returns "int_c" and "full_c" (len(qi),) for c = 0..CONTEXT_GAPS (by intervals; by
        intervals and rhythm ratios), the bits of gap g given c gaps before it (positions with
        fewer gaps before them hold the shorter context's value), and "df_seed" (len(qi) -
        SEED_GAPS + 1,), the items holding each seed n-gram's intervals.
        """
        n = len(qi)
        out = {"df_seed": _lookup_df(self.df["int", SEED_GAPS], _window_hashes(qi, SEED_GAPS))}
        for kind in ("int", "full"):
            df = {}
            for width in range(1, CONTEXT_GAPS + 2):
                h = _window_hashes(qi, width) if kind == "int" else _full_hashes(qi, qr, width)
                df[width] = np.zeros(n, dtype=np.float64)
                df[width][width - 1 :] = _lookup_df(self.df[kind, width], h)  # by the last gap
            p = (df[1] + 1.0) / (self.n_gaps + 64.0)
            out[f"{kind}_0"] = -np.log2(p)
            for c in range(1, CONTEXT_GAPS + 1):
                context = np.concatenate([np.full(c, np.nan), df[c][c - 1 : n - 1]])[:n]
                longer = (df[c + 1] + p) / (context + 1.0)
                p = np.where(np.isnan(longer), p, longer)
                out[f"{kind}_{c}"] = -np.log2(np.minimum(p, 1.0))
        return out


def _flat_gaps(pitches, onsets, offsets) -> tuple[np.ndarray, np.ndarray]:
    """`line_gaps` of every line at once, a separator gap at the end of each line."""
    n = len(pitches)
    intervals = np.full(n, _SEP, dtype=np.int64)
    ratios = np.full(n, _SEP, dtype=np.int64)
    if n > 1:
        intervals[:-1] = np.clip(np.diff(pitches), -MAX_INTERVAL, MAX_INTERVAL)
        ioi = np.maximum(np.diff(onsets), 1).astype(np.float64)
        r = np.rint(RATIO_STEPS * np.log2(ioi[1:] / ioi[:-1]))
        ratios[1:-1] = np.clip(r, -MAX_RATIO_CLASS, MAX_RATIO_CLASS)
    ratios[offsets[:-1]] = 0
    intervals[offsets[1:] - 1] = _SEP
    ratios[offsets[1:] - 1] = _SEP
    return intervals, ratios


def _add_stock(table, stock_hashes: np.ndarray, count: int):
    """A df table in which every stock n-gram is held by `count` more items."""
    keys, df = table
    extra = np.unique(stock_hashes)
    merged = np.concatenate([keys, extra])
    order = np.argsort(merged, kind="stable")
    merged = merged[order]
    counts = np.concatenate([df, np.full(len(extra), count)])[order]
    starts = np.flatnonzero(np.append(True, merged[1:] != merged[:-1]))
    return merged[starts], np.add.reduceat(counts, starts)


#: Scales and arpeggios, in semitones above the tonic over one octave: common property.
STOCK_SCALES = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "natural minor": (0, 2, 3, 5, 7, 8, 10),
    "harmonic minor": (0, 2, 3, 5, 7, 8, 11),
    "melodic minor": (0, 2, 3, 5, 7, 9, 11),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10),
    "major pentatonic": (0, 2, 4, 7, 9),
    "minor pentatonic": (0, 3, 5, 7, 10),
    "chromatic": tuple(range(12)),
    "major triad": (0, 4, 7),
    "minor triad": (0, 3, 7),
    "diminished triad": (0, 3, 6),
    "dominant seventh": (0, 4, 7, 10),
    "major seventh": (0, 4, 7, 11),
    "minor seventh": (0, 3, 7, 10),
    "diminished seventh": (0, 3, 6, 9),
}


@functools.cache
def stock_lines() -> tuple[Line, ...]:
    """Every stock scale and arpeggio from each of its degrees, up and down one octave and two,
    twice over, in even notes, and a repeated note: the lines whose n-grams count as common
    whatever the corpus says (so a run up a scale or an arpeggio weighs nothing, wherever it
    turns)."""
    lines = []
    for degrees in STOCK_SCALES.values():
        for start in range(len(degrees)):
            rotated = [d - degrees[start] for d in degrees[start:]]
            rotated += [d + 12 - degrees[start] for d in degrees[:start]]
            for octaves in (1, 2):
                up = [d + 12 * octave for octave in range(octaves) for d in rotated]
                cycle = [*up, 12 * octaves, *up[:0:-1]]
                pitches = np.asarray([*cycle, *cycle, 0], dtype=np.int64) + 48
                onsets = np.arange(len(pitches), dtype=np.int64) * STEPS_PER_BEAT
                lines.append(Line("stock", onsets, pitches, onsets // (4 * STEPS_PER_BEAT)))
    onsets = np.arange(16, dtype=np.int64) * STEPS_PER_BEAT
    lines.append(Line("stock", onsets, np.full(16, 60), onsets // (4 * STEPS_PER_BEAT)))
    return tuple(lines)


def _no_separator(gaps: np.ndarray, width: int) -> np.ndarray:
    """(len - width + 1,) bool: which `width`-windows of `gaps` hold no separator."""
    if len(gaps) < width:
        return np.zeros(0, dtype=bool)
    sep = np.concatenate([[0], np.cumsum(gaps == _SEP)])
    return (sep[width:] - sep[:-width]) == 0


class _SequenceTables:
    """Chord or drum tokens of every item with n-gram hashes and their item counts."""

    def __init__(self, tokens: list, owners: list, gram: int, stock: list | None = None):
        self.gram = gram
        lengths = np.asarray([len(x) for x in tokens], dtype=np.int64)
        self.seq_start = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
        self.seq_item = np.asarray([o[0] for o in owners], dtype=np.int64)
        self.tokens = np.concatenate(tokens) if tokens else np.zeros(0, np.int64)
        self.owner = np.concatenate(owners) if owners else np.zeros(0, np.int64)
        self.n_items = max(len(np.unique(self.owner)), 1)
        self.anchor_max_df = max(2, int(ANCHOR_MAX_DF_SHARE * self.n_items))
        hashes = _window_hashes(self.tokens, gram)
        ok = _no_separator(self.tokens, gram)
        pos = np.flatnonzero(ok)
        order = np.argsort(hashes[pos], kind="stable")
        self.keys, self.pos = hashes[pos][order], pos[order]
        self.df = _df_table(hashes[pos], self.owner[pos])
        if stock:
            flat = np.concatenate(stock)
            stock_hashes = _window_hashes(flat, gram)[_no_separator(flat, gram)]
            self.df = _add_stock(self.df, stock_hashes, self.n_items)

    def where(self, position: int) -> tuple[int, int]:
        """(sequence, index within it) of a flat token position."""
        k = int(np.searchsorted(self.seq_start, position, "right") - 1)
        return k, position - int(self.seq_start[k])


# --- the shipped index ---------------------------------------------------------------------------
def index_folder() -> Path:
    """Where the shipped index lies (bandmate is installed as files, not as a zip)."""
    return Path(str(resources.files(INDEX_PACKAGE) / INDEX_FOLDER))


@functools.cache
def shipped_index() -> OriginalityIndex:
    """The index shipped with bandmate, read once per process (about 0.1 s; its search tables
    take about half a second more, on the first check)."""
    return OriginalityIndex.load(index_folder())
