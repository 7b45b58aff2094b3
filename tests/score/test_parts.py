"""Which track of a score its tune is read from (`melody_track`): a choir's voices, whatever
their order, and the band parts that only share a voice's word."""

from __future__ import annotations

import pytest

from bandmate.io.formats import read_score
from bandmate.io.midi import write_midi
from bandmate.score import Score, Track
from bandmate.score.model import infer_role
from bandmate.score.parts import melody_track
from tests.builders import make_score, notes

# four bars of a chorale in quarters: the soprano's tune over three lower voices
SOPRANO = [67, 67, 69, 71, 72, 71, 69, 67, 69, 71, 72, 74, 72, 71, 69, 67]
ALTO = [62, 64, 64, 62, 64, 62, 60, 62, 64, 62, 64, 65, 64, 62, 60, 62]
TENOR = [59, 60, 57, 55, 57, 55, 57, 59, 60, 59, 57, 59, 55, 55, 57, 59]
BASS = [43, 48, 45, 43, 45, 47, 48, 43, 41, 43, 45, 43, 48, 50, 45, 43]


def voice(name: str, pitches: list[int], program: int) -> Track:
    """A part as a file read back names it: its role guessed from its name and program."""
    quarters = notes(*[(beat, 1, pitch) for beat, pitch in enumerate(pitches)])
    return Track(name, program, role=infer_role(name, program, False), notes=quarters)


def read_back(score: Score, tmp_path) -> Score:
    write_midi(score, tmp_path / "choir.mid")
    return read_score(tmp_path / "choir.mid")


def tune_of(score: Score) -> list[int]:
    return [n.pitch for n in melody_track(score).notes]


@pytest.mark.parametrize("program", [0, 52, 53])
@pytest.mark.parametrize(
    "names",
    [("Soprano", "Alto", "Tenor", "Bass"), ("Choir S", "Choir A", "Choir T", "Choir B"),
     ("S.", "A.", "T.", "B."), ("Sopran", "Alt", "Tenor", "Bass"),
     ("Soprano", "Contralto", "Tenore", "Basso"), ("Soprano", "Alto", "Ténor", "Basse"),
     ("Chor Sopran", "Chor Alt", "Chor Tenor", "Chor Bass"),
     ("Voice S", "Voice A", "Voice T", "Voice B")],
)  # fmt: skip
@pytest.mark.parametrize("order", [(3, 2, 1, 0), (1, 3, 0, 2), (0, 1, 2, 3)])
def test_a_choir_is_read_from_its_soprano_in_any_order(tmp_path, names, program, order):
    # a chorale written bass first ("Choir B" ... "Choir S", "Bass" ... "Sopran") had its bass
    # line learnt, checked for copying and labelled with chords as the tune
    lines = (SOPRANO, ALTO, TENOR, BASS)
    score = make_score(*[voice(names[i], lines[i], program) for i in order])
    assert tune_of(score) == SOPRANO
    assert tune_of(read_back(score, tmp_path)) == SOPRANO


def test_of_two_soprano_parts_the_first_is_the_tune(tmp_path):
    second = [p - 3 for p in SOPRANO]
    score = make_score(
        voice("Bass", BASS, 52), voice("Tenor", TENOR, 52), voice("Alto", ALTO, 52),
        voice("Soprano 2", second, 52), voice("Soprano 1", SOPRANO, 52),
    )  # fmt: skip
    assert tune_of(read_back(score, tmp_path)) == SOPRANO
    roman = make_score(voice("Basso", BASS, 0), voice("Soprano II", second, 0),
                       voice("Soprano I", SOPRANO, 0))  # fmt: skip
    assert tune_of(read_back(roman, tmp_path)) == SOPRANO


def test_a_choir_after_its_bass_and_before_its_accompaniment_is_read_from_its_soprano(tmp_path):
    organ = Track("Organ", 19, notes=notes(*[(b, 4, 48) for b in range(0, 16, 4)]))
    score = make_score(
        voice("Choir B", BASS, 52), voice("Choir T", TENOR, 52), voice("Choir A", ALTO, 52),
        voice("Choir S", SOPRANO, 52), organ,
    )  # fmt: skip
    assert tune_of(read_back(score, tmp_path)) == SOPRANO


@pytest.mark.parametrize(
    ("parts", "tune"),
    [
        # a bass guitar on its program before an alto sax named "Alto": two band parts
        ((("Bass", BASS, 33), ("Alto", ALTO, 65)), BASS),
        # a tenor sax before an alto sax: the first, as before
        ((("Tenor Sax", TENOR, 66), ("Alto Sax", ALTO, 65)), TENOR),
        # a lead vocal and the backing vocals above it: the lead
        ((("Vocal", TENOR, 52), ("Backing Vocals", SOPRANO, 53)), TENOR),
        # a bass guitar named for what it is before an alto and a soprano: no choir
        ((("Bass Guitar", BASS, 0), ("Alto", ALTO, 0), ("Sopran", SOPRANO, 0)), BASS),
        # voices on different programs, not a choir's or a voice's: an organ's "Bass" and a
        # flute's "Alto"
        ((("Bass", BASS, 19), ("Alto", ALTO, 73), ("Keys", SOPRANO, 0)), BASS),
    ],
)
def test_parts_that_only_share_a_voices_word_are_read_as_before(tmp_path, parts, tune):
    score = make_score(*[voice(*part) for part in parts])
    assert tune_of(score) == tune
    assert tune_of(read_back(score, tmp_path)) == tune


# --- a held part before the tune ----------------------------------------------------------------
TUNE = [(i / 2, 0.5, p) for i, p in enumerate([72, 74, 76, 77, 79, 77, 76, 74] * 4)]
HELD_CHORDS = [(bar, 4, p) for bar in range(0, 16, 4) for p in (60, 64, 67)]


def part(name: str, program: int, spec) -> Track:
    return Track(name, program, role=infer_role(name, program, False), notes=notes(*spec))


@pytest.mark.parametrize(
    ("pad", "lead"),
    [(("Track 1", 0), ("Track 2", 0)), (("Strings", 48), ("Piano", 0)),
     (("Choir", 52), ("Flute", 73)), (("Organ", 19), ("Guitar", 25))],
)  # fmt: skip
def test_a_pad_of_held_chords_before_the_tune_is_passed_over(tmp_path, pad, lead):
    # a DAW's export that starts with its pad had the pad's held chords learnt as the tune
    score = make_score(part(*pad, HELD_CHORDS), part(*lead, TUNE))
    assert tune_of(score) == [p for _, _, p in TUNE]
    assert tune_of(read_back(score, tmp_path)) == [p for _, _, p in TUNE]


def test_a_slow_tune_and_a_held_part_before_a_few_notes_are_kept():
    # a tune in half notes over an arpeggio in eighths holds no note for 3/4 of a bar
    slow = [(2 * i, 2, p) for i, p in enumerate([67, 69, 71, 72, 71, 69, 67, 65])]
    arpeggio = [(i / 2, 0.5, p) for i, p in enumerate([48, 55, 60, 55] * 8)]
    score = make_score(part("Track 1", 0, slow), part("Track 2", 0, arpeggio))
    assert tune_of(score) == [p for _, _, p in slow]
    # a folk tune in quarters written in 1/4 bars fills its bars and is no pad
    quarters = [(i, 1, p) for i, p in enumerate([67, 69, 71, 72, 71, 69, 67, 65] * 2)]
    score = make_score(part("Track 1", 0, quarters), part("Track 2", 0, arpeggio), meter=(1, 4))
    assert tune_of(score) == [p for _, _, p in quarters]
    # a held part before a stray of three notes (an effect, a fill): the held part
    stray = [(15, 0.5, 84), (15.5, 0.5, 86), (16, 0.5, 88)]
    held_line = [(bar, 4, p) for bar, p in zip(range(0, 16, 4), (64, 65, 67, 65), strict=True)]
    score = make_score(part("Track 1", 0, held_line), part("Track 2", 0, stray))
    assert tune_of(score) == [64, 65, 67, 65]
    # a piano whose right hand holds chords over a busy left hand: the right hand, as before
    left = [(i / 2, 0.5, p) for i, p in enumerate([36, 43, 48, 43] * 8)]
    score = make_score(part("Piano RH", 0, HELD_CHORDS), part("Piano LH", 0, left))
    assert tune_of(score) == [p for _, _, p in sorted(HELD_CHORDS)]
    # a pad, then a bass line in eighths: no tune after the pad, which is kept
    score = make_score(part("Strings", 48, HELD_CHORDS), part("Bass", 33, left))
    assert tune_of(score) == [p for _, _, p in sorted(HELD_CHORDS)]


def test_a_busy_line_an_octave_or_more_under_a_held_tune_is_its_bass():
    # a violin's whole notes over a cello's quarters (both MELODY by program): the cello was
    # taken for the tune, as a lead after a pad is
    held = [(4 * i, 4, p) for i, p in enumerate([74, 77, 76, 74, 79, 77, 81, 79])]
    cello = [(i, 1, p) for i, p in enumerate([50, 53, 57, 53] * 8)]
    score = make_score(part("Violin", 40, held), part("Cello", 42, cello))
    assert tune_of(score) == [p for _, _, p in held]
