"""`bandmate render` and `bandmate convert` on MIDI files that play with controllers (pedal,
bends, pan, volume): render plays them, convert carries them into MIDI, and the user is told of
what is left out (bank selects; every controller in MusicXML)."""

from __future__ import annotations

import mido
import numpy as np
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


def piano_stem_level_db(tmp_path, name: str, *controls: mido.Message) -> float:
    """The level of the piano's stem (dBFS RMS) from 0.4 to 0.9 s, its chord's keys let go at
    0.25 s, as `bandmate render` plays the file with `controls` before the chord."""
    song = write_midi_file(tmp_path / f"{name}.mid", *controls)
    before = sha256(song)
    stems = tmp_path / f"{name}-stems"
    result = run_cli("render", song, "-o", tmp_path / f"{name}.wav", "--stems", stems)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert sha256(song) == before
    samples, rate = sf.read(sorted(stems.iterdir())[0])
    held = samples[int(0.4 * rate) : int(0.9 * rate)]
    return 10 * np.log10(np.mean(held**2) + 1e-30)


def test_render_plays_the_sustain_pedal(tmp_path):
    # the pedal holds the chord over the bar; the render cut it to the keys' eighth note
    lifted = piano_stem_level_db(tmp_path, "lifted", cc(64, 0))
    held = piano_stem_level_db(tmp_path, "held", cc(64, 127))
    assert held > lifted + 15, (held, lifted)
    assert held > -55


def test_render_plays_pitch_bends(tmp_path):
    # a lead note bent up a whole tone (the default bend range) sounds a B, not the A it struck
    midi = mido.MidiFile(ticks_per_beat=480)
    lead = mido.MidiTrack()
    lead.append(mido.Message("program_change", program=80))
    lead.append(mido.Message("pitchwheel", pitch=8191))
    lead.append(mido.Message("note_on", note=69, velocity=90))
    lead.append(mido.Message("note_off", note=69, time=1920))
    midi.tracks.append(lead)
    midi.save(tmp_path / "bend.mid")
    result = run_cli("render", tmp_path / "bend.mid", "-o", tmp_path / "bend.wav")
    assert result.returncode == 0 and result.stderr == "", result.stderr
    samples, rate = sf.read(tmp_path / "bend.wav")
    window = samples[int(0.2 * rate) : int(0.9 * rate)].mean(axis=1)
    spectrum = np.abs(np.fft.rfft(window * np.hanning(len(window))))
    hz = np.fft.rfftfreq(len(window), 1 / rate)
    band = (hz > 300) & (hz < 700)
    assert abs(hz[band][np.argmax(spectrum[band])] - 493.9) < 5


def test_convert_carries_bends_pan_and_the_pedal_into_midi(tmp_path):
    bend = mido.Message("pitchwheel", pitch=4096)
    song = write_midi_file(tmp_path / "bend.mid", cc(10, 20), bend, cc(64, 127))
    out = tmp_path / "out.mid"
    result = run_cli("convert", song, "-o", out)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    piano = next(t for t in mido.MidiFile(out).tracks if any(m.type == "pitchwheel" for m in t))
    kept = [(m.type, getattr(m, "control", None), getattr(m, "value", getattr(m, "pitch", 0)))
            for m in piano if m.type in ("control_change", "pitchwheel")]  # fmt: skip
    assert kept == [("control_change", 10, 20), ("pitchwheel", None, 4096),
                    ("control_change", 64, 127)]  # fmt: skip


def test_convert_to_musicxml_says_the_controllers_are_not_carried_over(tmp_path):
    bend = mido.Message("pitchwheel", pitch=4096)
    song = write_midi_file(tmp_path / "bend.mid", cc(10, 20), bend)
    out = tmp_path / "out.musicxml"
    result = run_cli("convert", song, "-o", out)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "warning" in lines[0]
    assert "pan (CC10) and pitch bends" in lines[0] and "not carried into" in lines[0]
    assert f"{out}:" in lines[0] and "MusicXML" in lines[0]


def test_render_says_a_bank_select_is_not_played(tmp_path):
    # a GS/XG variation (bank 8 of the strings): bandmate plays the General MIDI program
    song = write_midi_file(tmp_path / "bank.mid", cc(0, 8), cc(64, 127))
    result = run_cli("render", song, "-o", tmp_path / "bank.wav")
    assert result.returncode == 0, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "warning" in lines[0]
    assert "uses bank select (CC0/CC32), which is not played" in lines[0]
    assert "sustain" not in lines[0]


@pytest.mark.parametrize("out", ["out.wav", "out.mid", "out.musicxml"])
def test_controllers_at_their_usual_values_warn_of_nothing(tmp_path, out):
    # what DAWs write at the start of every track: volume 100, pan centre, pedal up, no bend
    song = write_midi_file(
        tmp_path / "plain.mid",
        cc(7, 100),
        cc(10, 64),
        cc(64, 0),
        cc(0, 0),
        mido.Message("pitchwheel", pitch=0),
    )
    command = "render" if out.endswith(".wav") else "convert"
    result = run_cli(command, song, "-o", tmp_path / out)
    assert result.returncode == 0 and result.stderr == ""


def test_one_kind_of_controller_is_named_in_the_right_number(tmp_path):
    # "uses pitch bends, which is not carried"
    bends = write_midi_file(tmp_path / "bends.mid", mido.Message("pitchwheel", pitch=2048))
    pedal = write_midi_file(tmp_path / "pedal.mid", cc(66, 127))
    said = {
        name: run_cli("convert", song, "-o", tmp_path / f"{name}.musicxml").stderr
        for name, song in (("bends", bends), ("pedal", pedal))
    }
    assert "uses pitch bends, which are not carried" in said["bends"]
    assert "uses the sostenuto pedal (CC66), which is not carried" in said["pedal"]


def test_convert_to_musicxml_writes_the_sustain_pedal_as_pedal_marks(tmp_path):
    song = write_midi_file(tmp_path / "pedal.mid", cc(64, 127))
    out = tmp_path / "out.musicxml"
    result = run_cli("convert", song, "-o", out)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    text = out.read_text()
    assert text.count('<pedal number="1" sign="yes" type="start"') == 1
    assert 'type="stop"' in text


def test_pedal_marks_over_two_voices_are_written_start_before_stop(tmp_path):
    # chords held over the bar line in one voice and a melody note in another: a mark began in
    # voice 2 and stopped in voice 1 of one bar, was written stop first, and reading the file
    # printed music21's warning and lost the mark
    midi = mido.MidiFile(ticks_per_beat=480)
    track = mido.MidiTrack()
    events = [(500, cc(64, 127)), (2400, cc(64, 0)), (2420, cc(64, 127)), (4320, cc(64, 0))]
    for onset, length, pitch in ((0, 480, 67), (480, 2880, 48), (480, 2880, 55), (1440, 480, 72),
                                 (2400, 1920, 48), (2400, 1920, 55), (3360, 480, 73)):  # fmt: skip
        events += [(onset, mido.Message("note_on", note=pitch, velocity=80)),
                   (onset + length, mido.Message("note_off", note=pitch))]  # fmt: skip
    now = 0
    for tick, msg in sorted(events, key=lambda e: (e[0], e[1].type != "note_off")):
        track.append(msg.copy(time=tick - now))
        now = tick
    midi.tracks.append(track)
    midi.save(tmp_path / "held.mid")
    out = tmp_path / "held.musicxml"
    assert run_cli("convert", tmp_path / "held.mid", "-o", out).returncode == 0
    said = run_cli("info", out)
    assert said.returncode == 0 and said.stderr == "", said.stderr
    assert "4 controller changes (sustain pedal)" in said.stdout
