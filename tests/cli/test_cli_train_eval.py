"""`bandmate train` and `bandmate eval`: a short run, its resumption, its score, every mistake."""

from __future__ import annotations

import json

import pytest

from tests.builders import assert_user_error, run_cli, run_cli_as_a_user


@pytest.fixture(autouse=True)
def _own_ledger(tmp_path, monkeypatch):
    # the trainer records its data in the ledger: this test's, never the user's
    monkeypatch.setenv("BANDMATE_HOME", str(tmp_path / "home"))


@pytest.mark.slow
def test_train_resume_and_eval_a_chorale_model(tmp_path):
    out = tmp_path / "run"
    one = ("--threads", "1")  # tests run two at a time on two cores
    first = run_cli("train", "--task", "chorale", "--out", out, "--steps", "1", *one)
    assert first.returncode == 0, first.stderr
    assert "best valid NLL" in first.stdout
    assert {"model.safetensors", "config.json", "card.json", "resume"} <= {
        p.name for p in out.iterdir()
    }
    card = json.loads((out / "card.json").read_text())
    assert card["training"]["data"]["collections"][0]["name"] == "jsb"
    # every train chorale is learnt from, as the card says of melody and drum models too
    from bandmate.corpus.jsb import load_jsb

    assert card["training"]["data"]["items"] == len(load_jsb("train"))
    assert card["training"]["data"]["left_out"] == {"items": 0, "reasons": {}, "listed": []}
    assert card["training"]["command"].startswith("bandmate train --task chorale")

    again = run_cli("train", "--task", "chorale", "--out", out, "--steps", "2", "--resume", *one)
    assert again.returncode == 0, again.stderr
    assert json.loads((out / "resume" / "state.json").read_text())["step"] == 2

    scored = run_cli("eval", "--task", "chorale", "--split", "valid", "--checkpoint", out, *one)
    assert scored.returncode == 0, scored.stderr
    nll = float(scored.stdout.split()[1])
    best = json.loads((out / "card.json").read_text())["metrics"]["valid_nll_nats_per_token"]
    assert nll == pytest.approx(best, abs=1e-4)
    assert "76 chorales" in scored.stdout


def test_train_refuses_to_overwrite_or_resume_nothing(tmp_path):
    assert_user_error(
        run_cli("train", "--task", "chorale", "--out", tmp_path / "none", "--resume"),
        "nothing to resume",
    )
    (tmp_path / "run" / "resume").mkdir(parents=True)
    for name in ("model.safetensors", "optimizer.safetensors", "state.json"):
        (tmp_path / "run" / "resume" / name).write_text("{}")
    assert_user_error(run_cli("train", "--task", "chorale", "--out", tmp_path / "run"), "--resume")
    # a folder with a model (or the user's own card.json) but no run: it was overwritten
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "card.json").write_text("precious")
    result = run_cli("train", "--task", "chorale", "--steps", "1", "--out", tmp_path / "mine")
    assert_user_error(result, "already holds card.json", "another --out")
    assert (tmp_path / "mine" / "card.json").read_text() == "precious"


def test_train_refuses_other_data_for_chorales(tmp_path):
    assert_user_error(
        run_cli("train", "--task", "chorale", "--data", "essen", "--out", tmp_path / "x"),
        "jsb",
    )


def test_eval_of_a_folder_without_a_model_is_one_line(tmp_path):
    assert_user_error(run_cli("eval", "--task", "chorale", "--checkpoint", tmp_path), "no model")


def test_steps_must_be_positive(tmp_path):
    assert_user_error(
        run_cli("train", "--task", "chorale", "--out", tmp_path, "--steps", "0"), "--steps"
    )


def test_an_out_that_is_a_file_is_refused_before_training(tmp_path):
    # it was found only when the model was saved, after the training: a FileExistsError traceback
    (tmp_path / "notes.txt").write_text("mine")
    result = run_cli("train", "--task", "chorale", "--out", tmp_path / "notes.txt", "--steps", "1")
    assert_user_error(result, "is a file", "folder")
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_an_out_inside_a_file_is_refused_before_training(tmp_path):
    # `--out notes.txt/run`: the folder could not be made when the model was saved, after the
    # training, and the run ended in a NotADirectoryError traceback, its work lost
    (tmp_path / "notes.txt").write_text("mine")
    result = run_cli(
        "train", "--task", "chorale", "--out", tmp_path / "notes.txt" / "run", "--steps", "1"
    )
    assert_user_error(result, "notes.txt' is a file, not a folder")
    assert "step 1" not in result.stderr  # refused before any training
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_an_out_beyond_a_folder_the_user_may_not_enter_is_one_sentence(tmp_path):
    # `--out private/run` under a folder of another user's (mode 0700) ended in a
    # PermissionError traceback from looking for the folder
    private = tmp_path / "private"
    private.mkdir(mode=0o000)
    out = private / "locked" / "run"
    try:
        result = run_cli_as_a_user("train", "--task", "chorale", "--out", out, "--steps", "1")
    finally:
        private.chmod(0o755)
    assert_user_error(result, "may not be entered")


def test_eval_of_a_model_whose_collection_this_ledger_lacks_says_what_to_do(tmp_path, monkeypatch):
    # scoring a model trained on a user's folder under another BANDMATE_HOME (or machine) said
    # "Unknown collection 'mine'; choose one of: ...", though no collection was asked for
    import json

    from tests.conftest import untrained_model

    monkeypatch.setenv("BANDMATE_HOME", str(tmp_path / "home"))
    untrained_model("drums", tmp_path / "model")
    card = {"training": {"data": {"collections": [{"name": "mine"}]}}}
    (tmp_path / "model" / "card.json").write_text(json.dumps(card))
    result = run_cli("eval", "--task", "drums", "--checkpoint", tmp_path / "model")
    assert_user_error(result, "learnt from the collection 'mine'", "corpus add", "BANDMATE_HOME")
