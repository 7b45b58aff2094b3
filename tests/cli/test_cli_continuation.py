"""`bandmate continue` and `bandmate infill` from the command line."""

from __future__ import annotations

import pytest

from bandmate.io.midi import read_midi, write_midi
from bandmate.score import Role, Track
from tests.builders import assert_user_error, make_score, notes, run_cli

TUNE = [(i, 1, (67, 69, 71, 72, 74, 72, 71, 69)[i % 8]) for i in range(16)]


@pytest.fixture
def tune(tmp_path):
    path = tmp_path / "tune.mid"
    write_midi(make_score(Track("Tune", 73, role=Role.MELODY, notes=notes(*TUNE))), path)
    return path


def test_continue_keeps_the_tune_and_adds_bars(tmp_path, tune, untrained_melody_model):
    out = tmp_path / "more.mid"
    result = run_cli("continue", tune, "--bars", "4", "-o", out, "--model", untrained_melody_model)
    assert result.returncode == 0, result.stderr
    before, after = read_midi(tune).tracks[0].notes, read_midi(out).tracks[0].notes
    assert after[: len(before)] == before
    assert len(after) > len(before)
    assert max(n.onset_ticks for n in after) < 8 * 4 * 480


def test_infill_keeps_the_other_bars(tmp_path, tune, untrained_melody_model):
    out = tmp_path / "filled.mid"
    result = run_cli(
        "infill", tune, "--bars", "2-3", "-o", out, "--model", untrained_melody_model, "--seed", "3"
    )
    assert result.returncode == 0, result.stderr
    outside = [n for n in read_midi(out).tracks[0].notes if not 1920 <= n.onset_ticks < 5760]
    assert outside == [
        n for n in read_midi(tune).tracks[0].notes if not 1920 <= n.onset_ticks < 5760
    ]


@pytest.mark.parametrize(
    ("command", "args", "words"),
    [
        ("infill", ["--bars", "8-5"], ["bars"]),
        ("infill", ["--bars", "five"], ["bar range"]),
        ("infill", ["--bars", "3-9"], ["bars 1-4"]),
        ("continue", ["--bars", "0"], ["bars"]),
        ("continue", ["--bars", "2", "--style", "polka"], ["polka"]),
        ("continue", ["--bars", "100000"], ["100000", "60-minute limit", "fewer"]),
    ],
)
def test_mistakes_are_one_line(tmp_path, tune, untrained_melody_model, command, args, words):
    result = run_cli(
        command, tune, *args, "-o", tmp_path / "o.mid", "--model", untrained_melody_model
    )
    assert_user_error(result, *words)


@pytest.mark.parametrize("command", ["continue", "infill"])
def test_the_new_melody_is_what_is_checked_whatever_the_track_order(
    tmp_path, untrained_melody_model, command
):
    # the originality check took the first track as the melody: in a file whose bass comes
    # first, it checked the bass's bars and let the model's new melody through unchecked
    import json

    from tests.builders import bass

    line = Track("Tune", 73, role=Role.MELODY, notes=notes(*TUNE))
    low = bass(*[(4 * i, 4, 36) for i in range(4)])
    args = ["--bars", "2"] if command == "continue" else ["--bars", "2-3"]
    checked = []
    for order in ((line, low), (low, line)):
        path, out = tmp_path / "in.mid", tmp_path / "out.mid"
        write_midi(make_score(*order), path)
        result = run_cli(
            command, path, *args, "-o", out, "--model", untrained_melody_model, "--force"
        )
        assert result.returncode == 0, result.stderr
        manifest = json.loads((tmp_path / "out.mid.provenance.json").read_text())
        checked.append(json.dumps(manifest["originality"], sort_keys=True))
    assert checked[0] == checked[1]
