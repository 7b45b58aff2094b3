"""A producer's own style file, copied from a shipped one and edited: every slip is one sentence
that names the file and the key, never a traceback and never a key silently ignored."""

from importlib import resources

import pytest

from bandmate.arrange.style import StyleError, parse_style
from tests.builders import assert_user_error, run_cli

ROCK = (resources.files("bandmate.data.styles") / "rock.toml").read_text("utf-8")
BASS_PATTERNS = ROCK[ROCK.index('patterns.low = "R') : ROCK.index('[[parts]]\nname = "Guitar"')]


def edited(old: str, new: str) -> str:
    assert old in ROCK, old
    return ROCK.replace(old, new, -1 if old == "[[parts]]" else 1)


@pytest.mark.parametrize(
    ("old", "new", "says"),
    [
        # these crashed with a traceback (AttributeError, ZeroDivisionError, TypeError)
        (BASS_PATTERNS, 'patterns = "R . R ."\n', "part Bass: patterns must be a table"),
        ("swing = 0.5", "swing = 0.6\nswing_unit = 0", "swing_unit must be 8"),
        ("humanize = { timing_ms = 7, velocity = 8 }", 'humanize = "loose"', "humanize must be"),
        ('name = "Bass"', "name = 5", "part name must be a non-empty string"),
        # these were taken silently, the producer's edit ignored or played as nonsense
        (
            "volume = 0.95",
            "volumn = 0.95",
            "part Bass: unknown key 'volumn' (did you mean 'volume'",
        ),
        ("swing = 0.5", "swign = 0.6", "unknown key 'swign' (did you mean 'swing'"),
        ("volume = 0.95", "volume = 0", "part Bass: volume must be above 0"),
        ("volume = 0.95", "volume = -1", "part Bass: volume must be a number from 0 to 2"),
        ("volume = 0.95", "volume = true", "part Bass: volume must be a number"),
        ("swing = 0.5", "swing = 0.6\nswing_unit = 3", "swing_unit must be 8"),
        (
            "humanize = { timing_ms = 7, velocity = 8 }",
            "humanize = { timing_ms = -7 }",
            "timing_ms",
        ),
        ("intro_bars = 2", "intro_bars = -2", "intro_bars must be a whole number"),
        ("intro_bars = 2", "intro_bars = 1.5", "intro_bars must be a whole number"),
        ("min = 90,", "min = -10,", "tempo.min must be a number from 20 to 400"),
        ('voicing = "power"', 'voicing = "power"\nstrum_ms = -500', "strum_ms must be"),
        ('name = "Bass"', 'name = ""', "part name must be a non-empty string"),
        # a kit mixed as a bass, a chord part on the drum channel's mix settings
        (
            'role = "drums"',
            'role = "bass"',
            "part Drums: generator 'drums' and role 'bass' disagree",
        ),
        (
            'role = "bass"',
            'role = "drums"',
            "part Bass: generator 'bass' and role 'drums' disagree",
        ),
        # these named a Python error instead of the key
        ("tempo = { min = 90, max = 170, default = 120 }", "tempo = 120", "tempo must be a table"),
        ("default = 120", 'default = "fast"', "tempo.default must be a number"),
        ('range = ["E1", "G3"]', 'range = ["E1"]', "part Bass: range must be two note names"),
        ("[[parts]]", "[[part]]", "unknown key 'part' (did you mean 'parts'"),
    ],
)
def test_an_edited_style_file_with_a_slip_names_the_file_and_the_key(old, new, says):
    with pytest.raises(StyleError) as caught:
        parse_style(edited(old, new), "mine")
    message = str(caught.value)
    assert message.startswith("The style file mine.toml is invalid: ") and says in message
    assert message.count("\n") == 0


def test_the_shipped_style_copied_as_is_still_loads():
    style = parse_style(ROCK, "mine")
    assert [p.name for p in style.parts] == ["Drums", "Bass", "Guitar", "Piano", "Organ"]


def test_backing_names_the_path_given_and_writes_nothing(tmp_path):
    # the message named only the file's stem; a typo'd key was played at its default
    style = tmp_path / "styles" / "my rock.toml"
    style.parent.mkdir()
    style.write_text(edited("volume = 0.95", "volumn = 0.95"), encoding="utf-8")
    out = tmp_path / "out"
    result = run_cli("backing", "| C | F |", "--style", style, "--midi-only", "-o", out)
    assert_user_error(result, str(style), "volumn", "did you mean 'volume'")
    assert not out.exists()
    # the same file, fixed, plays every part
    style.write_text(ROCK, encoding="utf-8")
    result = run_cli("loop", "--style", style, "--bars", "1", "-o", out)
    assert result.returncode == 0, result.stderr
    assert any(f.name.endswith("_bass.wav") for f in out.iterdir())


def test_a_folder_or_a_midi_file_given_as_the_style_is_named_for_what_it_is(tmp_path, monkeypatch):
    # a folder said "[Errno 21] Is a directory" ("styles/" even "Unknown style 'styles/'"), a
    # MIDI file "'utf-8' codec can't decode byte"
    from bandmate.arrange.style import resolve_style

    (tmp_path / "styles").mkdir()
    (tmp_path / "styles.toml").mkdir()
    (tmp_path / "song.mid").write_bytes(b"MThd\x00\x00\x00\x06\x00\x01\x00\x01\x01\xe0")
    monkeypatch.chdir(tmp_path)
    for given in ("styles/", f"{tmp_path / 'styles'}/", str(tmp_path / "styles.toml")):
        with pytest.raises(StyleError, match=r"is a folder; give the path of a style file"):
            resolve_style(given)
    with pytest.raises(StyleError, match=r"song\.mid is not text .* give a style file written"):
        resolve_style(str(tmp_path / "song.mid"))


def test_a_percussion_part_beside_the_kit_may_be_role_other():
    # the generator/role check must not refuse congas or a shaker kept apart from the kit
    text = edited('name = "Drums"\nrole = "drums"', 'name = "Percussion"\nrole = "other"')
    assert parse_style(text, "mine").part("Percussion").generator == "drums"
