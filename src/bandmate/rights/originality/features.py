"""What the originality index reads from a score: melody lines, chord changes, drum bars, and the
interval-and-rhythm tokens and n-gram hashes they are matched by (see the package docstring)."""

from __future__ import annotations

import hashlib
import pickle
import zlib
from dataclasses import dataclass, field

import numpy as np

from bandmate.errors import UserError
from bandmate.score.model import Role, Score

# the track the melody tokenizer learns from: role MELODY with notes, else the first pitched one
# with notes. An empty melody track (the tune written on another) was taken here and, being a
# melody track, shut the other tracks out of the comparison: a copy on them went unchecked
from bandmate.score.parts import melody_track

STEPS_PER_BEAT = 12  # the melody tokenizer's grid: 16ths and triplets
DRUM_STEPS_PER_BEAT = 4
INDEX_PACKAGE = "bandmate.data"
INDEX_FOLDER = "originality"
VOICE_NAMES = ("melody", "soprano", "alto", "tenor", "bass")
#: the ledger collections the shipped models learnt from (their cards' training.data), by channel
MELODY_COLLECTIONS = ("essen", "oneills1850", "ryans-mammoth", "bach-chorales")
CHORALE_COLLECTIONS = ("jsb",)
DRUM_COLLECTIONS = ("bandmate-styles",)
#: Raise when what is read from an item changes; the cached features of a user's collection are
#: then read again (2: of a piano's staves, the highest is the melody, `score.parts.melody_track`;
#: 3: parts named apart by a number are no staves; 4: a features file cached while a user's
#: folder was missing held nothing, and a copy checked against it was called original).
FEATURES_VERSION = 4


# --- what is read from a score ------------------------------------------------------------------
@dataclass(frozen=True)
class Line:
    """A monophonic line: onsets in steps (12 to the quarter note), MIDI pitches, bars from 0."""

    voice: str
    onset_steps: np.ndarray  # (n,) int64, strictly increasing
    pitches: np.ndarray  # (n,) int64
    bars: np.ndarray  # (n,) int64


def _to_steps(ticks: int, ticks_per_beat: int, steps_per_beat: int = STEPS_PER_BEAT) -> int:
    return (2 * ticks * steps_per_beat + ticks_per_beat) // (2 * ticks_per_beat)


def top_line(score: Score, track, voice: str) -> Line | None:
    """The highest note at each onset step of `track`, as the melody tokenizer reads a melody."""
    top: dict[int, tuple[int, int]] = {}
    grid = score.bar_grid
    for note in track.notes:
        step = _to_steps(note.onset_ticks, score.ticks_per_beat)
        top[step] = max(top.get(step, (-1, 0)), (note.pitch, note.onset_ticks))
    if not top:
        return None
    steps = sorted(top)
    return Line(
        voice,
        np.asarray(steps, dtype=np.int64),
        np.asarray([top[s][0] for s in steps], dtype=np.int64),
        np.asarray([grid.bar_at(top[s][1]) for s in steps], dtype=np.int64),
    )


def score_lines(score: Score, *, limit: int = 8) -> list[Line]:
    """The lines of `score` that are compared: its MELODY tracks when it has any (a bandmate
    arrangement: the accompaniment's top line is chord tones, not a tune), else every pitched
    track (a file from elsewhere, a choral piece: any voice may carry a copied tune); at most
    `limit`, the melody track first."""
    first = melody_track(score)
    tracks = [first] if first is not None else []
    melodies_only = first is not None and first.role == Role.MELODY
    tracks += [
        t
        for t in score.tracks
        if t is not first and not t.is_drum and t.notes
        and (t.role == Role.MELODY or not melodies_only)
    ]  # fmt: skip
    lines = []
    for track in tracks[:limit]:
        line = top_line(score, track, "melody" if track is first else track.name or "part")
        if line is not None:
            lines.append(line)
    return lines


def chord_features(score: Score) -> np.ndarray:
    """(n, 3) int64 rows of (bar, root pitch class, quality class) at each chord change.

    Repeated chords are merged and N.C. is dropped; the quality class is `_quality_class`.
    """
    from bandmate.theory.chords import QUALITIES

    rows: list[tuple[int, int, int]] = []
    grid = score.bar_grid
    for event in score.chords:
        symbol = event.symbol
        if symbol.is_no_chord:
            continue
        row = (grid.bar_at(event.onset_ticks), symbol.root, _quality_class(QUALITIES, symbol))
        if rows and rows[-1][1:] == row[1:]:
            continue
        rows.append(row)
    return np.asarray(rows, dtype=np.int64).reshape(-1, 3)


def _quality_class(qualities, symbol) -> int:
    """A chord's family, 0-9: triad (major, minor, diminished, augmented, suspended or power)
    and, for major and minor, whether a seventh is named (dominant/minor 7, major 7)."""
    tones = set(qualities[symbol.quality].intervals)
    if 4 in tones and 8 in tones:
        return 3
    if 3 in tones and 6 in tones:
        return 2
    if 3 not in tones and 4 not in tones:
        return 4
    base = 0 if 4 in tones else 1
    seventh = 1 if 10 in tones else 2 if 11 in tones else 0
    return 5 + base * 2 + seventh - 1 if seventh else base


def drum_bar_codes(score: Score) -> np.ndarray:
    """(bars,) uint32: a code per bar for the set of (16th step, drum voice) hits in it.

    Bars without hits get code 0; the code is a CRC-32 of the sorted hits, the same everywhere.
    """
    from bandmate.arrange.drums import DRUM_VOICES
    from bandmate.tokens.drums import GM_ALIASES

    voice_of = {note: i for i, note in enumerate(DRUM_VOICES.values())}
    names = list(DRUM_VOICES)
    voice_of.update({note: names.index(v) for note, v in GM_ALIASES.items()})
    grid = score.bar_grid
    bars: dict[int, set[tuple[int, int]]] = {}
    for track in score.tracks:
        if not track.is_drum:
            continue
        for note in track.notes:
            voice = voice_of.get(note.pitch)
            if voice is None:
                continue
            bar = grid.bar_at(note.onset_ticks)
            offset = note.onset_ticks - grid.bar_start(bar)
            step = _to_steps(offset, score.ticks_per_beat, DRUM_STEPS_PER_BEAT)
            bars.setdefault(bar, set()).add((step, voice))
    if not bars:
        return np.zeros(0, dtype=np.uint32)
    codes = np.zeros(max(bars) + 1, dtype=np.uint32)
    for bar, hits in bars.items():
        codes[bar] = zlib.crc32(repr(sorted(hits)).encode()) or 1
    return codes


@dataclass
class _ItemFeatures:
    """What the index keeps of one ledger item (one of its scores)."""

    entry: tuple[str, str, str, str]  # collection, reference, sha256, title
    lines: list[Line] = field(default_factory=list)
    chords: np.ndarray | None = None
    drums: np.ndarray | None = None


def _features_of(entry, score: Score) -> _ItemFeatures:
    title = score.title or ""
    feats = _ItemFeatures((entry.collection, entry.reference, entry.sha256, title))
    if entry.collection in CHORALE_COLLECTIONS:
        voices = [t for t in score.tracks if not t.is_drum][:4]
        feats.lines = [
            line
            for track, name in zip(voices, VOICE_NAMES[1:], strict=False)
            if (line := top_line(score, track, name)) is not None
        ]
    elif entry.collection in DRUM_COLLECTIONS:
        feats.drums = drum_bar_codes(score)
    else:
        track = melody_track(score)
        line = top_line(score, track, "melody") if track is not None else None
        feats.lines = [line] if line is not None else []
        if not score.chords:
            from bandmate.theory.harmony import with_chords

            score = with_chords(score)  # as the melody task labels a bare tune for training
        feats.chords = chord_features(score)
    return feats


def _read_features(ledger, entries, progress) -> list[_ItemFeatures]:
    """The features of every readable score of `entries` (slow: music21 parses each item)."""
    out = []
    for entry, score in ledger.read_entries(entries, progress):
        try:
            out.append(_features_of(entry, score))
        except (ValueError, UserError):
            continue  # a part that cannot be read as notes: left out, as training does
    return out


def _cached_features(ledger, entries, progress, read=None) -> list[_ItemFeatures]:
    """`read(ledger, entries, progress)` (default `_read_features`), kept in bandmate's cache
    folder under a digest of the items. A `read` that raises caches nothing: a reading that
    could not see every item (a user's folder missing) is never kept as the items' features."""
    from bandmate.io.files import atomic_path
    from bandmate.models.data import default_cache_dir

    h = hashlib.sha256(f"originality-features {FEATURES_VERSION}".encode())
    for e in sorted(entries, key=lambda e: (e.collection, e.reference)):
        h.update(f"\n{e.collection}\t{e.reference}\t{e.sha256}".encode())
    path = default_cache_dir() / f"originality-{h.hexdigest()[:24]}.pkl"
    if path.is_file():
        try:
            with open(path, "rb") as f:
                return pickle.load(f)
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError):
            pass  # a damaged cache file is rebuilt
    feats = (read or _read_features)(ledger, entries, progress)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        pickle.dump(feats, f, protocol=pickle.HIGHEST_PROTOCOL)
    return feats


# --- melody tokens and n-gram hashes ------------------------------------------------------------
RATIO_STEPS = 12  # rhythm ratio classes per doubling: 3:2 and 4:3 stay apart
MAX_RATIO_CLASS = 4 * RATIO_STEPS  # ratios beyond 16:1 are one class
MAX_INTERVAL = 48
_SEP = 1000  # a gap between lines in the index: never equal to a real gap or the query's
_QSEP = -1000
_HASH_MULT = np.uint64(0x9E3779B97F4A7C15)


def line_gaps(onset_steps: np.ndarray, pitches: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(intervals, ratio classes), each (n - 1,) int64, for the gaps between a line's n notes.

    interval[i]: semitones from note i to note i + 1 (clipped to +-48);
    ratio[i]: round(12 * log2(ioi[i] / ioi[i - 1])), the rhythm of gap i against the gap before
    it (inter-onset intervals, so rests count), clipped to +-48; ratio[0] has no gap before it
    and is 0. Both are the same under any transposition and any uniform change of note values.
    """
    intervals = np.clip(np.diff(pitches), -MAX_INTERVAL, MAX_INTERVAL)
    ioi = np.diff(onset_steps).astype(np.float64)
    ratios = np.zeros(len(ioi), dtype=np.int64)
    if len(ioi) > 1:
        r = np.rint(RATIO_STEPS * np.log2(ioi[1:] / ioi[:-1]))
        ratios[1:] = np.clip(r, -MAX_RATIO_CLASS, MAX_RATIO_CLASS)
    return intervals.astype(np.int64), ratios


def _window_hashes(tokens: np.ndarray, width: int) -> np.ndarray:
    """(len - width + 1,) uint64 hashes of every `width`-long window of `tokens` (int64)."""
    if len(tokens) < width:
        return np.zeros(0, dtype=np.uint64)
    windows = np.lib.stride_tricks.sliding_window_view(tokens.astype(np.uint64), width)
    h = np.full(len(windows), np.uint64(0xCBF29CE484222325), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(width):
            h = (h ^ windows[:, j]) * _HASH_MULT
            h ^= h >> np.uint64(29)
    return h


def _full_hashes(intervals: np.ndarray, ratios: np.ndarray, width: int) -> np.ndarray:
    """Hashes of every `width`-gap window by its intervals and the ratios of its gaps 2..width."""
    n = len(intervals) - width + 1
    if n <= 0:
        return np.zeros(0, dtype=np.uint64)
    h_int = _window_hashes(intervals, width)
    h_rhy = _window_hashes(ratios[1:], width - 1)[:n] if width > 1 else np.zeros(n, np.uint64)
    with np.errstate(over="ignore"):
        return h_int ^ (h_rhy * np.uint64(0x2545F4914F6CDD1D))


def _df_table(hashes: np.ndarray, items: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(unique hashes sorted, number of distinct items holding each), for IDF weights."""
    order = np.lexsort((items, hashes))
    h, it = hashes[order], items[order]
    if len(h) == 0:
        return h, np.zeros(0, dtype=np.int64)
    new_hash = np.ones(len(h), dtype=bool)
    new_hash[1:] = h[1:] != h[:-1]
    new_pair = new_hash.copy()
    new_pair[1:] |= it[1:] != it[:-1]
    starts = np.flatnonzero(new_hash)
    df = np.add.reduceat(new_pair.astype(np.int64), starts)
    return h[starts], df


def _lookup_df(table: tuple[np.ndarray, np.ndarray], hashes: np.ndarray) -> np.ndarray:
    keys, df = table
    if len(keys) == 0:
        return np.zeros(len(hashes), dtype=np.int64)
    at = np.minimum(np.searchsorted(keys, hashes), len(keys) - 1)
    return np.where(keys[at] == hashes, df[at], 0)
