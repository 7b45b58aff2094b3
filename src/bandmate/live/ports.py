"""MIDI ports: a keyboard's input and a synth's or DAW's output, through python-rtmidi.

`MidiPortTransport` opens an input port, an output port or both, by exact name or by a part of
the name that only one port has, ignoring case ("keystation" finds "Keystation 49 MK3:Keystation
49 MK3 MIDI 1 24:0"; ALSA appends client and port numbers that change from boot to boot, so a
part of the name is what a person can type). With `virtual` it creates ports of its own instead,
"bandmate in" and "bandmate out", for a DAW or a keyboard app to connect to.

Input arrives on rtmidi's own thread, in a callback that stamps each message on arrival (the
session clock, as the InputEvent's time, and `time.perf_counter`, as the arrival the engine
measures its latency from) and queues it; `receive` takes whatever has arrived. A message that is
not a note or the sustain pedal is queued as its raw bytes, which the session decodes to None and
the engine counts and ignores (a stray byte must never stop the band). Sysex, MIDI clock and
active sensing never reach the callback: rtmidi filters them (`ignore_types`).

Output sounds at once (`schedules_ahead` False): the session's `TimedDispatcher` hands each event
over at its time. A program change goes out on each part's channel before the first note; drum
parts get none, as a GM device plays channel 10 as drums whatever its program.

On Linux the ALSA sequencer is the MIDI system (a JACK setup reaches it through a2jmidid); where
it is missing (a container, a server without sound) opening ports is one `UserError` instead of
ALSA's messages on stderr and rtmidi's traceback. rtmidi is imported when a port is opened, so
that `import bandmate.live` stays light.
"""

from __future__ import annotations

import os
import queue
import sys
import threading
import time
from collections.abc import Iterable, Sequence

from bandmate.errors import UserError
from bandmate.live.events import (
    ALL_NOTES_OFF_CONTROLLER,
    SUSTAIN_CONTROLLER,
    OutputEvent,
    decode_midi,
)
from bandmate.live.transport import Clock, drain

ALSA_SEQUENCER = "/dev/snd/seq"
CLIENT_NAME = "bandmate"
VIRTUAL_IN, VIRTUAL_OUT = "bandmate in", "bandmate out"


def alsa_sequencer_available() -> bool:
    """Whether this is Linux with an ALSA sequencer device (which MIDI ports need there)."""
    return sys.platform.startswith("linux") and os.path.exists(ALSA_SEQUENCER)


def list_ports() -> tuple[list[str], list[str]]:
    """The names of the MIDI (input ports, output ports) there are now.

    Raises `UserError` when there is no MIDI system to ask.
    """
    midi_in, midi_out = _open_clients(inputs=True, outputs=True)
    try:
        return list(midi_in.get_ports()), list(midi_out.get_ports())
    finally:
        midi_in.delete()
        midi_out.delete()


def match_port(name: str, available: Sequence[str], kind: str) -> int:
    """The index in `available` of the port `name` means; `kind` is "input" or "output".

    An exact name wins; otherwise `name` must be a part of exactly one port's name, ignoring
    case. Raises `UserError`, in one sentence naming the ports there are, when no port or more
    than one matches.
    """
    if name in available:
        return list(available).index(name)
    wanted = name.casefold()
    found = [k for k, port in enumerate(available) if wanted in port.casefold()]
    if len(found) == 1:
        return found[0]
    if found:
        names = ", ".join(available[k] for k in found)
        raise UserError(
            f"{name!r} matches {len(found)} MIDI {kind} ports ({names}); give more of the name."
        )
    if not available:
        raise UserError(
            f"No MIDI {kind} port matches {name!r}; there are no MIDI {kind} ports "
            "(connect the device, or use --virtual)."
        )
    raise UserError(f"No MIDI {kind} port matches {name!r}; available: {', '.join(available)}.")


class MidiPortTransport:
    """A live session's MIDI ports: the player's input, the band's output (see the module docs).

    in_port, out_port: port names (or unique parts of them); None opens no port of that kind
    (input without output makes a `Duplex` with the built-in synth; output alone serves as the
    band's side of one). virtual: create "bandmate in" and "bandmate out" instead of opening
    ports. clock: the session clock, on which input events are stamped on arrival.
    """

    schedules_ahead = False

    def __init__(
        self,
        in_port: str | None = None,
        out_port: str | None = None,
        *,
        virtual: bool = False,
        clock: Clock = time.perf_counter,
    ):
        self.clock = clock
        self.in_name: str | None = None
        self.out_name: str | None = None
        self._inbox: queue.SimpleQueue = queue.SimpleQueue()
        self._out_lock = threading.Lock()  # the dispatcher and the panic send from two threads
        want_in = virtual or in_port is not None
        want_out = virtual or out_port is not None
        self._in, self._out = _open_clients(inputs=want_in, outputs=want_out)
        try:
            if self._in is not None:
                self.in_name = _open(self._in, in_port, VIRTUAL_IN, "input", virtual)
                self._in.ignore_types(sysex=True, timing=True, active_sense=True)
                self._in.set_callback(self._arrived)
            if self._out is not None:
                self.out_name = _open(self._out, out_port, VIRTUAL_OUT, "output", virtual)
        except BaseException:
            self.close()
            raise

    def _arrived(self, message: tuple[list[int], float], _data: object) -> None:
        # rtmidi's thread: stamp and queue, nothing more
        arrived = time.perf_counter()
        data = message[0]
        event = decode_midi(data, self.clock())
        self._inbox.put((bytes(data) if event is None else event, arrived))

    def open_parts(self, parts: Sequence) -> None:
        """A program change on the channel of each part that is not a drum kit."""
        for part in parts:
            if not part.is_drum:
                self._send_bytes(bytes((0xC0 | part.channel, part.program & 0x7F)))

    def receive(self, timeout_s: float) -> list[tuple[object, float]]:
        """What arrived, waiting up to `timeout_s` for the first: [(InputEvent or bytes,
        perf_counter arrival)]."""
        return drain(self._inbox, timeout_s)

    def send(self, event: OutputEvent) -> None:
        self._send_bytes(event.to_midi_bytes())

    def all_notes_off(self, channels: Iterable[int]) -> None:
        """The panic, per channel: the sustain pedal up, then all notes off (CC 64, CC 123)."""
        for channel in channels:
            self._send_bytes(bytes((0xB0 | channel, SUSTAIN_CONTROLLER, 0)))
            self._send_bytes(bytes((0xB0 | channel, ALL_NOTES_OFF_CONTROLLER, 0)))

    def _send_bytes(self, data: bytes) -> None:
        if self._out is not None:
            with self._out_lock:
                self._out.send_message(data)

    def close(self) -> None:
        """Close the ports (again is a no-op)."""
        if self._in is not None:
            self._in.cancel_callback()
            self._in.close_port()
            self._in.delete()
            self._in = None
        with self._out_lock:
            if self._out is not None:
                self._out.close_port()
                self._out.delete()
                self._out = None


def _open_clients(*, inputs: bool, outputs: bool):
    """(rtmidi.MidiIn or None, rtmidi.MidiOut or None), or one UserError when there is no MIDI
    system to open them on."""
    if not (inputs or outputs):
        return None, None
    linux = sys.platform.startswith("linux")
    if linux and not alsa_sequencer_available():
        # checked first: rtmidi would fail too, but after ALSA printed its own errors on stderr
        raise UserError(_no_midi_message(f"no ALSA sequencer: {ALSA_SEQUENCER} is missing"))
    try:
        import rtmidi
    except ImportError as e:
        raise UserError(
            f"MIDI ports need python-rtmidi, which cannot be imported ({e}); reinstall bandmate "
            "or run `pip install python-rtmidi`."
        ) from e
    api = rtmidi.API_LINUX_ALSA if linux else rtmidi.API_UNSPECIFIED
    midi_in = midi_out = None
    try:
        if inputs:
            midi_in = rtmidi.MidiIn(api, CLIENT_NAME)
        if outputs:
            midi_out = rtmidi.MidiOut(api, CLIENT_NAME)
    except rtmidi.RtMidiError as e:
        if midi_in is not None:
            midi_in.delete()
        raise UserError(_no_midi_message(f"rtmidi: {e}")) from e
    return midi_in, midi_out


def _no_midi_message(reason: str) -> str:
    return (
        f"There is no MIDI system to open ports on ({reason}); play a recorded performance "
        "with --simulate, or from the browser with --websocket, and hear the band with --synth."
    )


def _open(client, name: str | None, virtual_name: str, kind: str, virtual: bool) -> str:
    """Open `client`'s port `name` (or a virtual one) and return the name it has."""
    import rtmidi

    if virtual:
        try:
            client.open_virtual_port(virtual_name)
        except rtmidi.RtMidiError as e:
            raise UserError(
                f"Virtual MIDI ports cannot be created here ({e}); open the device's own ports "
                "with --in and --out instead."
            ) from e
        return virtual_name
    available = client.get_ports()
    index = match_port(name, available, kind)
    try:
        client.open_port(index, f"{CLIENT_NAME} {'in' if kind == 'input' else 'out'}")
    except rtmidi.RtMidiError as e:
        raise UserError(
            f"The MIDI {kind} port {available[index]!r} could not be opened ({e}); check that "
            "no other program holds it."
        ) from e
    return available[index]
