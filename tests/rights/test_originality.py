"""The originality index: copies are found and traced to their item, common material is not.

Most tests search a synthetic index of random-walk tunes built here (300 items, so that a
unique passage carries enough bits to count); a few search the shipped index.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pytest

from bandmate.errors import EmptyScoreError
from bandmate.rights import originality as orig
from bandmate.score import ChordEvent, Note, Role, Score, Track
from bandmate.theory.chords import parse_chord

STEP_TICKS = 40  # 480 ticks per beat / 12 steps
NEW_STEPS = (-7, -6, 4, 6, 7, -5, 8)  # none of the index's tunes moves like this
LICENCES = {"folk": {"licence": "test tunes", "licence_class": "public-domain", "commercial": True}}


@dataclass(frozen=True)
class Entry:
    collection: str
    reference: str
    sha256: str


def melody(pitches, iois_steps, chords=()) -> Score:
    """A one-track melody from pitches and inter-onset intervals in 12ths of a beat."""
    onsets = np.concatenate([[0], np.cumsum(iois_steps)[:-1]]) * STEP_TICKS
    notes = tuple(
        Note(int(o), int(d) * STEP_TICKS, int(p))
        for o, d, p in zip(onsets, iois_steps, pitches, strict=True)
    )
    events = tuple(ChordEvent(i * 1920, parse_chord(c)) for i, c in enumerate(chords))
    return Score(tracks=(Track("Melody", role=Role.MELODY, notes=notes),), chords=events)


def random_tune(rng, n: int = 48, steps=(-4, -3, -2, -1, 1, 2, 3, 5)):
    """(pitches, iois) of a random walk; tunes from other `steps` share no passage with it."""
    steps = rng.choice(steps, size=n - 1)
    pitches = 40 + (20 + np.concatenate([[0], np.cumsum(steps)])) % 50  # folded into 40-89
    iois = rng.choice([3, 6, 6, 9, 12, 12, 18, 24], size=n)
    return pitches, iois


@pytest.fixture(scope="module")
def tunes():
    rng = np.random.default_rng(7)
    return [random_tune(rng) for _ in range(300)]


@pytest.fixture(scope="module")
def index(tunes):
    scale = np.arange(60, 73)[[0, 2, 4, 5, 7, 9, 11, 12]]
    pairs = []
    for i, (p, d) in enumerate(tunes):
        if i < 20:  # a scale run in some tunes: common material, never a copy
            p = np.concatenate([p[:10], scale + (p[9] - 60), p[10:]])
            d = np.concatenate([d[:10], np.full(8, 6), d[10:]])
        entry = Entry("folk", f"tune{i}", f"{i:012x}" + "f" * 52)
        pairs.append((entry, melody(p, d, ["Dm", "E7", "Bb", "F#m"] if i == 5 else ())))
    return orig.index_of(pairs, LICENCES, {"name": "test"})


def test_a_transposed_excerpt_is_flagged_with_its_source(index, tunes):
    pitches, iois = tunes[42]
    result = orig.check_score(melody(pitches[20:30] + 5, iois[20:30]), index)
    assert result.flagged and result.reason == "passage"
    match = result.longest_match
    assert match.source.reference == "tune42" and match.source.collection == "folk"
    assert match.source.licence_class == "public-domain"
    assert match.notes >= 10 and match.exact_notes >= 10
    assert result.score >= result.threshold > 0


def test_a_copy_beside_an_empty_melody_track_is_flagged(index, tunes):
    # the empty "Melody" track was taken as the tune and, being a melody track, shut the
    # others out of the comparison: the copy on the piano went unchecked
    pitches, iois = tunes[42]
    copy = melody(pitches[20:30] + 5, iois[20:30]).tracks[0]
    score = Score(tracks=(Track("Melody", role=Role.MELODY), Track("Piano", notes=copy.notes)))
    result = orig.check_score(score, index)
    assert result.flagged and result.longest_match.source.reference == "tune42"


def test_an_excerpt_with_a_rhythm_change_is_still_flagged(index, tunes):
    pitches, iois = tunes[100]
    iois = iois[10:22].copy()
    iois[3], iois[4] = iois[3] + iois[4], iois[3] + iois[4]  # a pair of notes made longer
    result = orig.check_score(melody(pitches[10:22] - 3, iois), index)
    assert result.flagged
    assert result.longest_match.source.reference == "tune100"
    assert result.longest_match.exact_notes < result.longest_match.notes


def test_an_excerpt_inside_a_new_tune_is_found_where_it_is(index, tunes):
    rng = np.random.default_rng(99)
    new_p, new_d = random_tune(rng, 40)
    p, d = tunes[7]
    pitches = np.concatenate([new_p[:16], p[30:42] - p[30] + new_p[15] + 2, new_p[16:]])
    iois = np.concatenate([new_d[:16], d[30:42], new_d[16:]])
    result = orig.check_score(melody(pitches, iois), index)
    assert result.flagged and result.longest_match.source.reference == "tune7"
    first_bar = 1 + int(new_d[:16].sum()) // 48
    assert result.longest_match.bars[0] == first_bar


def test_a_new_tune_is_original(index):
    pitches, iois = random_tune(np.random.default_rng(12345), steps=NEW_STEPS)
    result = orig.check_score(melody(pitches, iois), index)
    assert not result.flagged and result.reason == ""
    assert result.score < result.threshold


def test_a_longer_piece_needs_a_heavier_match(index, tunes):
    pitches, iois = tunes[42]
    excerpt = orig.check_score(melody(pitches[:10], iois[:10]), index)
    whole = orig.check_score(melody(pitches, iois), index)
    # a chance match grows by 1 / NULL_SLOPE bits each time the ways to meet the corpus double
    more = np.log2(47 / 9) / orig.NULL_SLOPE
    assert whole.threshold - excerpt.threshold == pytest.approx(more, abs=0.02)
    assert excerpt.flagged and whole.flagged
    inside = melody(np.concatenate([pitches[:10], pitches[:4] + 1]), np.append(iois[:10], [6] * 4))
    forced = orig.check_score(inside, index, threshold=1e6)
    assert not forced.flagged and forced.score >= excerpt.score and forced.threshold == 1e6


def test_a_piece_that_is_only_a_training_passage_is_a_copy_however_light(index, tunes):
    pitches, iois = tunes[60]
    excerpt = iois[5:14].copy()
    excerpt[2], excerpt[3] = excerpt[3] + 1, excerpt[2] + 1  # a pair of notes changed
    result = orig.check_score(melody(pitches[5:14] + 2, excerpt * 2), index, threshold=1e6)
    assert result.flagged and result.reason == "copy"  # in doubled note values, too
    assert result.longest_match.source.reference == "tune60" and result.longest_match.notes == 9
    assert result.to_dict()["copy_rhythm_share"] == orig.COPY_RHYTHM_SHARE


def test_a_copy_needs_its_length_and_most_of_its_rhythm(index, tunes):
    pitches, iois = tunes[61]
    short = orig.check_score(melody(pitches[5:12], iois[5:12]), index, threshold=1e6)
    assert not short.flagged and short.longest_match is not None  # 7 notes: under the rule
    other = np.where(np.arange(10) % 2 == 0, 3, 24)  # the notes, in another rhythm
    moved = orig.check_score(melody(pitches[5:15], other), index, threshold=1e6)
    assert not moved.flagged and moved.longest_match.notes == 10


def test_a_scale_in_many_tunes_is_common_material(index):
    scale = [60, 62, 64, 65, 67, 69, 71, 72, 74, 76]
    result = orig.check_score(melody(scale, [6] * 10), index)
    assert not result.flagged
    assert result.score == 0.0


def test_a_progression_is_reported_but_never_flags(index):
    result = orig.check_score(melody([60, 64, 62], [12, 12, 12], ["Em", "F#7", "C", "G#m"]), index)
    assert not result.flagged
    assert result.chord_match is not None
    assert result.chord_match.source.reference == "tune5" and result.chord_match.notes == 4


def test_a_piece_without_notes_is_a_user_error(index):
    with pytest.raises(EmptyScoreError, match="no melody"):
        orig.check_score(Score(tracks=(Track("Melody", role=Role.MELODY),)), index)


def test_the_result_is_json_ready_and_says_what_matched(index, tunes):
    pitches, iois = tunes[3]
    data = orig.check_score(melody(pitches[:12], iois[:12]), index).to_dict()
    data = json.loads(json.dumps(data))
    assert data["verdict"] == "flagged" and data["flagged"] is True
    assert set(data) >= {"reason", "score", "threshold", "longest_match", "chord_match", "index"}
    assert data["longest_match"]["source"]["reference"] == "tune3"
    assert data["longest_match"]["source"]["item_id"] == "folk:" + "0" * 11 + "3"


def test_save_and_load_give_the_same_index(index, tmp_path):
    index.save(tmp_path)
    loaded = orig.OriginalityIndex.load(tmp_path)
    assert loaded.items == index.items and loaded.collections == index.collections
    for name, values in index.arrays.items():
        np.testing.assert_array_equal(loaded.arrays[name], values, err_msg=name)


def test_first_original_regenerates_a_flagged_piece(index, tunes):
    copy = melody(tunes[9][0][:12], tunes[9][1][:12])
    new = melody(*random_tune(np.random.default_rng(5), steps=NEW_STEPS))
    pieces = [copy, new]
    piece, result, attempts = orig.first_original(lambda i: pieces[i], 3, index=index)
    assert piece is new and not result.flagged and attempts == 2


def test_first_original_returns_the_least_similar_when_all_are_flagged(index, tunes):
    long_copy = melody(tunes[9][0][:30], tunes[9][1][:30])
    short_copy = melody(tunes[9][0][:10], tunes[9][1][:10])
    pieces = [long_copy, short_copy]
    piece, result, attempts = orig.first_original(lambda i: pieces[i], 2, index=index)
    assert piece is short_copy and result.flagged and attempts == 2


# --- the shipped index ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def shipped():
    return orig.shipped_index()


def test_the_shipped_index_knows_what_the_models_learnt_from(shipped):
    assert shipped.card["command"] == orig.BUILD_COMMAND
    names = {c["name"] for c in shipped.card["ledger"]["collections"]}
    assert names == {"essen", "oneills1850", "ryans-mammoth", "bach-chorales", "jsb",
                     "bandmate-styles"}  # fmt: skip
    assert all(row["licence_class"] for row in shipped.collections.values())


def test_a_planted_copy_of_a_training_tune_is_flagged(shipped):
    a = shipped.arrays
    line = next(
        k
        for k, item in enumerate(a["line_item"])
        if shipped.items[item][0] == "oneills1850" and k % 7 == 3
    )
    start = int(a["line_offsets"][line]) + 8
    pitches = a["pitches"][start : start + 12] - 4
    iois = np.diff(a["onset_steps"][start : start + 13])
    result = orig.check_score(melody(pitches, iois), shipped)
    assert result.flagged
    assert result.longest_match.source.collection in {"oneills1850", "ryans-mammoth"}
    assert result.longest_match.notes >= 12


def test_a_scale_over_a_stock_progression_is_original(shipped):
    scale = [60, 62, 64, 65, 67, 69, 71, 72, 71, 69, 67, 65, 64, 62, 60]
    result = orig.check_score(melody(scale, [12] * 15, ["C", "G", "Am", "F"] * 2), shipped)
    assert not result.flagged and result.score == 0.0
    assert result.chord_match is None


def test_chromatic_runs_and_arpeggios_are_original(shipped):
    # rare in folk tunes, so only the stock lines keep them from anchoring a match
    up = list(range(60, 85))
    chromatic = up + up[-2::-1]
    diminished = [60 + 3 * k for k in range(9)] + [60 + 3 * k for k in range(7, -1, -1)]
    for pitches in (chromatic, diminished):
        result = orig.check_score(melody(pitches, [6] * len(pitches)), shipped)
        assert not result.flagged and result.score == 0.0
