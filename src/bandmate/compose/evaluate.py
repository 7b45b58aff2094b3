"""How good is generated music, measured: features set against set, melody against chart, and
the part-writing of four-part harmonizations. Pure functions over `Score`s (and JSB-style steps).

**Features, set against set** (MGEval: Yang & Lerch, "On the evaluation of generative models in
music", 2018). Each piece gives a vector per feature (`piece_features`), computed on its melody
(`theory.harmony.melody_notes`: the MELODY track, else the first pitched one), because a
generated melody may come with a backing that should not count as melody:

- pitch_class_histogram (12,): the fraction of notes on each pitch class, C first;
- pitch_class_transitions (144,): a 12x12 matrix (row: from, column: to), flattened, of the
  fraction of the melodic line's steps that go from one pitch class to another;
- pitch_range (1,): semitones from the lowest note to the highest;
- interval_histogram (25,): the fraction of the line's intervals of -12..+12 semitones (wider
  ones counted at ±12);
- ioi_histogram (12,): the fraction of inter-onset intervals (between distinct onsets) in
  each duration bin;
- note_length_histogram (12,): the fraction of notes in each duration bin;
- note_count (1,): notes; pitch_count (1,): distinct MIDI pitches.

The melodic *line* is the highest note at each onset (a skyline), so a chord in a melody part
gives one step, not a fan of unisons. Duration bins are centred on the common written values,
in quarter-note beats (`DURATION_BIN_CENTRES_BEATS`: 16th, 8th triplet, 8th, quarter triplet,
dotted 8th, quarter, dotted quarter, half, dotted half, whole, dotted whole, breve), with edges
at the geometric means between centres, so 32nds fall in the 16th bin and longer notes in the
last.

Sets are compared the MGEval way (`compare_feature_sets`): for each feature, the Euclidean
distances between every pair of reference pieces (intra-set) and between every generated piece
and every reference piece (inter-set) are smoothed by a Gaussian kernel density estimate
(`scipy.stats.gaussian_kde`, Scott's bandwidth); the **overlap area** of the two densities
(0..1, 1 = the generated pieces differ from the reference as much as the reference pieces
differ among themselves) and the **KL divergence** KL(intra || inter) in nats (0 = the same)
are reported. A sample that is constant (every distance the same) or whose bandwidth would be
narrower than 1% of the pooled spread of distances gets that 1% as its bandwidth, so two
constant samples compare sensibly (the same constant: OA 1, KL 0) instead of failing.

**Melody against its chart** (`chord_tone_ratio`, `scale_consistency`, `groove_consistency`):
the fraction of melody notes whose pitch class is a chord tone (root, third or sus, fifth,
sixth or seventh: `ChordSymbol.chord_tones`) of the chord sounding at its onset, over all notes
and over notes on strong beats only (`is_strong_beat`); the largest fraction of melody notes
that fit one scale (MGEval after Mogren's C-RNN-GAN); and 1 - the mean normalized Hamming
distance between the onset patterns of adjacent bars (the grooving-pattern similarity of Wu &
Yang's Jazz Transformer).

**Part-writing of four voices** (`part_writing`, `score_part_writing`): parallel fifths and
octaves, voice crossings and notes outside the SATB ranges, counted on a 16th-note grid of
steps (S, A, T, B) as in the JSB Chorales; a Score is first put on that grid, so a chorale and a
generated harmonization are counted by the same code. `parallels_per_100_beats` gives the rate
that a bench compares with Bach's own on the JSB test split.

`evaluate_scores` and `evaluate_folder` put all this in one report (a JSON-ready dict).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from bandmate.errors import EmptyScoreError, InputFileError, UserError
from bandmate.progress import ProgressCallback, no_progress
from bandmate.score.model import ChordEvent, Note, Score
from bandmate.theory.harmony import HALF_BAR_METERS, melody_notes, with_chords
from bandmate.theory.keys import MODES

# --- features -----------------------------------------------------------------------------
FEATURES = (
    "pitch_class_histogram",
    "pitch_class_transitions",
    "pitch_range",
    "interval_histogram",
    "ioi_histogram",
    "note_length_histogram",
    "note_count",
    "pitch_count",
)
INTERVAL_CLIP_SEMITONES = 12
#: centres of the duration bins, in quarter-note beats (16th note .. breve)
DURATION_BIN_CENTRES_BEATS = np.array(
    [1 / 4, 1 / 3, 1 / 2, 2 / 3, 3 / 4, 1, 3 / 2, 2, 3, 4, 6, 8], dtype=np.float64
)
# the inner edges between bins: geometric means of neighbouring centres
_DURATION_EDGES_BEATS = np.sqrt(DURATION_BIN_CENTRES_BEATS[:-1] * DURATION_BIN_CENTRES_BEATS[1:])

# --- set comparison -----------------------------------------------------------------------
MIN_BANDWIDTH_FRACTION = 0.01  # of the pooled spread of distances
KDE_GRID_POINTS = 2000
_KL_FLOOR = 1e-12  # added to both densities, so KL stays finite where the inter density is ~0

# --- melody -------------------------------------------------------------------------------
GROOVE_STEPS_PER_BEAT = 12  # a grid that holds 16ths and both kinds of triplet
#: the scales of scale consistency, as semitones above the tonic; each on all 12 tonics
SCALES = {
    "major": MODES["major"],
    "natural minor": MODES["minor"],
    "harmonic minor": (0, 2, 3, 5, 7, 8, 11),
}

# --- part-writing -------------------------------------------------------------------------
VOICE_NAMES = ("soprano", "alto", "tenor", "bass")
#: the usual SATB choir ranges, lowest and highest MIDI pitch (S C4-G5, A G3-D5, T C3-G4, B E2-C4)
SATB_RANGES: dict[str, tuple[int, int]] = {
    "soprano": (60, 79),
    "alto": (55, 74),
    "tenor": (48, 67),
    "bass": (40, 60),
}
SILENT = -1  # a voice that does not sound during a step (JSB convention)
STEPS_PER_BEAT = 4  # the JSB grid: 16th notes

# --- folders and collections --------------------------------------------------------------
DEFAULT_MAX_ITEMS = 100
HELD_OUT_SPLITS = ("valid", "test")


# ==========================================================================================
# Features of one piece
# ==========================================================================================
def _note_arrays(notes: Sequence[Note]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(onsets_ticks, durations_ticks, pitches), each (n,) int64, sorted by onset then pitch."""
    table = np.array([(n.onset_ticks, n.duration_ticks, n.pitch) for n in notes], dtype=np.int64)
    table = table.reshape(-1, 3)
    table = table[np.lexsort((table[:, 2], table[:, 0]))]
    return table[:, 0], table[:, 1], table[:, 2]


def _skyline(onsets: np.ndarray, pitches: np.ndarray) -> np.ndarray:
    """(m,) the highest pitch at each distinct onset, in time order (input sorted by onset)."""
    if onsets.size == 0:
        return pitches
    last_at_onset = np.r_[onsets[1:] != onsets[:-1], True]  # sorted by pitch within an onset
    return pitches[last_at_onset]


def _fractions(counts: np.ndarray) -> np.ndarray:
    total = counts.sum()
    return counts / total if total else counts.astype(np.float64)


def duration_histogram(durations_beats: np.ndarray) -> np.ndarray:
    """(12,) the fraction of `durations_beats` (n,) in each bin of DURATION_BIN_CENTRES_BEATS."""
    bins = np.searchsorted(_DURATION_EDGES_BEATS, np.asarray(durations_beats), side="right")
    return _fractions(np.bincount(bins, minlength=len(DURATION_BIN_CENTRES_BEATS)))


def piece_features(score: Score) -> dict[str, np.ndarray]:
    """The MGEval features of the score's melody: FEATURES -> float64 vector (see module docs).

    Raises EmptyScoreError when the score has no pitched notes.
    """
    notes = melody_notes(score)
    if not notes:
        raise EmptyScoreError(f"{score.title or 'The piece'} has no pitched notes to measure.")
    onsets, durations, pitches = _note_arrays(notes)
    tpb = score.ticks_per_beat
    line = _skyline(onsets, pitches)
    steps = np.clip(np.diff(line), -INTERVAL_CLIP_SEMITONES, INTERVAL_CLIP_SEMITONES)
    transitions = (line[:-1] % 12) * 12 + line[1:] % 12
    distinct_onsets = np.unique(onsets)
    features = {
        "pitch_class_histogram": _fractions(np.bincount(pitches % 12, minlength=12)),
        "pitch_class_transitions": _fractions(np.bincount(transitions, minlength=144)),
        "pitch_range": [np.ptp(pitches)],
        "interval_histogram": _fractions(
            np.bincount(steps + INTERVAL_CLIP_SEMITONES, minlength=2 * INTERVAL_CLIP_SEMITONES + 1)
        ),
        "ioi_histogram": duration_histogram(np.diff(distinct_onsets) / tpb),
        "note_length_histogram": duration_histogram(durations / tpb),
        "note_count": [len(pitches)],
        "pitch_count": [len(np.unique(pitches))],
    }
    return {name: np.asarray(features[name], dtype=np.float64) for name in FEATURES}


# ==========================================================================================
# Sets against sets
# ==========================================================================================
@dataclass(frozen=True)
class FeatureComparison:
    """How a generated set's distances to the reference compare with the reference's own.

    overlap_area: 0..1, the area shared by the intra-reference and inter-set densities.
    kl_divergence: KL(intra || inter) in nats, >= 0.
    """

    overlap_area: float
    kl_divergence: float


def intra_set_distances(features: np.ndarray) -> np.ndarray:
    """(n * (n - 1) / 2,) Euclidean distances between every pair of rows of `features` (n, d)."""
    from scipy.spatial.distance import pdist

    return pdist(np.asarray(features, dtype=np.float64).reshape(len(features), -1))


def inter_set_distances(features_a: np.ndarray, features_b: np.ndarray) -> np.ndarray:
    """(n_a * n_b,) Euclidean distances from every row of (n_a, d) to every row of (n_b, d)."""
    from scipy.spatial.distance import cdist

    a = np.asarray(features_a, dtype=np.float64).reshape(len(features_a), -1)
    b = np.asarray(features_b, dtype=np.float64).reshape(len(features_b), -1)
    return cdist(a, b).ravel()


def _density(sample: np.ndarray, min_bandwidth: float):
    """(pdf, bandwidth): a Gaussian KDE of 1-D `sample`, its bandwidth at least `min_bandwidth`.

    A constant sample (or one of a single value) becomes one Gaussian of `min_bandwidth` at that
    value: gaussian_kde cannot take it (its covariance is singular).
    """
    from scipy.stats import gaussian_kde, norm

    spread = float(np.std(sample, ddof=1)) if sample.size >= 2 else 0.0
    if spread > 0:
        try:
            kde = gaussian_kde(sample)
        except np.linalg.LinAlgError:  # pragma: no cover - only for pathological spreads
            pass
        else:
            bandwidth = spread * kde.factor
            if bandwidth < min_bandwidth:
                kde.set_bandwidth(min_bandwidth / spread)
                bandwidth = min_bandwidth
            return kde, bandwidth
    centre, width = float(np.mean(sample)), max(spread, min_bandwidth)
    return (lambda x: norm.pdf(x, centre, width)), width


def compare_distributions(intra: np.ndarray, inter: np.ndarray) -> FeatureComparison:
    """Overlap area and KL(intra || inter) of two samples of distances, each (n,), smoothed."""
    intra = np.asarray(intra, dtype=np.float64).ravel()
    inter = np.asarray(inter, dtype=np.float64).ravel()
    if intra.size == 0 or inter.size == 0:
        raise ValueError("both samples of distances need at least one value")
    pooled = np.concatenate([intra, inter])
    spread = float(np.ptp(pooled))
    min_bandwidth = MIN_BANDWIDTH_FRACTION * spread if spread > 0 else 1.0
    pdf_intra, bw_intra = _density(intra, min_bandwidth)
    pdf_inter, bw_inter = _density(inter, min_bandwidth)
    margin = 4 * max(bw_intra, bw_inter)  # enough of the tails to hold all but ~1e-4
    grid = np.linspace(pooled.min() - margin, pooled.max() + margin, KDE_GRID_POINTS)
    p, q = pdf_intra(grid), pdf_inter(grid)
    p, q = p / np.trapezoid(p, grid), q / np.trapezoid(q, grid)
    overlap = float(np.clip(np.trapezoid(np.minimum(p, q), grid), 0.0, 1.0))
    # MGEval's discrete KL over the grid (scipy.stats.entropy normalizes both to sum 1)
    from scipy.stats import entropy

    kl = float(max(entropy(p + _KL_FLOOR, q + _KL_FLOOR), 0.0))
    return FeatureComparison(overlap_area=overlap, kl_divergence=kl)


def compare_feature_sets(
    generated: Sequence[Mapping[str, np.ndarray]], reference: Sequence[Mapping[str, np.ndarray]]
) -> dict[str, FeatureComparison]:
    """FEATURES -> FeatureComparison of generated pieces' features against the reference's.

    Each argument holds one `piece_features` dict per piece; the reference needs at least two
    pieces (its intra-set distances are its pairs) and the generated set at least one.
    """
    if len(reference) < 2 or not generated:
        raise ValueError("compare needs at least two reference pieces and one generated piece")
    out = {}
    for name in FEATURES:
        gen = np.stack([np.ravel(f[name]) for f in generated])
        ref = np.stack([np.ravel(f[name]) for f in reference])
        out[name] = compare_distributions(intra_set_distances(ref), inter_set_distances(gen, ref))
    return out


# ==========================================================================================
# A melody against its chart
# ==========================================================================================
def is_strong_beat(score: Score, onset_ticks: int, tolerance_ticks: int = 0) -> bool:
    """Whether `onset_ticks` falls on a strong beat: the downbeat of its bar, and the middle of
    the bar in 4/4, 2/2, 6/8, 12/8 and 6/4 (beat 3 of 4/4, the second dotted quarter of 6/8).

    `tolerance_ticks` lets a played (unquantized) onset that close to the beat count.
    """
    grid = score.bar_grid
    meter = grid.meter_at(onset_ticks)
    bar_start = grid.bar_start(grid.bar_at(onset_ticks))
    bar_ticks = meter.bar_ticks(score.ticks_per_beat)
    beats = [0, bar_ticks]  # the next bar's downbeat, for onsets played just early
    if (meter.numerator, meter.denominator) in HALF_BAR_METERS:
        beats.append(bar_ticks // 2)
    position = onset_ticks - bar_start
    return any(abs(position - b) <= tolerance_ticks for b in beats)


def _chords_at(chords: Sequence[ChordEvent], onsets: np.ndarray) -> list:
    """The chord symbol sounding at each onset (None before the first chord)."""
    starts = np.array([c.onset_ticks for c in chords], dtype=np.int64)
    index = np.searchsorted(starts, onsets, side="right") - 1
    return [chords[i].symbol if i >= 0 else None for i in index]


def chord_tone_ratio(score: Score, *, strong_beats_only: bool = False) -> float | None:
    """The fraction of melody notes whose pitch class is a chord tone of the chord at its onset.

    Notes before the first chord and under N.C. are left out; `strong_beats_only` keeps only
    notes that begin on a strong beat (`is_strong_beat`, within a 32nd note). None when no note
    is left (a score without chords has none).
    """
    notes = melody_notes(score)
    if not notes or not score.chords:
        return None
    onsets, _, pitches = _note_arrays(notes)
    tolerance = score.ticks_per_beat // 8
    counted = hits = 0
    for onset, pitch, chord in zip(onsets, pitches, _chords_at(score.chords, onsets), strict=True):
        if chord is None or chord.is_no_chord:
            continue
        if strong_beats_only and not is_strong_beat(score, int(onset), tolerance):
            continue
        counted += 1
        hits += int(pitch) % 12 in chord.chord_tones()
    return hits / counted if counted else None


def _scale_masks() -> np.ndarray:
    """(len(SCALES) * 12, 12) bool: row s * 12 + tonic holds the pitch classes of that scale."""
    masks = np.zeros((len(SCALES) * 12, 12), dtype=bool)
    for s, degrees in enumerate(SCALES.values()):
        for tonic in range(12):
            masks[s * 12 + tonic, [(tonic + d) % 12 for d in degrees]] = True
    return masks


def scale_consistency(score: Score) -> float | None:
    """The largest fraction of melody notes (counted, not weighted by length) that belong to one
    scale: major, natural minor or harmonic minor on any of the 12 tonics (SCALES).

    A diatonic tune gives 1.0, a chromatic scale 7/12. None for a score without pitched notes.
    """
    notes = melody_notes(score)
    if not notes:
        return None
    counts = np.bincount([n.pitch % 12 for n in notes], minlength=12)
    return float((_scale_masks() @ counts).max() / counts.sum())


def groove_consistency(score: Score) -> float | None:
    """1 - the mean Hamming distance between the onset patterns of adjacent bars.

    A bar's pattern marks which of its GROOVE_STEPS_PER_BEAT-per-quarter grid positions hold a
    melody onset; a distance is the fraction of positions that differ. Bars from the first to the
    last with an onset count; pairs of bars of different lengths (a meter change) are skipped.
    1.0 is a rhythm that repeats every bar. None for fewer than two bars.
    """
    notes = melody_notes(score)
    if not notes:
        return None
    grid, tpb = score.bar_grid, score.ticks_per_beat
    step = tpb / GROOVE_STEPS_PER_BEAT
    patterns: dict[int, np.ndarray] = {}
    for note in notes:
        bar = grid.bar_at(note.onset_ticks)
        start = grid.bar_start(bar)
        length = round(grid.meter_at(note.onset_ticks).bar_ticks(tpb) / step)
        position = round((note.onset_ticks - start) / step)
        if position >= length:  # rounds onto the next bar's downbeat
            bar, position = bar + 1, 0
        if bar not in patterns:
            patterns[bar] = np.zeros(_positions(score, bar, step), dtype=bool)
        patterns[bar][position] = True
    first, last = min(patterns), max(patterns)
    distances = []
    for bar in range(first, last):
        a = patterns.get(bar, np.zeros(_positions(score, bar, step), dtype=bool))
        b = patterns.get(bar + 1, np.zeros(_positions(score, bar + 1, step), dtype=bool))
        if a.size == b.size:
            distances.append(np.count_nonzero(a != b) / a.size)
    return 1.0 - float(np.mean(distances)) if distances else None


def _positions(score: Score, bar: int, step: float) -> int:
    grid = score.bar_grid
    return round(grid.meter_at(grid.bar_start(bar)).bar_ticks(score.ticks_per_beat) / step)


# ==========================================================================================
# Part-writing of four voices
# ==========================================================================================
@dataclass(frozen=True)
class PartWriting:
    """What `part_writing` counts in one or more four-part pieces (add them to pool pieces).

    beats: the length, in quarter-note beats; notes: how many notes (runs of one pitch in a
    voice) there are; parallel_fifths / parallel_octaves: see `part_writing`; crossings: how
    often a voice goes above the voice written above it; range_violations: notes outside
    SATB_RANGES.
    """

    beats: float = 0.0
    notes: int = 0
    parallel_fifths: int = 0
    parallel_octaves: int = 0
    crossings: int = 0
    range_violations: int = 0

    def __add__(self, other: PartWriting) -> PartWriting:
        return PartWriting(
            *(a + b for a, b in zip(asdict(self).values(), asdict(other).values(), strict=True))
        )

    @property
    def parallels(self) -> int:
        return self.parallel_fifths + self.parallel_octaves

    def per_100_beats(self, count: int) -> float:
        return 100.0 * count / self.beats if self.beats else 0.0

    def as_dict(self) -> dict:
        """The counts, with the rates per 100 beats and the share of notes out of range."""
        return {
            **asdict(self),
            "parallels_per_100_beats": self.per_100_beats(self.parallels),
            "crossings_per_100_beats": self.per_100_beats(self.crossings),
            "range_violation_ratio": self.range_violations / self.notes if self.notes else 0.0,
        }


def part_writing(steps: Sequence[Sequence[int]], steps_per_beat: int = STEPS_PER_BEAT):
    """Count the part-writing faults of a chorale given as steps (n, 4): S, A, T, B MIDI
    pitches per grid step (16th notes by default), -1 where a voice is silent.

    Consecutive identical steps are one chord; between two successive chords, a pair of voices
    (any of the six) makes a **parallel fifth** when both sound in both chords, both change
    pitch, both move in the same direction, and they are a perfect fifth apart in both chords
    (|difference| mod 12 == 7, so compound fifths count); a **parallel octave** the same with
    octaves and unisons (mod 12 == 0). Fifths by contrary motion are not counted. A **crossing**
    is counted where an adjacent pair (S-A, A-T, T-B) becomes crossed, the lower voice above
    the higher one, not at every step it stays so. A **range violation** is a note (a run of one
    pitch in a voice; held and repeated notes look alike on the grid) outside SATB_RANGES.
    """
    if steps_per_beat < 1:
        raise ValueError(f"steps_per_beat must be >= 1, got {steps_per_beat}")
    table = np.asarray(steps, dtype=np.int64).reshape(-1, 4)  # (n, 4)
    if len(table) == 0:
        return PartWriting()
    beats = len(table) / steps_per_beat
    changed = np.r_[True, np.any(table[1:] != table[:-1], axis=1)]
    chords = table[changed]  # (m, 4): one row per change of any voice
    before, after = chords[:-1], chords[1:]
    fifths = octaves = 0
    for upper in range(4):
        for lower in range(upper + 1, 4):
            a0, a1, b0, b1 = before[:, upper], after[:, upper], before[:, lower], after[:, lower]
            sounding = (a0 >= 0) & (a1 >= 0) & (b0 >= 0) & (b1 >= 0)
            similar = (a0 != a1) & (b0 != b1) & (np.sign(a1 - a0) == np.sign(b1 - b0))
            moving = sounding & similar
            was, now = np.abs(a0 - b0) % 12, np.abs(a1 - b1) % 12
            fifths += int(np.count_nonzero(moving & (was == 7) & (now == 7)))
            octaves += int(np.count_nonzero(moving & (was == 0) & (now == 0)))
    high, low = chords[:, :3], chords[:, 1:]
    crossed = (high >= 0) & (low >= 0) & (low > high)  # (m, 3)
    began = crossed & ~np.vstack([np.zeros((1, 3), dtype=bool), crossed[:-1]])
    notes = violations = 0
    for voice, name in enumerate(VOICE_NAMES):
        line = table[:, voice]
        starts = np.r_[True, line[1:] != line[:-1]] & (line >= 0)
        pitches = line[starts]
        lowest, highest = SATB_RANGES[name]
        notes += len(pitches)
        violations += int(np.count_nonzero((pitches < lowest) | (pitches > highest)))
    return PartWriting(
        beats=beats,
        notes=notes,
        parallel_fifths=fifths,
        parallel_octaves=octaves,
        crossings=int(np.count_nonzero(began)),
        range_violations=violations,
    )


def parallels_per_100_beats(
    steps_list: Iterable[Sequence[Sequence[int]]], steps_per_beat: int = STEPS_PER_BEAT
) -> float:
    """Parallel fifths and octaves per 100 beats, pooled over chorales given as steps.

    `steps_list` is what `corpus.jsb.load_jsb(split)` returns; the pooled rate is the total
    count over the total length, so long chorales weigh more, as in a count over the split.
    """
    total = sum((part_writing(s, steps_per_beat) for s in steps_list), PartWriting())
    return total.per_100_beats(total.parallels)


def _four_voice_tracks(score: Score) -> list | None:
    """The tracks of the four voices, S A T B: tracks so named, else the four pitched tracks in
    their order (highest voice first); None when the score is not in four parts."""
    by_name = {t.name.strip().lower(): t for t in score.tracks}
    if all(v in by_name for v in VOICE_NAMES):
        return [by_name[v] for v in VOICE_NAMES]
    pitched = [t for t in score.tracks if not t.is_drum and t.notes]
    return pitched if len(pitched) == 4 else None


def is_four_part(score: Score) -> bool:
    """Whether the score is a four-part piece: S, A, T, B tracks, or exactly four pitched ones."""
    return _four_voice_tracks(score) is not None


def satb_steps(score: Score, steps_per_beat: int = STEPS_PER_BEAT) -> list[tuple[int, ...]]:
    """The score's four voices as JSB-style steps (S, A, T, B; -1 silent), 16ths by default.

    Raises UserError when the score is not in four parts.
    """
    from bandmate.tokens.chorale import VOICES, ChoraleTokenizer

    tracks = _four_voice_tracks(score)
    if tracks is None:
        raise UserError(
            f"{score.title or 'The piece'} is not in four parts; give it four pitched tracks "
            "(soprano first) or name them Soprano, Alto, Tenor and Bass."
        )
    # named by voice, so that the chorale tokenizer takes them in this order
    named = tuple(replace(t, name=v) for v, t in zip(VOICES, tracks, strict=True))
    return ChoraleTokenizer().score_to_steps(score.replace(tracks=named), steps_per_beat)


def score_part_writing(score: Score) -> PartWriting:
    """`part_writing` of a four-part Score, put on the 16th-note grid first (`satb_steps`)."""
    return part_writing(satb_steps(score))


# ==========================================================================================
# Reports
# ==========================================================================================
def _mean(values: Iterable[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return float(np.mean(known)) if known else None


def melody_report(scores: Sequence[Score], *, label_missing_chords: bool = False) -> dict:
    """Per-set means of the melody metrics (pieces where a metric is undefined are left out).

    `label_missing_chords` gives pieces without chords the chords `theory.harmony.with_chords`
    labels, as the melody model's training data gets them: use it for a reference corpus, whose
    rate the generated melodies are held to, never for the generated pieces themselves.
    """
    if label_missing_chords:
        scores = [with_chords(s) for s in scores]
    return {
        "pieces": len(scores),
        "pieces_with_chords": sum(bool(s.chords) for s in scores),
        "chord_tone_ratio": _mean(chord_tone_ratio(s) for s in scores),
        "strong_beat_chord_tone_ratio": _mean(
            chord_tone_ratio(s, strong_beats_only=True) for s in scores
        ),
        "scale_consistency": _mean(scale_consistency(s) for s in scores),
        "groove_consistency": _mean(groove_consistency(s) for s in scores),
    }


def harmony_report(scores: Sequence[Score]) -> dict | None:
    """Pooled `PartWriting.as_dict()` of the four-part pieces among `scores`; None if none."""
    four = [s for s in scores if is_four_part(s)]
    if not four:
        return None
    total = sum((score_part_writing(s) for s in four), PartWriting())
    return {"pieces": len(four), **total.as_dict()}


def evaluate_scores(generated: Sequence[Score], reference: Sequence[Score]) -> dict:
    """The report of generated pieces against reference ones (see `evaluate_folder`)."""
    if not generated:
        raise EmptyScoreError("There are no generated pieces with notes to evaluate.")
    if len(reference) < 2:
        raise EmptyScoreError(
            f"The reference has {len(reference)} piece{'s' * (len(reference) != 1)} with notes; "
            "comparing sets needs at least two."
        )
    features = compare_feature_sets(
        [piece_features(s) for s in generated], [piece_features(s) for s in reference]
    )
    harmony = harmony_report(generated)
    return {
        "features": {name: asdict(c) for name, c in features.items()},
        "melody": {
            "generated": melody_report(generated),
            "reference": melody_report(reference, label_missing_chords=True),
        },
        "harmony": None
        if harmony is None
        else {"generated": harmony, "reference": harmony_report(reference)},
    }


def read_folder(
    folder: str | os.PathLike,
    *,
    max_items: int | None = None,
    progress: ProgressCallback = no_progress,
) -> tuple[list[Score], list[tuple[str, str]]]:
    """(scores, skipped) of every MIDI, MusicXML and ABC file under `folder`, recursively.

    Each tune of an ABC book is a score; files that cannot be read and pieces without pitched
    notes are skipped, as (file, reason). `max_items` keeps the first scores in file-name order.
    Raises InputFileError when the folder is missing or holds no music files.
    """
    from bandmate.corpus.sources import find_music_files, read_music_bytes

    root = Path(folder).expanduser()
    if not root.is_dir():
        what = "is not a folder" if root.exists() else "does not exist"
        raise InputFileError(
            f"{str(folder)!r} {what}; give a folder of MIDI, MusicXML or ABC files."
        )
    files = find_music_files(root)
    if not files:
        raise InputFileError(
            f"{str(folder)!r} holds no MIDI, MusicXML or ABC files (.mid, .musicxml, .xml, .mxl, "
            ".abc); give the folder that holds them."
        )
    scores, skipped = [], []
    for done, path in enumerate(files):
        name = path.relative_to(root).as_posix()
        try:
            found = read_music_bytes(path.read_bytes(), path, name)
        except (UserError, OSError) as e:
            skipped.append((name, str(e)))
            found = []
        for score in found:
            if melody_notes(score):
                scores.append(score)
            else:
                skipped.append((name, f"{name!r} has no pitched notes."))
        progress(done + 1, len(files))
        if max_items is not None and len(scores) >= max_items:
            return scores[:max_items], skipped
    return scores, skipped


def read_collection(
    name: str,
    *,
    split: str = "test",
    max_items: int = DEFAULT_MAX_ITEMS,
    progress: ProgressCallback = no_progress,
) -> tuple[list[Score], list[tuple[str, str]]]:
    """(scores, skipped) of up to `max_items` pieces of a ledger collection's held-out `split`.

    Items come in the ledger's fixed order, so the same collection gives the same pieces every
    time. Raises CorpusError (a UserError) for an unknown collection, UserError for a split
    that is not held out.
    """
    from bandmate.corpus.ledger import Ledger

    if split not in HELD_OUT_SPLITS:
        raise UserError(
            f"Evaluate against a held-out split ({', '.join(HELD_OUT_SPLITS)}), not {split!r}."
        )
    ledger = Ledger()
    entries = ledger.items([name], split=split, limit=max_items)
    scores, skipped = [], []
    for done, entry in enumerate(entries):
        try:
            found = ledger.read_item(entry)
        except UserError as e:
            skipped.append((entry.reference, str(e)))
            found = []
        scores.extend(s for s in found if melody_notes(s))
        progress(done + 1, len(entries))
        if len(scores) >= max_items:
            break
    return scores[:max_items], skipped


def evaluate_folder(
    generated_dir: str | os.PathLike,
    against: str | os.PathLike,
    *,
    split: str = "test",
    max_items: int = DEFAULT_MAX_ITEMS,
    progress: ProgressCallback = no_progress,
) -> dict:
    """The objective quality report of the music under `generated_dir` against a reference.

    against: a folder of MIDI, MusicXML or ABC files when a folder of that name exists or the
        text is a path (holds a slash), else the name of a corpus-ledger collection, of which the
        held-out `split` is read.
    max_items: at most this many reference pieces (the first, in a fixed order); every
        generated piece is read.

    Returns a JSON-ready dict: `generated` and `reference` (source, pieces, skipped files),
    `features` (per feature: overlap_area, kl_divergence), `melody` (chord-tone ratios, scale and
    groove consistency of each set; the reference's chords are labelled where it has none), and
    `harmony` (part-writing counts and rates of the four-part pieces of each set; None when no
    generated piece is in four parts).
    """
    if max_items < 2:
        raise UserError(f"Compare against at least 2 reference pieces, not {max_items}.")
    generated, skipped = read_folder(generated_dir)
    if not generated:
        first = f" ({skipped[0][1]})" if skipped else ""
        raise InputFileError(
            f"None of the music files under {str(generated_dir)!r} could be read{first}."
        )
    if _names_a_folder(against):
        reference, ref_skipped = read_folder(against, max_items=max_items, progress=progress)
        source = f"folder {against}"
    else:
        reference, ref_skipped = read_collection(
            str(against), split=split, max_items=max_items, progress=progress
        )
        source = f"collection {against}, {split} split"
    report = evaluate_scores(generated, reference)
    return {
        "generated": {
            "source": f"folder {generated_dir}",
            "pieces": len(generated),
            "skipped": [{"file": f, "reason": r} for f, r in skipped],
        },
        "reference": {
            "source": source,
            "pieces": len(reference),
            "skipped": [{"file": f, "reason": r} for f, r in ref_skipped],
        },
        **report,
    }


def _names_a_folder(against: str | os.PathLike) -> bool:
    """Whether `against` means a folder: a path object, text with a slash, or an existing folder.

    Collection names never hold a slash, so `refs/` with a typo is reported as a missing folder,
    not as an unknown collection.
    """
    text = os.fspath(against)
    slashes = {"/", os.sep} | ({os.altsep} if os.altsep else set())
    return not isinstance(against, str) or any(c in text for c in slashes) or Path(text).is_dir()
