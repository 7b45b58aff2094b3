"""`bandmate jam` as a user runs it: a simulated performance or a browser over the WebSocket
gives a session file and a latency report; bad input is one line and exit 2."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time

import pytest
from websockets.sync.client import connect

from bandmate.cli import main
from bandmate.io.midi import read_midi
from bandmate.live.events import NOTE_ON, InputEvent
from bandmate.live.performance import perform_chart, write_performance
from bandmate.live.ports import alsa_sequencer_available
from tests.builders import assert_user_error


def jam(capsys, *args) -> subprocess.CompletedProcess:
    code = main(["jam", *map(str, args)])
    out = capsys.readouterr()
    return subprocess.CompletedProcess(args, code, out.out, out.err)


@pytest.fixture(scope="module")
def performance(tmp_path_factory):
    path = tmp_path_factory.mktemp("jam") / "performance.mid"
    perf = perform_chart("| C | Am7 | Dm7 | G7 |", tempo_bpm=120, choruses=2, pedal=True)
    write_performance(path, perf.events, tempo_bpm=120)
    return path


def test_session_has_the_player_and_the_band(capsys, performance, tmp_path):
    out, report = tmp_path / "session.mid", tmp_path / "latency.json"
    result = jam(capsys, "--simulate", performance, "-o", out, "--latency-report", report)
    assert result.returncode == 0, result.stderr
    score = read_midi(out)
    names = [t.name for t in score.tracks]
    assert names[0] == "Player" and {"Drums", "Bass", "Piano"} <= set(names)
    assert all(t.notes for t in score.tracks)
    assert [str(c.symbol) for c in score.chords][:2] == ["C", "Am7"]
    data = json.loads(report.read_text())
    assert {"p50_ms", "p99_ms", "max_ms", "events_received", "events_ignored"} <= set(data)
    assert data["events_ignored"] == 0 and data["output_events"] > 0


def test_style_and_mode(capsys, performance, tmp_path):
    out = tmp_path / "session.mid"
    result = jam(capsys, "--simulate", performance, "--style", "jazz-swing", "--mode", "full",
                 "-o", out)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Bass" in [t.name for t in read_midi(out).tracks]


@pytest.mark.parametrize(
    ("content", "words"),
    [(b"not a midi file", ("not a MIDI file",)), (b"MThd\x00\x00\x00\x06\x00", ("truncated",))],
)
def test_a_bad_performance_is_one_line(capsys, tmp_path, content, words):
    bad = tmp_path / "bad.mid"
    bad.write_bytes(content)
    result = jam(capsys, "--simulate", bad, "-o", tmp_path / "s.mid")
    assert_user_error(result, *words)


def test_missing_file_unknown_style_and_no_simulate(capsys, performance, tmp_path):
    out = tmp_path / "s.mid"
    assert_user_error(jam(capsys, "--simulate", tmp_path / "none.mid", "-o", out), "exist")
    assert_user_error(
        jam(capsys, "--simulate", performance, "--style", "polka", "-o", out), "style"
    )
    assert_user_error(jam(capsys, "-o", out), "--simulate")
    assert_user_error(
        jam(capsys, "--simulate", performance, "--split-note", "H9", "-o", out), "split"
    )


def test_a_drum_track_in_the_performance_is_not_read_as_chords(capsys, tmp_path):
    """A performance recorded with a drum track (channel 10, as a DAW or a controller's pads
    write it): the kick, snare and hats lie below the split, but the band hears the player's
    chords, and the Player track holds only the keys."""
    import mido

    played, out = tmp_path / "with-drums.mid", tmp_path / "session.mid"
    report = tmp_path / "latency.json"
    perf = perform_chart("| C | Am | Dm | G |", tempo_bpm=120, choruses=2, melody=False, seed=2)
    write_performance(played, perf.events, tempo_bpm=120)
    midi = mido.MidiFile(played)
    drums = mido.MidiTrack()
    for beat in range(32):
        pitch = (36, 42, 38, 42)[beat % 4]
        drums.append(mido.Message("note_on", channel=9, note=pitch, velocity=100, time=0))
        drums.append(mido.Message("note_off", channel=9, note=pitch, time=240))
        drums[-2].time = 240 if beat else 0
    midi.tracks.append(drums)
    midi.save(played)
    result = jam(capsys, "--simulate", played, "-o", out, "--latency-report", report)
    assert result.returncode == 0, result.stderr
    session = read_midi(out)
    assert [str(c.symbol) for c in session.chords] == ["C", "Am", "Dm", "G"] * 2
    player = next(t for t in session.tracks if t.name == "Player")
    assert len(player.notes) == sum(e.kind == NOTE_ON for e in perf.events)
    assert json.loads(report.read_text())["file_events_ignored"] == 64


def test_bad_live_options_are_one_line(capsys, performance, tmp_path):
    out = tmp_path / "s.mid"
    assert_user_error(jam(capsys, "--simulate", performance, "--play", "tuba", "-o", out), "tuba")
    assert_user_error(jam(capsys, "--websocket", "nine", "--seconds", "1"), "port")
    assert_user_error(jam(capsys, "--simulate", performance), "-o")
    assert_user_error(jam(capsys, "--simulate", performance, "--synth", "-o", out), "live")
    assert_user_error(jam(capsys, "--websocket", "0", "--seconds", "0"), "seconds")


def test_options_at_their_edges_are_one_line(capsys, performance, tmp_path):
    """C-1 is a pitch but leaves no left hand; numpy refuses negative seeds; --seconds nan
    would end a live session at once."""
    out = tmp_path / "s.mid"
    for args, words in [
        (("--split-note", "C-1"), ("split-note", "C-1")),
        (("--seed", "-1"), ("seed", "-1")),
        (("--tempo", "401"), ("Tempo 401 BPM is outside 20-400",)),  # as the web page says
        (("--tempo", "nan"), ("Tempo nan BPM",)),
    ]:
        assert_user_error(jam(capsys, "--simulate", performance, *args, "-o", out), *words)
    assert_user_error(jam(capsys, "--websocket", "0", "--seconds", "nan"), "seconds")
    assert not out.exists()


def test_the_report_names_the_parts_played(capsys, performance, tmp_path):
    out, report = tmp_path / "s.mid", tmp_path / "latency.json"
    result = jam(capsys, "--simulate", performance, "--play", "band,,chorale,band", "-o", out,
                 "--latency-report", report)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(report.read_text())["play"] == ["band", "chorale"]


def test_a_performance_without_chords_says_why_the_band_was_silent(capsys, tmp_path):
    """A melody alone: the band waits for a chord that never comes. The session was written
    with silent band tracks and not a word."""
    played, out = tmp_path / "melody.mid", tmp_path / "session.mid"
    melody = [InputEvent.note_on(0.5 * i, 60 + i % 12) for i in range(16)]
    melody += [InputEvent.note_off(0.5 * i + 0.4, 60 + i % 12) for i in range(16)]
    write_performance(played, sorted(melody), tempo_bpm=120)
    result = jam(capsys, "--simulate", played, "-o", out)
    assert result.returncode == 0, result.stderr
    assert "band never came in" in result.stderr and "below --split-note G3" in result.stderr
    assert not any(t.notes for t in read_midi(out).tracks if t.name != "Player")
    result = jam(capsys, "--simulate", played, "-o", out, "--force", "--play", "chorale")
    assert result.returncode == 0 and "never came in" not in result.stderr  # no band to wait for


def test_the_report_and_the_session_on_one_path_are_refused(capsys, performance, tmp_path):
    """The report was written over the session just written: the user got a JSON file."""
    out = tmp_path / "session.mid"
    result = jam(capsys, "--simulate", performance, "-o", out, "--latency-report", out)
    assert_user_error(result, "same file")
    assert not out.exists()


def test_a_performance_that_is_a_folder_is_said_to_be_one(capsys, tmp_path):
    result = jam(capsys, "--simulate", tmp_path, "-o", tmp_path / "s.mid")
    assert_user_error(result, "is not a file")


@pytest.mark.skipif(
    alsa_sequencer_available(), reason="this machine has an ALSA sequencer, so ports can open"
)
def test_midi_ports_without_a_midi_system_are_one_line(capsys):
    assert_user_error(jam(capsys, "--list-ports"), "ALSA")
    assert_user_error(jam(capsys, "--in", "Keystation", "--seconds", "1"), "ALSA")


def test_a_browser_plays_and_the_session_is_written(tmp_path):
    """The command as a user runs it, in its own process: a page connects over the WebSocket,
    holds C major, and hears the band; SIGTERM (as a service manager stops it; a background
    process may have SIGINT ignored) ends it and writes the session."""
    out = tmp_path / "session.mid"
    command = [sys.executable, "-m", "bandmate.cli", "jam", "--websocket", "0", "-o", str(out),
               "--play", "band,chorale", "--tempo", "120"]  # fmt: skip
    keys = (36, 40, 43, 72)  # C major in the left hand (below the split, G3), C5 in the right
    notes = []
    with subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True) as p:
        try:
            line = p.stderr.readline()
            port = int(re.search(r"ws://127\.0\.0\.1:(\d+)", line).group(1))
            # a browser reads every message; an unbounded queue keeps this page from stalling
            # the band's sends while the test is not reading
            with connect(f"ws://127.0.0.1:{port}", max_queue=None) as page:
                for pitch in keys:
                    page.send(json.dumps({"type": "note_on", "pitch": pitch, "velocity": 90}))
                deadline = time.monotonic() + 5
                while time.monotonic() < deadline and not {"Bass", "Choir"} <= {
                    m["part"] for m in notes
                }:
                    message = json.loads(page.recv(timeout=5))
                    if message["type"] == "note" and message["velocity"] > 0:
                        notes.append(message)
                for pitch in keys:
                    page.send(json.dumps({"type": "note_off", "pitch": pitch}))
            p.send_signal(signal.SIGTERM)
            stdout, stderr = p.communicate(timeout=60)
        finally:
            p.kill()
    assert p.returncode == 0, stderr
    parts = {m["part"] for m in notes}
    assert {"Bass", "Choir"} <= parts, parts
    names = [t.name for t in read_midi(out).tracks]
    assert names[0] == "Player" and {"Drums", "Bass", "Choir"} <= set(names)
    assert "wrote" in stdout


def test_a_performance_in_seven_eight_gets_a_band_in_seven_eight(capsys, tmp_path):
    """The session was written in 7/8 while the band played the style's 4/4 bars through it;
    the band now takes the performance's meter, a kick on each of the player's bar lines."""
    import numpy as np

    path, out = tmp_path / "in.mid", tmp_path / "session.mid"
    perf = perform_chart("(7/8) | C | Am | F | G |", tempo_bpm=110, choruses=3, seed=2)
    write_performance(path, perf.events, tempo_bpm=110, meter=(7, 8))
    assert jam(capsys, "--simulate", path, "--style", "pop", "-o", out).returncode == 0
    session = read_midi(out)
    assert [(s.numerator, s.denominator) for s in session.time_signatures] == [(7, 8)]
    drums = next(t for t in session.tracks if t.name == "Drums")
    kicks = np.array([n.onset_ticks for n in drums.notes if n.pitch == 36])
    seconds = [session.tempo_map.seconds_at(int(k)) for k in kicks]
    bar_s = 3.5 * 60 / 110
    lines = [perf.time_of(3.5 * b) for b in range(1, int(perf.beat_times[-1] / bar_s) - 1)]
    misses_ms = [1000 * min(abs(s - at) for s in seconds) for at in lines]
    assert max(misses_ms) < 40, misses_ms


def test_the_meter_can_be_given_and_a_bad_one_is_one_line(capsys, performance, tmp_path):
    out = tmp_path / "s.mid"
    assert jam(capsys, "--simulate", performance, "--meter", "3/4", "-o", out).returncode == 0
    assert read_midi(out).time_signatures[0].numerator == 3
    out.unlink()
    assert_user_error(jam(capsys, "--simulate", performance, "--meter", "waltz", "-o", out),
                      "--meter", "3/4")  # fmt: skip
    assert_user_error(jam(capsys, "--simulate", performance, "--meter", "0/4", "-o", out), "meter")
    assert not out.exists()


def test_the_browser_may_connect_over_ipv6(capsys):
    result = jam(capsys, "--websocket", "[::1]:0", "--seconds", "0.3")
    assert result.returncode == 0, result.stderr
    assert re.search(r"ws://\[::1\]:\d+", result.stderr), result.stderr
    assert_user_error(jam(capsys, "--websocket", "::1", "--seconds", "0.3"), "[::1]:8766")
