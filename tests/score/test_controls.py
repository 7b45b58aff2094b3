"""Controller changes in a Score (`Control`): the pedal, bends and mix moves a keyboard or a DAW
writes, kept through the edits that move time."""

from __future__ import annotations

import pytest

from bandmate.score import Control, Note, Track, rescale, slice_ticks
from bandmate.score.model import PITCH_BEND
from tests.builders import TPB, make_score, notes


def pedal(*changes: tuple[float, int]) -> tuple[Control, ...]:
    """Sustain-pedal changes from (beat, value) pairs."""
    return tuple(Control(round(b * TPB), 64, v) for b, v in changes)


def test_a_pedal_holds_the_last_note_until_it_is_released():
    track = Track("Piano", notes=notes((0, 1, 60)), controls=pedal((0, 127), (3, 0)))
    assert track.end_ticks == TPB
    assert track.held_until_ticks == 3 * TPB


def test_a_pedal_lifted_before_the_last_note_ends_holds_nothing():
    track = Track("Piano", notes=notes((0, 2, 60)), controls=pedal((0, 127), (1, 0), (5, 127)))
    assert track.held_until_ticks == 2 * TPB  # pressed again after the music: nothing to hold


def test_a_pedal_never_released_holds_to_the_end_the_caller_sets():
    assert (
        Track("Piano", notes=notes((0, 1, 60)), controls=pedal((0, 127))).held_until_ticks is None
    )


def test_controls_at_one_tick_keep_their_order():
    # a pitch-bend range (RPN 0) is set by 101, 100, then 6, in that order
    rpn = (Control(0, 101, 0), Control(0, 100, 0), Control(0, 6, 12))
    track = Track("Lead", notes=notes((0, 1, 69)), controls=(Control(TPB, PITCH_BEND, 100), *rpn))
    assert track.controls == (*rpn, Control(TPB, PITCH_BEND, 100))


@pytest.mark.parametrize(
    ("number", "value"), [(64, 128), (7, -1), (PITCH_BEND, 8192), (PITCH_BEND, -8193), (130, 0)]
)
def test_a_controller_out_of_range_is_refused(number, value):
    with pytest.raises(ValueError):
        Control(0, number, value)


def test_a_slice_starts_with_the_pedal_and_volume_in_force_there():
    controls = (
        Control(0, 7, 90),
        *pedal((0, 127), (2, 0), (4, 127), (6, 0)),
        Control(5 * TPB, 7, 60),
    )
    track = Track("Piano", notes=notes((4, 1, 60), (5, 1, 62)), controls=controls)
    start = 4 * TPB + 240
    sliced = slice_ticks(make_score(track), start, 8 * TPB).tracks[0]
    # the volume and the pedal as they were at the cut, then the pedal's release inside it
    assert sliced.controls == (
        Control(0, 7, 90),
        Control(0, 64, 127),
        Control(5 * TPB - start, 7, 60),
        Control(6 * TPB - start, 64, 0),
    )
    assert sliced.notes == (Note(240, TPB, 62, 90),)


def test_a_new_resolution_moves_the_controls_with_the_notes():
    track = Track("Piano", notes=notes((1, 1, 60)), controls=pedal((1, 127), (2.5, 0)))
    moved = rescale(make_score(track), TPB * 2).tracks[0]
    assert moved.controls == tuple(Control(c.onset_ticks * 2, 64, c.value) for c in track.controls)


def test_a_reset_of_all_controllers_lets_the_pedal_go():
    controls = (*pedal((0, 127)), Control(3 * TPB, 121, 0))
    assert Track("Piano", notes=notes((0, 1, 60)), controls=controls).held_until_ticks == 3 * TPB


def test_a_slice_keeps_a_bend_range_set_before_it_in_its_order():
    # the range set to 6 semitones and the parameter then closed (RPN 127/127), as sequencers
    # write it: kept as the last value of each controller, the close came before the setting
    rpn = [(101, 0), (100, 0), (6, 6), (38, 0), (101, 127), (100, 127)]
    controls = (*(Control(0, n, v) for n, v in rpn), Control(TPB, PITCH_BEND, 4096))
    track = Track("Lead", notes=notes((0, 4, 69)), controls=controls)
    sliced = slice_ticks(make_score(track), 2 * TPB, 4 * TPB).tracks[0]
    assert sliced.controls == (*(Control(0, n, v) for n, v in rpn), Control(0, PITCH_BEND, 4096))
