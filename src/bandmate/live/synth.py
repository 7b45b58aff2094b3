"""The built-in synth: the band played by FluidSynth, so that a player can jam without a DAW.

`SynthTransport` is the band's side of a live session (a `Duplex` takes the player's input from
a port or a WebSocket). What it is sent sounds at once (`schedules_ahead` False): the session's
`TimedDispatcher` hands each event over at its time, and FluidSynth starts the note on its next
64-frame block. FluidSynth's own sequencer could take the events early instead, but the
dispatcher is already there and measured, and one path to time events is easier to trust.

With `driver` the synth plays through an audio driver of FluidSynth's ("pulseaudio", "alsa",
"jack", ...; "default" is FluidSynth's choice for the platform), which pulls audio on a thread of
its own. Without one nothing is played: `render(frames)` pulls the audio instead, for the tests
and for offline use. Only the audio driver is started, never FluidSynth's MIDI driver: the
player's input goes through the engine, not straight into the synth.

The synth is the GM sound of `bandmate render` (the same SoundFont search, reverb and chorus),
at a higher gain because a live band is a few parts rather than a whole mix. FluidSynth's API is
thread-safe as created here (its default), so the dispatcher's thread, the session's stop and the
audio driver's thread may all touch it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence

import numpy as np

from bandmate.errors import AudioFormatError, SoundFontError, UserError
from bandmate.io.audio import check_sample_rate
from bandmate.live.events import SUSTAIN_CONTROLLER, OutputEvent
from bandmate.render.fluidsynth import (
    MAX_FLUID_SAMPLE_RATE,
    fluidsynth_library,
    not_a_soundfont,
    rate_message,
    soundfont_path,
)

DEFAULT_GAIN = 0.5
DRIVERS = ("pulseaudio", "alsa", "jack", "sdl2")  # suggested when one cannot be started
DRUM_BANK = 128
_FLUID_FAILED = -1
_MELODIC, _DRUM = 0, 1  # enum fluid_midi_channel_type
_CHANNELS = 16


class SynthTransport:
    """The band on FluidSynth (see the module docs).

    soundfont: a .sf2/.sf3 file; None finds the system's GM SoundFont (`find_soundfont`).
    driver: the audio driver to play through; None starts none (`render` pulls the audio).
    sample_rate: in Hz. gain: FluidSynth's master gain (0-10).

    Raises `SoundFontError` when no SoundFont is found or it cannot be loaded, `UserError` when
    the audio driver cannot be started, `AudioFormatError` for a sample rate FluidSynth refuses.
    """

    schedules_ahead = False

    def __init__(
        self,
        soundfont: str | os.PathLike | None = None,
        *,
        driver: str | None = None,
        sample_rate: int = 44_100,
        gain: float = DEFAULT_GAIN,
    ):
        check_sample_rate(sample_rate)
        if sample_rate > MAX_FLUID_SAMPLE_RATE:
            raise AudioFormatError(rate_message(sample_rate))
        path = soundfont_path(soundfont)
        self.fluidsynth_library = (
            fluidsynth_library()
        )  # loads pyfluidsynth without its stdout chatter, FluidSynth's log off
        import fluidsynth

        self._fl = fluidsynth
        self.sample_rate = sample_rate
        self.driver = driver
        self.parts: tuple = ()
        self._audio_driver = None
        self._synth = fluidsynth.Synth(
            gain=gain,
            samplerate=sample_rate,
            channels=_CHANNELS,
            # read only the samples of the presets the band plays (see render.fluidsynth)
            **{"synth.dynamic-sample-loading": 1},
        )
        try:
            self._sfid = self._synth.sfload(os.fspath(path))
            if self._sfid == _FLUID_FAILED:
                raise SoundFontError(not_a_soundfont(path))
            if driver is not None:
                self._start(driver)
        except BaseException:
            self.close()
            raise

    def _start(self, driver: str) -> None:
        synth = self._synth
        if driver != "default":
            synth.setting("audio.driver", driver)
        name = synth.get_setting("audio.driver") or driver
        self._audio_driver = self._fl.new_fluid_audio_driver(synth.settings, synth.synth)
        if not self._audio_driver:
            others = ", ".join(d for d in DRIVERS if d != name)
            raise UserError(
                f"FluidSynth could not start the audio driver {name!r}; try another with "
                f"--driver ({others})."
            )

    def open_parts(self, parts: Sequence) -> None:
        """Each part's GM program on its channel; a drum part's kit from the drum bank (128),
        whatever its channel."""
        set_type = self.fluidsynth_library.fluid_synth_set_channel_type
        for part in parts:
            set_type(self._synth.synth, part.channel, _DRUM if part.is_drum else _MELODIC)
            bank = DRUM_BANK if part.is_drum else 0
            # FluidSynth falls back to the standard kit (or bank 0) for a program it lacks
            self._synth.program_select(part.channel, self._sfid, bank, part.program)
        self.parts = tuple(parts)

    def receive(self, timeout_s: float) -> list[tuple[object, float]]:
        """Nothing: a synth has no player. (A `Duplex` takes input from elsewhere.)"""
        return []

    def send(self, event: OutputEvent) -> None:
        if event.velocity:
            self._synth.noteon(event.channel, event.pitch, event.velocity)
        else:
            self._synth.noteoff(event.channel, event.pitch)

    def all_notes_off(self, channels: Iterable[int]) -> None:
        """The pedal up and every note released (their release tails still ring)."""
        for channel in channels:
            self._synth.cc(channel, SUSTAIN_CONTROLLER, 0)
            self._synth.all_notes_off(channel)

    def render(self, frames: int) -> np.ndarray:
        """The next `frames` of the synth's audio: (2, frames) float32 in -1..1.

        Only without an audio driver, which would be pulling the same audio.
        """
        if self._audio_driver is not None:
            raise RuntimeError("render() pulls audio only when no audio driver is running")
        interleaved = self._synth.get_samples(frames)  # int16, L R L R ...
        return (interleaved.reshape(frames, 2).T / 32768.0).astype(np.float32)

    def close(self) -> None:
        """Stop the audio driver and free the synth (again is a no-op)."""
        if self._audio_driver:
            self._fl.delete_fluid_audio_driver(self._audio_driver)
        self._audio_driver = None
        if self._synth is not None:
            self._synth.delete()
            self._synth = None
