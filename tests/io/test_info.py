"""`describe_score`: what `bandmate info` prints about a score."""

from bandmate.io.info import MAX_LISTED, describe_score
from bandmate.score import Control, Score, TempoChange, Track
from bandmate.score.model import PITCH_BEND
from tests.builders import notes


def test_a_tempo_change_every_beat_is_summed_up_not_listed_one_by_one():
    # a file with a tempo event on every beat (a rubato recording) printed 200 tempos on a line
    tempos = tuple(TempoChange.from_bpm(i * 480, 60 + i) for i in range(200))
    score = Score(tracks=(Track("Piano", notes=notes((0, 200, 60))),), tempos=tempos)
    tempo = dict(describe_score(score))["tempo"]
    assert tempo.startswith("60, 61, 62") and "(200 in all); 60 to 259 BPM" in tempo
    assert tempo.count(",") <= MAX_LISTED
    few = Score(tracks=(Track("Piano", notes=notes((0, 8, 60))),), tempos=tempos[:3])
    assert dict(describe_score(few))["tempo"] == "60, 61, 62 BPM"


def test_a_tracks_pedal_and_bends_are_listed():
    controls = (Control(0, 64, 127), Control(480, PITCH_BEND, 100), Control(960, 64, 0))
    score = Score(tracks=(Track("Piano", notes=notes((0, 2, 60)), controls=controls),))
    (track,) = [value for label, value in describe_score(score) if label.startswith("track")]
    assert track == "other, program 0, 1 note, 3 controller changes (sustain pedal, pitch bend)"
