"""`bandmate backing`, `loop` and `styles` from the command line."""

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import soundfile as sf

from bandmate.arrange.style import load_style
from bandmate.io.audio import read_audio
from bandmate.io.midi import read_midi
from bandmate.io.music21_io import read_musicxml
from bandmate.mix.meter import measure_loudness
from bandmate.rights.provenance import verify
from tests.builders import assert_user_error, run_cli

CHART = "[A] | C | Am7 | Dm7 G7 | C | [B] | F | G7 | C | % |"


def test_backing_writes_midi_musicxml_stems_mix_and_manifest(tmp_path):
    out = tmp_path / "song"
    result = run_cli(
        "backing",
        CHART,
        "--style",
        "rock",
        "--tempo",
        "110",
        "--seed",
        "2",
        "--no-intro",
        "--no-ending",
        "-o",
        out,
    )
    assert result.returncode == 0, result.stderr
    score = read_midi(out / "song.mid")
    assert [t.name for t in score.tracks] == ["Drums", "Bass", "Guitar", "Piano", "Organ"]
    assert [str(c.symbol) for c in score.chords][:4] == ["C", "Am7", "Dm7", "G7"]
    assert [s.name for s in score.sections] == ["A", "B"]
    assert min(n.onset_ticks for t in score.tracks for n in t.notes) < 30  # starts at beat 0
    assert score.bar_grid.bar_count(score.end_ticks) in (8, 9)  # the chart, plus a ringing tail
    sheet = read_musicxml(out / "song.musicxml")  # the parts, with the chords over them
    assert [t.name for t in sheet.tracks] == [t.name for t in score.tracks]
    assert [str(c.symbol) for c in sheet.chords][:4] == ["C", "Am7", "Dm7", "G7"]
    stems = sorted((out / "stems").glob("*.wav"))
    assert [p.name for p in stems] == [
        "01-drums.wav",
        "02-bass.wav",
        "03-guitar.wav",
        "04-piano.wav",
        "05-organ.wav",
    ]
    # the stems sit at the style's authored mix levels, their sum peaking at -1 dBFS
    rock = load_style("rock")
    levels = [measure_loudness(read_audio(p)).integrated_lufs for p in stems]
    for part, level in zip(rock.parts, levels, strict=True):
        assert level - max(levels) == pytest.approx(part.level_db, abs=1.0), part.name
    stem_sum = sum(sf.read(p, always_2d=True)[0] for p in stems)
    assert abs(stem_sum).max() == pytest.approx(10 ** (-1 / 20), rel=0.01)
    mix, rate = sf.read(out / "mix.wav")
    assert rate == 44100 and 0.05 < abs(mix).max() <= 10 ** (-1 / 20) + 1e-3
    # the mix is the stems balanced by role, the master that mix on the streaming target
    mixed = measure_loudness(read_audio(out / "mix.wav"))
    mastered = measure_loudness(read_audio(out / "master.wav"))
    assert mixed.integrated_lufs < -18  # headroom left for mastering
    assert abs(mastered.integrated_lufs + 14) <= 0.2 and mastered.true_peak_dbtp <= -0.9
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["settings"]["seed"] == 2 and manifest["settings"]["style"] == "rock"
    assert "bandmate" in manifest["versions"]
    assert {"mix.wav", "master.wav"} <= set(manifest["files"])
    assert manifest["mix"]["stems"]["Bass"]["role"] == "bass"
    assert manifest["stems"]["Organ"]["level_db"] == rock.part("Organ").level_db
    assert isinstance(manifest["stems"]["Organ"]["gain_db"], float)
    assert abs(manifest["master"]["loudness_lufs"] - mastered.integrated_lufs) < 0.05
    # every file says how it was made, and each audio file carries valid credentials
    for name in manifest["files"]:
        check = verify(out / name)
        assert check.ok, (name, check.reason)
        assert check.manifest["command"] == "backing"
        assert check.manifest["digital_source_type"].endswith("/algorithmicMedia")
        assert (check.credentials is not None) == name.endswith(".wav")


def test_backing_mix_keeps_the_styles_balance(tmp_path):
    # bossa nova sets its drums 6 dB under the guitar; automix's balance model, left to guess
    # from the sound, puts them on top (bench/mix.py), so the job tells it the style's levels
    out = tmp_path / "song"
    args = ("| Dm7 | G7 | Cmaj7 | A7 |", "--style", "bossa-nova", "--no-intro", "--no-ending")
    result = run_cli("backing", *args, "-o", out)
    assert result.returncode == 0, result.stderr
    in_mix = json.loads((out / "manifest.json").read_text())["mix"]["stems"]
    top = max(s["loudness_lufs"] for s in in_mix.values())
    for part in load_style("bossa-nova").parts:
        level = in_mix[part.name]["loudness_lufs"] - top
        assert level == pytest.approx(part.level_db, abs=0.5), part.name


def test_a_master_target_out_of_reach_is_said_as_bandmate_master_says_it(tmp_path):
    # funk mastered to -7 LUFS lands at -9.4 (the limiter may take 10 LU at most); the job
    # printed "wrote 10 files", and its manifest held no word of it
    out = tmp_path / "song"
    args = ("| C | Am | F | G7 |", "--style", "funk", "--no-intro", "--no-ending")
    result = run_cli("backing", *args, "--target-lufs", "-7", "-o", out)
    assert result.returncode == 0, result.stderr
    assert "The target -7 LUFS could not be reached under the -1 dBTP ceiling" in result.stdout
    master = json.loads((out / "manifest.json").read_text())["master"]
    assert master["reached_target"] is False and master["loudness_lufs"] < -8
    assert any(note.startswith("The target -7 LUFS could not") for note in master["notes"])
    # on the streaming target there is nothing to say
    result = run_cli("backing", *args, "-o", out, "--force")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"wrote 10 files to {out}"]
    master = json.loads((out / "manifest.json").read_text())["master"]
    assert master["reached_target"] is True and master["notes"] == []


def test_a_killed_backing_job_stops_as_ctrl_c_stops_it(tmp_path):
    # SIGTERM (`kill`, a service manager) killed the command on the spot: the files it had
    # written stayed, and its MusicXML writer, a forked child, wrote on and put song.musicxml
    # into the folder seconds later, after the user had deleted it
    chart = tmp_path / "chart.txt"
    chart.write_text(" ".join(["| C | Am | F | G7 |"] * 16))
    out = tmp_path / "song"
    command = [sys.executable, "-m", "bandmate.cli", "backing", str(chart), "--style", "rock",
               "--choruses", "2", "-o", str(out)]  # fmt: skip
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as p:
        try:
            deadline = time.monotonic() + 120
            while not (out / "song.mid").exists() and time.monotonic() < deadline:
                assert p.poll() is None, p.communicate()
                time.sleep(0.05)
            time.sleep(0.5)  # the MusicXML writer is at work beside the render
            children = Path(f"/proc/{p.pid}/task/{p.pid}/children").read_text().split()
            assert children, "the MusicXML writer runs in a child process"
            p.send_signal(signal.SIGTERM)
            _, stderr = p.communicate(timeout=60)
        finally:
            p.kill()
    assert p.returncode == 128 + signal.SIGTERM, stderr
    assert stderr.strip().splitlines()[-1] == "bandmate: terminated"
    assert list(out.iterdir()) == []  # what it had written is removed, as after Ctrl-C
    deadline = time.monotonic() + 3
    while any(map(running, children)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(map(running, children))
    assert list(out.iterdir()) == []


def running(pid: str) -> bool:
    """Whether process `pid` is running (a zombie, ended but not yet reaped, is not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_backing_refuses_to_overwrite(tmp_path):
    out = tmp_path / "song"
    assert run_cli("backing", CHART, "--style", "rock", "--midi-only", "-o", out).returncode == 0
    before = (out / "song.mid").read_bytes()
    assert_user_error(
        run_cli("backing", CHART, "--style", "rock", "--midi-only", "--seed", "9", "-o", out),
        "already exists",
        "--force",
    )
    assert (out / "song.mid").read_bytes() == before


def test_force_over_an_earlier_run_clears_the_files_it_no_longer_writes(tmp_path):
    # a rock run's organ stem stayed behind under a pop ballad written over it with --force,
    # and `bandmate mix out/stems` mixed it in; only files the old manifest listed go
    from bandmate.jobs.backing import BackingRequest, make_backing

    out = tmp_path / "song"
    chart = "| C | F |"
    make_backing(BackingRequest(chart, "rock", intro=False, ending=False), out)
    assert (out / "stems" / "05-organ.wav").exists()
    (out / "stems" / "my-vocal.wav").write_bytes(b"mine")
    (out / "notes.txt").write_text("mine")
    make_backing(BackingRequest(chart, "pop-ballad", intro=False, ending=False), out, force=True)
    stems = sorted(p.name for p in (out / "stems").iterdir() if p.suffix == ".wav")
    assert stems == [
        "01-drums.wav",
        "02-bass.wav",
        "03-piano.wav",
        "04-strings.wav",
        "my-vocal.wav",
    ]
    assert not (out / "stems" / "05-organ.wav.provenance.json").exists()
    assert (out / "notes.txt").read_text() == "mine"
    make_backing(BackingRequest(chart, "rock", audio=False), out, force=True)
    assert not (out / "mix.wav").exists() and not (out / "stems" / "01-drums.wav").exists()
    assert (out / "song.mid").exists() and (out / "stems" / "my-vocal.wav").exists()


def test_backing_and_loop_take_a_style_file_and_say_so_in_the_provenance(tmp_path):
    import hashlib
    from importlib import resources

    source = resources.files("bandmate.data.styles") / "bossa-nova.toml"
    mine = tmp_path / "my bossa.toml"
    mine.write_text(
        source.read_text(encoding="utf-8").replace("tempo = { min = 110", "tempo = { min = 90")
    )
    out = tmp_path / "song"
    done = run_cli("backing", CHART, "--style", mine, "--tempo", "95", "--midi-only", "-o", out)
    assert done.returncode == 0, done.stderr
    data = json.loads((out / "song.mid.provenance.json").read_text())["data"]
    assert data == [
        {
            "name": "user style",
            "item": "my bossa.toml",
            "sha256": hashlib.sha256(mine.read_bytes()).hexdigest(),
            "licence": "the user's own style file",
            "licence_class": "user-supplied",
            "commercial": None,
        }
    ]
    pack = tmp_path / "pack"
    assert run_cli("loop", "--style", mine, "--bars", "1", "-o", pack).returncode == 0
    assert (pack / "my-bossa_132bpm_C_01.mid").exists()  # named as a producer expects
    assert_user_error(
        run_cli("backing", CHART, "--style", tmp_path / "nope.toml", "-o", tmp_path / "x"),
        "no style file",
    )


def test_a_backing_job_that_fails_leaves_none_of_its_files(tmp_path, monkeypatch):
    # the MusicXML writer failed (a 64/4 bar, once) after song.mid and its provenance were
    # written, and they stayed behind without the rest
    import bandmate.io.music21_write as music21_write
    from bandmate.jobs.backing import BackingRequest, make_backing

    def broken(score, path):
        raise RuntimeError("the MusicXML writer failed")

    monkeypatch.setattr(music21_write, "write_musicxml", broken)
    out = tmp_path / "song"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(RuntimeError, match="MusicXML"):
        make_backing(BackingRequest(CHART, "rock", audio=False), out)
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]


def test_backing_bad_inputs(tmp_path):
    out = tmp_path / "x"
    assert_user_error(
        run_cli("backing", CHART, "--style", "polka-core", "-o", out), "unknown style", "rock"
    )
    assert_user_error(
        run_cli("backing", CHART, "--style", "rock", "--tempo", "500", "-o", out), "500", "20-400"
    )
    assert_user_error(
        run_cli("backing", CHART, "--style", "rock", "--tempo", "10", "-o", out), "20-400"
    )
    assert_user_error(
        run_cli("backing", "| C | F# G | Xm |", "--style", "rock", "-o", out), "bar 3", "Xm"
    )
    assert_user_error(run_cli("backing", "  ", "--style", "rock", "-o", out), "empty")
    assert_user_error(
        run_cli("backing", CHART, "--style", "rock", "--seed", "-1", "-o", out), "seed", "-1"
    )
    assert_user_error(run_cli("loop", "--style", "rock", "--seed", "-3", "-o", out), "seed")
    assert_user_error(
        run_cli("backing", CHART, "--style", "rock", "--target-lufs", "3", "-o", out),
        "out of range",
        "-14",
    )
    assert not out.exists()


def test_an_output_folder_that_is_a_file_is_refused(tmp_path):
    taken = tmp_path / "notes.txt"
    taken.write_text("my lyrics")
    for out in (taken, taken / "song"):
        assert_user_error(
            run_cli("backing", CHART, "--style", "rock", "--midi-only", "-o", out), "folder"
        )
        assert_user_error(run_cli("loop", "--style", "rock", "--bars", "1", "-o", out), "folder")
    assert taken.read_text() == "my lyrics"


def test_styles_lists_one_line_each():
    result = run_cli("styles")
    assert result.returncode == 0
    lines = result.stdout.strip().splitlines()
    assert any(line.startswith("rock ") for line in lines)
    assert all(len(line.split()) > 3 for line in lines)


def test_loop_command(tmp_path):
    result = run_cli(
        "loop",
        "--style",
        "rock",
        "--tempo",
        "120",
        "--key",
        "Am",
        "--bars",
        "4",
        "--count",
        "1",
        "-o",
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert sf.info(str(tmp_path / "rock_120bpm_Am_01_bass.wav")).frames == 4 * 4 * 60 // 120 * 44100
    loop = verify(tmp_path / "rock_120bpm_Am_01.wav")
    assert loop.ok and loop.manifest["command"] == "loop", loop.reason


def test_groove_from_a_players_drum_midi_moves_the_band(tmp_path):
    from bandmate.io.midi import write_midi
    from bandmate.score import Note, Score, TimeSignature, Track

    # a drummer who drags every off-beat 8th by 60 ticks (an eighth of a beat)
    hits = [
        Note(bar * 1920 + k * 240 + (60 if k % 2 else 0), 60, 42, 90)
        for bar in range(4)
        for k in range(8)
    ]
    groove = tmp_path / "my_drums.mid"
    write_midi(Score(tracks=(Track("Drums", is_drum=True, notes=tuple(hits)),)), groove)
    before = groove.read_bytes()

    def offbeat_delay(out):
        score = read_midi(out / "song.mid")
        bass = score.track("Bass").notes
        offsets = [(n.onset_ticks % 480) - 240 for n in bass if 150 < n.onset_ticks % 480 < 400]
        return sum(offsets) / len(offsets)

    common = [CHART, "--style", "rock", "--tempo", "100", "--midi-only", "--no-intro"]
    plain, grooved = tmp_path / "plain", tmp_path / "grooved"
    assert run_cli("backing", *common, "-o", plain).returncode == 0
    result = run_cli("backing", *common, "--groove", groove, "-o", grooved)
    assert result.returncode == 0, result.stderr
    assert offbeat_delay(grooved) - offbeat_delay(plain) > 40
    assert groove.read_bytes() == before
    manifest = json.loads((grooved / "manifest.json").read_text())
    assert manifest["settings"]["groove_file"] == str(groove)
    assert_user_error(
        run_cli("backing", *common, "--groove", tmp_path / "none.mid", "-o", tmp_path / "x"),
        "does not exist",
    )
    # a groove in another meter than the chart's is refused, naming the file
    waltz = tmp_path / "waltz.mid"
    write_midi(
        Score(
            tracks=(Track("Drums", is_drum=True, notes=tuple(hits[:12])),),
            time_signatures=(TimeSignature(0, 3, 4),),
        ),
        waltz,
    )
    result = run_cli("backing", *common, "--groove", waltz, "-o", tmp_path / "w")
    assert_user_error(result, "waltz.mid", "3/4", "4/4")
    # and so is one with too few notes
    empty = tmp_path / "empty.mid"
    write_midi(Score(tracks=(Track("Drums", is_drum=True, notes=tuple(hits[:2])),)), empty)
    assert_user_error(
        run_cli("backing", *common, "--groove", empty, "-o", tmp_path / "e"), "empty.mid"
    )


def test_a_key_whose_mode_the_chart_cannot_take_is_refused_not_played_in_another(tmp_path):
    # a chart in G major asked for in Em played E, C#m, A, B7 under a key signature of E major
    out = tmp_path / "song"
    chart = "(key: G) | G | Em | C | D7 |"
    refused = run_cli("backing", chart, "--style", "pop", "--key", "Em", "--midi-only", "-o", out)
    assert_user_error(refused, "G major", "ask for E alone")
    assert not out.exists()
    # the tonic alone moves it and keeps its mode
    moved = run_cli("backing", chart, "--style", "pop", "--key", "E", "--no-intro", "--no-ending",
                    "--midi-only", "-o", out)  # fmt: skip
    assert moved.returncode == 0, moved.stderr
    song = read_midi(out / "song.mid")
    assert [str(c.symbol) for c in song.chords] == ["E", "C#m", "A", "B7"]
    assert str(song.keys[0].key) == "E"


def test_an_empty_chart_argument_is_called_empty_not_a_folder(tmp_path):
    # backing "" said "'' is a folder; give a chart file": the empty path is the current folder
    out = tmp_path / "song"
    assert_user_error(run_cli("backing", "", "--style", "pop", "--midi-only", "-o", out), "empty")
    assert not out.exists()


def test_loop_with_empty_chords_is_refused_not_given_the_stock_progression(tmp_path):
    # loop --chords "" (an unset shell variable) wrote a pack of the stock I-vi-IV-V in C
    out = tmp_path / "pack"
    assert_user_error(run_cli("loop", "--style", "pop", "--chords", "", "-o", out), "empty")
    assert not out.exists()
