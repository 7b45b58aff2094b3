"""The ledger: what is recorded, where, how it is split and filtered, and what a model card says."""

from __future__ import annotations

import hashlib
import os
import random
from dataclasses import FrozenInstanceError

import pytest

from bandmate.corpus.ledger import (
    SPLITS,
    Ledger,
    LedgerEntry,
    check_commercial,
    default_ledger_path,
    describe,
    split_for,
)
from bandmate.corpus.sources import CorpusError
from bandmate.errors import InputFileError, UserError
from bandmate.io.midi import write_midi
from bandmate.io.music21_io import write_musicxml
from bandmate.score import TempoChange
from tests.builders import bass, make_score, piano, sha256
from tests.corpus import GOOD_FILES, UNREADABLE_FILES, make_music_folder, snapshot


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A fresh BANDMATE_HOME, so that no test touches the user's own ledger."""
    path = tmp_path / "home"
    monkeypatch.setenv("BANDMATE_HOME", str(path))
    return path


@pytest.fixture
def ledger(home) -> Ledger:
    return Ledger()


@pytest.fixture
def music(tmp_path):
    return make_music_folder(tmp_path / "music")


def fake_entry(sha: str, collection: str = "fake", commercial: bool = True) -> LedgerEntry:
    return LedgerEntry(
        item_id=f"{collection}:{sha[:12]}",
        collection=collection,
        source="tests",
        reference=sha[:8],
        sha256=sha,
        licence="CC0" if commercial else "CC BY-NC",
        licence_class="cc0" if commercial else "cc-by-nc",
        commercial=commercial,
        split=split_for(sha),
        status="ok",
        reason="",
        added_at="2026-01-01T00:00:00+00:00",
    )


def fake_hashes(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return [hashlib.sha256(rng.randbytes(16)).hexdigest() for _ in range(n)]


# --- where it lives -----------------------------------------------------------------------------
def test_the_ledger_lives_in_bandmate_home(home, music):
    assert default_ledger_path() == home / "ledger.sqlite"
    Ledger().add_folder(music, "mine", "own work")
    assert (home / "ledger.sqlite").is_file()
    assert [e.reference for e in Ledger(home / "ledger.sqlite").items(["mine"])]


def test_without_bandmate_home_the_ledger_is_in_the_users_data_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("BANDMATE_HOME", raising=False)
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_ledger_path() == tmp_path / ".local/share/bandmate/ledger.sqlite"


# --- a user's folder ----------------------------------------------------------------------------
def test_adding_a_folder_records_each_file_by_the_sha256_of_its_bytes(ledger, music):
    report = ledger.add_folder(music, "mine", "CC BY 4.0")
    assert sorted(e.reference for e in report.added_ok) == sorted(GOOD_FILES)
    for e in report.added:
        assert e.sha256 == sha256(music / e.reference)
        assert e.item_id == f"mine:{e.sha256[:12]}"
        assert (e.collection, e.licence, e.licence_class, e.commercial) == (
            "mine", "CC BY 4.0", "cc-by", True,
        )  # fmt: skip
        assert e.source == f"folder {music.resolve()}"
        assert e.split == split_for(e.sha256) and e.added_at.endswith("+00:00")
    assert sorted(e.reference for e in ledger.items(["mine"])) == sorted(GOOD_FILES)
    with pytest.raises(FrozenInstanceError):
        report.added[0].split = "test"


def test_unreadable_files_are_recorded_with_reasons_and_the_folder_is_unchanged(ledger, music):
    before = snapshot(music)
    report = ledger.add_folder(music, "mine", "own work")
    assert snapshot(music) == before
    reasons = {e.reference: e.reason for e in report.unreadable}
    assert sorted(reasons) == sorted(UNREADABLE_FILES)
    assert "not a MIDI file" in reasons["text.mid"]
    assert "truncated" in reasons["truncated.mid"]
    assert "no notes" in reasons["empty.mid"]
    recorded = ledger.items(["mine"], include_unreadable=True)
    assert {e.reference: e.status for e in recorded if e.status != "ok"} == dict.fromkeys(
        UNREADABLE_FILES, "unreadable"
    )
    assert {e.reference: e.reason for e in recorded if e.reason} == reasons
    assert not {e.reference for e in ledger.items(["mine"])} & set(UNREADABLE_FILES)


def test_adding_the_same_folder_again_adds_nothing(ledger, music):
    first = ledger.add_folder(music, "mine", "own work")
    again = ledger.add_folder(music, "mine", "own work")
    assert again.added == ()
    assert sorted(e.item_id for e in again.already_recorded) == sorted(
        e.item_id for e in first.added_ok
    )
    assert {e.reference for e in again.unreadable} == set(UNREADABLE_FILES)  # still warned
    assert len(ledger.items(["mine"], include_unreadable=True)) == len(first.added)


def test_a_new_file_is_recorded_when_the_folder_is_added_again(ledger, music):
    ledger.add_folder(music, "mine", "own work")
    (music / "copy.mid").write_bytes((music / "good.mid").read_bytes())
    (music / "new.abc").write_text("X:1\nT:New\nM:3/4\nL:1/4\nK:D\nDEF|A3|\n")
    report = ledger.add_folder(music, "mine", "own work")
    assert [e.reference for e in report.added] == ["new.abc"]
    assert len(ledger.items(["mine"])) == len(GOOD_FILES) + 1  # the copy is not a new item


def test_identical_files_in_one_folder_are_one_item(ledger, music):
    (music / "copy.mid").write_bytes((music / "good.mid").read_bytes())
    report = ledger.add_folder(music, "mine", "own work")
    assert report.duplicates == ("good.mid",)  # sorted order: copy.mid is found first
    assert sum(e.sha256 == sha256(music / "good.mid") for e in ledger.items(["mine"])) == 1


def test_a_folder_belongs_to_one_collection(ledger, music, tmp_path):
    ledger.add_folder(music, "mine", "own work")
    with pytest.raises(CorpusError, match="already collection 'mine'"):
        ledger.add_folder(music, "theirs", "own work")
    other = make_music_folder(tmp_path / "other")
    with pytest.raises(CorpusError, match="already the folder"):
        ledger.add_folder(other, "mine", "own work")
    with pytest.raises(CorpusError, match="was added with licence 'own work'"):
        ledger.add_folder(music, "mine", "CC BY-NC")


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("essen", "built-in"),
        ("Bach-Chorales", "built-in"),
        ("my tunes", "not usable"),
        ("", "not usable"),
    ],
)
def test_bad_collection_names_are_refused(ledger, music, name, words):
    with pytest.raises(CorpusError, match=words):
        ledger.add_folder(music, name, "own work")


def test_bad_folders_are_refused(ledger, tmp_path):
    with pytest.raises(InputFileError, match="does not exist"):
        ledger.add_folder(tmp_path / "nowhere", "x", "own work")
    (tmp_path / "song.mid").write_bytes(b"MThd")
    with pytest.raises(InputFileError, match="not a folder"):
        ledger.add_folder(tmp_path / "song.mid", "x", "own work")
    (tmp_path / "words").mkdir()
    (tmp_path / "words" / "lyrics.txt").write_text("la la la")
    with pytest.raises(CorpusError, match="No music files"):
        ledger.add_folder(tmp_path / "words", "x", "own work")
    with pytest.raises(CorpusError, match="--licence"):
        ledger.add_folder(tmp_path, "x", "  ")


def test_a_file_name_that_is_not_utf8_is_skipped_with_its_reason(ledger, music):
    # a name in Latin-1 (from an old disk or a zip) crashed `corpus add` with UnicodeEncodeError
    # from SQLite, and nothing was recorded
    name = os.fsdecode(b"caf\xe9.mid")
    (music / name).write_bytes((music / "sub" / "deeper" / "other.MID").read_bytes() + b"\x00")
    report = ledger.add_folder(music, "mine", "own work")
    assert [reference for reference, _ in report.unopened] == [name]
    assert "not UTF-8" in report.unopened[0][1] and "rename it" in report.unopened[0][1]
    assert sorted(e.reference for e in ledger.items(["mine"])) == sorted(GOOD_FILES)


def test_a_damaged_ledger_or_an_unusable_home_is_one_sentence(tmp_path):
    # a ledger that is not SQLite and a BANDMATE_HOME that is a file were tracebacks
    (tmp_path / "ledger.sqlite").write_text("not a database")
    with pytest.raises(CorpusError, match=r"is damaged .* move it aside"):
        Ledger(tmp_path / "ledger.sqlite").collection_names()
    (tmp_path / "home").write_text("a file")
    with pytest.raises(CorpusError, match=r"cannot be opened .* BANDMATE_HOME"):
        Ledger(tmp_path / "home" / "ledger.sqlite").collection_names()
    assert (tmp_path / "ledger.sqlite").read_text() == "not a database"  # left as it was


def test_a_ledger_another_command_holds_is_in_use_not_damaged(ledger, music):
    # "database is locked" was reported as a damaged ledger to move aside: a user who did so
    # threw away a healthy ledger while another bandmate command was writing it
    import sqlite3

    ledger.add_folder(music, "mine", "CC0")
    entry = ledger.items(["mine"])[0]
    before = ledger.path.read_bytes()
    busy = Ledger(ledger.path, busy_timeout_s=0.2)
    other = sqlite3.connect(ledger.path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # writing: reads go on, a write must wait
        with pytest.raises(CorpusError) as writing:
            busy.mark_unreadable(entry, "a test")
        other.execute("COMMIT")
        other.execute("BEGIN EXCLUSIVE")  # committing: nothing can even be read
        with pytest.raises(CorpusError) as committing:
            busy.items(["mine"])
    finally:
        other.close()
    for refused in (writing, committing):
        said = str(refused.value)
        assert "in use by another bandmate command" in said and "run again" in said, said
        assert "damaged" not in said and "move it aside" not in said, said
        assert said.count(". ") == 0 and said.endswith("."), said  # one sentence
    assert ledger.path.read_bytes() == before
    assert ledger.items(["mine"])[0] == entry  # the other is done: it is read as before


# --- licences and splits ------------------------------------------------------------------------
def test_commercial_only_leaves_out_every_item_not_cleared(ledger, music, tmp_path):
    ledger.add_folder(music, "open", "CC BY-SA 4.0")
    ledger.add_folder(make_music_folder(tmp_path / "nc"), "closed", "CC BY-NC 4.0")
    ledger.add_folder(make_music_folder(tmp_path / "what"), "unsure", "ask my label")
    everything = ledger.items(["open", "closed", "unsure"])
    assert {e.collection for e in everything} == {"open", "closed", "unsure"}
    cleared = ledger.items(["open", "closed", "unsure"], commercial_only=True)
    assert cleared and {e.collection for e in cleared} == {"open"}
    assert all(e.commercial for e in cleared)
    with pytest.raises(CorpusError, match=r"use: closed \(cc-by-nc\), unsure \(unknown\);"):
        check_commercial(["open", "closed", "unsure"], ledger=ledger)
    ledger.check_commercial(["open", "bach-chorales"])  # cleared: no error
    with pytest.raises(CorpusError, match="essen"):
        ledger.check_commercial(["essen"])


def test_splits_come_from_the_hash_in_the_stated_shares():
    hashes = fake_hashes(20_000)
    splits = [split_for(h) for h in hashes]
    assert splits == [split_for(h) for h in hashes]  # deterministic
    shares = {s: splits.count(s) / len(splits) for s in SPLITS}
    assert shares["train"] == pytest.approx(0.90, abs=0.01)
    assert shares["valid"] == pytest.approx(0.05, abs=0.006)
    assert shares["test"] == pytest.approx(0.05, abs=0.006)
    assert split_for("0" * 64) == "train" and split_for("f" * 64) == "test"


def test_items_filter_by_split(ledger, music):
    ledger.add_folder(music, "mine", "own work")
    every = ledger.items(["mine"])
    for split in SPLITS:
        assert ledger.items(["mine"], split=split) == [e for e in every if e.split == split]
    with pytest.raises(CorpusError, match="Unknown split"):
        ledger.items(["mine"], split="training")


def test_unknown_collections_are_user_errors(ledger):
    with pytest.raises(UserError, match=r"Unknown collection 'nope'.*bach-chorales"):
        ledger.items(["nope"])
    with pytest.raises(UserError, match="Unknown built-in collection"):
        ledger.register_builtin("nope")


# --- built-in collections -----------------------------------------------------------------------
def test_registering_a_builtin_collection_in_part_then_whole(ledger):
    assert ledger.register_builtin("bach-chorales", limit=3) == 3
    [summary] = ledger.summary(["bach-chorales"])
    assert (summary.items, summary.complete, summary.commercial) == (3, False, True)
    entries = ledger.items(["bach-chorales"])
    assert all(e.sha256 == sha256(_corpus_file(e.reference)) for e in entries)
    total = ledger.register_builtin("bach-chorales")
    assert total > 300
    assert ledger.register_builtin("bach-chorales") == 0  # idempotent
    [summary] = ledger.summary(["bach-chorales"])
    assert summary.complete and summary.items == total + 3 == sum(summary.splits.values())


def test_builtin_collections_are_recorded_on_first_use(ledger):
    assert "bandmate-styles" in ledger.unrecorded_builtins()
    entries = ledger.items(["bandmate-styles"])
    assert len(entries) >= 10 and "bandmate-styles" not in ledger.unrecorded_builtins()
    assert all(e.licence_class == "own-work" and e.commercial for e in entries)


def test_essen_is_not_cleared_for_commercial_use(ledger):
    ledger.register_builtin("essen", limit=20)
    assert ledger.items(["essen"], commercial_only=True) == []
    [summary] = ledger.summary(["essen"])
    assert summary.licence_class == "non-commercial" and not summary.commercial


def _corpus_file(reference):
    from bandmate.corpus.sources import music21_corpus_root

    return music21_corpus_root() / reference


# --- reading for training -----------------------------------------------------------------------
def test_training_items_read_every_readable_item(ledger, music):
    ledger.add_folder(music, "mine", "own work")
    pairs = list(ledger.training_items(["mine"]))
    by_file = {}
    for entry, score in pairs:
        by_file.setdefault(entry.reference, []).append(score)
    assert sorted(by_file) == sorted(GOOD_FILES)
    assert [s.title for s in by_file["book.abc"]] == ["One", "Two"]  # an ABC book: every tune
    assert all(not s.is_empty for scores in by_file.values() for s in scores)


def test_a_users_abc_book_and_musicxml_are_read_as_bandmate_convert_reads_them(ledger, music):
    # the folder reader used music21 directly: a Latin-1 ABC book and a compressed MusicXML
    # file saved as .musicxml were recorded unreadable, and a tune's [K:F] was ignored
    book = "X:1\nT:Café\nM:3/4\nL:1/4\nK:G\nG A B | [K:F] B A G |]\n\nX:2\nT:Two\nK:D\nDEF|\n"
    (music / "latin1.abc").write_bytes(book.encode("latin-1"))
    write_musicxml(make_score(piano((0, 1, 60), (1, 3, 64))), music / "song.mxl")
    (music / "song.mxl").rename(music / "zipped.musicxml")
    report = ledger.add_folder(music, "mine", "own work")
    assert {e.reference for e in report.added_ok} >= {"latin1.abc", "zipped.musicxml"}
    scores = {}
    for entry, score in ledger.training_items(["mine"]):
        scores.setdefault(entry.reference, []).append(score)
    assert [s.title for s in scores["latin1.abc"]] == ["Café", "Two"]
    assert [n.pitch for n in scores["latin1.abc"][0].tracks[0].notes] == [67, 69, 71, 70, 69, 67]
    assert [n.pitch for n in scores["zipped.musicxml"][0].tracks[0].notes] == [60, 64]


def test_a_file_changed_after_it_was_recorded_is_skipped_and_marked(ledger, music):
    ledger.add_folder(music, "mine", "own work")
    (music / "good.mid").write_bytes((music / "sub/deeper/other.MID").read_bytes())
    (music / "book.abc").write_text("X:1\nT:Changed\nK:C\nC4|\n")
    seen = {e.reference for e, _ in ledger.training_items(["mine"])}
    assert seen == {"sub/deeper/other.MID"}
    marked = {e.reference: e.reason for e in ledger.items(["mine"], include_unreadable=True)}
    assert "changed since it was recorded" in marked["book.abc"]
    with pytest.raises(InputFileError):
        ledger.read_item(next(e for e in ledger.items(["mine"], include_unreadable=True)
                              if e.reference == "good.mid"))  # fmt: skip


def test_a_moved_file_is_found_again_when_its_folder_is_added_again(ledger, music):
    ledger.add_folder(music, "mine", "own work")
    (music / "good.mid").rename(music / "renamed.mid")
    assert "good.mid" not in {e.reference for e, _ in ledger.training_items(["mine"])}
    report = ledger.add_folder(music, "mine", "own work")
    assert report.added == ()
    assert "renamed.mid" in {e.reference for e in report.already_recorded}
    assert "renamed.mid" in {e.reference for e, _ in ledger.training_items(["mine"])}


# --- describe ----------------------------------------------------------------------------------
def test_describe_names_collections_licences_and_one_hash_over_the_items():
    hashes = fake_hashes(30)
    entries = [fake_entry(h, "open") for h in hashes[:20]]
    entries += [fake_entry(h, "closed", commercial=False) for h in hashes[20:]]
    card = describe(entries)
    digest = hashlib.sha256("\n".join(sorted(hashes)).encode()).hexdigest()
    assert card["items"] == 30 and card["sha256"] == digest and card["commercial"] is False
    assert [c["name"] for c in card["collections"]] == ["closed", "open"]
    closed, open_ = card["collections"]
    assert (open_["items"], open_["licence_class"], open_["commercial"]) == (20, "cc0", True)
    assert (closed["items"], closed["licence"], closed["commercial"]) == (10, "CC BY-NC", False)
    assert sum(open_["splits"].values()) == 20


def test_describe_does_not_depend_on_order_or_repeats():
    entries = [fake_entry(h) for h in fake_hashes(50, seed=3)]
    shuffled = entries[::-1] + entries[:10]
    assert describe(shuffled) == describe(entries)
    assert describe(entries[:-1])["sha256"] != describe(entries)["sha256"]
    assert Ledger.describe(entries) == describe(entries)
    assert describe([fake_entry(h) for h in fake_hashes(50, seed=3)]) == describe(entries)


def test_the_same_tune_saved_again_differently_is_one_piece(ledger, music):
    # the same song exported at another tempo was a second item, so it counted twice in
    # training and, under its own hash, could land in valid while its twin was in train
    from bandmate.score.transform import rescale

    tune = make_score(piano((0, 1, 60), (1, 1, 64), (2, 1, 67), (3, 3, 72)), bass((0, 4, 36)))
    write_midi(tune, music / "a-song.mid")
    write_midi(tune.replace(tempos=(TempoChange.from_bpm(0, 90),)), music / "b-slower.mid")
    write_midi(rescale(tune, 96), music / "c-96-ticks.mid", midi_type=0)
    write_midi(tune.transpose(2), music / "d-in-D.mid")  # another piece to learn from
    report = ledger.add_folder(music, "mine", "own work")
    assert report.duplicates == ("b-slower.mid", "c-96-ticks.mid")
    assert dict(report.duplicate_reasons)["b-slower.mid"].startswith(
        "'b-slower.mid' holds the same notes as 'a-song.mid'"
    )
    assert {"a-song.mid", "d-in-D.mid"} <= {e.reference for e in ledger.items(["mine"])}
    # ... and found again when added later, under another name
    write_midi(tune.replace(tempos=(TempoChange.from_bpm(0, 140),)), music / "e-faster.mid")
    again = ledger.add_folder(music, "mine", "own work")
    assert again.added == () and "e-faster.mid" in again.duplicates


def test_a_ledger_from_before_notes_were_hashed_finds_the_same_tune_too(ledger, music):
    import sqlite3

    tune = make_score(piano((0, 1, 60), (1, 1, 62), (2, 2, 65)))
    write_midi(tune, music / "song.mid")
    ledger.add_folder(music, "mine", "own work")
    with sqlite3.connect(ledger.path) as db:  # as an older bandmate left it
        db.execute("ALTER TABLE items DROP COLUMN music_sha256")
    write_midi(tune.replace(tempos=(TempoChange.from_bpm(0, 80),)), music / "song-slow.mid")
    report = ledger.add_folder(music, "mine", "own work")
    assert report.added == () and report.duplicates == ("song-slow.mid",)


def test_a_folder_inside_or_around_a_collection_is_refused(ledger, tmp_path):
    # a sub-folder of a collection added under a second name recorded its files twice, and under
    # a second licence the record said two things about the same music
    outer = tmp_path / "songs"
    inner = make_music_folder(outer / "2024")
    make_music_folder(outer / "2025")
    ledger.add_folder(outer, "mine", "own work")
    with pytest.raises(CorpusError, match=r"lies inside .* already collection 'mine'"):
        ledger.add_folder(inner, "year", "CC BY 4.0")
    other = tmp_path / "other"
    ledger.add_folder(make_music_folder(other / "demos"), "demos", "own work")
    with pytest.raises(CorpusError, match=r"holds .* already collection 'demos'"):
        ledger.add_folder(other, "everything", "own work")
    assert ledger.collection_names().count("year") == 0
    beside = make_music_folder(tmp_path / "songs-2")  # a name that merely starts the same
    assert ledger.add_folder(beside, "more", "own work").added


def test_of_a_link_and_the_file_it_points_to_the_file_is_recorded(ledger, tmp_path):
    # 'a-link.mid' (sorted first) was recorded and 'tune.mid' left out as its copy; when the
    # link was tidied away the tune was gone from training, though its file was still there
    folder = tmp_path / "music"
    folder.mkdir()
    write_midi(make_score(piano((0, 1, 60), (1, 1, 64), (2, 2, 67))), folder / "tune.mid")
    (folder / "a-link.mid").symlink_to("tune.mid")
    report = ledger.add_folder(folder, "mine", "own work")
    assert [e.reference for e in report.added] == ["tune.mid"]
    assert report.duplicates == ("a-link.mid",)
    (folder / "a-link.mid").unlink()
    assert [e.reference for e, _ in ledger.training_items(["mine"])] == ["tune.mid"]
