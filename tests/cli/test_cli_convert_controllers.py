"""`bandmate render` and `bandmate convert` on MIDI files that play with controllers (pedal,
bends, pan, volume), which a bandmate Score does not hold: the user is told what is left out."""

from __future__ import annotations

import mido
import pytest
import soundfile as sf

from tests.builders import run_cli, sha256


def write_midi_file(path, *controls: mido.Message):
    """A bar of piano (C major chord, an eighth note long) after `controls`, on channel 1, and a
    bass on channel 2 with its own volume and pan at their usual values."""
    midi = mido.MidiFile(ticks_per_beat=480)
    piano, bass = mido.MidiTrack(), mido.MidiTrack()
    piano.append(mido.Message("program_change", program=0))
    piano.extend(controls)
    for pitch in (60, 64, 67):
        piano.append(mido.Message("note_on", note=pitch, velocity=90))
    for k, pitch in enumerate((60, 64, 67)):
        piano.append(mido.Message("note_off", note=pitch, time=240 if k == 0 else 0))
    piano.append(mido.MetaMessage("end_of_track", time=1680))
    bass.extend(
        [
            mido.Message("program_change", channel=1, program=33),
            mido.Message("control_change", channel=1, control=10, value=64),
            mido.Message("control_change", channel=1, control=11, value=127),
            mido.Message("note_on", channel=1, note=36, velocity=90),
            mido.Message("note_off", channel=1, note=36, time=1920),
        ]
    )
    midi.tracks.extend([piano, bass])
    midi.save(path)
    return path


def cc(control: int, value: int) -> mido.Message:
    return mido.Message("control_change", control=control, value=value)


def test_render_says_the_sustain_pedal_is_not_played(tmp_path):
    # the pedal held a chord over the bar; the render cut it to the keys' eighth note, silently
    song = write_midi_file(tmp_path / "pedal.mid", cc(64, 127))
    before = sha256(song)
    out = tmp_path / "pedal.wav"
    result = run_cli("render", song, "-o", out)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "warning" in lines[0]
    assert "sustain pedal" in lines[0] and "not played" in lines[0]
    assert sf.info(out).frames > 0 and sha256(song) == before


def test_convert_says_bends_and_pan_are_not_carried_over(tmp_path):
    bend = mido.Message("pitchwheel", pitch=4096)
    song = write_midi_file(tmp_path / "bend.mid", cc(10, 20), bend)
    out = tmp_path / "out.mid"
    result = run_cli("convert", song, "-o", out)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "warning" in lines[0]
    assert "pan (CC10) and pitch bends" in lines[0] and "not carried into" in lines[0]
    assert f"{out}:" in lines[0]
    assert not any(m.type == "pitchwheel" for t in mido.MidiFile(out).tracks for m in t)


@pytest.mark.parametrize("command", ["render", "convert"])
def test_controllers_at_their_usual_values_warn_of_nothing(tmp_path, command):
    # what DAWs write at the start of every track: volume 100, pan centre, pedal up, no bend
    song = write_midi_file(
        tmp_path / "plain.mid",
        cc(7, 100),
        cc(10, 64),
        cc(64, 0),
        cc(0, 0),
        mido.Message("pitchwheel", pitch=0),
    )
    out = tmp_path / ("out.wav" if command == "render" else "out.mid")
    result = run_cli(command, song, "-o", out)
    assert result.returncode == 0 and result.stderr == ""


def test_one_kind_of_controller_is_named_in_the_right_number(tmp_path):
    # "uses pitch bends, which is not played"
    bends = write_midi_file(tmp_path / "bends.mid", mido.Message("pitchwheel", pitch=2048))
    pedal = write_midi_file(tmp_path / "pedal.mid", cc(64, 127))
    said = {
        name: run_cli("render", song, "-o", tmp_path / f"{name}.wav").stderr
        for name, song in (("bends", bends), ("pedal", pedal))
    }
    assert "uses pitch bends, which are not played" in said["bends"]
    assert "uses the sustain pedal (CC64), which is not played" in said["pedal"]
