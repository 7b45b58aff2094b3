"""MIDI ports: finding a port by name, the errors a person sees, and a note through real ports.

Port names are matched by plain logic, tested against lists of names as ALSA gives them. The
round trip through virtual ports needs an ALSA sequencer; where there is none (a container, a CI
runner without sound) the test of the one-sentence error runs instead.
"""

from __future__ import annotations

import time

import pytest

from bandmate.errors import UserError
from bandmate.live.events import NOTE_OFF, NOTE_ON, InputEvent, OutputEvent
from bandmate.live.ports import (
    VIRTUAL_IN,
    VIRTUAL_OUT,
    MidiPortTransport,
    alsa_sequencer_available,
    list_ports,
    match_port,
)
from bandmate.live.voices import Part
from bandmate.score.model import Role

ALSA_PORTS = [
    "Midi Through:Midi Through Port-0 14:0",
    "Keystation 49 MK3:Keystation 49 MK3 MIDI 1 24:0",
    "Keystation 49 MK3:Keystation 49 MK3 MIDI 2 24:1",
    "FLUID Synth (1234):Synth input port (1234:0) 128:0",
]
NO_SEQUENCER = (
    "no ALSA sequencer on this machine (/dev/snd/seq missing); virtual MIDI ports cannot be created"
)


def test_an_exact_name_wins_even_when_it_is_part_of_another():
    ports = ["Piano", "Piano 2"]
    assert match_port("Piano", ports, "input") == 0


def test_a_unique_part_of_a_name_finds_the_port_ignoring_case():
    assert match_port("fluid", ALSA_PORTS, "output") == 3
    assert match_port("MIDI 2", ALSA_PORTS, "input") == 2
    assert match_port(ALSA_PORTS[1], ALSA_PORTS, "input") == 1


def test_an_unknown_name_is_one_sentence_listing_the_ports():
    with pytest.raises(UserError) as e:
        match_port("roland", ["A", "B"], "input")
    assert str(e.value) == "No MIDI input port matches 'roland'; available: A, B."


def test_with_no_ports_at_all_the_error_says_so():
    with pytest.raises(UserError) as e:
        match_port("roland", [], "output")
    message = str(e.value)
    assert message.startswith(
        "No MIDI output port matches 'roland'; there are no MIDI output ports"
    )
    assert "\n" not in message and message.endswith(".")


def test_an_ambiguous_name_lists_the_ports_it_matches():
    with pytest.raises(UserError) as e:
        match_port("keystation", ALSA_PORTS, "input")
    message = str(e.value)
    assert "matches 2 MIDI input ports" in message
    assert ALSA_PORTS[1] in message and ALSA_PORTS[2] in message
    assert ALSA_PORTS[0] not in message
    assert "\n" not in message


@pytest.mark.skipif(alsa_sequencer_available(), reason="this machine has an ALSA sequencer")
def test_without_a_midi_system_opening_ports_is_one_user_error():
    for opener in (
        lambda: MidiPortTransport("keystation", None),
        lambda: MidiPortTransport(None, "fluid"),
        lambda: MidiPortTransport(virtual=True),
        list_ports,
    ):
        with pytest.raises(UserError) as e:
            opener()
        message = str(e.value)
        assert "\n" not in message
        assert "no ALSA sequencer" in message and "--simulate" in message


def test_no_ports_asked_for_opens_nothing_and_receives_nothing():
    transport = MidiPortTransport(None, None)
    assert transport.receive(0.0) == []
    transport.send(OutputEvent(0.0, "Bass", 1, 40, 90))  # nowhere to go: dropped
    transport.close()


@pytest.mark.skipif(not alsa_sequencer_available(), reason=NO_SEQUENCER)
def test_a_note_goes_through_virtual_ports_both_ways():
    import rtmidi

    transport = MidiPortTransport(virtual=True)
    keyboard, listener = rtmidi.MidiOut(), rtmidi.MidiIn()
    heard: list[list[int]] = []
    try:
        keyboard.open_port(match_port(VIRTUAL_IN, keyboard.get_ports(), "output"))
        listener.open_port(match_port(VIRTUAL_OUT, listener.get_ports(), "input"))
        listener.set_callback(lambda message, _: heard.append(message[0]))

        keyboard.send_message([0x90, 60, 100])
        keyboard.send_message([0xF8])  # MIDI clock: filtered out
        keyboard.send_message([0xB0, 7, 100])  # volume: not for the engine, passed on as bytes
        keyboard.send_message([0x80, 60, 0])
        items, deadline = [], time.monotonic() + 2.0
        while len(items) < 3 and time.monotonic() < deadline:
            items += transport.receive(0.05)
        events = [item for item, _ in items]
        assert isinstance(events[0], InputEvent) and events[0][1:] == (NOTE_ON, 60, 100)
        assert events[1] == bytes((0xB0, 7, 100))
        assert isinstance(events[2], InputEvent) and events[2][1:] == (NOTE_OFF, 60, 0)
        assert all(isinstance(t, float) for _, t in items)

        transport.open_parts(
            [Part("Bass", 1, 33, Role.BASS), Part("Drums", 9, 0, Role.DRUMS, True)]
        )
        transport.send(OutputEvent(0.0, "Bass", 1, 40, 90))
        transport.send(OutputEvent(0.1, "Bass", 1, 40, 0))
        transport.all_notes_off([1])
        deadline = time.monotonic() + 2.0
        while len(heard) < 5 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert heard == [
            [0xC1, 33],  # the bass's program; the drums get none
            [0x91, 40, 90],
            [0x81, 40, 64],
            [0xB1, 64, 0],
            [0xB1, 123, 0],
        ]
    finally:
        listener.delete()
        keyboard.delete()
        transport.close()
