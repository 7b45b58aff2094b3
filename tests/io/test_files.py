"""Safe outputs: a refused output is one sentence, found before any work."""

import pytest

from bandmate.errors import OutputError
from bandmate.io.files import atomic_path, check_outputs


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
