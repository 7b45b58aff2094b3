"""A batch stopped with Ctrl-C: no item's partial outputs are left, and a rerun finishes it."""

from __future__ import annotations

import functools
import json

import cloudpickle
import pytest

from bandmate.batch import REPORT_FILE, plan_loops, run_batch
from tests.batch import crashing


def test_a_loop_batch_stopped_with_ctrl_c_leaves_no_partial_loop_and_resumes(ray_cluster, tmp_path):
    # Ctrl-C shut Ray down under the workers: a loop cut short kept its MIDI, full mix and some
    # stems, with no manifest, and a hidden half-written WAV
    out = tmp_path / "pack"
    cloudpickle.register_pickle_by_value(crashing)
    work = functools.partial(crashing.loop_but_stall, marker_dir=str(tmp_path), victim="funk/02")

    def ctrl_c_after_one(done, total, **_):
        if done >= 1:
            raise KeyboardInterrupt

    items = plan_loops(["funk"], 2, out, bars=1)
    (out / "funk" / "02").mkdir(parents=True)
    (out / "funk" / "02" / "notes.txt").write_text("mine")
    with pytest.raises(KeyboardInterrupt):
        run_batch(items, out, workers=2, work=work, progress=ctrl_c_after_one, force=True)
    assert sorted(p.name for p in (out / "funk" / "02").iterdir()) == ["notes.txt"]
    assert (out / "funk" / "01" / "manifest.json").exists()  # the finished loop stays
    report = json.loads((out / REPORT_FILE).read_text())
    assert report["items"]["funk/02"]["status"] == "pending"
    summary = run_batch(items, out, workers=2)
    assert (summary.done, summary.skipped, summary.failed) == (1, 1, {})
    assert (out / "funk" / "02" / "manifest.json").exists()
