"""`arrange.backing` at the edges a musician reaches: song length, seeds, odd charts."""

import pytest

from bandmate.arrange.backing import MAX_SONG_MINUTES, backing
from bandmate.errors import UserError

BLUES = "| C7 | F7 | C7 | C7 | F7 | F7 | C7 | C7 | G7 | F7 | C7 | G7 |"


def test_a_song_longer_than_the_limit_is_refused_at_once(monkeypatch):
    def planned(*args, **kwargs):
        raise AssertionError("a song refused for its length was planned first")

    with monkeypatch.context() as patched:
        patched.setattr("bandmate.arrange.backing.plan_song", planned)
        with pytest.raises(UserError, match=f"{MAX_SONG_MINUTES}"):
            backing(BLUES, style="blues-shuffle", tempo_bpm=100, choruses=100_000)
    # a long practice track is fine: 30 choruses of a 12-bar blues is about 14 minutes
    assert backing(BLUES, style="blues-shuffle", tempo_bpm=100, choruses=30).tracks


@pytest.mark.parametrize("style", ["rock", "jazz-swing", "waltz", "reggae", "six-eight-ballad"])
def test_without_intro_and_ending_no_part_plays_past_the_charts_last_bar_line(style):
    import io

    import mido

    from bandmate.io.midi import midi_bytes

    # the human feel nudged the last chord late and it held on a few ticks past the last bar,
    # so song.mid of a 4-bar chart ran 7684 ticks: a DAW takes that as five bars
    for chart, quarters in (("| C | G | Am | F |", 16), ("(5/4) | Dm7 | G7 |", 10)):
        for seed in range(4):
            song = backing(chart, style=style, seed=seed, intro=False, ending=False)
            end = quarters * song.ticks_per_beat
            assert max(n.end_ticks for t in song.tracks for n in t.notes) <= end, (chart, seed)
            midi = mido.MidiFile(file=io.BytesIO(midi_bytes(song)))
            assert max(sum(m.time for m in track) for track in midi.tracks) <= end, (chart, seed)
