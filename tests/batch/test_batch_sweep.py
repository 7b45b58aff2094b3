"""A producer's mistakes with `bandmate batch`: folders nested either way, a report edited by
hand, a report that is a folder. Each is one sentence and exit 2, or the work a user expects."""

from __future__ import annotations

import json

import pytest

from bandmate.batch import REPORT_FILE, plan_master, run_batch
from bandmate.cli import main
from tests.batch.conftest import write_mixes


def one_sentence(capsys, *words):
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    for word in words:
        assert word in err, err


def test_an_input_folder_inside_the_output_folder_is_mastered(ray_cluster, tmp_path):
    """`batch master album/raw album`: every input lies under the output folder, which is not the
    outputs of an earlier run; the batch used to find "no items"."""
    write_mixes(tmp_path / "album" / "raw", 2)
    summary = run_batch(
        plan_master(tmp_path / "album" / "raw", tmp_path / "album"), tmp_path / "album"
    )
    assert summary.done == 2 and not summary.failed
    assert (tmp_path / "album" / "s0.wav").is_file() and (tmp_path / "album" / "s1.wav").is_file()


def test_an_output_that_would_be_written_over_an_input_is_refused(tmp_path, capsys):
    """IN_DIR a/raw, OUT_DIR a: raw/raw/x.wav would be mastered onto raw/x.wav, an input."""
    write_mixes(tmp_path / "a" / "raw", 1)
    write_mixes(tmp_path / "a" / "raw" / "raw", 1)
    before = (tmp_path / "a" / "raw" / "s0.wav").read_bytes()
    argv = ["batch", "master", str(tmp_path / "a" / "raw"), str(tmp_path / "a"), "--force"]
    assert main(argv) == 2
    one_sentence(capsys, "would be written over the input")
    assert (tmp_path / "a" / "raw" / "s0.wav").read_bytes() == before


def test_a_folder_holding_only_earlier_outputs_is_one_sentence(tmp_path, capsys):
    write_mixes(tmp_path / "in" / "mastered", 1)
    assert main(["batch", "master", str(tmp_path / "in"), str(tmp_path / "in" / "mastered")]) == 2
    one_sentence(capsys, "outside the output folder")


def test_a_report_that_is_a_folder_is_one_sentence(tmp_path, capsys):
    write_mixes(tmp_path / "in", 1)
    (tmp_path / "out" / REPORT_FILE).mkdir(parents=True)
    assert main(["batch", "master", str(tmp_path / "in"), str(tmp_path / "out")]) == 2
    one_sentence(capsys, "is a folder, not a batch report")


def test_an_item_marked_done_by_hand_whose_output_is_gone_is_done_again(ray_cluster, tmp_path):
    """A report edited to say done with no outputs listed, the master deleted: a rerun masters
    it again rather than count it "already done" with nothing there."""
    write_mixes(tmp_path / "in", 2)
    out = tmp_path / "out"
    run_batch(plan_master(tmp_path / "in", out), out)
    data = json.loads((out / REPORT_FILE).read_text())
    data["items"]["s0.wav"]["outputs"] = []
    (out / REPORT_FILE).write_text(json.dumps(data))
    (out / "s0.wav").unlink()
    summary = run_batch(plan_master(tmp_path / "in", out), out)
    assert (summary.done, summary.skipped) == (1, 1)
    assert (out / "s0.wav").is_file()


def test_a_file_name_that_is_not_utf8_is_mastered_and_recorded(ray_cluster, tmp_path):
    """A Latin-1 name from an old archive (b'caf\\xe9.wav'): the batch stopped with a
    UnicodeEncodeError traceback before any work. It is mastered under the same name, the
    report stays UTF-8 JSON, and a rerun finds it done."""
    import os

    (good,) = write_mixes(tmp_path / "in", 1)
    latin1 = os.fsdecode(os.fsencode(tmp_path / "in") + b"/caf\xe9.wav")
    os.rename(good.parent / "s0.wav", latin1)
    write_mixes(tmp_path / "in", 1)  # and a plain s0.wav beside it
    out = tmp_path / "out"
    summary = run_batch(plan_master(tmp_path / "in", out), out)
    assert (summary.done, summary.failed) == (2, {})
    assert os.path.isfile(os.fsencode(out) + b"/caf\xe9.wav")
    json.loads((out / REPORT_FILE).read_bytes().decode("utf-8"))  # strict UTF-8
    again = run_batch(plan_master(tmp_path / "in", out), out)
    assert (again.done, again.skipped) == (0, 2)


def test_a_second_batch_on_a_folder_in_use_is_one_sentence(ray_cluster, tmp_path, capsys):
    """The same command in a second terminal while the first runs: it did every item a second
    time, and the two reports overwrote each other's records."""
    import functools
    import threading

    import cloudpickle

    from tests.batch import crashing

    write_mixes(tmp_path / "in", 2)
    out = tmp_path / "out"
    cloudpickle.register_pickle_by_value(crashing)
    work = functools.partial(crashing.master_when_told, marker_dir=str(tmp_path))
    first = {}
    thread = threading.Thread(
        target=lambda: first.update(s=run_batch(plan_master(tmp_path / "in", out), out, work=work))
    )
    thread.start()
    try:
        while not (out / REPORT_FILE).exists():  # the first batch has planned and started
            thread.join(0.01)
        assert main(["batch", "master", str(tmp_path / "in"), str(out)]) == 2
        one_sentence(capsys, "Another batch is running in")
    finally:
        (tmp_path / "go").touch()
        thread.join(60)
    assert first["s"].done == 2
    # once it has finished, the folder is free: a rerun finds everything done
    assert main(["batch", "master", str(tmp_path / "in"), str(out)]) == 0
    assert "2 already done" in capsys.readouterr().out


def test_a_report_saved_with_a_byte_order_mark_is_read(ray_cluster, tmp_path):
    """A report edited in Notepad comes back with a UTF-8 byte-order mark: it was refused as
    "not a batch report", and the user told to move it away (so redo the whole batch)."""
    write_mixes(tmp_path / "in", 2)
    out = tmp_path / "out"
    run_batch(plan_master(tmp_path / "in", out), out)
    text = (out / REPORT_FILE).read_text(encoding="utf-8")
    (out / REPORT_FILE).write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())
    again = run_batch(plan_master(tmp_path / "in", out), out)
    assert (again.done, again.skipped) == (0, 2)


def test_an_input_that_cannot_be_read_fails_alone(ray_cluster, tmp_path, capsys):
    """An input that cannot be read when the batch hashes it (another user's file, chmod 000,
    or gone since the folder was listed) stopped the whole batch with a PermissionError (or
    FileNotFoundError) traceback. It is a failed item in the report; the others are done."""
    write_mixes(tmp_path / "in", 3)
    out = tmp_path / "out"
    items = plan_master(tmp_path / "in", out)
    (tmp_path / "in" / "s1.wav").unlink()  # as a file moved away, or one this user cannot read
    summary = run_batch(items, out)
    assert summary.done == 2 and list(summary.failed) == ["s1.wav"]
    assert "s1.wav" in summary.failed["s1.wav"] and "cannot be read" in summary.failed["s1.wav"]
    entry = json.loads((out / REPORT_FILE).read_text())["items"]["s1.wav"]
    assert entry["status"] == "failed" and "cannot be read" in entry["error"]
    assert sorted(p.name for p in out.iterdir()) == [REPORT_FILE, "s0.wav", "s2.wav"]


@pytest.mark.parametrize("kind", ["master", "loops"])
def test_an_output_folder_under_a_file_is_one_sentence(tmp_path, capsys, kind):
    """OUT_DIR song.wav/mastered (a file where a folder must be made): a NotADirectoryError
    traceback, once the batch came to write its report."""
    write_mixes(tmp_path / "in", 1)
    out = str(tmp_path / "in" / "s0.wav" / "mastered")
    args = ["master", str(tmp_path / "in"), out] if kind == "master" else ["loops", "--styles",
            "funk", "--count", "1", "-o", out]  # fmt: skip
    assert main(["batch", *args]) == 2
    one_sentence(capsys, "cannot be made", "is a file")
