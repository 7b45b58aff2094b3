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


def _waltz_with_pickup(tmp_path):
    """A waltz as notation prints it: a one-beat pickup (bar 0), then bars 1-4 of 3/4."""
    from bandmate.io.formats import write_score
    from bandmate.score import Note, Role, Score, TimeSignature, Track

    pitches = [62, 67, 71, 74, 72, 71, 69, 67, 66, 67, 69, 71, 67]
    notes = tuple(Note(i * 480, 480, p) for i, p in enumerate(pitches))
    score = Score(
        tracks=(Track("Flute", 73, False, Role.MELODY, notes),),
        time_signatures=(TimeSignature(0, 3, 4), TimeSignature(480, 3, 4)),
        title="Pickup Waltz",
    )
    path = tmp_path / "waltz.musicxml"
    write_score(score, path)
    return path


def test_infill_numbers_bars_as_printed_when_a_piece_has_a_pickup(tmp_path, untrained_melody_model):
    from bandmate.io.formats import read_score

    waltz = _waltz_with_pickup(tmp_path)
    # bars 0-4 as printed (and as `bandmate show` numbers them): bar 5 is not in the piece
    result = run_cli("infill", waltz, "--bars", "5-5", "-o", tmp_path / "x.musicxml")
    assert result.returncode == 2
    assert "0-4" in result.stderr and "Traceback" not in result.stderr
    # bar 4 is the last bar: the pickup and bars 1-3 (ticks 0 to 480 + 3 * 1440) are kept
    out = tmp_path / "filled.musicxml"
    result = run_cli("infill", waltz, "--bars", "4", "-o", out, "--model", untrained_melody_model)
    assert result.returncode == 0, result.stderr
    kept = 480 + 3 * 1440

    def before(path):
        return [
            (n.onset_ticks, n.pitch) for n in read_score(path).tracks[0].notes
            if n.onset_ticks < kept
        ]  # fmt: skip

    assert before(out) == before(waltz)
    # and the pickup itself can be named, as bar 0
    result = run_cli(
        "infill", waltz, "--bars", "0-1", "-o", tmp_path / "y.musicxml",
        "--model", untrained_melody_model,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
