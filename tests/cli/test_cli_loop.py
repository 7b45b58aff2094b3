"""`bandmate loop` from the command line: the refusals a user meets before any work."""

from tests.builders import assert_user_error, run_cli


def test_a_pack_of_53_hours_is_one_sentence_naming_what_to_lower(tmp_path):
    # it started arranging and rendering 53 hours of audio; the length is now refused first,
    # before even the output folder is looked at (this one holds an earlier pack's manifest)
    out = tmp_path / "pack"
    out.mkdir()
    (out / "manifest.json").write_text("{}")
    result = run_cli(
        "loop", "--style", "funk", "--count", "1000", "--bars", "16", "--tempo", "20", "-o", out
    )
    assert_user_error(result, "3200 minutes", "60-minute", "at most 18 loops", "fewer bars",
                      "faster tempo")  # fmt: skip
    assert [p.name for p in out.iterdir()] == ["manifest.json"]
