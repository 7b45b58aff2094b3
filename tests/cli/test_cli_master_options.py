"""`bandmate master` options that contradict each other are refused in one line, before any work."""

from __future__ import annotations

from tests.builders import assert_user_error
from tests.cli.test_cli_master import bandmate, mix_file  # noqa: F401 (a fixture)


def test_a_reference_and_a_curve_together_are_refused(capsys, tmp_path, mix_file):  # noqa: F811
    # the curve was silently ignored: the EQ went toward the reference and said so, with no word
    # about the "warm" the user had asked for
    out = tmp_path / "master.wav"
    result = bandmate(capsys, "master", mix_file, "-o", out, "--reference", mix_file,
                      "--curve", "warm")  # fmt: skip
    assert_user_error(result, "--reference", "--curve", "not both")
    assert not out.exists()


def test_the_balanced_curve_is_still_the_default(capsys, tmp_path, mix_file):  # noqa: F811
    result = bandmate(capsys, "master", mix_file, "-o", tmp_path / "master.wav")
    assert result.returncode == 0, result.stderr
    assert "EQ toward the 'balanced' curve" in result.stdout
