"""`bandmate backing`, `loop` and `styles` from the command line."""

import json

import soundfile as sf

from bandmate.io.midi import read_midi
from bandmate.io.music21_io import read_musicxml
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
    stems = sorted((out / "stems").iterdir())
    assert [p.name for p in stems] == [
        "01-drums.wav",
        "02-bass.wav",
        "03-guitar.wav",
        "04-piano.wav",
        "05-organ.wav",
    ]
    mix, rate = sf.read(out / "mix.wav")
    assert rate == 44100 and 0.05 < abs(mix).max() <= 10 ** (-1 / 20) + 1e-3
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["settings"]["seed"] == 2 and manifest["settings"]["style"] == "rock"
    assert "bandmate" in manifest["versions"]


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
    assert not out.exists()


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
