"""Collections: licence classes, listing and hashing, reading an item of each kind."""

from __future__ import annotations

import hashlib
import itertools
import json

import pytest

from bandmate.corpus import licences
from bandmate.corpus.sources import (
    BUILTIN_COLLECTIONS,
    abc_tune_sha256,
    find_music_files,
    music21_corpus_root,
    split_abc_tunes,
)
from tests.builders import sha256
from tests.corpus import make_music_folder


# --- licence classes ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("public domain", "public-domain"),
        ("Public-Domain", "public-domain"),
        ("PD", "public-domain"),
        ("CC0", "cc0"),
        ("cc0 1.0 universal", "unknown"),  # "universal" is not a filler we know: ask a person
        ("CC0-1.0", "cc0"),
        ("Creative Commons Zero", "cc0"),
        ("CC BY 4.0", "cc-by"),
        ("cc-by", "cc-by"),
        ("Creative Commons Attribution 4.0 International License", "cc-by"),
        ("CC BY-SA 3.0", "cc-by-sa"),
        ("Creative Commons Attribution-ShareAlike", "cc-by-sa"),
        ("own work", "own-work"),
        ("My own work", "own-work"),
        ("mine", "own-work"),
        ("CC BY-ND 4.0", "cc-by-nd"),
        ("CC BY-NC 4.0", "cc-by-nc"),
        ("cc_by_nc_sa", "cc-by-nc-sa"),
        ("Creative Commons Attribution-NonCommercial-NoDerivatives 4.0", "cc-by-nc-nd"),
        ("non-commercial", "non-commercial"),
        ("Noncommercial use only", "non-commercial"),
        ("research only", "non-commercial"),
        ("public domain, but non-commercial use only", "non-commercial"),
        ("public domain in the US only", "unknown"),
        ("not public domain", "unknown"),
        ("public domain?", "unknown"),  # a doubt is not a licence: it was cleared
        ("own work??", "unknown"),
        ("CC BY-NC?", "cc-by-nc"),
        ("GPL", "unknown"),
        ("all rights reserved", "unknown"),
        ("", "unknown"),
    ],
)
def test_licence_class_from_text(text, expected):
    assert licences.licence_class(text) == expected


def test_only_open_licences_are_cleared_for_commercial_use():
    cleared = {c for c in licences.LICENCE_CLASSES if licences.commercial_allowed(c)}
    assert cleared == {"public-domain", "cc0", "cc-by", "cc-by-sa", "own-work"}
    assert not licences.commercial_allowed("something new")


def test_builtin_rows_agree_with_their_licence_class():
    for c in BUILTIN_COLLECTIONS.values():
        assert c.commercial == licences.commercial_allowed(c.licence_class), c.name
        assert c.licence and c.source and c.description
    commercial = {n for n, c in BUILTIN_COLLECTIONS.items() if c.commercial}
    assert commercial == {"bach-chorales", "jsb", "oneills1850", "ryans-mammoth", "bandmate-styles"}


# --- listing and hashing -------------------------------------------------------------------------
def test_music21_items_are_hashed_from_the_bundled_files():
    items = list(itertools.islice(BUILTIN_COLLECTIONS["bach-chorales"].list_items(), 5))
    assert len(items) == 5
    root = music21_corpus_root()
    for item in items:
        assert item.reference.startswith("bach/") and item.split is None
        assert item.sha256 == sha256(root / item.reference)


def test_bach_chorales_leave_out_what_is_not_a_chorale():
    refs = [i.reference for i in BUILTIN_COLLECTIONS["bach-chorales"].list_items()]
    assert "bach/bwv66.6.mxl" in refs
    assert "bach/bwv846.mxl" not in refs  # a prelude of the Well-Tempered Clavier
    assert not [r for r in refs if r.endswith((".krn", ".rntxt"))]  # duplicates, analyses


def test_abc_books_split_into_tunes_hashed_without_their_number():
    book = b"%header\r\nX: 1\r\nT:A\r\nK:C\r\nCDE|  \r\n\r\nX:2\nT:B\nK:G\nGAB|\n\n\n"
    header, tunes = split_abc_tunes(book)
    assert header == b"%header"
    assert tunes == [b"X: 1\nT:A\nK:C\nCDE|\n", b"X:2\nT:B\nK:G\nGAB|\n"]
    renumbered = b"X:77\nT:A\nK:C\nCDE|\n"
    assert abc_tune_sha256(tunes[0]) == abc_tune_sha256(renumbered)
    assert abc_tune_sha256(tunes[0]) == hashlib.sha256(b"T:A\nK:C\nCDE|\n").hexdigest()
    assert abc_tune_sha256(tunes[0]) != abc_tune_sha256(tunes[1])


def test_an_essen_book_gives_an_item_per_tune():
    items = list(itertools.islice(BUILTIN_COLLECTIONS["essen"].list_items(), 3))
    assert [i.reference for i in items] == [f"essenFolksong/altdeu10.abc#{n}" for n in (1, 2, 3)]
    assert len({i.sha256 for i in items}) == 3


def test_jsb_items_keep_the_dataset_split_and_hash_canonical_json():
    jsb = pytest.importorskip("bandmate.corpus.jsb")
    items = list(BUILTIN_COLLECTIONS["jsb"].list_items())
    counts = {s: sum(i.split == s for i in items) for s in jsb.JSB_SPLITS}
    assert counts == {s: len(jsb.load_jsb(s)) for s in jsb.JSB_SPLITS}
    first = jsb.load_jsb("train")[0]
    assert items[0].reference == "train/0"
    canonical = json.dumps([list(step) for step in first], separators=(",", ":")).encode()
    assert items[0].sha256 == hashlib.sha256(canonical).hexdigest() == jsb.chorale_hash(first)


def test_style_items_are_the_style_files():
    items = list(BUILTIN_COLLECTIONS["bandmate-styles"].list_items())
    assert "bandmate/data/styles/rock.toml" in [i.reference for i in items]
    assert len(items) == len({i.sha256 for i in items}) >= 10


def test_find_music_files_is_recursive_by_suffix_and_skips_hidden(tmp_path):
    folder = make_music_folder(tmp_path / "music")
    (folder / ".git").mkdir()
    (folder / ".git" / "x.mid").write_bytes(b"MThd")
    found = [p.relative_to(folder).as_posix() for p in find_music_files(folder)]
    assert found == sorted(
        ["book.abc", "empty.mid", "good.mid", "sub/deeper/other.MID", "text.mid", "truncated.mid"]
    )


# --- reading ---------------------------------------------------------------------------------
def test_reading_a_chorale_an_essen_tune_and_a_style():
    bach = BUILTIN_COLLECTIONS["bach-chorales"]
    chorale = next(i for i in bach.list_items() if i.reference == "bach/bwv66.6.mxl")
    [score] = bach.read_item(chorale.reference, chorale.sha256)
    assert [t.name for t in score.tracks] == ["Soprano", "Alto", "Tenor", "Bass"]

    essen = BUILTIN_COLLECTIONS["essen"]
    tune = next(essen.list_items())
    [song] = essen.read_item(tune.reference, tune.sha256)
    assert song.title == "Das Hildebrandslied" and song.note_count > 20

    styles = BUILTIN_COLLECTIONS["bandmate-styles"]
    rock = next(i for i in styles.list_items() if i.reference.endswith("/rock.toml"))
    [backing] = styles.read_item(rock.reference, rock.sha256)
    [again] = styles.read_item(rock.reference, rock.sha256)
    assert backing.track("Drums").is_drum and backing.track("Drums").notes
    assert backing == again  # the seed comes from the item: the same file plays the same notes
    assert backing.bar_grid.bar_count(backing.end_ticks) >= 16  # the chart, intro and ending


def test_reading_refuses_an_item_whose_hash_changed():
    from bandmate.errors import InputFileError

    bach = BUILTIN_COLLECTIONS["bach-chorales"]
    with pytest.raises(InputFileError, match="changed since it was recorded"):
        bach.read_item("bach/bwv66.6.mxl", "0" * 64)


def test_jsb_items_read_as_four_voices_holding_repeated_pitches():
    from bandmate.tokens.chorale import ChoraleTokenizer

    chorale = [(72, 67, 64, 48), (72, 67, 64, 48), (74, 67, -1, 47), (-1, 67, -1, 47)]
    score = ChoraleTokenizer().steps_to_score(chorale)
    soprano, alto, tenor, bass = score.tracks
    assert [(n.onset_ticks, n.duration_ticks, n.pitch) for n in soprano.notes] == [
        (0, 240, 72),
        (240, 120, 74),
    ]
    assert [(n.duration_ticks, n.pitch) for n in alto.notes] == [(480, 67)]
    assert [(n.duration_ticks, n.pitch) for n in tenor.notes] == [(240, 64)]
    assert [n.pitch for n in bass.notes] == [48, 47]
    assert soprano.role == "melody" and bass.role == "bass"
