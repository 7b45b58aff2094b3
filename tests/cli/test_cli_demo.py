"""`bandmate demo`: what `make demo` writes to out/."""

import numpy as np
import soundfile as sf

from bandmate.io.midi import read_midi
from bandmate.io.music21_io import read_musicxml
from tests.builders import assert_user_error, run_cli


def test_demo_writes_midi_musicxml_sound_and_pictures(tmp_path):
    out = tmp_path / "out"
    result = run_cli("demo", "-o", out)
    assert result.returncode == 0, result.stderr
    chorale = read_midi(out / "chorale.mid")
    assert [t.name for t in chorale.tracks] == ["Soprano", "Alto", "Tenor", "Bass"]
    assert len(read_musicxml(out / "chorale.musicxml").tracks) == 4
    audio, rate = sf.read(out / "chorale.wav")
    assert rate == 44100 and np.sqrt(np.mean(audio**2)) > 1e-3  # not silent
    assert abs(len(audio) / rate - chorale.duration_seconds) < 3.0
    for png in ("chorale.png", "backing.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "backing" / "mix.wav").exists() and (out / "backing" / "song.mid").exists()
    harmonized = read_midi(out / "harmonized.mid")
    assert [t.name for t in harmonized.tracks] == ["Soprano", "Alto", "Tenor", "Bass"]
    assert harmonized.tracks[0].notes == chorale.tracks[0].notes  # Bach's tune, new voices
    song = read_midi(out / "song.mid")
    assert song.tracks[0].name == "Melody" and len(song.tracks[0].notes) >= 16
    assert {"Bass", "Drums"} <= {t.name for t in song.tracks}
    assert sf.info(out / "song.wav").duration > 30
    # a second run refuses to overwrite without --force, and succeeds with it
    assert_user_error(run_cli("demo", "-o", out), "already exists")
    assert run_cli("demo", "-o", out, "--force").returncode == 0
