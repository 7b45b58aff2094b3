"""Safe outputs: a refused output is one sentence, found before any work."""

import os
import stat

import numpy as np
import pytest

from bandmate.errors import OutputError
from bandmate.io.audio import Audio, write_audio
from bandmate.io.files import atomic_path, check_outputs, write_text_atomic
from tests.builders import assert_user_error
from tests.cli.test_cli_master import bandmate


def test_a_folder_where_the_output_should_go_is_refused_even_with_force(tmp_path):
    # with --force, `-o songs.mid` naming a folder ended in an IsADirectoryError traceback
    (tmp_path / "songs.mid").mkdir()
    for force in (False, True):
        with pytest.raises(OutputError, match="is a folder"):
            check_outputs([tmp_path / "songs.mid"], force=force)


def test_an_output_that_cannot_be_written_is_refused_before_the_work(tmp_path):
    # a file where the output's folder should be was a NotADirectoryError traceback after the work
    (tmp_path / "song.mid").write_bytes(b"MThd")
    with pytest.raises(OutputError, match="is a file, not a folder"):
        check_outputs([tmp_path / "song.mid" / "out" / "roll.png"])
    with pytest.raises(OutputError, match="Cannot write"), atomic_path(tmp_path / "song.mid" / "x"):
        pass
    assert (tmp_path / "song.mid").read_bytes() == b"MThd"
    check_outputs([tmp_path / "new" / "deeper" / "roll.png"])  # folders yet to make are fine


def test_a_folder_that_is_a_link_to_nothing_is_refused_before_the_work(tmp_path):
    # `train --out runs` with runs a link whose target was removed passed the check, trained,
    # and lost the model to a FileExistsError traceback when saving it
    from bandmate.io.files import check_output_folder

    (tmp_path / "runs").symlink_to(tmp_path / "gone")
    with pytest.raises(OutputError, match=r"is a link to .*gone.*, which does not exist"):
        check_output_folder(tmp_path / "runs")
    with pytest.raises(OutputError, match="is a link to"):
        check_outputs([tmp_path / "runs" / "take 1" / "mix.wav"])
    (tmp_path / "gone").mkdir()  # its target made: fine
    check_output_folder(tmp_path / "runs")
    check_outputs([tmp_path / "runs" / "take 1" / "mix.wav"])


def test_an_output_that_is_a_link_to_nothing_is_replaced_only_with_force(tmp_path):
    # the written file took the link's place without a word: a link of the user's lost
    (tmp_path / "take.wav").symlink_to(tmp_path / "gone.wav")
    with pytest.raises(OutputError, match=r"is a link to .*gone\.wav.*--force"):
        check_outputs([tmp_path / "take.wav"])
    check_outputs([tmp_path / "take.wav"], force=True)


def test_two_outputs_on_one_path_are_refused(tmp_path):
    # `jam -o s.mid --latency-report s.mid` wrote the report over the session: check_outputs let
    # it through (the audio commands had a check of their own, now this one)
    with pytest.raises(OutputError, match="two outputs"):
        check_outputs([tmp_path / "s.mid", tmp_path / "s.mid"])
    with pytest.raises(OutputError, match="same file"):
        check_outputs([tmp_path / "s.mid", tmp_path / "x" / ".." / "s.mid"])
    check_outputs([tmp_path / "s.mid", tmp_path / "s.json"])


@pytest.fixture
def mix_file(tmp_path, rng):
    path = tmp_path / "mix.wav"
    t = np.arange(2 * 44_100) / 44_100
    tone = 0.2 * np.sin(2 * np.pi * 220 * t + rng.uniform(0, 2 * np.pi, size=(2, 1)))
    write_audio(Audio(tone * (1 + 0.5 * np.sin(2 * np.pi * 0.7 * t)), 44_100), path)
    return path


@pytest.mark.parametrize("option", ["-o", "--json", "--report"])
def test_a_named_pipe_is_never_replaced_by_an_output_even_with_force(
    capsys, tmp_path, mix_file, option
):
    # `master ... --json fifo --force` moved the JSON into the pipe's place: a reader waiting on
    # it never got a byte, and the pipe was gone
    pipe = tmp_path / ("pipe.wav" if option == "-o" else "pipe")
    os.mkfifo(pipe)
    out = tmp_path / "master.wav"
    outputs = ["-o", pipe] if option == "-o" else ["-o", out, option, pipe]
    for force in ([], ["--force"]):  # without --force too: "use --force" would be wrong advice
        result = bandmate(capsys, "master", mix_file, *outputs, *force)
        assert_user_error(result, f"'{pipe}' is a named pipe", "even with --force")
        assert stat.S_ISFIFO(os.lstat(pipe).st_mode)
    assert not out.exists()


@pytest.mark.parametrize("option", ["--json", "--report"])
def test_a_link_to_a_device_is_never_replaced_by_an_output_even_with_force(
    capsys, tmp_path, mix_file, option
):
    # as root (CI, Docker) `--json /dev/stdout --force` would have put a file in place of the
    # link /dev/stdout: a link to /dev/null stands for it here
    link = tmp_path / "null"
    link.symlink_to(os.devnull)
    result = bandmate(capsys, "master", mix_file, "-o", tmp_path / "m.wav", option, link, "--force")
    assert_user_error(result, "is a link to a device", "even with --force")
    assert os.readlink(link) == os.devnull
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)
    assert not (tmp_path / "m.wav").exists()


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="mknod needs root")
@pytest.mark.parametrize("option", ["-o", "--json", "--report"])
def test_a_device_is_never_replaced_by_an_output_even_with_force(
    capsys, tmp_path, mix_file, option
):
    # `mknod mynull c 1 3; master ... --json mynull --force` left a 9 kB regular file in place of
    # the device; as root `--json /dev/null --force` would have replaced /dev/null
    device = tmp_path / ("null.wav" if option == "-o" else "null")
    os.mknod(device, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    out = tmp_path / "master.wav"
    outputs = ["-o", device] if option == "-o" else ["-o", out, option, device]
    result = bandmate(capsys, "master", mix_file, *outputs, "--force")
    assert_user_error(result, f"'{device}' is a device", "even with --force")
    assert stat.S_ISCHR(os.lstat(device).st_mode)
    assert not out.exists()


def test_an_output_that_is_a_link_to_a_file_is_replaced_with_force_not_written_through(tmp_path):
    # the decision check_outputs documents: the link goes, the file it pointed to stays as it was
    target, link = tmp_path / "take1.json", tmp_path / "latest.json"
    target.write_text("take 1")
    link.symlink_to(target)
    with pytest.raises(OutputError, match="already exists; use --force"):
        check_outputs([link])
    check_outputs([link], force=True)
    write_text_atomic(link, "take 2")
    assert not link.is_symlink() and link.read_text() == "take 2"
    assert target.read_text() == "take 1"
