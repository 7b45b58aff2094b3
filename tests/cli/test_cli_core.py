"""The command line: start-up weight, chart checking, file info, and every bad input."""

import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from bandmate.io.midi import midi_bytes, write_midi
from bandmate.score import Score
from tests.builders import assert_user_error, run_cli, run_cli_as_a_user, sha256


def test_help_does_not_import_heavy_libraries():
    code = (
        "import sys; from bandmate.cli import build_parser; build_parser().format_help(); "
        "print(sorted(m for m in ('numpy', 'music21', 'torch', 'matplotlib', 'mido', 'scipy') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_help_lists_the_commands():
    result = run_cli("--help")
    assert result.returncode == 0
    for command in ("render", "show", "convert", "info", "chart", "demo"):
        assert command in result.stdout


def test_unknown_option_is_one_line():
    assert_user_error(run_cli("chart", "| C |", "--no-such-option"), "unrecognized")


def test_chart_prints_expanded_bars():
    result = run_cli("chart", "(key: Bb) [A] |: Bb | Gm7 :| x3 [B] | Cm7 . F7 . | % |")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "8 bars in 4/4, key Bb"
    assert "[B]" in result.stdout
    # a chart that names no key: the key backing, melody and loop will play it in
    result = run_cli("chart", "| Dm7 | G7 | Cmaj7 | A7 |")
    assert result.stdout.splitlines()[0] == "4 bars in 4/4, key C (from its chords)"


@pytest.mark.parametrize(
    ("chart", "words"),
    [
        ("| C | Am | Hm7 | G |", ["bar 3", "Hm7"]),  # unknown chord symbol
        ("| C | F . . . . |", ["bar 2"]),  # more dots than beats
        ("| C | F :| G |", ["bar 2", ":|"]),  # a repeat that never opened
        ("   ", ["empty"]),
        ("song.txt", ["does not exist"]),
        ("charts/blues.txt", ["does not exist"]),
    ],
)
def test_bad_charts(chart, words):
    assert_user_error(run_cli("chart", chart), *words)


def test_a_progression_typed_without_bar_lines(tmp_path):
    # a slash chord or a time signature made "C G/B Am F" a chart file that did not exist, and
    # without bar lines the progression was one bar of four chords
    for chart, first in [
        ("C G/B Am F", "4 bars in 4/4"),
        ("(3/4) C G7 F C", "4 bars in 3/4"),
        ("C", "1 bar in 4/4"),
    ]:
        result = run_cli("chart", chart, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith(first)


def test_a_long_chart_typed_on_the_command_line(tmp_path):
    # longer than a file name may be: asking the system whether it names a file raised
    # "File name too long" (a traceback) before the chart was read as a chart
    chart = "| C | F | G7 | C " * 40 + "|"
    result = run_cli("chart", chart, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("160 bars in 4/4")
    # a chord pasted from a page of text is named, not printed back whole
    result = run_cli("chart", "| C | " + "Xq" * 250 + " |", cwd=tmp_path)
    assert_user_error(result, "bar 2", "…")
    assert len(result.stderr) < 300


@pytest.mark.parametrize("command", ["info", "analyze", "check"])
def test_a_name_longer_than_the_file_system_allows_is_one_sentence(tmp_path, command):
    result = run_cli(command, "a" * 300 + ".mid", cwd=tmp_path)
    assert_user_error(result, "longer than the file system allows")


@pytest.mark.parametrize(
    "args", [["info", "song.mid"], ["master", "mix.wav", "-o", "m.wav"], ["info", "tune.abc"]]
)
def test_an_empty_file_is_called_empty(tmp_path, args):
    # a save or copy that never finished: "does not start with 'MThd'" or "Format not
    # recognised" sent the user looking for a wrong format
    (tmp_path / args[1]).write_bytes(b"")
    assert_user_error(run_cli(*args, cwd=tmp_path), "is empty (0 bytes)")


def test_an_empty_midi_file_in_a_folder_is_called_empty():
    from bandmate.errors import InputFileError
    from bandmate.io.midi import midi_from_bytes

    with pytest.raises(InputFileError, match=r"'x\.mid' is empty \(0 bytes\)"):
        midi_from_bytes(b"", "x.mid")


def test_chart_from_a_file(tmp_path):
    path = tmp_path / "tune.txt"
    path.write_text("[Verse]\n| C | Am |\n| F | G7 |\n")
    result = run_cli("chart", path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("4 bars in 4/4")


def test_info_on_midi(tmp_path, small_song):
    path = tmp_path / "song.mid"
    write_midi(small_song, path)
    result = run_cli("info", path)
    assert result.returncode == 0, result.stderr
    assert "track Bass" in result.stdout and "100 BPM" in result.stdout


def test_info_on_audio(tmp_path, rng):
    path = tmp_path / "tone.wav"
    sf.write(path, 0.5 * rng.standard_normal((4410, 2)).clip(-1, 1), 44100, subtype="PCM_24")
    result = run_cli("info", path)
    assert result.returncode == 0, result.stderr
    assert "44100 Hz" in result.stdout and "24" in result.stdout


def test_info_on_audio_whose_name_is_not_utf8(tmp_path, rng):
    # 'caf\xe9.wav' from an old Windows zip: soundfile could not open it (UnicodeEncodeError)
    import os

    path = tmp_path / os.fsdecode(b"caf\xe9.wav")
    noise = 0.5 * rng.standard_normal((4410, 2)).clip(-1, 1)
    sf.write(os.fsencode(path), noise, 44100, subtype="PCM_24")
    result = run_cli("info", path)
    assert result.returncode == 0, result.stderr
    assert "44100 Hz" in result.stdout


def bad_inputs(tmp_path, small_song, rng):
    """Every kind of bad input file a user may give, with words the error must contain."""
    cases = {}
    cases["missing.mid"] = (None, ["does not exist"])
    (tmp_path / "letter.mid").write_text("Dear friend, this is not music.")
    cases["letter.mid"] = (tmp_path / "letter.mid", ["not a MIDI file"])
    (tmp_path / "cut.mid").write_bytes(midi_bytes(small_song)[:60])
    cases["cut.mid"] = (tmp_path / "cut.mid", ["truncated"])
    (tmp_path / "noise.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEjunkjunkjunk")
    cases["noise.wav"] = (tmp_path / "noise.wav", ["noise.wav"])
    sf.write(tmp_path / "six.wav", 0.1 * rng.standard_normal((1000, 6)), 44100)
    cases["six.wav"] = (tmp_path / "six.wav", ["6 channels"])
    sf.write(tmp_path / "odd.wav", 0.1 * rng.standard_normal(1000), 11025)
    cases["odd.wav"] = (tmp_path / "odd.wav", ["11025"])
    return cases


@pytest.mark.parametrize(
    "name", ["missing.mid", "letter.mid", "cut.mid", "noise.wav", "six.wav", "odd.wav"]
)
def test_info_bad_inputs_are_one_line_and_untouched(tmp_path, small_song, rng, name):
    path, words = bad_inputs(tmp_path, small_song, rng)[name]
    path = path or tmp_path / name
    before = sha256(path) if path.exists() else None
    assert_user_error(run_cli("info", path), *words)
    assert (sha256(path) if path.exists() else None) == before


def test_info_on_empty_score_still_describes_it(tmp_path):
    path = tmp_path / "empty.mid"
    write_midi(Score(), path)
    result = run_cli("info", path)
    assert result.returncode == 0 and "0.00 s" in result.stdout


def test_no_command_prints_help():
    result = run_cli()
    assert result.returncode == 2 and "usage" in result.stdout


def test_float_audio_info(tmp_path):
    path = tmp_path / "f.wav"
    sf.write(path, np.zeros((100, 1), dtype=np.float32), 48000, subtype="FLOAT")
    result = run_cli("info", path)
    assert result.returncode == 0 and "silent" in result.stdout


def test_a_reader_that_stops_early_gets_no_traceback():
    # `bandmate styles | head -1`: the pipe closes before bandmate writes, which ended in a
    # BrokenPipeError traceback
    proc = subprocess.Popen(
        [sys.executable, "-m", "bandmate.cli", "styles"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    proc.stdout.close()  # long before the interpreter has started
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr, stderr


def test_a_chart_file_saved_as_utf16_or_latin1_and_a_folder(tmp_path):
    # Notepad's "Unicode" (UTF-16) and older editors' Latin-1 were refused as not text
    for name, data in [
        ("notepad.txt", "(title: Café)\n| C | Am7 |\n".encode("utf-16")),
        ("old.txt", "(title: Café)\n| C | Am7 |\n".encode("latin-1")),
    ]:
        path = tmp_path / name
        path.write_bytes(data)
        result = run_cli("chart", path)
        assert result.returncode == 0, result.stderr
        assert "2 bars" in result.stdout and "Am7" in result.stdout
    assert_user_error(run_cli("chart", tmp_path), "is a folder")


def test_a_full_disk_is_one_sentence(monkeypatch, capsys, tmp_path):
    # the audio writers said so already; MIDI, MusicXML, JSON and pictures ended in a traceback
    import errno

    import bandmate.cli.convert as convert
    from bandmate.cli import main

    def full(args):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "song.musicxml"))

    monkeypatch.setattr(convert, "run", full)
    assert main(["convert", "song.mid", "-o", str(tmp_path / "song.musicxml")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "No space left on device" in err and "song.musicxml" in err


def test_paths_beyond_a_folder_the_user_may_not_enter_are_one_sentence(tmp_path, small_song):
    # an output, an input or a folder of stems under another user's folder (mode 0700): each
    # ended in a PermissionError traceback from looking at the path
    private = tmp_path / "private"
    private.mkdir()
    write_midi(small_song, private / "song.mid")
    private.chmod(0o000)
    try:
        results = {
            "an output": run_cli_as_a_user(
                "backing", "| C | F |", "--style", "pop", "-o", private / "song"
            ),
            "an input": run_cli_as_a_user(
                "render", private / "song.mid", "-o", tmp_path / "song.wav"
            ),
            "a folder of stems": run_cli_as_a_user(
                "mix", private / "stems", "-o", tmp_path / "mix.wav"
            ),
        }
    finally:
        private.chmod(0o755)
    for what, result in results.items():
        assert result.returncode == 2 and "Traceback" not in result.stderr, (what, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1, (what, result.stderr)
        assert str(private) in result.stderr, (what, result.stderr)
    assert [p.name for p in tmp_path.iterdir()] == ["private"]
