"""The built-in synth: what the band is sent is heard, and the panic silences it.

No audio driver is started (there is no sound hardware on a CI runner); `render` pulls the audio
the driver would play, and the tests measure it.
"""

from __future__ import annotations

import numpy as np
import pytest

from bandmate.errors import SoundFontError, UserError
from bandmate.live.events import OutputEvent
from bandmate.live.synth import SynthTransport
from bandmate.live.transport import Transport
from bandmate.live.voices import Part
from bandmate.render.soundfont import SOUNDFONT_ENV
from bandmate.score.model import Role

RATE = 44_100
PARTS = [
    Part("Piano", 0, 0, Role.CHORDS),
    Part("Bass", 1, 33, Role.BASS),
    Part("Drums", 9, 0, Role.DRUMS, is_drum=True),
]


def peak_db(audio: np.ndarray) -> float:
    return 20 * np.log10(max(float(np.max(np.abs(audio))), 1e-9))


@pytest.fixture
def synth():
    synth = SynthTransport(sample_rate=RATE)
    synth.open_parts(PARTS)
    yield synth
    synth.close()


def test_it_is_a_transport_that_needs_the_dispatcher(synth):
    assert isinstance(synth, Transport)
    assert synth.schedules_ahead is False
    assert synth.receive(0.0) == []


def test_a_note_sent_sounds_and_all_notes_off_lets_it_die_away(synth):
    before = synth.render(RATE // 10)
    assert before.shape == (2, RATE // 10) and before.dtype == np.float32
    assert peak_db(before) < -80  # nothing sent, nothing heard

    for pitch in (60, 64, 67):
        synth.send(OutputEvent(0.0, "Piano", 0, pitch, 100))
    synth.send(OutputEvent(0.0, "Bass", 1, 36, 100))
    playing = synth.render(RATE // 2)
    assert peak_db(playing) > -30
    assert peak_db(playing[0]) > -30 and peak_db(playing[1]) > -30  # stereo, both sides

    synth.all_notes_off([0, 1, 9])
    synth.render(3 * RATE)  # the release and the reverb's tail
    assert peak_db(synth.render(RATE // 10)) < -70


def test_a_note_off_ends_the_note(synth):
    synth.send(OutputEvent(0.0, "Piano", 0, 72, 110))
    held = synth.render(RATE // 4)
    synth.send(OutputEvent(0.25, "Piano", 0, 72, 0))
    synth.render(3 * RATE)
    assert peak_db(held) > -30
    assert peak_db(synth.render(RATE // 10)) < -70


def test_the_drum_part_plays_a_kit_on_any_channel():
    synth = SynthTransport(sample_rate=RATE)
    try:
        synth.open_parts([Part("Drums", 3, 0, Role.DRUMS, is_drum=True)])
        synth.send(OutputEvent(0.0, "Drums", 3, 36, 120))  # GM kick
        kick = synth.render(RATE // 2)
        synth.send(OutputEvent(0.0, "Drums", 3, 42, 120))  # GM closed hi-hat
        hat = synth.render(RATE // 2)
    finally:
        synth.close()
    assert peak_db(kick) > -30 and peak_db(hat) > -40

    # a hi-hat's energy lies far above a kick's (3 times the spectral centroid, 10 kHz against
    # 1.6 kHz); on a piano the same two keys, six semitones apart, differ far less
    def centroid_hz(audio: np.ndarray) -> float:
        spectrum = np.abs(np.fft.rfft(audio[0]))
        freqs = np.fft.rfftfreq(audio.shape[1], 1 / RATE)
        return float(np.sum(freqs * spectrum) / np.sum(spectrum))

    assert centroid_hz(hat) > 3 * centroid_hz(kick)


def test_a_missing_soundfont_is_one_sentence(tmp_path, monkeypatch):
    with pytest.raises(SoundFontError) as e:
        SynthTransport(tmp_path / "nope.sf2")
    assert "nope.sf2" in str(e.value) and "\n" not in str(e.value)

    monkeypatch.setenv(SOUNDFONT_ENV, str(tmp_path / "gone.sf2"))
    with pytest.raises(SoundFontError, match=SOUNDFONT_ENV):
        SynthTransport()

    fake = tmp_path / "fake.sf2"
    fake.write_bytes(b"RIFF not a soundfont")
    with pytest.raises(SoundFontError, match=r"fake\.sf2.*valid"):
        SynthTransport(fake)


def test_an_audio_driver_that_cannot_start_is_one_sentence_suggesting_others():
    with pytest.raises(UserError) as e:
        SynthTransport(driver="nosuchdriver")
    message = str(e.value)
    assert "'nosuchdriver'" in message and "pulseaudio" in message and "\n" not in message
