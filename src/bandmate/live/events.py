"""What flows into and out of the live engine: timestamped input and output events.

Both are NamedTuples: a tuple is the cheapest Python object to make, and the event path makes
one per note, so the engine's hot path allocates little beyond them.

Times are seconds on the session clock (the performance's own time when a recording is
simulated; `time.perf_counter()` since the start when playing live), as floats.

Raw MIDI bytes from a port or a socket go through `decode_midi`, which returns None for anything
that is not a well-formed note on, note off or sustain-pedal message, or is a note on channel 10
(drums); the engine counts those and carries on (a stray byte must never stop the band).
"""

from __future__ import annotations

from typing import NamedTuple

from bandmate.score.model import PEDAL_DOWN_FROM as PEDAL_DOWN_FROM  # re-exported
from bandmate.score.model import SUSTAIN_PEDAL as SUSTAIN_CONTROLLER

NOTE_OFF, NOTE_ON, SUSTAIN = 0, 1, 2
KINDS = (NOTE_OFF, NOTE_ON, SUSTAIN)
ALL_NOTES_OFF_CONTROLLER = 123
DRUM_CHANNEL = 9  # MIDI channel 10: drum pads and drum tracks, never the player's keys


class InputEvent(NamedTuple):
    """One thing the player did.

    time_s: when, on the session clock.
    kind: NOTE_ON, NOTE_OFF or SUSTAIN.
    pitch: MIDI note 0-127 (0 for SUSTAIN).
    velocity: 1-127 for NOTE_ON, 0 for NOTE_OFF, the pedal's controller value 0-127 for SUSTAIN.
    """

    time_s: float
    kind: int
    pitch: int = 0
    velocity: int = 0

    @classmethod
    def note_on(cls, time_s: float, pitch: int, velocity: int = 90) -> InputEvent:
        return cls(time_s, NOTE_ON, pitch, velocity)

    @classmethod
    def note_off(cls, time_s: float, pitch: int) -> InputEvent:
        return cls(time_s, NOTE_OFF, pitch, 0)

    @classmethod
    def sustain(cls, time_s: float, down: bool) -> InputEvent:
        return cls(time_s, SUSTAIN, 0, 127 if down else 0)


class OutputEvent(NamedTuple):
    """One thing the band does: a note on (velocity 1-127) or off (velocity 0) at `time_s`.

    part: the style's part name ("Drums", "Bass", "Piano"); channel: its MIDI channel 0-15.
    """

    time_s: float
    part: str
    channel: int
    pitch: int
    velocity: int

    @property
    def is_note_on(self) -> bool:
        return self.velocity > 0

    def to_midi_bytes(self) -> bytes:
        status = (0x90 if self.velocity else 0x80) | self.channel
        return bytes((status, self.pitch, self.velocity if self.velocity else 64))


def is_valid(event: object) -> bool:
    """Whether `event` is an InputEvent the engine can use (types and ranges checked)."""
    if not isinstance(event, InputEvent):
        return False
    time_s, kind, pitch, velocity = event
    if not isinstance(time_s, float | int) or time_s != time_s or abs(time_s) == float("inf"):
        return False
    if kind not in KINDS or type(pitch) is not int or type(velocity) is not int:
        return False
    if not (0 <= pitch <= 127 and 0 <= velocity <= 127):
        return False
    return not (kind == NOTE_ON and velocity == 0)


def decode_midi(data: bytes | bytearray | tuple | list, time_s: float) -> InputEvent | None:
    """An InputEvent from one raw MIDI message, or None when it is not one the engine uses.

    A note on with velocity 0 is a note off (running-status keyboards send them). A keyboard may
    send on any channel but 10, the General MIDI drum channel: notes there are drum pads (a
    controller's pads send on it) or a drum track in a recorded file, and read as keys they would
    make nonsense chords below the split, so they give None. Malformed data (a missing data
    byte, a data byte above 127, a status byte where data should be) gives None.
    """
    if not isinstance(data, bytes | bytearray | tuple | list) or len(data) != 3:
        return None
    status, a, b = data
    if not (isinstance(status, int) and isinstance(a, int) and isinstance(b, int)):
        return None
    if not (0x80 <= status <= 0xEF and 0 <= a <= 127 and 0 <= b <= 127):
        return None
    kind = status & 0xF0
    if kind == 0x90 and status & 0x0F != DRUM_CHANNEL:
        return InputEvent(float(time_s), NOTE_ON if b else NOTE_OFF, a, b)
    if kind == 0x80 and status & 0x0F != DRUM_CHANNEL:
        return InputEvent(float(time_s), NOTE_OFF, a, 0)
    if kind == 0xB0 and a == SUSTAIN_CONTROLLER:
        return InputEvent(float(time_s), SUSTAIN, 0, b)
    return None
