"""`bandmate melody`: a melody file over the chart, and one clear line for each mistake."""

from __future__ import annotations

import json

import pytest

from bandmate.io.midi import read_midi
from bandmate.rights.provenance import verify
from tests.builders import assert_user_error, run_cli

CHART = "| Dm | G7 | Cmaj7 | A7 |"


def test_a_melody_over_a_chart_with_a_backing_band(tmp_path, untrained_melody_model):
    out = tmp_path / "tune.mid"
    result = run_cli(
        "melody", CHART, "--style", "irish", "--tempo", "110", "--bars", "8", "--range", "D4-D5",
        "--with-backing", "pop", "--model", untrained_melody_model, "-o", out,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "8 bars" in result.stdout
    score = read_midi(out)
    names = [t.name for t in score.tracks]
    assert names[0] == "Melody" and "Bass" in names and "Drums" in names
    assert all(62 <= n.pitch <= 74 for n in score.track("Melody").notes)
    assert [str(c.symbol) for c in score.chords][:5] == ["Dm", "G7", "Cmaj7", "A7", "Dm"]
    again = run_cli("melody", CHART, "--model", untrained_melody_model, "-o", out)
    assert_user_error(again, "exists", "--force")
    # how it was made, beside it: the model by its hash, the originality check, the seed
    manifest = json.loads((tmp_path / "tune.mid.provenance.json").read_text())
    assert manifest["command"] == "melody" and manifest["parameters"]["style"] == "irish"
    assert len(manifest["models"][0]["checkpoint_sha256"]) == 64
    assert manifest["originality"]["verdict"] in ("original", "flagged")
    assert manifest["digital_source_type"].endswith("/trainedAlgorithmicMedia")
    # and the band's parts: played from bandmate's pop style (it was not said)
    assert [d["item"] for d in manifest["data"]] == ["pop.toml"]
    assert verify(out).ok


def test_commercial_use_refuses_the_melody_model_and_names_its_data(tmp_path):
    out = tmp_path / "tune.mid"
    result = run_cli("melody", CHART, "--commercial", "-o", out)
    assert_user_error(result, "--commercial", "essen")
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--style", "polka"], ["polka"]),
        (["--range", "C6-C4"], ["range", "lower"]),
        (["--range", "middle"], ["range"]),
        (["--range", "C4-D4"], ["range"]),
        (["--with-backing", "polka"], ["polka"]),
        (["--bars", "0"], ["bars"]),
        (["--bars", "100000"], ["100000 bars", "60-minute limit"]),  # wrote for hours
        (["--tempo", "0"], ["Tempo 0"]),  # was a ValueError traceback
        (["--tempo", "-90"], ["Tempo -90"]),
        (["--tempo", "nan"], ["Tempo nan"]),
    ],
)
def test_mistakes_are_one_line(tmp_path, untrained_melody_model, args, words):
    result = run_cli(
        "melody", CHART, *args, "--model", untrained_melody_model, "-o", tmp_path / "x.mid"
    )
    assert_user_error(result, *words)
    assert not (tmp_path / "x.mid").exists()


def test_a_model_with_no_card_is_refused(tmp_path, untrained_melody_model):
    # its manifest said it learnt from no collections, and its output was checked against the
    # built-in ones only: what it learnt from is unknown
    import shutil

    model = tmp_path / "model"
    shutil.copytree(untrained_melody_model, model)
    (model / "card.json").unlink()
    out = tmp_path / "x.mid"
    assert_user_error(run_cli("melody", CHART, "--model", model, "-o", out), "no card.json")
    assert not out.exists()


def test_a_bad_chart_names_its_bar(tmp_path, untrained_melody_model):
    result = run_cli(
        "melody", "| C | Xq7 |", "--model", untrained_melody_model, "-o", tmp_path / "x.mid"
    )
    assert_user_error(result, "bar 2")
