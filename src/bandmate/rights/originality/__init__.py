"""The originality index: does a piece copy something bandmate's models learnt from?

`check_score(score)` compares a piece with every item the shipped models were trained on (the
ledger's train split of the collections in their cards: Essen, O'Neill's, Ryan's and music21's
Bach chorales for the melody model, the JSB chorales for the chorale model, bandmate's styles
for the drum model) and returns an `OriginalityResult`: a verdict, a similarity score with the
threshold used, and the strongest match with the ledger item it comes from (collection,
reference, licence). `first_original(generate, tries)` is the generation policy: regenerate a
flagged piece up to `tries` times, else return the least similar attempt with its result, for
its manifest (`OriginalityResult.to_dict()`, JSON-ready, kept stable). `bandmate check FILE`
prints the same. The package: `features` (what is read from a score, tokens and n-gram hashes),
`index` (the arrays, search tables and stock material), `matching` (runs, weights, the verdict);
this module builds the index and holds the generation policy.

**Representation.** A melody is a monophonic line: per pitched track, the highest note at each
onset on the melody tokenizer's grid (12 steps to the quarter note), as the melody model reads a
tune. Each gap between two notes is (interval in semitones, rhythm ratio class), the ratio class
being round(12 * log2(ioi / previous ioi)) of the inter-onset intervals (so rests count). Both
are the same in every key and under any uniform change of note values (a tune written in halved
values is the same tune). A passage of n notes is n - 1 gaps; its rhythm is the ratios of its
gaps 2..n-1 (the first gap's ratio looks outside the passage). Chord progressions are the chord
changes as (root step from the chord before mod 12, both chords' quality classes); drum
patterns are one code per bar for the set of (16th step, drum voice) hits. The index keeps the
lines (all four voices of the JSB chorales; the melody of every other item), chords and drum
bars of 10,938 items, 768,888 notes, in 1.4 MB (`bandmate/data/originality/index.npz` and the
card `index.json`: the items' ledger digest, collections, licences, counts, settings, the build
command). The search tables are made from the arrays when first needed (about 0.6 s).

**Matching.** Every 6-note (5-interval) n-gram of the query's intervals is looked up in a
sorted hash table of the corpus's; those held by at most 10% of the items are anchors
(`ANCHOR_MAX_DF_SHARE`), and the anchors of one corpus line on one diagonal (corpus position
minus query position) join into a run, extended both ways while the intervals stay equal. So a
match tolerates any rhythm change that keeps the notes: rhythm is weighed, not required.
Inserted or deleted notes and octave displacements end a run.

**Weighting** (TF-IDF-like, after Mullensiefen & Pendzich 2009: a shared pattern counts by how
rare it is in the corpus). A run weighs the information of its passage in bits under an
n-gram model of the corpus: each note adds -log2 P(its interval | the run's two intervals
before it), P from how often the n-grams occur (interpolated with the shorter contexts, see
`_MelodyTables.bits`); where the rhythm ratio matches too, it adds what the rhythm says beyond
the interval (the same model over (interval, ratio) pairs). A long copy weighs much more than a
short one; common material weighs little: once a scale run has started its next note is
expected. Stock scales and arpeggios and a repeated note (`STOCK_SCALES`, from every degree,
one and two octaves, turning at both ends) count as held by every item for the 6-note seeds,
so whatever the corpus says they never anchor a match: a scale or an arpeggio on its own
matches nothing. Within a match every note weighs what the corpus says of it (zero weight for
any 4 notes along some stock line, as before, also emptied the many folk passages that string
fragments of different scales together: see below). Stock progressions (`STOCK_PROGRESSIONS`:
I-V-vi-IV, ii-V-I, the 12-bar blues...) count alike in the chord channel, whose runs weigh
the IDF of their 4-chord n-grams.

**Verdict.** Driven by the melody channel; chord and drum matches are reported and never flag a
piece (progressions and grooves are common property, and the styles are bandmate's own). A
match counts when chance would rarely give one as heavy. A piece of q gaps (notes minus one,
over the lines checked) can meet a corpus of c gaps in q x c ways; the heaviest chance match
of w bits or more turns up with probability 1 - exp(-E), E = K q c 2**(-λ w) (the form of
BLAST's E-values, Karlin & Altschul 1990), with λ = `NULL_SLOPE` (0.42) and log2 K =
`NULL_LOG2_K` (-12.5) fitted on chance matches (below). `threshold_bits` is the weight at which
that probability falls to `FALSE_FLAG_RATE` (5%, the issue's target for false flags): about 34
bits for 8 notes, 36 for 16, 43 for 100, 47 for 300 against the shipped index, so a short
query needs less and a long piece more. A piece is flagged when its score (the heaviest run)
reaches it; the reason says how, for the first that fits:
1. "passage": 8 or more consecutive notes share intervals and rhythm with one item
   (`HARD_RULE_NOTES`, the issue's policy) and that stretch alone reaches the threshold (else
   it is common material);
2. "varied passage": 8 or more notes share their intervals, the rhythm changed;
3. "similarity": a shorter run of rare notes;
4. "copy": a line is, all of it, a passage of one item: 8 notes or more (`HARD_RULE_NOTES`)
   with the same intervals, and at least half their note lengths the source's once the line
   is scaled to its tempo (`COPY_RHYTHM_SHARE`), however light the passage. A piece that is
   nothing but a training passage is a copy; chance has no room to explain it away, because
   the piece holds nothing else. The price: 8-16 notes of folk melody often occur in a corpus
   of 770,000 notes, so a short piece is flagged by this rule by chance now and then:
   `bench/originality.py` measures it on excerpts as long as its plants: it flags 4% of
   excerpts of generated melodies, 8% of held-out folk tunes' and 9% of Palestrina's (whose
   stepwise lines meet Bach's inner voices); the generation policy regenerates such pieces.
   Whole tunes are not touched (a whole tune wholly one item's is that tune). The passage must
   hold a rare seed, as every match must: a line made of nothing but common material is no
   copy (of 100 plants drawn with `--seed 2`, two were: a chorale voice's scalewise turns and
   a scale run that 153 items hold; the 250 plants of seeds 1-3 are otherwise all flagged).
Whatever the verdict, the strongest match (notes, bars, source item, licence) is reported, so
every shared passage of 8 notes is on record in the manifest even where it is not flagged.

**Why a fitted null model.** The issue's rule as written (any 8 shared notes) flags
everything: a folk tune shares a passage of 13 notes (median) with some tune of its
collection, tune families and variants being what these collections hold, and 8 notes of folk
melody weigh 10-15 bits, which a corpus of 770,000 notes meets by chance thousands of times
(first version, 8 bits for rule 1 and 20 for rule 3: every generated melody, unseen human tune
and tune of the valid split flagged). A fixed cut (35 bits until now) treats a 10-note query
and a 300-note piece alike, though the second has 30 times the chances. Were the n-gram model
exact, λ would be 1 and K about 1; it is not (two gaps of context miss folk melody's longer
regularities, so a chance match weighs more bits than its real rarity), so λ and K are
measured: training tunes of one collection, and 8-16-note excerpts of them drawn as the
bench's plants are, checked against an index of the collections they share few tunes with
(Essen against the rest; O'Neill's and Ryan's against Essen and Bach), where every match is
chance; λ and K by maximum likelihood on their scores (those under 20 bits censored), from
about 6,000 checks drawn with seed 7 (`bench/originality.py --seed 7` prints the fit; seed 1
gives the same). The fit holds across lengths: on the seed-1 draw the rule flags 4.7% of the
whole tunes and 4.7% of the excerpts at 5%, 1.3% and 0.7% at 1%, 22% and 19% at 20%. A plain
significance (log2(q x c) + S bits, λ = 1) cannot: at S = 15 it flags 4.7% of the tunes but
1.3% of the excerpts, too strict for short queries.

`bench/originality.py` reproduces the calibration and the fit, and sweeps the policies. With
`--seed 1` (200 generated melodies, 50 plants, 452 held-out human pieces; "not the same tune"
leaves out the held-out pieces that are the tune of their source in another book):

| weights, policy | plants alone | spliced | generated | held-out | not the same tune |
|---|---|---|---|---|---|
| stock windows free, fixed 35 bits (before) | 60% | 68% | 5.5% | 27.2% | 23.9% |
| stock windows free, null model at 5% | 62% | 52% | 0% | 11.5% | 7.4% |
| corpus, fixed 40 bits | 58% | 64% | 0% | 15.0% | 11.2% |
| corpus, log2(q x c) + 15 bits | 62% | 60% | 0% | 12.6% | 8.6% |
| corpus, null model at 5% (shipped) | 72% | 58% | 0% | 11.5% | 7.5% |
| corpus, null model at 2% | 60% | 50% | 0% | 9.5% | 5.4% |
| corpus, null model at 50% | 96% | 78% | 18% | 58.2% | 56.2% |

The weights alone reach neither of the issue's targets, and no cut reaches both (every plant
caught, <= 5% of unseen human tunes flagged). The plants they miss weigh 24-33 bits: under the
null model a chance match as heavy turns up for 7-54% of queries of their length, so they
cannot be told from chance by weight however the cut is set, and flagging half of all queries
by chance still misses one plant in 25. The copy rule (4 above) is what catches them: a plant
checked on its own is nothing but the training passage, so every plant is flagged, under
every policy in the table (the "plants alone" column then reads 100%). It changes nothing for
whole tunes and nothing for a passage inside a longer piece: spliced plants are still caught by
weight alone (58% at the shipped 5%). Of the 52 held-out pieces flagged, 20 are the same tune
as their source in another book (Aird's Airs and miscFolk share tunes with O'Neill's, Ryan's
and Essen: "The White Cockade", "Dainty Davie"; same title, or more than half the piece
matched), true matches that the bench counts apart (false flags over the rest: 32/432, 7.4%).
13 of those 32 are settings of the same tune under another title ("Rural Felicity" is "Haste to
the Wedding"; "My Peggy is a Young Thing" is sung to "The Waulking of the Fauld", 106 of its 116
intervals aligned): two thirds or more of the shorter line align with the source's, interval
for interval, allowing notes added, dropped or changed, as no unflagged piece's strongest match
does but one. Set apart too, the false flags are 19/414 (4.6%; Palestrina 1/150). The bench
prints every piece so set apart with its evidence, and the titled settings the check lets
through ("Soldiers Joy", "Green Sleeves": 11-13 shared notes, under the threshold).

**Tried and not kept.** Stock windows free: any 4 notes along some stock line weighed nothing
(the policy before). Folk tunes string fragments of different scales together, so this took
the weight out of many real passages: at the calibrated 5% it caught 62% of the plants alone
against 72% with corpus weights, with as many held-out flags; freeing only 5- or 6-note stock
windows caught 70% and 68%. Leave-one-out weights: weighing a run under the corpus without the
item it is in (the n-gram counts less that item's own) makes a passage that only one item holds
rare, as a copy is; but a chance match is also held by one item, and it gained more than the
plants did: at equal held-out flags (about 12%, fixed cuts) it caught 46% of plants against
50% with two gaps of context and 40% with four, and it made a check about 6 times slower
(per-item counts for every gap of every run). Metric position was not used: a copy may start
anywhere in the bar, as the plants do.

Rebuild the index after the models' training data change: `python -m bandmate.rights.originality
build` reads the items through the ledger (about 5 minutes the first time, music21 parsing every
tune; what is read is cached in bandmate's cache folder, so a rebuild then takes seconds) and
writes the package's `data/originality/`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace

from bandmate.rights.originality.features import (
    CHORALE_COLLECTIONS,
    DRUM_COLLECTIONS,
    MELODY_COLLECTIONS,
    RATIO_STEPS,
    STEPS_PER_BEAT,
    Line,
    _cached_features,
    _features_of,
    score_lines,
)
from bandmate.rights.originality.index import (
    ANCHOR_MAX_DF_SHARE,
    CHORD_GRAM,
    CONTEXT_GAPS,
    SEED_GAPS,
    OriginalityIndex,
    SourceRef,
    index_folder,
    shipped_index,
)
from bandmate.rights.originality.matching import (
    COPY_RHYTHM_SHARE,
    FALSE_FLAG_RATE,
    HARD_RULE_NOTES,
    NULL_LOG2_K,
    NULL_SLOPE,
    Match,
    OriginalityResult,
    check_score,
    result_rows,
    threshold_bits,
)
from bandmate.score.model import Score

__all__ = [
    "BUILD_COMMAND",
    "COPY_RHYTHM_SHARE",
    "FALSE_FLAG_RATE",
    "HARD_RULE_NOTES",
    "NULL_LOG2_K",
    "NULL_SLOPE",
    "STEPS_PER_BEAT",
    "Line",
    "Match",
    "OriginalityIndex",
    "OriginalityResult",
    "SourceRef",
    "build_index",
    "check_against",
    "check_score",
    "first_original",
    "index_folder",
    "index_of",
    "indexes_for",
    "result_rows",
    "score_lines",
    "shipped_index",
    "threshold_bits",
]

# --- the shipped index, building it, and the generation policy ----------------------------------
BUILD_COMMAND = "python -m bandmate.rights.originality build"


def build_index(ledger=None, *, progress=None) -> OriginalityIndex:
    """The index of every train item of the collections the shipped models learnt from.

    Reading them takes about four minutes the first time (music21 parses each tune); what is
    read is cached in bandmate's cache folder, so a rebuild with other settings takes seconds.
    """
    from datetime import UTC, datetime

    from bandmate.corpus.ledger import Ledger, describe
    from bandmate.progress import no_progress

    ledger = ledger or Ledger()
    names = MELODY_COLLECTIONS + CHORALE_COLLECTIONS + DRUM_COLLECTIONS
    entries = ledger.items(names, split="train")
    features = _cached_features(ledger, entries, progress or no_progress)
    collections = {}
    for name in names:
        row = ledger.collection(name)
        collections[name] = {
            "source": row.source,
            "licence": row.licence,
            "licence_class": row.licence_class,
            "commercial": row.commercial,
        }
    data = describe(entries)
    card = {
        "name": "bandmate-originality",
        "built": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": BUILD_COMMAND,
        "sha256": data["sha256"],
        "split": "train",
        "models": {
            "melody": list(MELODY_COLLECTIONS),
            "chorale": list(CHORALE_COLLECTIONS),
            "drums": list(DRUM_COLLECTIONS),
        },
        "ledger": data,
        "settings": {
            "steps_per_beat": STEPS_PER_BEAT,
            "ratio_steps": RATIO_STEPS,
            "seed_gaps": SEED_GAPS,
            "hard_rule_notes": HARD_RULE_NOTES,
            "false_flag_rate": FALSE_FLAG_RATE,
            "null_slope": NULL_SLOPE,
            "null_log2_k": NULL_LOG2_K,
            "context_gaps": CONTEXT_GAPS,
            "anchor_max_df_share": ANCHOR_MAX_DF_SHARE,
            "chord_gram": CHORD_GRAM,
        },
    }
    index = OriginalityIndex.from_features(features, collections, card)
    a = index.arrays
    index.card.update(
        items=len(index.items),
        lines=len(a["line_item"]),
        notes=len(a["pitches"]),
        chords=len(a["chord_rows"]),
        drum_bars=len(a["drum_codes"]),
    )
    return index


def index_of(pairs: Iterable[tuple[object, Score]], collections: dict | None = None, card=None):
    """An index of (ledger entry, Score) pairs, read as `build_index` reads the ledger's items.

    An entry needs `collection`, `reference` and `sha256` (a `LedgerEntry` has them); its
    collection decides what is kept (four voices for "jsb", drum bars for "bandmate-styles", else
    the melody and its chords). `collections` maps a collection to its licence row
    ({"licence", "licence_class", "commercial", "source"}). For tests and small experiments.
    """
    features = [_features_of(entry, score) for entry, score in pairs]
    return OriginalityIndex.from_features(features, dict(collections or {}), card)


def indexes_for(collections: Sequence[str | Mapping], ledger=None) -> list[OriginalityIndex]:
    """The indexes that hold what a model learnt from, given the collections its card names: the
    shipped index, and for the collections it does not hold (a user's own folder, added with
    `bandmate corpus add`) an index of their train items, read from the corpus ledger now (the
    reading is cached as `build_index`'s is, so the next use takes a moment).

    `collections`: names, or the rows of `model_use(model)["collections"]` ({"name",
    "licence", ...}), whose licences go into the command a refusal suggests.

    Without the second, a model trained on a user's own tunes was checked only against the
    built-in collections, and a copy of the user's training data left unflagged.

    **A folder that is not there.** The items are read from the user's folder, so a folder
    moved, renamed or on a drive not connected cannot be read: that is refused (`UserError`,
    naming the collection and its folder), never passed as "nothing to check against" (which
    called a verbatim copy of a training tune original). Reading here never marks an item
    unreadable in the ledger (`Ledger.read_entries` would: a check is no reason to change the
    record) and a reading that missed items is never cached. Features cached from an earlier,
    complete reading are used without the files, since they are what those bytes held.

    **Some files gone or changed.** Refused too, saying how many and which: a check against the
    rest would say "original" of a copy of exactly the tunes that are missing, and a warning
    beside such a verdict is lost in a manifest. The user puts the files back, or trains the
    model again (training passes over items it cannot read and marks them so, and this check
    then leaves them out too). Items the ledger already marks unreadable are read if their bytes
    are there again (the check is then the stricter), else passed over, as training passes over
    them; a file whose bytes are intact but cannot be parsed as music is left out as training
    leaves it out.
    """
    from bandmate.corpus.ledger import Ledger, describe, not_recorded
    from bandmate.errors import UserError
    from bandmate.progress import no_progress

    licence_of = {c.get("name"): c.get("licence") for c in collections if isinstance(c, Mapping)}
    names = [c.get("name") if isinstance(c, Mapping) else c for c in collections]
    shipped = shipped_index()
    extra = sorted({c for c in names if c and c not in shipped.collections})
    if not extra:
        return [shipped]
    ledger = ledger or Ledger()
    # a ledger that cannot be read says so in its own sentence (CorpusError); wrapped in this
    # one, a damaged ledger was called one that "no longer holds" the collection, two sentences
    known = set(ledger.collection_names())
    missing = [name for name in extra if name not in known]
    if missing:  # a folder added under another BANDMATE_HOME, or a ledger moved aside
        consequence = "nothing can be checked against {its} training data"
        raise UserError(not_recorded(missing, licence_of, ledger.path, consequence))
    rows = {name: ledger.collection(name) for name in extra}
    entries = ledger.items(extra, split="train", include_unreadable=True)

    def read(ledger, entries, progress):
        return _read_user_features(ledger, entries, extra, progress)

    features = _cached_features(ledger, entries, no_progress, read)
    licences = {
        name: {
            "source": row.source,
            "licence": row.licence,
            "licence_class": row.licence_class,
            "commercial": row.commercial,
        }
        for name, row in rows.items()
    }
    data = describe(entries)
    card = {"name": "your-collections", "split": "train", "items": len(entries), "ledger": data}
    card["sha256"] = data["sha256"]
    return [shipped, OriginalityIndex.from_features(features, licences, card)]


def _read_user_features(ledger, entries, names: Sequence[str], progress):
    """The features of `entries` (train items of the user collections `names`), read without
    changing the ledger; raises UserError when a folder or an item's file is not there as it
    was recorded (see `indexes_for`)."""
    from pathlib import Path

    from bandmate.corpus.sources import sha256_bytes
    from bandmate.errors import InputFileError, UserError

    folders = {name: ledger.folder(name) for name in names}
    gone = [name for name in names if folders[name] is not None and not folders[name].is_dir()]
    if gone:
        several = len(gone) > 1
        listed = " and ".join(repr(name) for name in gone)
        where = " and ".join(repr(str(folders[name])) for name in gone)
        raise UserError(
            f"The model learnt from the collection{'s' if several else ''} {listed}, whose "
            f"folder{'s' if several else ''} {where} {'are' if several else 'is'} not there "
            "(moved, renamed or on a drive not connected), so nothing can be checked against "
            f"{'their' if several else 'its'} training data; reconnect the "
            f"folder{'s' if several else ''} or put "
            f"{'them' if several else 'it'} back where {'they were' if several else 'it was'} "
            "and run again."
        )

    def intact(entry) -> bool:
        folder = folders.get(entry.collection)
        if folder is None:
            return True  # a built-in item: its reading error is its own, as in training
        try:
            return sha256_bytes((Path(folder) / entry.reference).read_bytes()) == entry.sha256
        except OSError:
            return False

    out, lost = [], {}
    for done, entry in enumerate(entries, start=1):
        try:
            scores = ledger.read_item(entry)
        except InputFileError:
            scores = []
            if entry.ok and not intact(entry):
                lost.setdefault(entry.collection, []).append(entry.reference)
        for score in scores:
            try:
                out.append(_features_of(entry, score))
            except (ValueError, UserError):
                continue  # a part that cannot be read as notes: left out, as training does
        progress(done, len(entries))
    if lost:
        parts = []
        for name, references in sorted(lost.items()):
            total = sum(e.collection == name and e.ok for e in entries)
            shown = ", ".join(repr(r) for r in references[:3])
            more = f" and {len(references) - 3} more" if len(references) > 3 else ""
            parts.append(
                f"{len(references)} of the {total} training items of collection {name!r} "
                f"{'is' if len(references) == 1 else 'are'} gone from its folder "
                f"{str(folders[name])!r} or changed since recorded ({shown}{more})"
            )
        raise UserError(
            f"{' and '.join(parts)}, so what the model learnt from cannot all be checked "
            "against; put those files back as they were and run again, or train the model "
            "again (training passes over them)."
        )
    return out


def check_against(
    piece: Score, indexes: Sequence[OriginalityIndex] | OriginalityIndex | None
) -> OriginalityResult:
    """`check_score` against each of `indexes` (None: the shipped index): the result that flags
    the piece with the highest score, else the one with the highest score, its `index` naming
    every index searched ("searched")."""
    if indexes is None or isinstance(indexes, OriginalityIndex):
        return check_score(piece, indexes)
    results = [check_score(piece, index) for index in indexes]
    worst = max(results, key=lambda r: (r.flagged, r.score))
    if len(results) == 1:
        return worst
    return replace(worst, index={**worst.index, "searched": [r.index for r in results]})


def first_original(
    generate: Callable[[int], Score],
    tries: int = 5,
    *,
    index: Sequence[OriginalityIndex] | OriginalityIndex | None = None,
    part: Callable[[Score], Score] | None = None,
) -> tuple[Score, OriginalityResult, int]:
    """The generation policy: call `generate(attempt)` (attempt 0, 1, ...) until a piece is not
    flagged, at most `tries` times. `part(piece)`, when given, is what is checked: the notes a
    model wrote, without the user's own input that surrounds them. `index` may be several
    (`indexes_for`: a model's training data across the shipped index and a user's collections).

    Returns (piece, its result, attempts made). When every attempt is flagged, the flagged
    piece with the lowest score is returned with its result, for the caller to write with the
    flag and the match in its manifest.
    """
    if tries < 1:
        raise ValueError(f"tries must be >= 1, got {tries}")
    kept: tuple[Score, OriginalityResult] | None = None
    for attempt in range(tries):
        piece = generate(attempt)
        result = check_against(part(piece) if part else piece, index)
        if not result.flagged:
            return piece, result, attempt + 1
        if kept is None or result.score < kept[1].score:
            kept = (piece, result)
    assert kept is not None
    return kept[0], kept[1], tries


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m bandmate.rights.originality build [--out FOLDER]`: rebuild the index."""
    import argparse
    import sys
    import time

    parser = argparse.ArgumentParser(prog="python -m bandmate.rights.originality")
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build", help="rebuild the originality index from the ledger")
    build.add_argument("--out", default=None, help="folder to write (default: the package's)")
    args = parser.parse_args(argv)
    start = time.monotonic()

    def progress(done: int, total: int) -> None:
        if done % 500 == 0 or done == total:
            print(f"  read {done}/{total} items", file=sys.stderr, flush=True)

    index = build_index(progress=progress)
    npz, card = index.save(args.out or index_folder())
    size = npz.stat().st_size + card.stat().st_size
    print(
        f"{index!r}: {npz} and {card.name}, {size / 1e6:.2f} MB, {time.monotonic() - start:.0f} s"
    )
    return 0
