"""Training a melody model on a user's folder, and scoring it as training did."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest

from bandmate.io.midi import write_midi
from bandmate.score import Role, Track
from tests.builders import assert_user_error, make_score, notes, run_cli


def folder_of_tunes(folder, count: int, splits=("train", "valid", "test")) -> list[Path]:
    """`count` different 16-note tunes, each a file; only tunes whose hash puts them in one of
    `splits` are kept (a folder with nothing in valid, say). The paths, in order."""
    from bandmate.corpus.ledger import split_for
    from tests.builders import sha256

    folder.mkdir()
    written: list[Path] = []
    seed = 0
    while len(written) < count:
        rng = random.Random(seed)
        pitches = [rng.randrange(55, 80) for _ in range(16)]
        track = Track("Tune", 73, role=Role.MELODY, notes=notes(*enumerate_notes(pitches)))
        path = folder / f"tune{seed:03}.mid"
        write_midi(make_score(track), path)
        if split_for(sha256(path)) in splits:
            written.append(path)
        else:
            path.unlink()
        seed += 1
    return written


def test_train_and_eval_a_melody_model_on_a_users_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("BANDMATE_HOME", str(tmp_path / "home"))
    folder_of_tunes(tmp_path / "tunes", 60)  # ~3 land in valid by their hashes
    added = run_cli("corpus", "add", tmp_path / "tunes", "--name", "mine", "--licence", "CC0")
    assert added.returncode == 0, added.stderr
    out = tmp_path / "model"
    result = run_cli(
        "train",
        "--task",
        "melody",
        "--data",
        "mine",
        "--steps",
        "4",
        "--threads",
        "1",
        "--out",
        out,
    )
    assert result.returncode == 0, result.stderr
    card = json.loads((out / "card.json").read_text())
    assert card["training"]["data"]["collections"][0]["name"] == "mine"
    scored = run_cli("eval", "--task", "melody", "--split", "valid", "--checkpoint", out)
    assert scored.returncode == 0, scored.stderr
    nll = float(re.search(r"valid: ([0-9.]+)", scored.stdout).group(1))
    assert abs(nll - card["metrics"]["valid_nll_nats_per_token"]) < 0.005
    # the checkpoint says its task: `eval --checkpoint` alone was refused as "not a chorale model"
    plain = run_cli("eval", "--checkpoint", out)
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout == scored.stdout
    # what it writes is checked against the user's tunes it learnt from, not only bandmate's
    tune = tmp_path / "tune.mid"
    written = run_cli("melody", "| C | F | G | C |", "--model", out, "-o", tune)
    assert written.returncode == 0, written.stderr
    (manifest,) = tmp_path.glob("tune.mid*.json")
    index = json.loads(manifest.read_text())["originality"]["index"]
    assert [i["name"] for i in index["searched"]] == ["bandmate-originality", "your-collections"]
    # the user's tunes teach no style: it said "(folk, ...)" and prompted with a STYLE token
    # the model never saw in training
    assert "folk" not in written.stdout
    irish = run_cli("melody", "| C |", "--model", out, "--style", "irish", "-o", tmp_path / "i.mid")
    assert_user_error(irish, "learnt no irish tunes", "carry no style")
    # continue chose the likeliest of the four built-in styles, none of which it learnt
    more = run_cli("continue", tune, "--bars", "2", "--model", out, "-o", tmp_path / "more.mid")
    assert more.returncode == 0, more.stderr
    options = ["--bars", "2", "--model", out, "--style", "irish", "-o", tmp_path / "i.mid"]
    irish = run_cli("continue", tune, *options)
    assert_user_error(irish, "learnt no irish tunes")


def test_the_card_counts_only_the_items_learnt_from_and_names_those_left_out(tmp_path, monkeypatch):
    # a drums-only file in a folder of tunes was counted in the card ("items: 21") and in its
    # data hash, though a melody model cannot learn from it and 20 were learnt from
    import hashlib

    from bandmate.corpus.ledger import split_for
    from tests.builders import drums, sha256

    tunes = folder_of_tunes(tmp_path / "tunes", 12, splits=("train",))
    beat = tmp_path / "tunes" / "beat.mid"
    hits = 2
    while not beat.exists() or split_for(sha256(beat)) != "train":  # learnt if it could be
        write_midi(make_score(drums(*[(k / 2, 0.25, 36) for k in range(hits)])), beat)
        hits += 1
    home = tmp_path / "home"
    monkeypatch.setenv("BANDMATE_HOME", str(home))
    run_cli("corpus", "add", tmp_path / "tunes", "--name", "mine", "--licence", "own work")
    out = tmp_path / "m"
    args = ("--data", "mine", "--steps", "2", "--threads", "1", "--out", out)
    result = run_cli("train", "--task", "melody", *args)
    assert result.returncode == 0, result.stderr
    data = json.loads((out / "card.json").read_text())["training"]["data"]
    learnt = sorted(sha256(path) for path in tunes)
    assert data["items"] == 12
    assert data["sha256"] == hashlib.sha256("\n".join(learnt).encode("ascii")).hexdigest()
    (mine,) = data["collections"]
    assert (mine["items"], mine["splits"]["train"], mine["left_out"]) == (12, 12, 1)
    assert data["left_out"] == {
        "items": 1,
        "reasons": {"no pitched notes": 1},
        "listed": [{"collection": "mine", "item": "beat.mid", "reason": "no pitched notes"}],
    }
    assert list(home.glob("cache/melody-*.npz"))  # the pieces, kept with the items they are of


@pytest.mark.parametrize("count", [1, 2, 9])
def test_too_few_files_are_refused_saying_how_many_are_needed(tmp_path, monkeypatch, count):
    # one file was refused as "the valid split holds no pieces; add more files", which said
    # neither how many nor that a handful of tunes can only be learnt by heart
    monkeypatch.setenv("BANDMATE_HOME", str(tmp_path / "home"))
    folder_of_tunes(tmp_path / "tunes", count, splits=("train",))
    run_cli("corpus", "add", tmp_path / "tunes", "--name", "few", "--licence", "CC0")
    result = run_cli(
        "train", "--task", "melody", "--data", "few", "--steps", "2", "--out", tmp_path / "m"
    )
    assert_user_error(result, f"holds {count} piece", "a pitched part", "at least 10", "12 files")
    assert not (tmp_path / "m").exists()


def test_a_folder_with_nothing_in_valid_trains_with_a_warning(tmp_path, monkeypatch):
    # 1 in 20 files goes to valid by its hash, so a folder of 30 tunes has none about one time
    # in five; it was refused ("add more files") however many train pieces it had
    monkeypatch.setenv("BANDMATE_HOME", str(tmp_path / "home"))
    folder_of_tunes(tmp_path / "tunes", 10, splits=("train",))
    run_cli("corpus", "add", tmp_path / "tunes", "--name", "mine", "--licence", "CC0")
    out = tmp_path / "m"
    args = ("--data", "mine", "--steps", "2", "--threads", "1", "--out", out)
    result = run_cli("train", "--task", "melody", *args)
    assert result.returncode == 0, result.stderr
    assert "warning: the valid split" in result.stderr
    assert "chosen by its loss on the training pieces" in result.stderr
    assert "step 2: loss" in result.stderr and ", train " in result.stderr
    assert result.stdout.startswith("best train NLL")
    card = json.loads((out / "card.json").read_text())
    assert card["metrics"]["scored_on"].startswith("the train split")
    assert card["warnings"][0].startswith("the valid split")


def test_data_without_a_drum_part_is_named_as_such_for_a_drum_model(tmp_path, monkeypatch):
    # a folder of tunes for --task drums said "the train split holds no pieces ...; add more
    # files", though more files of the same kind could never help
    monkeypatch.setenv("BANDMATE_HOME", str(tmp_path / "home"))
    folder_of_tunes(tmp_path / "tunes", 12)
    run_cli("corpus", "add", tmp_path / "tunes", "--name", "tunes", "--licence", "CC0")
    result = run_cli(
        "train", "--task", "drums", "--data", "tunes", "--steps", "1", "--out", tmp_path / "m"
    )
    assert_user_error(result, "needs a drum part", "choose other --data")


def test_a_folder_moved_since_it_was_added_is_named_as_unreadable_not_as_music(
    tmp_path, monkeypatch
):
    # with every file gone the trainer said the data held "no pieces a melody model can learn
    # from (a melody model needs a pitched part)", though the tunes had melodies all along
    monkeypatch.setenv("BANDMATE_HOME", str(tmp_path / "home"))
    folder_of_tunes(tmp_path / "tunes", 12, splits=("train",))
    run_cli("corpus", "add", tmp_path / "tunes", "--name", "mine", "--licence", "CC0")
    (tmp_path / "tunes").rename(tmp_path / "moved")
    result = run_cli(
        "train", "--task", "melody", "--data", "mine", "--steps", "1", "--out", tmp_path / "m"
    )
    assert_user_error(result, "None of the 12 files", "could be read", "is gone", "restore")
    assert not (tmp_path / "m").exists()


def test_a_file_in_two_collections_is_learnt_once(tmp_path, monkeypatch):
    # the same tunes in two folders ("all my songs" and "best of"), added as two collections,
    # were each learnt twice, and the card counted every one twice
    import shutil

    monkeypatch.setenv("BANDMATE_HOME", str(tmp_path / "home"))
    folder_of_tunes(tmp_path / "all", 12, splits=("train",))
    shutil.copytree(tmp_path / "all", tmp_path / "best")
    for name in ("all", "best"):
        run_cli("corpus", "add", tmp_path / name, "--name", name, "--licence", "CC0")
    out = tmp_path / "m"
    args = ("--data", "all", "best", "--steps", "1", "--threads", "1", "--out", out)
    result = run_cli("train", "--task", "melody", *args)
    assert result.returncode == 0, result.stderr
    data = json.loads((out / "card.json").read_text())["training"]["data"]
    assert data["items"] == 12
    assert [(c["name"], c["items"], c["left_out"]) for c in data["collections"]] == [
        ("all", 12, 0),
        ("best", 0, 12),
    ]
    assert data["left_out"]["reasons"] == {"same bytes as an item of another collection": 12}


def test_a_copy_of_a_users_own_training_tune_is_flagged(tmp_path, monkeypatch):
    # a model trained on a user's folder was checked only against the built-in collections, so
    # a melody that copied the user's own training data left unflagged
    from bandmate.corpus.ledger import Ledger
    from bandmate.io.formats import read_score
    from bandmate.rights.originality import check_score, first_original, indexes_for

    monkeypatch.setenv("BANDMATE_HOME", str(tmp_path / "home"))
    folder = tmp_path / "tunes"
    folder.mkdir()
    for i in range(12):  # wandering tunes, none a scale a stock phrase would match
        pitches = [60 + (i * 5 + k * k * (3 + i)) % 19 for k in range(24)]
        track = Track("Tune", 73, role=Role.MELODY, notes=notes(*enumerate_notes(pitches)))
        write_midi(make_score(track), folder / f"tune{i:03}.mid")
    added = run_cli("corpus", "add", folder, "--name", "mine", "--licence", "own work")
    assert added.returncode == 0, added.stderr
    trained_on = Ledger().items(["mine"], split="train")[0]
    copy = read_score(folder / Path(trained_on.reference).name)
    assert not check_score(copy).flagged  # the built-in collections do not hold it
    indexes = indexes_for(["essen", "mine"])
    _, result, made = first_original(lambda attempt: copy, 2, index=indexes)
    assert result.flagged and made == 2
    searched = [i["name"] for i in result.index["searched"]]
    assert searched == ["bandmate-originality", "your-collections"]
    # bandmate check --model asks the same of a file
    model = tmp_path / "model"
    args = ("--task", "melody", "--data", "mine", "--steps", "1", "--threads", "1", "--out", model)
    assert run_cli("train", *args).returncode == 0
    path = folder / Path(trained_on.reference).name
    assert run_cli("check", path).returncode == 0
    flagged = run_cli("check", path, "--model", model)
    assert flagged.returncode == 1, flagged.stdout + flagged.stderr
    assert "collection    mine" in flagged.stdout


def enumerate_notes(pitches):
    return [(k, 1, p) for k, p in enumerate(pitches)]
