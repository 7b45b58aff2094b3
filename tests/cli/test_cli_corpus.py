"""`bandmate corpus add | list | stats`, run as a user runs them."""

from __future__ import annotations

import pytest

from bandmate.corpus.ledger import Ledger
from bandmate.corpus.sources import BUILTIN_COLLECTIONS
from tests.builders import assert_user_error, run_cli
from tests.corpus import GOOD_FILES, UNREADABLE_FILES, make_music_folder, snapshot


@pytest.fixture
def home(tmp_path, monkeypatch):
    """BANDMATE_HOME for this test; the CLI's subprocess inherits it."""
    path = tmp_path / "home"
    monkeypatch.setenv("BANDMATE_HOME", str(path))
    return path


@pytest.fixture
def music(tmp_path):
    return make_music_folder(tmp_path / "music")


def test_add_records_the_folder_and_warns_about_unreadable_files(home, music):
    before = snapshot(music)
    result = run_cli("corpus", "add", music, "--name", "mine", "--licence", "CC BY-NC 4.0")
    assert result.returncode == 0, result.stderr
    assert "3 new items" in result.stdout
    assert "3 unreadable files" in result.stdout
    assert "cc-by-nc, NOT cleared for commercial use" in result.stdout
    summary, *lines = result.stderr.strip().splitlines()
    assert summary == "bandmate corpus add: warning: skipped 3 files that could not be read:"
    assert [line.split("'")[1] for line in lines] == sorted(UNREADABLE_FILES)
    assert "Traceback" not in result.stderr
    assert snapshot(music) == before
    entries = Ledger(home / "ledger.sqlite").items(["mine"])
    assert sorted(e.reference for e in entries) == sorted(GOOD_FILES)

    again = run_cli("corpus", "add", music, "--name", "mine", "--license", "CC BY-NC 4.0")
    assert again.returncode == 0 and "0 new items, 3 already recorded" in again.stdout


def test_list_and_stats_show_tables(home, music):
    ledger = Ledger()
    ledger.add_folder(music, "mine", "own work")
    for name in BUILTIN_COLLECTIONS:  # recorded in part, so that stats need not record them
        ledger.register_builtin(name, limit=4)

    listing = run_cli("corpus", "list", "--collection", "mine")
    assert listing.returncode == 0, listing.stderr
    header, *rows = listing.stdout.strip().splitlines()
    assert header.split() == ["ID", "SPLIT", "LICENCE", "COMMERCIAL", "STATUS", "REFERENCE"]
    assert len(rows) == len(GOOD_FILES) + len(UNREADABLE_FILES)
    assert {row.split()[-1] for row in rows} == set(GOOD_FILES + UNREADABLE_FILES)
    assert sum(" unreadable " in row for row in rows) == len(UNREADABLE_FILES)

    short = run_cli("corpus", "list", "--limit", "2")
    assert short.returncode == 0 and len(short.stdout.strip().splitlines()) == 3
    assert "2 of" in short.stderr and "--limit 0" in short.stderr

    stats = run_cli("corpus", "stats")
    assert stats.returncode == 0, stats.stderr
    table = stats.stdout.split("\n\n")[0].splitlines()
    assert table[0].split()[:4] == ["COLLECTION", "ITEMS", "OK", "UNREADABLE"]
    rows = {line.split()[0]: line.split() for line in table[1:]}
    assert rows["mine"][1:4] == ["6", "3", "3"]
    assert rows["mine"][-2:] == ["own-work", "yes"]
    assert rows["essen"][-2:] == ["non-commercial", "no"]
    assert rows["total"][1] == str(6 + 4 * len(BUILTIN_COLLECTIONS))
    assert "Essen Folksong Collection" in stats.stdout  # the licence texts follow the table


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("add", "{tmp}/nowhere", "--name", "x", "--licence", "own work"), ("does not exist",)),
        (("add", "{tmp}/music/good.mid", "--name", "x", "--licence", "own work"), ("folder",)),
        (("add", "{tmp}/words", "--name", "x", "--licence", "own work"), ("no music files",)),
        (("add", "{tmp}/music", "--name", "essen", "--licence", "own work"), ("built-in",)),
        (("add", "{tmp}/music", "--name", "x"), ("--licence",)),
        (("list", "--collection", "nope"), ("unknown collection", "nope")),
        (("list", "--limit", "-1"), ("--limit",)),
        ((), ("add, list or stats",)),
    ],
)
def test_mistakes_are_one_line_and_exit_2(home, music, tmp_path, args, words):
    (tmp_path / "words").mkdir()
    (tmp_path / "words" / "lyrics.txt").write_text("la la la\n")
    result = run_cli("corpus", *(a.format(tmp=tmp_path) for a in args))
    assert_user_error(result, *words)


def test_a_single_repeat_is_named_in_the_singular(home, music):
    # "skipped 1 file that repeat another:"
    (music / "good copy.mid").write_bytes((music / "good.mid").read_bytes())
    result = run_cli("corpus", "add", music, "--name", "mine", "--licence", "own work")
    assert result.returncode == 0, result.stderr
    assert "bandmate corpus add: skipped 1 file that repeats another:\n" in result.stderr


def test_a_file_name_that_is_not_utf8_is_shown_with_its_byte(home, music):
    # the name was shown as 'caf\\udce9.mid', the lone surrogate Python decodes the byte to,
    # which names no file the user has
    import os

    (music / os.fsdecode(b"caf\xe9.mid")).write_bytes((music / "good.mid").read_bytes() + b"\0")
    result = run_cli("corpus", "add", music, "--name", "mine", "--licence", "own work")
    assert result.returncode == 0, result.stderr
    assert "  'caf\\xe9.mid' has a name that is not UTF-8" in result.stderr
    assert "udce9" not in result.stderr


def test_a_folder_cannot_be_added_under_a_second_name(home, music):
    Ledger().add_folder(music, "mine", "own work")
    result = run_cli("corpus", "add", music, "--name", "again", "--licence", "own work")
    assert_user_error(result, "already collection 'mine'")


def test_files_left_out_as_repeats_are_named_with_what_they_repeat(home, music):
    # "skipped 2 duplicate files" named neither file, so a songwriter could not tell which of
    # their songs were left out, nor why
    from bandmate.io.midi import read_midi, write_midi
    from bandmate.score import TempoChange

    (music / "good copy.mid").write_bytes((music / "good.mid").read_bytes())
    song = read_midi(music / "good.mid")
    write_midi(song.replace(tempos=(TempoChange.from_bpm(0, 72),)), music / "good-slow.mid")
    before = snapshot(music)
    result = run_cli("corpus", "add", music, "--name", "mine", "--licence", "own work")
    assert result.returncode == 0, result.stderr
    assert "skipped 2 duplicate" in result.stdout
    repeats = result.stderr.split("that repeat others:\n")[1].splitlines()
    assert repeats == [  # in the order files are read: 'good copy.mid' first
        "  'good-slow.mid' holds the same notes as 'good copy.mid' (at another tempo, "
        "resolution or sound, say), so it is the same piece.",
        "  'good.mid' has the same bytes as 'good copy.mid'.",
    ]
    assert snapshot(music) == before
