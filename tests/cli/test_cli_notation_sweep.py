"""Melody commands on files as notation users have them: an ABC tune book."""

from __future__ import annotations

from tests.builders import run_cli

_BOOK = """%abc-2.1
X:1
T:The First Reel
M:4/4
L:1/8
K:D
"D"d2 fd A>B AF|"G"GABG "A"(3ABA FA|"D"d2 fd A2 FA|"G"BdAF "D"D4|]

X:2
T:Second Tune
M:6/8
L:1/8
K:Am
"Am"A2B c2d|"G"B2G G2A|"Am"c2e a2e|"E7"d2B A3|]
"""


def test_a_tune_book_says_which_of_its_tunes_is_used(tmp_path):
    book = tmp_path / "book.abc"
    book.write_text(_BOOK)
    result = run_cli("chords", book, "--count", "1")
    assert result.returncode == 0, result.stderr
    # the first tune, in D: and the user is told the second was passed over
    assert "(key: D)" in result.stdout
    assert "2 tunes" in result.stderr and "The First Reel" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_file_of_one_tune_gives_no_warning(tmp_path):
    tune = tmp_path / "tune.abc"
    tune.write_text(_BOOK.split("\nX:2", 1)[0])
    result = run_cli("chords", tune, "--count", "1")
    assert result.returncode == 0, result.stderr
    assert "tunes" not in result.stderr
