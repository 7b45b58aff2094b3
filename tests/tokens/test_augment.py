"""Transposition augmentation: copies in other keys that stay in range and leave drums alone."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bandmate.score import ChordEvent, KeyChange, Role, Track, transpose
from bandmate.theory import Key, parse_chord
from bandmate.tokens.augment import transpose_tokens, transpositions
from bandmate.tokens.drums import DrumTokenizer
from bandmate.tokens.melody import MelodyTokenizer
from tests.builders import bass, drums, make_score, notes

MELODY = MelodyTokenizer()


def song(*melody: tuple[float, float, int]):
    return make_score(
        Track("Lead", role=Role.MELODY, notes=notes(*melody)),
        drums((0, 0.25, 36), (1, 0.25, 38), (0.5, 0.25, 42)),
        keys=(KeyChange(0, Key(7)),),
        chords=(ChordEvent(0, parse_chord("G")), ChordEvent(960, parse_chord("Em7/D"))),
    )


def test_every_key_once_when_the_melody_has_room():
    score = song((0, 1, 67), (1, 1, 71), (2, 2, 74))
    copies = list(transpositions(score))
    assert len(copies) == 12
    assert sorted(c.key.tonic for c in copies) == list(range(12))
    assert copies[5] == score  # a shift of 0 is the piece itself
    up = copies[7]  # +2 semitones
    assert [n.pitch for n in up.tracks[0].notes] == [69, 73, 76]
    assert [str(c.symbol) for c in up.chords] == ["A", "F#m7/E"]


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.integers(30, 100), min_size=1, max_size=8),
    st.integers(36, 60),
    st.integers(72, 96),
)
def test_copies_stay_in_range_and_never_move_the_drums(pitches, lowest, highest):
    score = song(*[(i, 1, p) for i, p in enumerate(pitches)])
    shifts = [s for s in range(-5, 7) if lowest <= min(pitches) + s and max(pitches) + s <= highest]
    copies = list(transpositions(score, lowest_pitch=lowest, highest_pitch=highest))
    assert len(copies) == len(shifts)
    for copy, shift in zip(copies, shifts, strict=True):
        assert [n.pitch for n in copy.tracks[0].notes] == [
            n.pitch + shift for n in score.tracks[0].notes
        ]
        assert all(lowest <= n.pitch <= highest for n in copy.tracks[0].notes)
        assert copy.track("Drums") == score.track("Drums")


def test_roles_choose_which_tracks_must_stay_in_range():
    score = make_score(Track("Lead", role=Role.MELODY, notes=notes((0, 1, 60))), bass((0, 1, 28)))
    assert list(transpositions(score)) == []  # the bass is below 36 in every key
    copies = list(transpositions(score, roles={Role.MELODY}))
    assert len(copies) == 12
    assert [c.track("Bass").notes[0].pitch for c in copies] == list(range(23, 35))


def test_transposing_tokens_is_transposing_the_score():
    score = song((0, 1, 67), (1, 0.5, 71), (1.5, 2.5, 90))
    tokens = MELODY.encode(score)
    for shift in range(-5, 7):
        moved = transpose_tokens(MELODY, tokens, shift)
        assert moved == MELODY.encode(transpose(score, shift))
    assert transpose_tokens(MELODY, tokens, 7) is None  # 97 is above the range


def test_drum_tokens_never_move():
    tokenizer = DrumTokenizer()
    tokens = tokenizer.encode(song((0, 1, 60)))
    assert transpose_tokens(tokenizer, tokens, 5) == tokens
