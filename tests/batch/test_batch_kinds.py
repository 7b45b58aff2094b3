"""Loops and renders in a batch: the same per-item functions as `bandmate loop` and `render`,
the same seeds, so a batch's loop NN is `bandmate loop`'s loop NN."""

from __future__ import annotations

import json

import soundfile as sf

from bandmate.batch import REPORT_FILE, plan_loops, plan_render, run_batch
from bandmate.io.midi import read_midi
from bandmate.jobs.loops import LoopRequest, make_loops


def test_batch_loops_are_the_loops_of_bandmate_loop_and_render_back(ray_cluster, tmp_path):
    out = tmp_path / "pack"
    items = plan_loops(["funk"], 2, out, bars=1, seed=5)
    # loop 1 is the first seed's; loop 2 the next seed's whose notes differ (seeds 6 and 7 gave
    # loop 1 again), as in `bandmate loop`, whose loop 2 it must be
    assert [(i.name, i.seed) for i in items] == [("funk/01", 5), ("funk/02", 8)]
    summary = run_batch(items, out, workers=2)
    assert (summary.done, summary.failed) == (2, {})
    make_loops(LoopRequest("funk", bars=1, count=2, seed=5), tmp_path / "plain")
    batch_loop = read_midi(next((out / "funk" / "02").glob("*.mid")))
    plain_loop = read_midi(next((tmp_path / "plain").glob("*_02.mid")))
    assert [t.notes for t in batch_loop.tracks] == [t.notes for t in plain_loop.tracks]
    # and is named as it: funk_100bpm_C_02*, not a second funk_100bpm_C_01*
    plain_names = {p.name for p in (tmp_path / "plain").glob("*_02*") if p.suffix != ".json"}
    assert {p.name for p in (out / "funk" / "02").glob("funk_*")} >= plain_names

    midis = tmp_path / "midi"
    midis.mkdir()
    for n in ("01", "02"):
        (midis / f"loop{n}.mid").write_bytes(next((out / "funk" / n).glob("*.mid")).read_bytes())
    rendered = tmp_path / "rendered"
    summary = run_batch(plan_render(midis, rendered), rendered, workers=2)
    assert summary.done == 2
    assert json.loads((rendered / REPORT_FILE).read_text())["counts"]["done"] == 2
    assert sf.info(rendered / "loop01.wav").samplerate == 44_100


def test_two_inputs_that_would_write_one_output_are_refused(tmp_path):
    import pytest

    from bandmate.errors import UserError

    (tmp_path / "in").mkdir()
    for name in ("song.mid", "song.midi"):
        (tmp_path / "in" / name).write_bytes(b"MThd")
    with pytest.raises(UserError, match="both be written"):
        plan_render(tmp_path / "in", tmp_path / "out")


def test_a_bad_key_is_refused_before_any_work(tmp_path):
    import pytest

    from bandmate.errors import UserError

    with pytest.raises(UserError, match="Unknown key 'H'"):
        plan_loops(["funk"], 2, tmp_path, key="H")


def test_a_style_named_twice_is_one_style(tmp_path):
    """`--styles funk,Funk,funk` made funk/01 twice, at once, into one folder, and counted it
    twice ("3 items: 3 done")."""
    items = plan_loops(["funk", "Funk", " funk"], 2, tmp_path, bars=1)
    assert [i.name for i in items] == ["funk/01", "funk/02"]


def test_every_file_of_a_loop_batch_has_its_own_name(tmp_path):
    """Each loop was named ..._01 in its own folder, so a producer who gathered a pack into one
    folder kept one loop of each style, the others overwritten."""
    from bandmate.batch.items import loop_item

    out = tmp_path / "pack"
    items = plan_loops(["funk", "house"], 2, out, key="A minor", bars=1)
    names = [p.name for item in items for p in loop_item(item) if p.name != "manifest.json"]
    assert len(names) == len(set(names))
    assert {"funk_100bpm_Am_02.wav", "house_124bpm_Am_01_bass.wav"} <= set(names)
    assert (out / "funk" / "02" / "funk_100bpm_Am_02.mid").exists()


def test_a_loop_whose_provenance_sidecar_is_gone_is_made_again(ray_cluster, tmp_path):
    """The report listed a loop's audio and MIDI but not their provenance sidecars, so a rerun
    took a loop whose sidecar had been deleted for done, and left its WAV unable to say how it
    was made."""
    out = tmp_path / "pack"
    items = plan_loops(["house"], 1, out, bars=1)
    assert run_batch(items, out, workers=1).done == 1
    entry = json.loads((out / REPORT_FILE).read_text())["items"]["house/01"]
    sidecar = out / "house" / "01" / "house_124bpm_C_01.wav.provenance.json"
    assert sidecar.relative_to(out).as_posix() in entry["outputs"]
    sidecar.unlink()
    summary = run_batch(items, out, workers=1)
    assert (summary.done, summary.skipped) == (1, 0)
    assert json.loads(sidecar.read_text())["file"]["name"] == "house_124bpm_C_01.wav"
