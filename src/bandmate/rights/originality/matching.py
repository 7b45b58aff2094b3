"""Matching a piece against the index, weighing the matches, and the verdict (see the package
docstring for the rules and why)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from bandmate.errors import EmptyScoreError
from bandmate.rights.originality.features import (
    _QSEP,
    _SEP,
    VOICE_NAMES,
    Line,
    _lookup_df,
    _window_hashes,
    chord_features,
    drum_bar_codes,
    line_gaps,
    score_lines,
)
from bandmate.rights.originality.index import (
    CONTEXT_GAPS,
    SEED_GAPS,
    OriginalityIndex,
    SourceRef,
    _MelodyTables,
    _no_separator,
    _SequenceTables,
    chord_tokens,
    shipped_index,
)
from bandmate.score.model import Score

# --- matching -----------------------------------------------------------------------------------
HARD_RULE_NOTES = 8
# A line that is wholly one item's passage is a copy when at least this share of its note
# lengths (inter-onset intervals) are the source's, the source's tempo aside (rule "copy").
COPY_RHYTHM_SHARE = 0.5
# How heavy chance matches are (see the package docstring): a piece of q gaps checked against c
# gaps meets a chance match of w bits or more with probability 1 - exp(-E), E = K q c 2**(-λ w),
# λ = NULL_SLOPE and log2 K = NULL_LOG2_K fitted on training tunes checked against collections
# they share few tunes with. A match counts when that probability is at most FALSE_FLAG_RATE.
NULL_SLOPE = 0.42
NULL_LOG2_K = -12.5
FALSE_FLAG_RATE = 0.05


def threshold_bits(
    query_gaps: int, corpus_gaps: int, false_flag_rate: float = FALSE_FLAG_RATE
) -> float:
    """The weight in bits at which a match counts, for a piece of `query_gaps` gaps (notes
    minus one, over the lines checked) against an index of `corpus_gaps`: the weight that a
    chance match reaches with probability `false_flag_rate` under the fitted null model."""
    chances = np.log2(max(query_gaps, 1) * max(corpus_gaps, 1))
    expected = -np.log(1.0 - false_flag_rate)  # E at which P(a chance match) is the rate
    return float((chances + NULL_LOG2_K - np.log2(expected)) / NULL_SLOPE)


@dataclass(frozen=True)
class Match:
    """A passage the checked piece shares with one ledger item.

    channel: "melody", "chords" or "drums". notes: how many consecutive notes (chords: chord
    changes, drums: bars) match, intervals (or progression steps, or drum hits) only;
    exact_notes: the longest part of it whose rhythm matches too (melody; else = notes).
    bars / source_bars: (first, last) bar, counted from 1, in the checked piece and in the
    source. line / source_line: which track of the piece and which voice of the source.
    score_bits: the match's weight in bits (see the module docstring); exact_bits: the weight of
    its rhythm-exact stretch alone (melody; the hard rule ignores one under the piece's
    threshold as common material).
    """

    channel: str
    notes: int
    exact_notes: int
    bars: tuple[int, int]
    source_bars: tuple[int, int]
    line: str
    source_line: str
    source: SourceRef
    score_bits: float
    exact_bits: float = 0.0
    interval_bits: float = 0.0

    def to_dict(self) -> dict:
        return {
            "channel": self.channel,
            "notes": self.notes,
            "exact_notes": self.exact_notes,
            "bars": list(self.bars),
            "source_bars": list(self.source_bars),
            "line": self.line,
            "source_line": self.source_line,
            "score_bits": round(self.score_bits, 2),
            "exact_bits": round(self.exact_bits, 2),
            "interval_bits": round(self.interval_bits, 2),
            "source": self.source.to_dict(),
        }


@dataclass(frozen=True)
class _Run:
    """A stretch of gaps [g0, g1] of a query line equal to corpus gaps [c0, c0 + g1 - g0]."""

    line: int
    g0: int
    g1: int
    c0: int
    score_bits: float
    exact_gaps: int
    exact_at: int  # query gap where the longest rhythm-exact stretch starts
    exact_bits: float  # the weight of that stretch
    interval_bits: float  # the run's weight by its intervals alone


def _melody_runs(
    t: _MelodyTables, qi: np.ndarray, qr: np.ndarray, line: int, threshold: float
) -> list[_Run]:
    """The corpus passages that share an uncommon seed n-gram with the query line, extended both
    ways as far as the intervals stay equal, and weighed (`_score_run`) when they could break a
    rule: HARD_RULE_NOTES notes or more, or an upper bound of their weight at `threshold` or
    more; else only the three heaviest by that bound (for the report)."""
    k = SEED_GAPS
    if len(qi) < k or len(t.seed_keys) == 0:
        return []
    qh = _window_hashes(qi, k)
    lo = np.searchsorted(t.seed_keys, qh, "left")
    hi = np.searchsorted(t.seed_keys, qh, "right")
    bits = t.bits(qi, qr)
    anchor = (hi > lo) & (bits["df_seed"] <= t.anchor_max_df)
    counts = (hi - lo)[anchor]
    if counts.sum() == 0:
        return []
    qpos = np.repeat(np.flatnonzero(anchor), counts)
    first = np.repeat(lo[anchor] - np.concatenate([[0], np.cumsum(counts)[:-1]]), counts)
    diag = t.seed_pos[first + np.arange(len(qpos))] - qpos
    order = np.lexsort((qpos, diag))
    diag, qpos = diag[order], qpos[order]
    # a new run where the diagonal changes or the next anchor does not touch this one
    breaks = np.ones(len(diag), dtype=bool)
    breaks[1:] = (diag[1:] != diag[:-1]) | (qpos[1:] - qpos[:-1] > k)
    starts = np.flatnonzero(breaks)
    ends = np.append(starts[1:], len(diag)) - 1
    d = diag[starts]
    g0 = qpos[starts] - _extend(qi, t.intervals, qpos[starts] - 1, d, -1)
    g1 = qpos[ends] + k - 1 + _extend(qi, t.intervals, qpos[ends] + k, d, 1)
    _, unique = np.unique(np.stack([d, g0]), axis=1, return_index=True)
    d, g0, g1 = d[unique], g0[unique], g1[unique]
    weight = _run_weights(t, qr, bits, g0, g1, d)
    keep = (g1 - g0 + 2 >= HARD_RULE_NOTES) | (weight >= threshold)
    keep[np.argsort(-weight)[:3]] = True
    return [
        _score_run(t, qr, bits, line, int(a), int(b), int(c))
        for a, b, c in zip(g0[keep], g1[keep], d[keep], strict=True)
    ]


def _run_weights(t: _MelodyTables, qr, bits, g0, g1, d) -> np.ndarray:
    """(runs,) the weight `_score_run` gives each run, for all of them at once."""
    lengths = g1 - g0 + 1
    run = np.repeat(np.arange(len(g0)), lengths)
    within = np.arange(len(run)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    gap = g0[run] + within
    order = np.minimum(within, CONTEXT_GAPS)
    w_int = np.stack([bits[f"int_{c}"] for c in range(CONTEXT_GAPS + 1)])[order, gap]
    w_full = np.stack([bits[f"full_{c}"] for c in range(CONTEXT_GAPS + 1)])[order, gap]
    same = (qr[gap] == t.ratios[gap + d[run]]) & (within > 0)
    w = w_int + np.where(same, np.maximum(w_full - w_int, 0.0), 0.0)
    return np.bincount(run, weights=w, minlength=len(g0))


def _extend(qi: np.ndarray, corpus: np.ndarray, start, diag, step: int) -> np.ndarray:
    """(runs,) how many gaps from query gap `start` on, going by `step`, equal the corpus's on
    each run's diagonal (a separator ends every corpus line, so no run leaves its line)."""
    n = np.zeros(len(start), dtype=np.int64)
    active = np.arange(len(start))
    while len(active):
        pos = start[active] + step * n[active]
        same = (pos >= 0) & (pos < len(qi))
        inside = np.flatnonzero(same)
        same[inside] = qi[pos[inside]] == corpus[pos[inside] + diag[active[inside]]]
        active = active[same]
        n[active] += 1
    return n


def _score_run(t: _MelodyTables, qr, bits, line: int, g0: int, g1: int, d: int) -> _Run:
    """Weigh a run of equal intervals, query gaps g0..g1 against corpus gaps g0 + d..g1 + d.

    Each gap adds how surprising its interval is after the run's gaps before it (up to
    CONTEXT_GAPS of them), and, where its rhythm ratio matches too, what the rhythm adds (the
    run's first gap's ratio looks outside the run and never counts). Also finds the longest
    stretch whose rhythm matches, with its weight, and the run's weight by intervals alone.
    """
    same = qr[g0 : g1 + 1] == t.ratios[g0 + d : g1 + 1 + d]
    same[0] = False
    n = g1 - g0 + 1
    order = np.minimum(np.arange(n), CONTEXT_GAPS)
    gaps = np.arange(g0, g1 + 1)
    w_int = np.choose(order, [bits[f"int_{c}"][gaps] for c in range(CONTEXT_GAPS + 1)])
    w_full = np.choose(order, [bits[f"full_{c}"][gaps] for c in range(CONTEXT_GAPS + 1)])
    w_rhythm = np.where(same, np.maximum(w_full - w_int, 0.0), 0.0)
    # the longest stretch of gaps whose inner ratios all match (its first gap's ratio is free)
    best_len, best_at, cur = 1, 0, 0
    for i in range(1, n):
        cur = cur + 1 if same[i] else 0
        if cur + 1 > best_len:
            best_len, best_at = cur + 1, i - cur
    stretch = slice(best_at, best_at + best_len)
    exact_bits = float(w_int[stretch].sum() + w_rhythm[best_at + 1 : best_at + best_len].sum())
    interval_bits = float(w_int.sum())
    weight = interval_bits + float(w_rhythm.sum())
    return _Run(line, g0, g1, g0 + d, weight, best_len, g0 + best_at, exact_bits, interval_bits)


def _sequence_runs(t: _SequenceTables, q: np.ndarray) -> list[tuple[int, int, int, float]]:
    """(g0, g1, c0, bits) for every stretch of `q` equal to a corpus stretch holding a seed."""
    k = t.gram
    if len(q) < k or len(t.keys) == 0:
        return []
    qh = _window_hashes(q, k)
    ok = _no_separator(np.where(q == _QSEP, _SEP, q), k)
    lo = np.searchsorted(t.keys, qh, "left")
    hi = np.searchsorted(t.keys, qh, "right")
    df = _lookup_df(t.df, qh)
    idf = np.log2(t.n_items / np.maximum(df, 1))
    runs, seen = [], set()
    for g in np.flatnonzero(ok & (hi > lo) & (df <= t.anchor_max_df)):
        for c in t.pos[lo[g] : hi[g]]:
            d = int(c) - int(g)
            if (d, g) in seen:
                continue
            g0, g1 = int(g), int(g) + k - 1
            while g0 > 0 and q[g0 - 1] == t.tokens[g0 - 1 + d]:
                g0 -= 1
            while g1 + 1 < len(q) and q[g1 + 1] == t.tokens[g1 + 1 + d]:
                g1 += 1
            seen.update((d, x) for x in range(g0, g1 - k + 2))
            runs.append((g0, g1, g0 + d, float(idf[g0 : g1 - k + 2].sum())))
    return runs


@dataclass(frozen=True)
class OriginalityResult:
    """The verdict on one piece, JSON-ready through `to_dict` (kept stable for manifests).

    flagged: True when the melody shares an uncommon passage of 8 or more notes with one item,
        intervals and rhythm (`reason` "passage") or intervals with the rhythm changed
        ("varied passage"), or its `score` reaches `threshold` ("similarity"), or a line is,
        all of it, one item's passage of 8 or more notes, however light ("copy"); else False
        and reason "". See the module docstring for the rules.
    score: the strongest melody match's weight in bits (see the module docstring); 0 when
        nothing is shared. threshold: the score at which a piece is flagged.
    longest_match: the match behind the verdict: the heaviest that breaks the first rule
        broken, else the heaviest of all (None when nothing is shared).
    chord_match, drum_match: the strongest chord-progression and drum-pattern matches, reported
        and never flagged (progressions and grooves are common property; see the docstring).
    index: which index was searched (its card's name, items and sha256).
    """

    flagged: bool
    score: float
    threshold: float
    reason: str
    longest_match: Match | None
    chord_match: Match | None = None
    drum_match: Match | None = None
    index: dict = field(default_factory=dict)

    @property
    def verdict(self) -> str:
        return "flagged" if self.flagged else "original"

    def to_dict(self) -> dict:
        return {
            "verdict": self.verdict,
            "flagged": self.flagged,
            "reason": self.reason,
            "score": round(self.score, 2),
            "threshold": self.threshold,
            "hard_rule_notes": HARD_RULE_NOTES,
            "copy_rhythm_share": COPY_RHYTHM_SHARE,
            "longest_match": None if self.longest_match is None else self.longest_match.to_dict(),
            "chord_match": None if self.chord_match is None else self.chord_match.to_dict(),
            "drum_match": None if self.drum_match is None else self.drum_match.to_dict(),
            "index": dict(self.index),
        }


def check_score(
    score: Score, index: OriginalityIndex | None = None, *, threshold: float | None = None
) -> OriginalityResult:
    """Compare `score` with everything the shipped models learnt from (or with `index`).

    The melody tracks (else every pitched track, see `score_lines`) are read as lines (the
    highest note at each onset) and compared; chords come from the score's chord track, else
    are labelled from its melody; drums from its drum tracks. A match counts from the piece's
    threshold (`threshold_bits`: the weight that a chance match reaches for FALSE_FLAG_RATE of
    pieces as long; it grows with the notes checked), or from `threshold` bits when given.
    A piece with drums and no line of two pitched notes (a drum part) is compared by its
    drums, which never flag it. Raises EmptyScoreError when it has neither.
    """
    index = index or shipped_index()
    lines = [line for line in score_lines(score) if len(line.pitches) >= 2]
    if not lines and not any(t.is_drum and t.notes for t in score.tracks):
        raise EmptyScoreError(
            "The piece has no melody to check (no pitched track with two or more notes); give a "
            "MIDI, MusicXML or ABC file with a melody."
        )
    if threshold is None:
        gaps = sum(len(line.pitches) - 1 for line in lines)
        threshold = round(threshold_bits(gaps, index.melody.n_gaps), 2)
    runs = [
        (run, line)
        for n, line in enumerate(lines)
        for run in _melody_runs(
            index.melody, *line_gaps(line.onset_steps, line.pitches), n, threshold
        )
    ]
    score_bits = max((run.score_bits for run, _ in runs), default=0.0)
    reason, shown = "", None
    for rule in RULES:
        hits = [(run, line) for run, line in runs if _breaks(rule, run, line, threshold, index)]
        if hits:  # the strongest match that breaks the first rule broken
            reason, shown = rule, max(hits, key=lambda h: (h[0].score_bits, h[0].g1 - h[0].g0))
            break
    if shown is None and runs:
        shown = max(runs, key=lambda h: (h[0].score_bits, h[0].g1 - h[0].g0))
    melody_match = _melody_match(index, *shown) if shown else None
    return OriginalityResult(
        flagged=bool(reason),
        score=score_bits,
        threshold=threshold,
        reason=reason,
        longest_match=melody_match,
        chord_match=_chord_match(index, score) if lines or score.chords else None,
        drum_match=_drum_match(index, score),
        index={k: index.card.get(k) for k in ("name", "items", "sha256") if k in index.card},
    )


def result_rows(result: OriginalityResult) -> list[tuple[str, str]]:
    """(label, value) rows that describe a result for people, as `bandmate check` prints them."""
    verdict = f"flagged: {REASONS[result.reason]}" if result.flagged else "original"
    rows = [
        ("verdict", verdict),
        ("score", f"{result.score:.1f} bits (threshold {result.threshold:.1f} bits)"),
    ]
    m = result.longest_match
    if m is None:
        rows.append(("melody match", "none: no uncommon passage is shared with any item"))
    else:
        rows += [
            (
                "melody match",
                f"{m.notes} notes ({m.exact_notes} with the same rhythm), {m.score_bits:.1f} "
                f"bits, {_bars(m.bars)} of {m.line!r}",
            ),
            *_source_rows(m),
        ]
    for label, match, unit in (
        ("chord match", result.chord_match, "chords"),
        ("drum match", result.drum_match, "bars"),
    ):
        if match is not None:
            rows.append(
                (
                    label,
                    f"{match.notes} {unit}, {match.score_bits:.1f} bits, {_bars(match.bars)}; "
                    f"{match.source.reference} ({match.source.collection}), "
                    f"{_bars(match.source_bars)} (reported, never flagged)",
                )
            )
    return rows


def _bars(bars: tuple[int, int]) -> str:
    return f"bar {bars[0]}" if bars[0] == bars[1] else f"bars {bars[0]}-{bars[1]}"


def _source_rows(m: Match) -> list[tuple[str, str]]:
    src = m.source
    title = f" {src.title!r}" if src.title and src.title != src.reference else ""
    voice = f", {m.source_line}" if m.source_line != "melody" else ""
    return [
        ("source", f"{src.reference}{title}, {_bars(m.source_bars)}{voice} ({src.item_id})"),
        ("collection", f"{src.collection}, licence class {src.licence_class}"),
        ("licence", src.licence),
    ]


RULES = ("passage", "varied passage", "similarity", "copy")
REASONS = {  # what each rule's reason means, as `bandmate check` prints it
    "passage": f"{HARD_RULE_NOTES} or more notes share intervals and rhythm with one item",
    "varied passage": f"{HARD_RULE_NOTES} or more notes share intervals with one item, the "
    "rhythm changed",
    "similarity": "a run of rare notes shared with one item reaches the threshold",
    "copy": f"the whole line is one item's passage of {HARD_RULE_NOTES} notes or more: a copy, "
    "however short",
}


def _breaks(rule: str, run: _Run, line: Line, threshold: float, index: OriginalityIndex) -> bool:
    """Whether a melody run breaks one of the four rules (see the module docstring). The first
    three count from the same weight, so they flag a piece exactly when its score reaches the
    threshold and say how (a passage of HARD_RULE_NOTES notes with its rhythm, one with the
    rhythm changed, or a shorter run of rare notes); "copy" flags a line that is, all of it, a
    passage of one item, however light."""
    if rule == "passage":
        return run.exact_gaps + 1 >= HARD_RULE_NOTES and run.exact_bits >= threshold
    if rule == "varied passage":
        return run.g1 - run.g0 + 2 >= HARD_RULE_NOTES and run.score_bits >= threshold
    if rule == "similarity":
        return run.score_bits >= threshold
    return _copies_line(index.melody, run, line)


def _copies_line(t: _MelodyTables, run: _Run, line: Line) -> bool:
    """Whether `run` is the whole of `line`, HARD_RULE_NOTES notes or more, with at least
    COPY_RHYTHM_SHARE of its inter-onset intervals equal to the source's once the line is
    scaled by their median ratio (a copy in other note values keeps its rhythm; a swapped or
    dotted pair changes two intervals, not the scale)."""
    gaps = len(line.pitches) - 1
    if run.g0 != 0 or run.g1 != gaps - 1 or gaps + 1 < HARD_RULE_NOTES:
        return False
    mine = np.maximum(np.diff(line.onset_steps), 1).astype(np.float64)
    theirs = np.maximum(np.diff(t.onsets[run.c0 : run.c0 + gaps + 1]), 1).astype(np.float64)
    scaled = mine * np.median(theirs / mine)
    return bool(np.mean(np.abs(scaled - theirs) <= 0.02 * theirs) >= COPY_RHYTHM_SHARE)


def _melody_match(index: OriginalityIndex, run: _Run, line: Line) -> Match:
    t = index.melody
    c_line = int(np.searchsorted(t.line_offsets, run.c0, "right") - 1)
    item = int(t.item_of_gap[run.c0])
    c1 = run.c0 + run.g1 - run.g0 + 1  # the run's last corpus note
    return Match(
        channel="melody",
        notes=run.g1 - run.g0 + 2,
        exact_notes=run.exact_gaps + 1,
        bars=(int(line.bars[run.g0]) + 1, int(line.bars[run.g1 + 1]) + 1),
        source_bars=(int(t.bars[run.c0]) + 1, int(t.bars[c1]) + 1),
        line=line.voice,
        source_line=VOICE_NAMES[int(t.line_voice[c_line])],
        source=index.source(item),
        score_bits=run.score_bits,
        exact_bits=run.exact_bits,
        interval_bits=run.interval_bits,
    )


def _chord_match(index: OriginalityIndex, score: Score) -> Match | None:
    """The strongest progression shared with one item (token j is the change into chord j)."""
    if not score.chords:
        from bandmate.theory.harmony import with_chords

        score = with_chords(score)
    rows = chord_features(score)
    q = chord_tokens(rows)
    if len(q):
        q[0] = _QSEP
    t = index.chord_tables
    runs = _sequence_runs(t, q)
    if not runs:
        return None
    g0, g1, c0, bits = max(runs, key=lambda r: (r[3], r[1] - r[0]))
    k, at = t.where(c0)
    source_rows = index.arrays["chord_rows"][index.arrays["chord_offsets"][k] :]
    return Match(
        channel="chords",
        notes=g1 - g0 + 2,
        exact_notes=g1 - g0 + 2,
        bars=(int(rows[g0 - 1, 0]) + 1, int(rows[g1, 0]) + 1),
        source_bars=(int(source_rows[at - 1, 0]) + 1, int(source_rows[at + g1 - g0, 0]) + 1),
        line="chords",
        source_line="chords",
        source=index.source(int(t.seq_item[k])),
        score_bits=bits,
    )


def _drum_match(index: OriginalityIndex, score: Score) -> Match | None:
    """The longest run of bars whose drum hits equal a style item's, bar for bar."""
    codes = drum_bar_codes(score).astype(np.int64)
    if not len(codes):
        return None
    q = np.where(codes == 0, _QSEP, codes)
    t = index.drum_tables
    runs = _sequence_runs(t, q)
    if not runs:
        return None
    g0, g1, c0, bits = max(runs, key=lambda r: (r[1] - r[0], r[3]))
    k, at = t.where(c0)
    return Match(
        channel="drums",
        notes=g1 - g0 + 1,
        exact_notes=g1 - g0 + 1,
        bars=(g0 + 1, g1 + 1),
        source_bars=(at + 1, at + g1 - g0 + 1),
        line="drums",
        source_line="drums",
        source=index.source(int(t.seq_item[k])),
        score_bits=bits,
    )
