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
