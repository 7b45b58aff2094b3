"""Voicings: only chord tones and tensions, guide tones present, clear, in range; voice leading."""

from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bandmate.arrange.voicing import (
    KINDS,
    LOW_INTERVAL_LIMITS,
    allowed_pitch_classes,
    has_flat_nine,
    motion,
    voice_lead,
    voicings,
)
from bandmate.theory.chords import NO_CHORD, QUALITIES, ChordSymbol, parse_chord

NAMES = ("C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
# typical ranges: piano comping, guitar, pad
RANGES = ((48, 79), (52, 76), (43, 84))


def chord(root: int, quality: str, bass: int | None = None) -> ChordSymbol:
    bass_name = None if bass is None else NAMES[bass]
    return ChordSymbol(root, NAMES[root], quality, bass, bass_name)


chords = st.builds(
    chord,
    st.integers(0, 11),
    st.sampled_from(sorted(QUALITIES)),
    st.none() | st.integers(0, 11),
)


def pcs(voicing) -> set[int]:
    return {p % 12 for p in voicing}


def guide_tones(c: ChordSymbol) -> set[int]:
    """The 3rd (or sus note) and 7th (or 6th) the symbol names."""
    low = [i for i in c.intervals() if i < 12]
    third = next((i for i in (4, 3, 5, 2) if i in low), None)
    seventh = next((i for i in (10, 11, 9) if i in low), None)
    return {(c.root + i) % 12 for i in (third, seventh) if i is not None}


@given(chords, st.sampled_from(sorted(KINDS)), st.sampled_from(RANGES))
def test_every_voicing_uses_only_chord_tones_and_tensions_in_range(c, kind, span):
    low, high = span
    found = voicings(c, kind, low, high)
    assert found
    allowed = allowed_pitch_classes(c)
    for v in found:
        assert pcs(v) <= allowed, (str(c), kind, v)
        assert all(low <= p <= high for p in v)
        assert list(v) == sorted(set(v))


@given(chords, st.sampled_from(sorted(KINDS)), st.sampled_from(RANGES))
def test_voicings_are_clear(c, kind, span):
    """No minor 9th unless the chord names b9; no low cluster below the low-interval limits."""
    for v in voicings(c, kind, *span):
        for i, a in enumerate(v):
            for b in v[i + 1 :]:
                if b - a > 12 and (b - a) % 12 == 1:
                    assert has_flat_nine(c), (str(c), kind, v)
        for a, b in pairwise(v):
            assert a >= LOW_INTERVAL_LIMITS.get(b - a, 0), (str(c), kind, v)


@given(chords, st.sampled_from(["close", "shell", "rootless", "drop2", "spread", "triad"]))
def test_voicings_keep_the_third_and_seventh(c, kind):
    for v in voicings(c, kind, 48, 79):
        assert guide_tones(c) <= pcs(v), (str(c), kind, v)


def test_a_slash_bass_that_is_no_chord_tone_is_left_to_the_bass():
    c = parse_chord("C/D")
    assert 2 not in allowed_pitch_classes(c)  # D is not C's 9th-as-chord-tone to the comper
    assert all(2 not in pcs(v) for kind in KINDS for v in voicings(c, kind, 48, 79))
    assert 4 in allowed_pitch_classes(parse_chord("C/E"))


@pytest.mark.parametrize(
    ("symbol", "expected"),
    [
        ("Dm7", {(53, 57, 60, 64), (60, 64, 65, 69)}),  # A: F A C E, B: C E F A
        ("G13", {(59, 64, 65, 69), (53, 57, 59, 64)}),  # 3-13-7-9 and 7-9-3-13
        ("C7alt", {(52, 56, 58, 63), (58, 63, 64, 68), (52, 56, 58, 61), (58, 61, 64, 68)}),
    ],
)
def test_rootless_a_and_b_forms(symbol, expected):
    assert expected <= set(voicings(parse_chord(symbol), "rootless", 48, 72))


def test_other_kinds_look_as_named():
    assert (48, 55, 60) in voicings(parse_chord("C5"), "power", 40, 72)
    assert (48, 55, 64, 71) in voicings(parse_chord("Cmaj7"), "spread", 43, 84)  # root-5-3-7
    assert (48, 52, 58) in voicings(parse_chord("C7"), "shell", 43, 72)
    assert (48, 58, 64) in voicings(parse_chord("C7"), "shell", 43, 72)
    assert all(len(v) == 3 for v in voicings(parse_chord("Am7"), "triad", 52, 76))
    assert all(v[-1] - v[0] < 12 for v in voicings(parse_chord("Am7"), "close", 48, 79))
    # drop 2: C E G Bb with G dropped an octave
    assert (55, 60, 64, 70) in voicings(parse_chord("C7"), "drop2", 43, 79)
    # ...but not G2 C3 E3 Bb3, a 4th below the low-interval limit
    assert (43, 48, 52, 58) not in voicings(parse_chord("C7"), "drop2", 43, 79)


def test_no_chord_is_silent_and_unknown_kinds_are_refused():
    assert voice_lead(None, NO_CHORD, "close", 48, 79) == ()
    with pytest.raises(ValueError, match="unknown voicing"):
        voicings(parse_chord("C"), "cluster", 48, 79)


def test_a_narrow_range_still_gives_notes_in_it():
    for kind in KINDS:
        v = voice_lead(None, parse_chord("F#m7b5"), kind, 60, 66)
        assert v and all(60 <= p <= 66 for p in v)


def test_the_first_voicing_sits_at_the_centre_of_the_range():
    v = voice_lead(None, parse_chord("Cmaj7"), "close", 48, 84)
    assert abs(sum(v) / len(v) - 66) <= 3


@pytest.mark.parametrize("kind", ["close", "rootless"])
@pytest.mark.parametrize("key_step", [1, 5])  # keys chromatically, and round the cycle of 4ths
def test_ii_v_i_in_all_keys_moves_little_and_stays_in_range(kind, key_step):
    """The bound: 2 semitones per voice per change on average. A ii-V-I keeps common tones and
    moves its guide tones by half steps (F-E over Dm7-G7, B-B-C...), so good voice leading moves
    about one semitone per voice; the bound leaves room for the moves back to the range centre
    and for the jump into each new key. Voicings picked at random average about 6."""
    low, high = 48, 76
    centre = (low + high) / 2
    previous = None
    per_voice = []
    for _ in range(3):
        for k in range(12):
            for symbol in ("Dm7", "G7", "Cmaj7"):
                c = parse_chord(symbol).transpose(k * key_step)
                v = voice_lead(previous, c, kind, low, high)
                assert v and all(low <= p <= high for p in v)
                assert abs(sum(v) / len(v) - centre) <= 9  # never wanders off to an edge
                if previous:
                    per_voice.append(motion(previous, v) / len(v))
                previous = v
    assert sum(per_voice) / len(per_voice) <= 2.0
    assert max(per_voice) <= 6  # never worse than a tritone per voice


def test_repeating_a_chord_keeps_its_voicing():
    v = voice_lead(None, parse_chord("Am7"), "close", 48, 79)
    assert voice_lead(v, parse_chord("Am7"), "close", 48, 79) == v


def test_motion_compares_sorted_voices():
    assert motion((60, 64, 67), (59, 65, 67)) == 2
    assert motion((60, 64, 67), (60, 64, 67, 70)) == 3
