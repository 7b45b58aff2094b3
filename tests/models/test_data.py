"""Melody and drum training data: read from the ledger, chords labelled, styled, cached."""

from __future__ import annotations

import numpy as np

from bandmate.corpus.ledger import Ledger
from bandmate.io.midi import write_midi
from bandmate.models.data import default_cache_dir
from bandmate.models.tasks import make_task
from bandmate.score import Role, Track
from tests.builders import drums, make_score, notes


def tune(shift: int) -> Track:
    scale = [60, 62, 64, 65, 67, 69, 71, 72, 71, 69, 67, 65, 64, 62, 60, 60]
    return Track(
        "Tune", 73, role=Role.MELODY, notes=notes(*[(i, 1, p + shift) for i, p in enumerate(scale)])
    )


def folder_of_tunes(tmp_path, count: int = 12):
    folder = tmp_path / "tunes"
    folder.mkdir()
    for i in range(count):
        write_midi(make_score(tune(i)), folder / f"tune{i:02}.mid")
    write_midi(make_score(drums((0, 0.25, 36))), folder / "only-drums.mid")
    return folder


def test_a_users_tunes_become_tokens_with_labelled_chords_and_are_cached(tmp_path):
    folder = folder_of_tunes(tmp_path)
    Ledger().add_folder(folder, "mine", "CC0")
    task = make_task("melody")
    task.check_data(["mine"], commercial_only=True)
    names = task.tokenizer.token_names()
    pieces = [p for split in ("train", "valid", "test") for p in task.pieces(split)]
    assert len(pieces) == 12  # the drums-only file has no melody and is left out
    splits = ("train", "valid", "test")
    left_out = [m["item"] for s in splits for m in task.data_record(s)["left_out"]["listed"]]
    assert left_out == ["only-drums.mid"]
    for piece in pieces:
        words = [names[t] for t in piece]
        assert words[0] == "<bos>" and words[-1] == "<eos>"
        assert not any(w.startswith("STYLE_") for w in words)  # a user's folder names no style
        assert words.count("BAR") == 4
        assert sum(w.startswith("CHORD_") for w in words) >= 4  # a chord on every bar
    cached = list(default_cache_dir().glob("melody-*.npz"))
    assert cached
    again = task.pieces("train")
    assert [a.tolist() for a in again] == [a.tolist() for a in task.pieces("train")]
    assert all(a.dtype == np.int64 for a in again)


def test_a_damaged_cache_file_is_rebuilt(tmp_path):
    folder = folder_of_tunes(tmp_path, 4)
    Ledger().add_folder(folder, "mine", "CC0")
    task = make_task("melody")
    task.check_data(["mine"], commercial_only=False)
    first = task.pieces("train")
    for path in default_cache_dir().glob("melody-*.npz"):
        path.write_bytes(b"not a cache")
    assert [a.tolist() for a in task.pieces("train")] == [a.tolist() for a in first]


def test_a_builtin_collection_teaches_its_style():
    task = make_task("melody")
    task.check_data(["oneills1850"], commercial_only=True)
    entries = Ledger().items(["oneills1850"], split="valid")[:2]
    names = task.tokenizer.token_names()
    for entry in entries:
        for score in Ledger().read_item(entry):
            words = [names[t] for t in task.prepare(score, entry)]
            assert words[1] == "STYLE_irish"
            assert any(w.startswith("CHORD_") for w in words)


def in_train(folder, name: str, score_of) -> None:
    """Write `score_of(k)` to folder/name for k = 1, 2, ... until its hash puts it in train."""
    from bandmate.corpus.ledger import split_for
    from tests.builders import sha256

    k = 1
    while True:
        write_midi(score_of(k), folder / name)
        if split_for(sha256(folder / name)) == "train":
            return
        k += 1


def test_a_drum_model_names_the_tunes_it_could_not_learn_from(tmp_path):
    folder = tmp_path / "grooves"
    folder.mkdir()
    for i in range(4):
        hits = [(b / 2, 0.25, 42) for b in range(8)] + [(i / 2, 0.25, 36), (2, 0.25, 38)]
        write_midi(make_score(drums(*hits)), folder / f"groove{i}.mid")
    in_train(folder, "tune.mid", lambda k: make_score(tune(k)))
    Ledger().add_folder(folder, "mine", "CC0")
    task = make_task("drums")
    task.check_data(["mine"], commercial_only=False)
    record = task.data_record("train")
    assert record["left_out"]["listed"] == [
        {"collection": "mine", "item": "tune.mid", "reason": "no drum notes"}
    ]
    assert record["items"] == len(task.pieces("train"))
    assert record["collections"][0]["left_out"] == 1


def test_a_file_that_can_no_longer_be_read_is_named_as_left_out(tmp_path):
    folder = folder_of_tunes(tmp_path, 4)
    in_train(folder, "changed.mid", lambda k: make_score(tune(20 + k)))
    Ledger().add_folder(folder, "mine", "CC0")
    (folder / "changed.mid").write_bytes(b"MThd edited since it was added")
    task = make_task("melody")
    task.check_data(["mine"], commercial_only=False)
    first = task.data_record("train")
    # a later run: the ledger now knows the item is unreadable and no longer reads it
    task.check_data(["mine"], commercial_only=False)
    again = task.data_record("train")
    for record in (first, again):
        (changed,) = [m for m in record["left_out"]["listed"] if m["item"] == "changed.mid"]
        assert changed["reason"] == "unreadable" and changed["detail"]
        assert record["items"] == len(task.pieces("train"))
    assert first["sha256"] == again["sha256"]


def test_a_cache_file_from_before_item_ids_were_kept_is_rebuilt_not_misread(tmp_path):
    folder = folder_of_tunes(tmp_path, 6)
    in_train(folder, "beat.mid", lambda k: make_score(drums(*[(b, 0.25, 36) for b in range(k)])))
    Ledger().add_folder(folder, "mine", "CC0")
    task = make_task("melody")
    task.check_data(["mine"], commercial_only=False)
    fresh = [p.tolist() for p in task.pieces("train")]
    record = task.data_record("train")
    # the old format held tokens and offsets only: here one piece fewer than the items
    for path in default_cache_dir().glob("melody-*.npz"):
        with np.load(path) as saved:
            tokens, offsets = saved["tokens"], saved["offsets"]
        with path.open("wb") as f:
            np.savez(f, tokens=tokens, offsets=offsets[:-1])
    task = make_task("melody")
    task.check_data(["mine"], commercial_only=False)
    assert [p.tolist() for p in task.pieces("train")] == fresh
    assert task.data_record("train") == record
    assert record["left_out"]["reasons"] == {"no pitched notes": 1}


def test_a_piano_piece_on_two_staves_is_learnt_from_its_right_hand(tmp_path):
    # a user's piano pieces, exported by a notation program as a track per staff with the left
    # hand first, were learnt from their bass lines
    folder = tmp_path / "piano"
    folder.mkdir()
    tunes = []
    for i in range(6):
        tune_pitches = [
            p + i for p in (72, 74, 76, 77, 79, 77, 76, 74, 72, 71, 72, 74, 76, 74, 72, 72)
        ]
        right = Track("Piano", 0, notes=notes(*[(b, 1, p) for b, p in enumerate(tune_pitches)]))
        left = Track(
            "Piano",
            0,
            notes=notes(*[(b / 2, 0.5, 48 + i + (0, 7, 4, 7)[b % 4]) for b in range(32)]),
        )
        write_midi(make_score(left, right), folder / f"piece{i}.mid")
        tunes.append(tune_pitches)
    Ledger().add_folder(folder, "mine", "CC0")
    task = make_task("melody")
    task.check_data(["mine"], commercial_only=False)
    learnt = [
        [n.pitch for n in task.tokenizer.decode(piece).track("Melody").notes]
        for split in ("train", "valid", "test")
        for piece in task.pieces(split)
    ]
    assert len(learnt) == 6
    assert sorted(learnt) == sorted(tunes)


def test_a_copy_of_a_piano_pieces_right_hand_is_flagged_against_the_users_collection(tmp_path):
    # the originality index of a user's folder read a two-staff piano piece (left hand first)
    # by its bass line, so a melody that copied the piece's tune went unflagged
    from bandmate.corpus.ledger import split_for
    from bandmate.rights.originality import check_against, check_score, indexes_for
    from tests.builders import sha256

    folder = tmp_path / "piano"
    folder.mkdir()
    tunes = {}
    for i in range(12):  # wandering tunes, none a scale a stock phrase would match
        tune_pitches = [67 + (i * 5 + k * k * (3 + i)) % 19 for k in range(24)]
        right = Track("Piano", 0, notes=notes(*[(b, 1, p) for b, p in enumerate(tune_pitches)]))
        left = Track(
            "Piano", 0, notes=notes(*[(b / 2, 0.5, 43 + (0, 7, 4, 7)[b % 4]) for b in range(48)])
        )
        path = folder / f"piece{i:02}.mid"
        write_midi(make_score(left, right), path)
        tunes[split_for(sha256(path))] = tune_pitches
    Ledger().add_folder(folder, "mine", "own work")
    copy = make_score(
        Track("Lead", 73, role=Role.MELODY, notes=notes(*enumerate_beats(tunes["train"])))
    )
    assert not check_score(copy).flagged  # the built-in collections do not hold it
    assert check_against(copy, indexes_for(["mine"])).flagged


def enumerate_beats(pitches):
    return [(b, 1, p) for b, p in enumerate(pitches)]


def test_a_tune_and_a_stray_note_far_after_it_are_learnt_as_two_short_pieces(tmp_path):
    # 100,000 empty bars between a tune and a stray note became one piece of 300,000 tokens,
    # which took minutes and gigabytes to evaluate
    folder = folder_of_tunes(tmp_path, 11)
    stray = tune(0).notes + notes((4 * 100_004, 1, 72))
    write_midi(make_score(Track("Tune", 73, role=Role.MELODY, notes=stray)), folder / "stray.mid")
    Ledger().add_folder(folder, "mine", "CC0")
    task = make_task("melody")
    task.check_data(["mine"], commercial_only=False)
    pieces = [p for split in ("train", "valid", "test") for p in task.pieces(split)]
    assert len(pieces) == 13
    assert max(len(p) for p in pieces) < 200
    learnt = [[n.pitch for n in task.tokenizer.decode(p).track("Melody").notes] for p in pieces]
    assert [72] in learnt
