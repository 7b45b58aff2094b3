"""The objective quality report: what a musician would notice, measured."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bandmate.compose.evaluate import (
    FEATURES,
    SATB_RANGES,
    chord_tone_ratio,
    compare_distributions,
    compare_feature_sets,
    evaluate_folder,
    evaluate_scores,
    groove_consistency,
    is_strong_beat,
    parallels_per_100_beats,
    part_writing,
    piece_features,
    satb_steps,
    scale_consistency,
    score_part_writing,
)
from bandmate.corpus.jsb import load_jsb
from bandmate.errors import InputFileError
from bandmate.io.midi import write_midi
from bandmate.score import ChordEvent, Role, Track
from bandmate.theory.chords import NO_CHORD, parse_chord
from tests.builders import TPB, make_score, notes, piano

C_MAJOR_SCALE = (60, 62, 64, 65, 67, 69, 71, 72)
DIATONIC = (0, 2, 4, 5, 7, 9, 11)


def tune(*spec, chords=(), meter=(4, 4)):
    """A melody track from (onset_beats, duration_beats, pitch), with chords [(beat, "Am7")]."""
    track = Track("Tune", program=73, role=Role.MELODY, notes=notes(*spec))
    events = tuple(ChordEvent(round(beat * TPB), parse_chord(name)) for beat, name in chords)
    return make_score(track, meter=meter, chords=events)


def quarters(*pitches, start: float = 0):
    return [(start + i, 1, p) for i, p in enumerate(pitches)]


def satb(*chords, beats: float = 1, names=("Soprano", "Alto", "Tenor", "Bass")):
    """A four-part score: one (s, a, t, b) chord per `beats`, a track per voice."""
    tracks = [
        Track(
            name, program=52, notes=notes(*[(i * beats, beats, c[v]) for i, c in enumerate(chords)])
        )
        for v, name in enumerate(names)
    ]
    return make_score(*tracks)


def steps_of(*chords, steps_per_chord: int = 4):
    return [tuple(c) for c in chords for _ in range(steps_per_chord)]


# --- a melody against its chart ------------------------------------------------------------
def test_a_melody_of_chord_tones_has_a_chord_tone_ratio_of_one():
    score = tune(*quarters(60, 64, 67, 64, 65, 69, 72, 69), chords=[(0, "C"), (4, "F")])
    assert chord_tone_ratio(score) == 1.0
    assert chord_tone_ratio(score, strong_beats_only=True) == 1.0


def test_passing_tones_on_weak_beats_lower_only_the_overall_ratio():
    # C D E F | G: D and F pass on beats 2 and 4, chord tones on beats 1 and 3
    score = tune(*quarters(60, 62, 64, 65, 67), chords=[(0, "C")])
    assert chord_tone_ratio(score) == pytest.approx(3 / 5)
    assert chord_tone_ratio(score, strong_beats_only=True) == 1.0


def test_sevenths_are_chord_tones_and_no_chord_notes_are_left_out():
    score = tune(*quarters(67, 65, 71, 62, 61), chords=[(0, "G7"), (4, "N.C.")])
    assert chord_tone_ratio(score) == 1.0  # G F B D over G7; the C# under N.C. does not count
    assert chord_tone_ratio(tune(*quarters(60, 62))) is None  # no chart, nothing to measure
    assert NO_CHORD.is_no_chord


def test_strong_beats_follow_the_meter():
    four = make_score(meter=(4, 4))
    assert [is_strong_beat(four, b * TPB) for b in range(5)] == [True, False, True, False, True]
    three = make_score(meter=(3, 4))
    assert [is_strong_beat(three, b * TPB) for b in range(4)] == [True, False, False, True]
    six_eight = make_score(meter=(6, 8))  # two dotted quarters a bar
    eighths = [is_strong_beat(six_eight, e * TPB // 2) for e in range(6)]
    assert eighths == [True, False, False, True, False, False]
    assert is_strong_beat(four, 2 * TPB + 10, tolerance_ticks=TPB // 8)
    assert not is_strong_beat(four, 2 * TPB + 10)


def test_scale_consistency_of_a_scale_a_minor_tune_and_the_chromatic_scale():
    assert scale_consistency(tune(*quarters(*C_MAJOR_SCALE))) == 1.0
    harmonic_minor = (57, 59, 60, 62, 64, 65, 68, 69)  # A harmonic minor, G sharp and all
    assert scale_consistency(tune(*quarters(*harmonic_minor))) == 1.0
    assert scale_consistency(tune(*quarters(*range(60, 72)))) == pytest.approx(7 / 12)


def test_groove_consistency_is_one_for_a_repeated_rhythm_and_drops_when_it_changes():
    steady = [(bar * 4 + b, 0.5, 60) for bar in range(4) for b in (0, 1, 1.5, 3)]
    assert groove_consistency(tune(*steady)) == 1.0
    # a bar of quarters, then a bar of eighths: 4 of the 48 grid positions differ
    changing = tune(*quarters(60, 62, 64, 65), *[(4 + e / 2, 0.5, 67) for e in range(8)])
    assert groove_consistency(changing) == pytest.approx(1 - 4 / 48)
    assert groove_consistency(tune(*quarters(60, 62))) is None  # one bar: nothing to compare


# --- features and sets ---------------------------------------------------------------------
def test_features_of_a_c_major_scale():
    f = piece_features(tune(*quarters(*C_MAJOR_SCALE)))
    assert set(f) == set(FEATURES)
    assert f["pitch_class_histogram"].shape == (12,)
    assert f["pitch_class_histogram"][0] == pytest.approx(2 / 8)  # two Cs of eight notes
    assert f["pitch_class_transitions"].shape == (144,)
    assert f["pitch_range"][0] == 12 and f["note_count"][0] == 8 and f["pitch_count"][0] == 8
    intervals = f["interval_histogram"]  # -12..+12: index 12 + semitones
    assert intervals[12 + 2] == pytest.approx(5 / 7) and intervals[12 + 1] == pytest.approx(2 / 7)
    assert f["ioi_histogram"].argmax() == 5 and f["ioi_histogram"].max() == 1.0  # quarters
    assert f["note_length_histogram"][5] == 1.0


def test_a_chord_in_the_melody_is_one_step_of_its_line():
    f = piece_features(tune((0, 1, 60), (0, 1, 64), (0, 1, 67), (1, 1, 69)))
    assert f["interval_histogram"][12 + 2] == 1.0  # G (the top of the chord) to A


def random_tunes(rng, count: int, *, chromatic_clusters: bool = False):
    """Diatonic tunes of 16 notes in random rhythms, or bars of chromatic clusters."""
    scores = []
    for _ in range(count):
        if chromatic_clusters:
            low = int(rng.integers(48, 72))
            spec = [(b, 1, low + k) for b in range(8) for k in range(6)]
        else:
            degrees = np.cumsum(rng.integers(-2, 3, 16)) + 14
            lengths = rng.choice([0.5, 1, 1, 2], 16)
            onsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
            pitches = [48 + 12 * (d // 7) + DIATONIC[d % 7] for d in degrees]
            spec = list(zip(onsets, lengths, pitches, strict=True))
        scores.append(tune(*spec))
    return scores


def test_identical_sets_overlap_almost_wholly_and_clusters_do_not(rng):
    tunes = [piece_features(s) for s in random_tunes(rng, 20)]
    same = compare_feature_sets(tunes, tunes)
    assert all(c.overlap_area > 0.9 and c.kl_divergence < 0.1 for c in same.values()), same
    others = [piece_features(s) for s in random_tunes(rng, 20)]
    alike = compare_feature_sets(others, tunes)
    assert all(c.overlap_area > 0.85 for c in alike.values()), alike
    clusters = [piece_features(s) for s in random_tunes(rng, 20, chromatic_clusters=True)]
    unlike = compare_feature_sets(clusters, tunes)
    for name in FEATURES:
        assert unlike[name].overlap_area < alike[name].overlap_area - 0.15, name
        assert unlike[name].kl_divergence > alike[name].kl_divergence, name
    for name in ("pitch_class_transitions", "interval_histogram", "ioi_histogram"):
        assert unlike[name].overlap_area < 0.3, name


def test_constant_distances_compare_without_failing():
    same = compare_distributions(np.zeros(10), np.zeros(30))
    assert same.overlap_area == pytest.approx(1.0) and same.kl_divergence == pytest.approx(0.0)
    apart = compare_distributions(np.zeros(10), np.full(30, 5.0))
    assert apart.overlap_area < 0.01 and apart.kl_divergence > 1
    single = compare_distributions(np.array([1.0]), np.array([1.0, 1.2, 0.9]))
    assert 0 < single.overlap_area <= 1 and math.isfinite(single.kl_divergence)


# --- part-writing ---------------------------------------------------------------------------
# C/E -> Dm: soprano and alto rise in fifths (G4/C4 -> A4/D4); then G and C, cleanly
WITH_FIFTHS = ((67, 60, 55, 52), (69, 62, 53, 50), (67, 62, 59, 55), (64, 60, 55, 48))
CLEAN = ((67, 64, 60, 48), (69, 65, 60, 53), (67, 62, 59, 55), (64, 60, 55, 48))


def test_a_parallel_fifth_is_counted_once_and_a_clean_progression_not_at_all():
    counted = part_writing(steps_of(*WITH_FIFTHS))
    assert (counted.parallel_fifths, counted.parallel_octaves) == (1, 0)
    assert counted.beats == 4 and counted.notes == 15  # the alto holds its D
    assert part_writing(steps_of(*CLEAN)).parallels == 0
    assert score_part_writing(satb(*WITH_FIFTHS)) == counted  # the same count from a Score
    assert score_part_writing(satb(*CLEAN)).parallels == 0


def test_octaves_count_compound_and_contrary_fifths_do_not():
    octaves = part_writing(steps_of((72, 64, 55, 48), (74, 65, 53, 50)))  # S and B: two octaves
    assert (octaves.parallel_fifths, octaves.parallel_octaves) == (0, 1)
    contrary = part_writing(steps_of((67, 60, 55, 48), (74, 60, 55, 43)))  # S up, B down
    assert contrary.parallels == 0
    held = part_writing(steps_of((67, 60, 55, 48), (67, 60, 55, 48), (67, 62, 55, 48)))
    assert held.parallels == 0  # holding or repeating fifths and octaves is not moving in them


def test_a_crossing_is_counted_once_and_a_low_bass_is_out_of_range():
    crossing = ((67, 64, 60, 48), (65, 67, 60, 48), (65, 67, 60, 48), (67, 64, 60, 48))
    counted = part_writing(steps_of(*crossing))
    assert counted.crossings == 1 and counted.range_violations == 0
    # four unnamed tracks are the voices in their order, soprano first
    parts = ("Part 1", "Part 2", "Part 3", "Part 4")
    assert score_part_writing(satb(*crossing, names=parts)).crossings == 1
    low = part_writing(steps_of((64, 60, 55, 36), (64, 60, 55, 48)))
    assert low.range_violations == 1 and SATB_RANGES["bass"][0] > 36  # C2 is below E2
    assert part_writing([]).beats == 0 and part_writing([(-1, -1, -1, -1)]).notes == 0


def test_satb_steps_are_the_jsb_grid():
    steps = satb_steps(satb(*CLEAN, beats=0.5))
    assert steps == steps_of(*CLEAN, steps_per_chord=2)


def test_bachs_own_rate_of_parallels_is_small():
    rate = parallels_per_100_beats(load_jsb("test")[:8])
    assert math.isfinite(rate) and 0 <= rate < 3


# --- reports ---------------------------------------------------------------------------------
def test_a_report_of_melodies_has_no_part_writing(rng):
    generated = [s.replace(chords=(ChordEvent(0, parse_chord("C")),)) for s in random_tunes(rng, 3)]
    report = evaluate_scores(generated, random_tunes(rng, 5))
    assert set(report["features"]) == set(FEATURES)
    assert report["melody"]["generated"]["pieces_with_chords"] == 3
    assert 0 < report["melody"]["generated"]["chord_tone_ratio"] <= 1
    assert report["melody"]["reference"]["pieces_with_chords"] == 5  # labelled
    assert report["harmony"] is None


def test_evaluate_folder_reads_midi_and_skips_what_it_cannot(tmp_path, rng):
    gen, ref = tmp_path / "gen", tmp_path / "ref"
    gen.mkdir(), ref.mkdir()
    write_midi(satb(*WITH_FIFTHS), gen / "fifths.mid")
    write_midi(make_score(piano((0, 4, 60))), gen / "sub.mid")
    (gen / "lyrics.mid").write_text("not MIDI")
    for i, score in enumerate(random_tunes(rng, 3)):
        write_midi(score, ref / f"tune{i}.mid")
    report = evaluate_folder(gen, ref)
    assert report["generated"]["pieces"] == 2 and report["reference"]["pieces"] == 3
    assert [s["file"] for s in report["generated"]["skipped"]] == ["lyrics.mid"]
    assert report["harmony"]["generated"]["parallel_fifths"] == 1
    assert report["harmony"]["reference"] is None
    with pytest.raises(InputFileError, match="does not exist"):
        evaluate_folder(tmp_path / "nowhere", ref)
