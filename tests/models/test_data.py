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
