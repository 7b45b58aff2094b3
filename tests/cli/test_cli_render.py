"""`bandmate render` as a user runs it: every bad input is one line and exit code 2."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from bandmate.io.midi import midi_bytes, write_midi
from bandmate.score import Score, Track
from tests.builders import (
    assert_user_error,
    bass,
    make_score,
    notes,
    piano,
    run_cli,
    sha256,
)


@pytest.fixture
def song(tmp_path):
    """A small valid MIDI file: a bar of piano and bass."""
    path = tmp_path / "song.mid"
    write_midi(make_score(piano((0, 2, 60), (2, 2, 64)), bass((0, 4, 36))), path)
    return path


def run_and_check_input_kept(input_path, *args):
    before = sha256(input_path) if input_path.exists() else None
    result = run_cli("render", input_path, *args)
    if before is not None:
        assert sha256(input_path) == before
    return result


def test_missing_input_file(tmp_path):
    result = run_cli("render", tmp_path / "nope.mid", "-o", tmp_path / "out.wav")
    assert_user_error(result, "does not exist")
    assert not (tmp_path / "out.wav").exists()


def test_no_input_given():
    assert_user_error(run_cli("render"), "give the MIDI file")


def test_a_mistyped_option_is_named():
    assert_user_error(run_cli("render", "a.mid", "--rate", "48000"), "unrecognized", "--rate")


def test_a_file_that_is_not_midi(tmp_path):
    text = tmp_path / "notes.mid"
    text.write_text("C D E F G\n")
    assert_user_error(run_and_check_input_kept(text, "-o", tmp_path / "o.wav"), "not a MIDI")


def test_a_truncated_midi_file(tmp_path):
    cut = tmp_path / "cut.mid"
    data = midi_bytes(make_score(piano((0, 4, 60), (0, 4, 64)), bass((0, 1, 36))))
    cut.write_bytes(data[: len(data) // 2])
    assert_user_error(run_and_check_input_kept(cut, "-o", tmp_path / "o.wav"), "truncated")


def test_a_score_without_notes(tmp_path):
    empty = tmp_path / "empty.mid"
    write_midi(Score(), empty)
    result = run_and_check_input_kept(empty, "-o", tmp_path / "o.wav")
    assert_user_error(result, "no notes")
    assert not (tmp_path / "o.wav").exists()


def test_an_existing_output_needs_force(song, tmp_path):
    out = tmp_path / "mix.wav"
    out.write_bytes(b"keep me")
    assert_user_error(run_and_check_input_kept(song, "-o", out), "already exists", "--force")
    assert out.read_bytes() == b"keep me"


def test_an_existing_stem_needs_force(song, tmp_path):
    stems = tmp_path / "stems"
    stems.mkdir()
    (stems / "02-bass.wav").write_bytes(b"keep me")
    result = run_and_check_input_kept(song, "-o", tmp_path / "mix.wav", "--stems", stems)
    assert_user_error(result, "02-bass.wav", "already exists")
    assert not (tmp_path / "mix.wav").exists()  # refused before any work


def test_the_output_cannot_be_the_input(song):
    assert_user_error(run_and_check_input_kept(song, "-o", song, "--force"), "also an input")


def test_an_unsupported_sample_rate(song, tmp_path):
    result = run_and_check_input_kept(song, "-o", tmp_path / "o.wav", "--sample-rate", "22050")
    assert_user_error(result, "invalid choice", "22050")


def test_a_missing_soundfont(song, tmp_path):
    result = run_and_check_input_kept(
        song, "-o", tmp_path / "o.wav", "--soundfont", tmp_path / "none.sf2"
    )
    assert_user_error(result, "none.sf2", "does not exist")


def test_render_writes_the_mix_and_stems_that_add_up_to_it(song, tmp_path):
    out, stems = tmp_path / "mix.wav", tmp_path / "stems"
    result = run_and_check_input_kept(
        song, "-o", out, "--stems", stems, "--format", "FLOAT", "--sample-rate", "48000"
    )
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.strip().splitlines()) == 1
    assert "real time" in result.stdout
    assert sorted(p.name for p in stems.iterdir()) == ["01-piano.wav", "02-bass.wav"]
    mix, rate = sf.read(out, dtype="float32", always_2d=True)
    assert rate == 48_000 and mix.shape[1] == 2
    assert 2.0 < len(mix) / rate <= 2.0 + 4.0  # one bar at 120 BPM plus the tail
    parts = [
        sf.read(stems / name, dtype="float32", always_2d=True)[0]
        for name in sorted(p.name for p in stems.iterdir())
    ]
    assert all(p.shape == mix.shape for p in parts)
    assert all(np.max(np.abs(p)) > 0.005 for p in parts)
    assert np.max(np.abs(np.sum(parts, axis=0) - mix)) < 1e-4
    # a second run over the same files needs --force, and then succeeds
    assert_user_error(run_cli("render", song, "-o", out, "--stems", stems), "already exists")
    assert run_cli("render", song, "-o", out, "--stems", stems, "--force").returncode == 0


def test_the_mix_defaults_to_the_input_name_as_wav(song):
    result = run_and_check_input_kept(song)
    assert result.returncode == 0, result.stderr
    assert sf.info(song.with_suffix(".wav")).samplerate == 44_100


def test_an_abc_tune_renders_as_its_midi_does(tmp_path):
    # `bandmate render tune.abc` said the tune "is not a MIDI file (it does not start with
    # 'MThd')": the other commands read ABC and MusicXML, so render does too
    tune = tmp_path / "tune.abc"
    tune.write_text("X:1\nT:Tune\nM:4/4\nL:1/4\nQ:1/4=120\nK:G\nGABc|d2B2|c2A2|G4|]\n")
    assert run_cli("convert", tune, "-o", tmp_path / "tune.mid").returncode == 0
    from_abc = run_and_check_input_kept(tune, "-o", tmp_path / "abc.wav")
    assert from_abc.returncode == 0, from_abc.stderr
    assert run_cli("render", tmp_path / "tune.mid", "-o", tmp_path / "mid.wav").returncode == 0
    abc, rate = sf.read(tmp_path / "abc.wav", always_2d=True)
    mid, _ = sf.read(tmp_path / "mid.wav", always_2d=True)
    assert abc.shape == mid.shape and 8.0 <= len(abc) / rate <= 8.0 + 4.0  # 4 bars + the tail
    assert np.max(np.abs(abc - mid)) < 1e-4


def test_a_midi_file_without_a_score_suffix_still_renders(song, tmp_path):
    # reading ABC and MusicXML by their suffixes made render refuse "song.smf" and "song"
    for name in ("song.smf", "song"):
        copy = tmp_path / name
        copy.write_bytes(song.read_bytes())
        result = run_and_check_input_kept(copy, "-o", tmp_path / f"{name}.wav")
        assert result.returncode == 0, result.stderr


def test_a_stems_folder_that_cannot_be_made_is_refused_before_the_rendering(song, tmp_path):
    # a file where the stems' folder should be made was found out after the mix was written
    blocker = tmp_path / "not-a-folder"
    blocker.write_bytes(b"")
    out = tmp_path / "mix.wav"
    result = run_and_check_input_kept(song, "-o", out, "--stems", blocker / "stems")
    assert_user_error(result, "is a file, not a folder")
    assert not out.exists()
    result = run_and_check_input_kept(song, "-o", blocker / "mix.wav")
    assert_user_error(result, "is a file, not a folder")


def test_stems_on_the_mix_own_path_are_refused_before_the_rendering(song, tmp_path):
    # the mix was written, then the stems' folder could not be made where the mix now was
    out = tmp_path / "mix.wav"
    result = run_and_check_input_kept(song, "-o", out, "--stems", out)
    assert_user_error(result, "the mix's own path")
    assert not out.exists()


def test_a_soundfont_that_is_a_folder(song, tmp_path):
    folder = tmp_path / "fonts"
    folder.mkdir()
    result = run_cli("render", song, "-o", tmp_path / "o.wav", "--soundfont", folder)
    assert_user_error(result, "is a folder", ".sf2")


@pytest.mark.parametrize(
    "content",
    [b"", b"RIFF\x00\x00\x00\x00junk" * 10, b"RIFF\xda\x60\xd8\x08sfbkLIST" + bytes(500)],
    ids=["empty", "not-riff-sfbk", "truncated"],
)
def test_a_file_that_is_not_a_soundfont_is_one_sentence(song, tmp_path, content):
    # FluidSynth hands a file it refuses to libinstpatch, whose GLib "CRITICAL" line came first
    font = tmp_path / "font.sf2"
    font.write_bytes(content)
    result = run_and_check_input_kept(song, "-o", tmp_path / "o.wav", "--soundfont", font)
    assert_user_error(result, "font.sf2", "not a SoundFont")
    assert font.read_bytes() == content
    assert not (tmp_path / "o.wav").exists()


@pytest.mark.parametrize("rate", [88_200, 96_000])
def test_a_high_sample_rate_renders_the_notes_in_tune(song, tmp_path, rate):
    # FluidSynth renders at up to 96 kHz, but the option offered only 44.1 and 48 kHz
    out = tmp_path / "hi.flac"
    result = run_and_check_input_kept(song, "-o", out, "--sample-rate", str(rate))
    assert result.returncode == 0, result.stderr
    audio, file_rate = sf.read(out, dtype="float32")
    assert file_rate == rate
    assert len(audio) / rate == pytest.approx(2.0, abs=1.0)  # a bar at 120 BPM and its tail
    # the bass's C2 (65.4 Hz) alone for the first half second: its pitch does not move with rate
    first = audio[: rate // 2, 0] * np.hanning(rate // 2)
    spectrum = np.abs(np.fft.rfft(first, n=8 * rate))
    freqs = np.fft.rfftfreq(8 * rate, 1 / rate)
    low = freqs < 100
    assert freqs[low][np.argmax(spectrum[low])] == pytest.approx(65.4, abs=1.0)


@pytest.fixture
def loud_song(tmp_path):
    """Six parts of six-note chords at velocity 127: their sum goes over full scale."""
    chord = [(0, 1, p) for p in (36, 48, 55, 60, 64, 67)]
    parts = [
        Track(f"part {k}", program, notes=notes(*chord, velocity=127))
        for k, program in enumerate((0, 61, 48, 30, 56, 62))
    ]
    path = tmp_path / "loud.mid"
    write_midi(make_score(*parts), path)
    return path


def test_a_mix_clipped_in_a_pcm_file_is_reported(loud_song, tmp_path):
    # the 16/24-bit mix was cut at full scale without a word
    out = tmp_path / "loud.wav"
    result = run_and_check_input_kept(loud_song, "-o", out, "--format", "PCM_16")
    assert result.returncode == 0, result.stderr
    audio, _ = sf.read(out, dtype="float32")
    clipped = int(np.count_nonzero(np.abs(audio) >= 32767 / 32768))
    assert clipped > 100
    assert "warning" in result.stderr and f"{clipped} samples were clipped" in result.stderr
    assert "--format FLOAT" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_the_clipping_advice_for_a_flac_mix_is_one_that_can_be_followed(loud_song, tmp_path):
    # it said to render with --format FLOAT, which FLAC refuses
    result = run_and_check_input_kept(loud_song, "-o", tmp_path / "loud.flac")
    assert result.returncode == 0, result.stderr
    assert "render to a .wav file with --format FLOAT" in result.stderr
    wav = run_and_check_input_kept(loud_song, "-o", tmp_path / "loud.wav", "--format", "FLOAT")
    assert wav.returncode == 0 and wav.stderr == ""


def test_a_float_mix_keeps_its_peaks_and_warns_of_nothing(loud_song, tmp_path):
    out = tmp_path / "loud.wav"
    result = run_and_check_input_kept(loud_song, "-o", out, "--format", "FLOAT")
    assert result.returncode == 0 and result.stderr == ""
    assert np.abs(sf.read(out, dtype="float32")[0]).max() > 1.0


def test_a_mix_below_full_scale_warns_of_nothing(song, tmp_path):
    result = run_and_check_input_kept(song, "-o", tmp_path / "o.wav", "--format", "PCM_16")
    assert result.returncode == 0 and result.stderr == ""


def test_a_stray_note_days_past_the_music_is_one_sentence(tmp_path):
    # a corrupt delta time put a note 77 hours on: a MemoryError traceback
    stray = tmp_path / "stray.mid"
    # 2,291 hours on at 4 BPM (near the slowest a MIDI file holds): more than any machine holds
    write_midi(make_score(piano((0, 1, 60), (550_000, 1, 62)), tempo_bpm=4), stray)
    result = run_and_check_input_kept(stray, "-o", tmp_path / "o.wav")
    assert_user_error(result, "2291:", "GB of memory", "far past the music")
    assert not (tmp_path / "o.wav").exists()


def test_stems_of_an_earlier_render_left_in_the_folder_are_named(song, tmp_path):
    # a render with --force into the folder of an earlier one with more parts left them there
    stems = tmp_path / "stems"
    stems.mkdir()
    for name in ("01-piano.wav", "02-bass.wav", "03-strings.wav", "04-pad.wav"):
        (stems / name).write_bytes(b"old take")
    (stems / "notes.txt").write_text("mix notes")
    result = run_and_check_input_kept(song, "-o", tmp_path / "mix.wav", "--stems", stems, "--force")
    assert result.returncode == 0, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "warning" in lines[0]
    assert "03-strings.wav and 1 more" in lines[0]
    assert (stems / "04-pad.wav").read_bytes() == b"old take"  # kept: nothing asked to remove it
    assert sf.info(stems / "01-piano.wav").frames > 0


def test_stems_into_a_folder_of_other_files_warn_of_nothing(song, tmp_path):
    stems = tmp_path / "stems"
    stems.mkdir()
    (stems / "notes.txt").write_text("mix notes")
    (stems / "reference.wav").write_bytes(b"not a stem")
    result = run_and_check_input_kept(song, "-o", tmp_path / "mix.wav", "--stems", stems)
    assert result.returncode == 0 and result.stderr == ""


def run_with_open_files(limit_soft: int, limit_hard: int | None, *args):
    """`bandmate ARGS` with the open-files limit lowered, as a desktop's `ulimit -n` is."""
    import resource
    import subprocess
    import sys

    def lower() -> None:
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1] if limit_hard is None else limit_hard
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit_soft, hard))

    cmd = [sys.executable, "-m", "bandmate.cli", *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, preexec_fn=lower, timeout=300)


def many_parts(tmp_path, count: int = 40):
    """`count` parts of one short note each: an old GM file's program changes read as many
    tracks."""
    parts = [Track(f"part {k}", k % 128, notes=notes((k / 8, 0.25, 60))) for k in range(count)]
    path = tmp_path / f"many-{count}.mid"
    write_midi(make_score(*parts), path)
    return path


def test_more_stems_than_the_soft_open_files_limit_are_written(tmp_path):
    # with `ulimit -n` at its usual soft value, a thousand stems failed with "Too many open files"
    stems = tmp_path / "stems"
    result = run_with_open_files(
        40, None, "render", many_parts(tmp_path), "-o", tmp_path / "m.wav", "--stems", stems
    )
    assert result.returncode == 0, result.stderr
    assert len(list(stems.glob("*.wav"))) == 40


def test_stems_that_fit_under_the_hard_limit_are_written_and_more_are_refused_first(tmp_path):
    # a flat allowance of 64 files besides the stems refused 40 stems under a limit of 64, and
    # even a mix without stems, which had rendered
    fit = run_with_open_files(
        64, 64, "render", many_parts(tmp_path), "-o", tmp_path / "m.wav", "--stems", tmp_path / "s"
    )
    assert fit.returncode == 0, fit.stderr
    assert len(list((tmp_path / "s").glob("*.wav"))) == 40
    alone = run_with_open_files(8, 8, "render", many_parts(tmp_path), "-o", tmp_path / "a.wav")
    assert alone.returncode == 0, alone.stderr
    out = tmp_path / "m2.wav"
    too_many = run_with_open_files(
        64, 64, "render", many_parts(tmp_path, 70), "-o", out, "--stems", tmp_path / "s2"
    )
    assert_user_error(too_many, "70 stems", "render without --stems")
    assert not out.exists() and not (tmp_path / "s2").exists()


@pytest.mark.parametrize(
    ("audio", "took", "said"),
    [(3600.0, 21.8, "165x"), (14.0, 5.6, "2.5x"), (14.0, 40.0, "0.35x"), (14.0, 1400.0, "0.01x")],
)
def test_the_speed_is_never_said_as_0x(audio, took, said):
    # a 1,201-part file rendered 14 s of audio in 40 s and was said to render "at 0x real time"
    from bandmate.cli.render import speed_text

    assert speed_text(audio, took) == said


def test_a_failed_render_leaves_no_folders_it_made(song, tmp_path):
    # the stems' folder was made for the files, and stayed behind, empty, after the error
    font = tmp_path / "font.sf2"
    font.write_bytes(b"not a SoundFont")
    out, stems = tmp_path / "new" / "m.wav", tmp_path / "new" / "stems" / "take 1"
    result = run_and_check_input_kept(song, "-o", out, "--stems", stems, "--soundfont", font)
    assert_user_error(result, "not a SoundFont")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["font.sf2", "song.mid"]


def test_only_the_folders_the_rendering_made_are_its_to_remove(tmp_path):
    # the folders missing at the start were removed after an error, empty, though another
    # program (or the user) had made one of them meanwhile
    from bandmate.render.files import _make_folders

    (tmp_path / "mixes").mkdir()
    made = _make_folders([tmp_path / "mixes" / "m.wav", tmp_path / "new" / "stems" / "a.wav"])
    assert made == [tmp_path / "new" / "stems", tmp_path / "new"]
    assert (tmp_path / "new" / "stems").is_dir()
    assert _make_folders([tmp_path / "new" / "stems" / "b.wav"]) == []


def test_a_folder_that_cannot_be_made_leaves_none_of_the_ones_before_it(song, tmp_path):
    # `p1/` and `p1/s/` were made, then the stems' folder was refused (its name too long), and
    # the two stayed behind, empty
    stems = tmp_path / "p1" / "s" / ("x" * 300)
    result = run_and_check_input_kept(song, "-o", tmp_path / "p1" / "m.wav", "--stems", stems)
    assert_user_error(result, "Cannot make the folder")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["song.mid"]


def test_a_mix_written_through_a_folder_it_made_is_kept_whole(song, tmp_path):
    # `-o new/../mixes/m.wav`: the empty `new` made on the way was removed after the rendering,
    # and reading the mix back (for its clipped samples) ended in a traceback
    out = tmp_path / "new" / ".." / "mixes" / "m.wav"
    result = run_and_check_input_kept(song, "-o", out, "--format", "PCM_16")
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert sf.info(tmp_path / "mixes" / "m.wav").frames > 0
