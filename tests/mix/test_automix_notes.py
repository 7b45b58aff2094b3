"""Notes a user can act on."""

from __future__ import annotations

import numpy as np
import pytest

from bandmate.errors import UserError
from bandmate.io.audio import Audio
from bandmate.mix.automix import automix

RATE = 44_100


def _tone(freq_hz: float, amplitude: float) -> Audio:
    t = np.arange(3 * RATE) / RATE
    return Audio((amplitude * np.sin(2 * np.pi * freq_hz * t)).astype(np.float32), RATE)


def test_a_stem_under_the_gate_is_said_to_be_inaudible_and_what_to_do():
    # "it goes into the mix as it came" left a user to guess that the part would not be heard
    _, report = automix([("Bass.wav", _tone(80, 0.3)), ("Keys.wav", _tone(440, 1e-4))])
    assert report.stems[1].silent
    (note,) = [n for n in report.notes if "Keys.wav" in n]
    assert "not be heard" in note
    assert "export it again" in note


def test_two_stems_of_one_name_are_refused():
    # the report had two rows named "bass.wav", and a level for it could not say which
    with pytest.raises(UserError, match=r"Two stems are named 'bass\.wav'"):
        automix([("bass.wav", _tone(80, 0.3)), ("bass.wav", _tone(82, 0.2))])
