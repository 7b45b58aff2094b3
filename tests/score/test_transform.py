import pytest

from bandmate.errors import UserError
from bandmate.score import (
    Note,
    Score,
    TimeSignature,
    change_tempo,
    merge,
    quantize,
    rescale,
    slice_bars,
    transpose,
)
from tests.builders import bass, drums, make_score, notes, piano


def test_notes_validate_themselves():
    with pytest.raises(ValueError):
        Note(0, 0, 60)
    with pytest.raises(ValueError):
        Note(0, 10, 128)
    with pytest.raises(ValueError):
        Note(-1, 10, 60)


def test_transpose_moves_pitches_but_not_drums(small_song):
    up = transpose(small_song, 3)
    assert [n.pitch for n in up.track("Bass").notes] == [
        n.pitch + 3 for n in small_song.track("Bass").notes
    ]
    assert up.track("Drums") == small_song.track("Drums")
    assert small_song.track("Bass").notes[0].pitch == 36  # the input is unchanged


def test_transpose_keeps_notes_in_midi_range():
    s = make_score(piano((0, 1, 126)))
    assert transpose(s, 5).tracks[0].notes[0].pitch == 119


def test_slice_bars_moves_to_zero_and_cuts_at_the_end(small_song):
    bar2 = slice_bars(small_song, 1, 2)
    assert [(n.onset_ticks, n.pitch) for n in bar2.track("Bass").notes] == [(0, 41), (960, 48)]
    assert bar2.end_ticks == 1920
    assert bar2.tempo_bpm == pytest.approx(100)


def test_slice_bars_cuts_notes_that_ring_past_the_window():
    s = make_score(piano((0, 8, 60)))
    assert slice_bars(s, 0, 1).tracks[0].notes[0].duration_ticks == 1920


def test_slice_bars_rejects_empty_range(small_song):
    with pytest.raises(UserError):
        slice_bars(small_song, 2, 2)


def test_quantize_snaps_and_half_strength_moves_half_way():
    s = make_score(piano((0.1, 0.8, 60)))  # onset 48 ticks, end 432
    exact = quantize(s, 120).tracks[0].notes[0]
    assert (exact.onset_ticks, exact.end_ticks) == (0, 480)
    half = quantize(s, 120, strength=0.5).tracks[0].notes[0]
    assert (half.onset_ticks, half.end_ticks) == (24, 456)


def test_quantize_never_collapses_a_note():
    s = make_score(piano((1.0, 0.05, 60)))
    assert quantize(s, 240).tracks[0].notes[0].duration_ticks == 240


def test_change_tempo_keeps_beats_and_changes_seconds(small_song):
    fast = change_tempo(small_song, factor=2.0)
    assert fast.tracks == small_song.tracks
    assert fast.duration_seconds == pytest.approx(small_song.duration_seconds / 2, rel=1e-5)
    slow = change_tempo(small_song, tempo_bpm=50)
    assert slow.tempo_bpm == pytest.approx(50)


def test_merge_puts_tracks_side_by_side_at_one_resolution():
    a = make_score(piano((0, 1, 60)))
    b = rescale(make_score(bass((1, 1, 40))), 96)
    m = merge(a, b)
    assert [t.name for t in m.tracks] == ["Piano", "Bass"]
    assert m.ticks_per_beat == 480
    assert m.track("Bass").notes == notes((1, 1, 40))


def test_rescale_round_trips_on_a_coarse_grid():
    s = make_score(piano((0, 1, 60), (1.5, 0.5, 62)), drums((0, 0.25, 36)))
    assert rescale(rescale(s, 960), 480) == s


def test_score_equality_ignores_note_order():
    a = make_score(piano((0, 1, 60), (1, 1, 62)))
    b = make_score(piano((1, 1, 62), (0, 1, 60)))
    assert a == b


def test_duration_and_repr(small_song):
    assert small_song.duration_seconds == pytest.approx(8 * 0.6)
    assert "3 tracks" in repr(small_song)
    assert small_song.time_signatures == (TimeSignature(0, 4, 4),)
    assert Score().is_empty


def test_a_closing_bar_of_rests_follows_slicing_rescaling_and_merging():
    # the written end (a closing bar of rests) must move with the music, or a sliced or
    # rescaled score claims bars it does not have
    from bandmate.score.transform import merge, rescale, slice_ticks

    score = make_score(piano((0, 4, 60))).replace(written_end_ticks=8 * 480)
    assert score.written_bars_end == 8 * 480
    assert rescale(score, 960).written_end_ticks == 8 * 960
    assert slice_ticks(score, 4 * 480, 12 * 480).written_end_ticks == 4 * 480
    assert slice_ticks(score, 0, 2 * 480).written_end_ticks == 2 * 480
    assert slice_ticks(score, 8 * 480, 12 * 480).written_end_ticks is None
    assert merge(make_score(piano((0, 1, 60))), score).written_end_ticks == 8 * 480


def test_a_file_that_falls_silent_for_eight_bars_is_cut_into_its_pieces_on_their_beats():
    # a tune, then nothing for 100,000 bars, then a stray note on beat 3 (a DAW's marker note):
    # learnt as one piece it was 300,000 tokens of empty bars
    from bandmate.score.transform import split_at_silences

    gap_bars = 100_000
    later = 4 * (2 + gap_bars)
    score = make_score(piano((0, 1, 60), (1, 1, 62), (4, 4, 64)), bass((later + 2, 1, 36)))
    first, second = split_at_silences(score)
    assert [(n.onset_ticks, n.pitch) for n in first.tracks[0].notes] == [
        (0, 60),
        (480, 62),
        (1920, 64),
    ]
    assert first.end_ticks == 2 * 4 * 480 and not first.tracks[1].notes
    assert [(n.onset_ticks, n.pitch) for n in second.tracks[1].notes] == [(2 * 480, 36)]
    assert second.time_signatures == score.time_signatures and second.tempos == score.tempos


def test_rests_a_band_plays_through_do_not_cut_a_piece():
    from bandmate.score.model import ChordEvent
    from bandmate.score.transform import split_at_silences
    from bandmate.theory.chords import parse_chord

    # seven silent bars, a note held over eight, nine with a chord symbol amid them: one piece
    seven = make_score(piano((0, 1, 60), (4 * 8, 1, 62)))
    held = make_score(piano((0, 4 * 9, 60), (4 * 10, 1, 62)))
    charted = make_score(
        piano((0, 1, 60), (4 * 10, 1, 62)), chords=(ChordEvent(4 * 5 * 480, parse_chord("G7")),)
    )
    for score in (seven, held, charted):
        assert split_at_silences(score) == [score]
    # eight silent bars cut, and so does a silence of eight bars before the first note
    assert len(split_at_silences(make_score(piano((0, 1, 60), (4 * 9, 1, 62))))) == 2
    (late,) = split_at_silences(make_score(piano((4 * 8 + 1, 1, 60))))
    assert [n.onset_ticks for n in late.tracks[0].notes] == [480]


def test_a_tune_in_short_bars_is_not_cut_at_a_phrases_rests():
    # an Essen folk song in 1/16 bars rests for nine of them in a phrase: half a bar of 4/4
    from bandmate.score.transform import split_at_silences

    score = make_score(piano((0, 0.25, 60), (2.5, 0.25, 62)), meter=(1, 16))
    assert split_at_silences(score) == [score]


def test_a_piece_after_a_silence_keeps_the_chords_after_its_last_note():
    # a lead sheet's last section of chords over rests, after 10 silent bars: the cut ended the
    # last piece at the last note, before its chords, and slicing refused the window
    from bandmate.score.model import ChordEvent
    from bandmate.score.transform import split_at_silences
    from bandmate.theory.chords import parse_chord

    bar = 4 * 480
    chords = tuple(ChordEvent(b * bar, parse_chord("F" if b % 2 else "C")) for b in (0, 14, 15))
    first, second = split_at_silences(make_score(piano((0, 4, 60)), chords=chords))
    assert [c.onset_ticks for c in first.chords] == [0]
    assert [(c.onset_ticks, str(c.symbol)) for c in second.chords] == [(0, "C"), (bar, "F")]
    # a written end far past the last note is a silence too: the piece ends at its bar line
    (alone,) = split_at_silences(make_score(piano((0, 4, 60))).replace(written_end_ticks=100 * bar))
    assert alone.written_bars_end == bar


def test_a_closing_silence_is_counted_in_whole_bars_as_the_others_are():
    # 32 beats to a written end off the bar line, in 3/4: ten whole bars, 30 beats, no silence
    from bandmate.score.transform import split_at_silences

    score = make_score(piano((0, 3, 60)), meter=(3, 4)).replace(written_end_ticks=35 * 480)
    assert split_at_silences(score)[0] is score
