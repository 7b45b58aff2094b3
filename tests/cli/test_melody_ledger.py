"""`bandmate melody --model DIR` and `bandmate check --model DIR` when the model learnt from a
user's collection: a copy of its training data is flagged, and where the corpus ledger or the
collection's folder cannot give that data (damaged, another ledger, a folder moved or files
gone) one sentence says which and what to do, and the ledger is left as it was."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3

import pytest

from bandmate.errors import UserError
from tests.builders import assert_user_error, folder_by_split, run_cli
from tests.conftest import untrained_model


def model_of(out, *collections: tuple[str, str]):
    """A melody model whose card says it learnt from `collections` ((name, licence) pairs), as
    `bandmate train` writes it. Its weights are untrained: what is checked here is what its
    card names, and training one through the CLI took half a minute."""
    folder = untrained_model("melody", out)
    rows = [
        {"name": name, "licence": licence, "licence_class": "cc0", "commercial": True, "items": 12}
        for name, licence in collections
    ]
    card = {
        "name": "mine-melody",
        "training": {"data": {"items": 12, "collections": rows, "commercial": True}},
    }
    (folder / "card.json").write_text(json.dumps(card), encoding="utf-8")
    return folder


def assert_one_sentence(result) -> str:
    assert_user_error(result)
    line = result.stderr.strip()
    # a sentence inside another ("... (The corpus ledger ... is damaged ...).); add ...") or
    # one after another
    assert not re.search(r"\.\)|[.;:] *\(?[A-Z][a-z]+ [a-z]", line.split("error: ", 1)[1]), line
    return line


def ledger_rows(home) -> list[tuple]:
    with sqlite3.connect(home / "ledger.sqlite") as db:
        return db.execute("SELECT item_id, status, reason, reference FROM items").fetchall()


@pytest.fixture
def mine(tmp_path, monkeypatch):
    """(home, tunes folder, model): 12 train tunes added as 'mine' (CC0), a model learnt from it."""
    home = tmp_path / "home"
    monkeypatch.setenv("BANDMATE_HOME", str(home))
    tunes = tmp_path / "tunes"
    folder_by_split(tunes, {"train": 12})
    added = run_cli("corpus", "add", tunes, "--name", "mine", "--licence", "CC0")
    assert added.returncode == 0, added.stderr
    return home, tunes, model_of(tmp_path / "model", ("mine", "CC0"))


def test_a_damaged_or_other_ledger_is_named_in_one_sentence(tmp_path, mine):
    home, tunes, model = mine
    ledger = home / "ledger.sqlite"
    ledger.write_bytes(b"not a database, but the first bytes of something else " * 20)
    melody = ["melody", "| C | F | G | C |", "--model", model, "-o"]
    damaged = run_cli(*melody, tmp_path / "a.mid")
    assert_user_error(damaged, "ledger", "damaged", "move it aside")
    assert "no longer holds" not in damaged.stderr  # it holds it, but cannot be read
    assert_one_sentence(damaged)
    assert not (tmp_path / "a.mid").exists()
    # another ledger (a fresh BANDMATE_HOME, or the damaged one moved aside) lacks the collection
    ledger.rename(tmp_path / "ledger.damaged")
    other = run_cli(*melody, tmp_path / "b.mid")
    assert_user_error(other, "'mine'", "bandmate corpus add", "--name mine", "--licence")
    assert_one_sentence(other)
    assert not (tmp_path / "b.mid").exists()
    # `check --model` reads the model's collections the same way
    tune = next(tunes.glob("*.mid"))
    assert_one_sentence(run_cli("check", tune, "--model", model))


def test_every_collection_the_ledger_lacks_is_named_with_its_licence(tmp_path, monkeypatch):
    from bandmate.corpus.ledger import Ledger
    from bandmate.models.registry import load
    from bandmate.rights.originality import indexes_for
    from bandmate.rights.provenance import model_use

    monkeypatch.setenv("BANDMATE_HOME", str(tmp_path / "home"))
    model = model_of(tmp_path / "model", ("mine", "CC BY 4.0"), ("gigs", "own work"))
    folder_by_split(tmp_path / "tunes", {"train": 1})
    both = run_cli("check", next((tmp_path / "tunes").glob("*.mid")), "--model", model)
    assert_user_error(both, "'gigs'", "'mine'", "--name gigs", "--name mine", "--licence")
    assert_one_sentence(both)
    assert "--name mine --licence 'CC BY 4.0'" in both.stderr, both.stderr
    # the card's licence goes into the command, quoted for the shell, as `corpus add` needs it
    with pytest.raises(UserError) as refused:
        indexes_for(model_use(load(model))["collections"], Ledger())
    said = str(refused.value)
    assert "--name mine --licence 'CC BY 4.0'" in said, said
    assert "--name gigs --licence 'own work'" in said, said


def test_a_copy_of_a_tune_from_a_folder_moved_away_is_refused_not_called_original(tmp_path, mine):
    home, tunes, model = mine
    copy = tmp_path / "copy.mid"
    shutil.copyfile(sorted(tunes.glob("*.mid"))[0], copy)
    before = ledger_rows(home)
    moved = tunes.rename(tmp_path / "moved")
    for command in (["check", copy], ["melody", "| C | F | G | C |", "-o", tmp_path / "m.mid"]):
        refused = run_cli(*command, "--model", model)
        assert_user_error(refused, "'mine'", str(tunes), "not there", "reconnect")
        assert_one_sentence(refused)
        assert "verdict" not in refused.stdout
    assert not (tmp_path / "m.mid").exists()
    # a check changes nothing in the record, and keeps no empty reading to check against later
    assert ledger_rows(home) == before
    assert not list((home / "cache").glob("originality-*"))
    moved.rename(tunes)
    flagged = run_cli("check", copy, "--model", model)
    assert flagged.returncode == 1, (flagged.stdout, flagged.stderr)
    assert "flagged" in flagged.stdout and "(mine)" in flagged.stdout, flagged.stdout


def test_a_folder_with_files_gone_says_how_many_and_which(tmp_path, mine):
    home, tunes, model = mine
    first, second, *_ = sorted(tunes.glob("*.mid"))
    copy = tmp_path / "copy.mid"
    shutil.copyfile(first, copy)
    before = ledger_rows(home)
    kept = first.read_bytes()
    first.unlink()  # the very tune the piece copies: a check against the rest calls it original
    second.write_bytes(second.read_bytes() + b"\0")  # edited since it was recorded
    refused = run_cli("check", copy, "--model", model)
    assert_user_error(refused, "2 of the 12 training items", "'mine'", first.name, second.name)
    assert_one_sentence(refused)
    assert ledger_rows(home) == before
    assert not list((home / "cache").glob("originality-*"))
    first.write_bytes(kept)
    second.write_bytes(second.read_bytes()[:-1])
    assert run_cli("check", copy, "--model", model).returncode == 1


def test_what_was_read_once_is_checked_against_while_the_folder_is_away(tmp_path, mine):
    _, tunes, model = mine
    copy = tmp_path / "copy.mid"
    shutil.copyfile(sorted(tunes.glob("*.mid"))[0], copy)
    assert run_cli("check", copy, "--model", model).returncode == 1
    tunes.rename(tmp_path / "moved")  # the drive unplugged: what its tunes held is known
    flagged = run_cli("check", copy, "--model", model)
    assert flagged.returncode == 1, (flagged.stdout, flagged.stderr)
    assert "(mine)" in flagged.stdout


def test_eval_names_every_collection_the_ledger_lacks_with_its_licence(tmp_path, monkeypatch):
    # `eval` said "add that folder again ... (same licence)", a command `corpus add` refuses
    # without --licence, and named only the first collection
    monkeypatch.setenv("BANDMATE_HOME", str(tmp_path / "home"))
    model = model_of(tmp_path / "model", ("mine", "CC BY 4.0"), ("gigs", "own work"))
    said = run_cli("eval", "--checkpoint", model)
    assert_user_error(said, "'gigs'", "'mine'", "valid split")
    assert_one_sentence(said)
    assert "--name mine --licence 'CC BY 4.0'" in said.stderr, said.stderr
    assert "--name gigs --licence 'own work'" in said.stderr, said.stderr
