"""Every shipped style over a 32-bar chart: the checks a musician would make by ear."""

import hashlib
from importlib import resources

import pytest

from bandmate.arrange.analysis import analyse_arrangement
from bandmate.arrange.backing import backing
from bandmate.arrange.style import (
    DEFAULT_LEVELS_DB,
    StyleError,
    load_style,
    parse_style,
    style_levels,
    style_names,
)
from bandmate.score.model import Role

# 32 bars: sections, slash chords, sevenths, two chords in a bar, a turnaround
CHART_32 = """
(key: C)
[Verse]  | C | Am7 | Dm7 | G7 | C/E | F | D7/F# | G7 |
         | C | Am7 | Dm7 | G7sus4 G7 | Em7 | A7 | Dm7 G7 | C |
[Chorus] | F | G | Em7 | Am | Dm7 | G7 | Cmaj7 | C7 |
         | F | Fm6 | Em7 | A7b9 | Dm7 | G7 | C Am7 | Dm7 G7 |
"""

REQUIRED = {
    "rock", "pop", "pop-ballad", "funk", "blues-shuffle", "jazz-swing", "jazz-ballad",
    "bossa-nova", "samba", "salsa", "reggae", "hip-hop", "house", "country", "waltz",
    "six-eight-ballad", "gospel",
}  # fmt: skip


def test_the_library_has_the_styles_the_issue_names():
    assert set(style_names()) >= REQUIRED
    assert len(style_names()) >= 16


@pytest.fixture(scope="module", params=style_names())
def arranged(request):
    style = load_style(request.param)
    score = backing(CHART_32, style=style, tempo_bpm=style.tempo_default, seed=7)
    return style, score


def test_parts_stay_in_range_and_are_named(arranged):
    style, score = arranged
    assert [t.name for t in score.tracks] == [p.name for p in style.parts]
    for part, track in zip(style.parts, score.tracks, strict=True):
        assert track.notes, f"{style.name}: {part.name} plays nothing"
        if part.generator != "drums":
            pitches = [n.pitch for n in track.notes]
            assert part.low_pitch <= min(pitches) and max(pitches) <= part.high_pitch, part.name


def test_bass_roots_chord_tones_and_drums(arranged):
    style, score = arranged
    report = analyse_arrangement(score)
    assert report.bass_on_one >= 0.9, (style.name, report)
    assert report.chord_tones_on_beats >= 0.9, (style.name, report)
    assert report.comping_notes_on_beats > 20
    assert report.drum_dropout_bars == (), (style.name, report)


def test_no_note_is_struck_again_while_it_still_sounds(arranged):
    # a note-off that comes after the same pitch is struck again cuts the new note (a pad's
    # re-struck voice fell silent for its whole bar): humanized notes must not overlap
    style, score = arranged
    for track in score.tracks:
        ends: dict[int, int] = {}
        for n in sorted(track.notes, key=lambda n: n.onset_ticks):
            assert ends.get(n.pitch, -1) <= n.onset_ticks, (style.name, track.name, n)
            ends[n.pitch] = n.end_ticks


def test_form_makes_the_chorus_louder_than_the_verse(arranged):
    style, score = arranged
    verse = score.sections[1].onset_ticks  # after the intro
    chorus = next(s.onset_ticks for s in score.sections if s.name == "Chorus")
    drums = next(t for t in score.tracks if t.is_drum)

    def loudness(start, stop):
        v = [n.velocity for n in drums.notes if start <= n.onset_ticks < stop]
        return sum(v) / max(1, len(v)) * len(v) ** 0.5  # louder and denser

    span = chorus - verse
    assert loudness(chorus, chorus + span) > loudness(verse, chorus), style.name


def test_seed_decides_the_notes(arranged):
    style, score = arranged
    again = backing(CHART_32, style=style, tempo_bpm=style.tempo_default, seed=7)
    other = backing(CHART_32, style=style, tempo_bpm=style.tempo_default, seed=8)
    assert again == score
    assert other != score


def test_repeated_bars_are_not_copies(arranged):
    style, score = arranged
    drums = next(t for t in score.tracks if t.is_drum)
    grid = score.bar_grid
    bars = {}
    for n in drums.notes:
        bar = grid.bar_at(n.onset_ticks)
        bars.setdefault(bar, []).append((n.onset_ticks - grid.bar_start(bar), n.pitch, n.velocity))
    shapes = [tuple(sorted(v)) for v in bars.values()]
    assert len(set(shapes)) > len(shapes) // 2, style.name


def test_every_style_authors_its_mix_levels():
    table = style_levels()
    assert set(table) == set(style_names())
    for name in style_names():
        parts = load_style(name).parts
        assert set(table[name]) == {p.name for p in parts}, name
        levels = [p.level_db for p in parts]
        assert levels == [table[name][p.name] for p in parts], name
        assert max(levels) == 0 and min(levels) >= -20, (name, levels)


def test_mix_levels_leave_the_style_files_as_the_corpus_recorded_them():
    # the drum model and the originality index were built from these files' bytes
    for name in style_names():
        text = (resources.files("bandmate.data.styles") / f"{name}.toml").read_text("utf-8")
        assert "level_db" not in text, name


def test_a_bad_level_in_the_levels_table_names_the_table():
    with pytest.raises(StyleError, match=r"levels\.toml is invalid: \[test\] Bass must be"):
        parse_style(MINIMAL_STYLE.format(level=""), "test", levels={"Bass": 5})
    with pytest.raises(StyleError, match=r"levels\.toml is invalid: style test has no part 'Lead'"):
        parse_style(MINIMAL_STYLE.format(level=""), "test", levels={"Lead": -3})
    style = parse_style(MINIMAL_STYLE.format(level=""), "test", levels={"Pad": -12})
    assert style.part("Pad").level_db == -12


MINIMAL_STYLE = """
name = "test"
description = "two parts"
tempo = {{ min = 60, max = 200, default = 100 }}

[[parts]]
name = "Bass"
role = "bass"
generator = "bass"
program = 33
range = ["E1", "G3"]
{level}
patterns.low = "R . . . . . . . R . . . . . . ."

[[parts]]
name = "Pad"
role = "pad"
generator = "pad"
program = 89
range = ["G3", "G5"]
patterns.low = "x - - - - - - - - - - - - - - -"
"""


def test_a_part_without_a_mix_level_gets_its_roles_default():
    style = parse_style(MINIMAL_STYLE.format(level=""), "test")
    assert style.part("Bass").level_db == DEFAULT_LEVELS_DB[Role.BASS]
    assert style.part("Pad").level_db == DEFAULT_LEVELS_DB[Role.PAD] < style.part("Bass").level_db
    assert parse_style(MINIMAL_STYLE.format(level="level_db = -3.5"), "test").part(
        "Bass"
    ).level_db == pytest.approx(-3.5)


@pytest.mark.parametrize("level", ["3", "-60", '"loud"', "nan", "true"])
def test_a_bad_mix_level_names_the_file_and_the_part(level):
    with pytest.raises(StyleError, match=r"test\.toml.*part Bass: level_db must be .* -40 to 0"):
        parse_style(MINIMAL_STYLE.format(level=f"level_db = {level}"), "test")


def test_a_style_file_of_ones_own_plays_by_its_path(tmp_path):
    # --style took only the 17 built-in names: a style of one's own meant editing the package
    from bandmate.arrange.style import resolve_style
    from bandmate.rights.provenance import style_data

    path = tmp_path / "my-style.toml"
    path.write_text(MINIMAL_STYLE.format(level="level_db = -2"), encoding="utf-8")
    style = resolve_style(str(path))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert (style.name, style.source) == ("my-style", (str(path), digest))
    assert style.part("Bass").level_db == -2
    score = backing("| C | F | G | C |", style=style, intro=False, ending=False)
    assert [t.name for t in score.tracks] == ["Bass", "Pad"] and score.track("Bass").notes
    data = style_data(style)
    assert data["item"] == "my-style.toml" and data["licence_class"] == "user-supplied"
    assert len(data["sha256"]) == 64
    assert resolve_style("pop") == load_style("pop")
    assert style_data(load_style("pop"))["name"] == "bandmate-styles"
    with pytest.raises(StyleError, match="no style file"):
        resolve_style(str(tmp_path / "missing.toml"))
    (tmp_path / "broken.toml").write_text("name = [", encoding="utf-8")
    with pytest.raises(StyleError, match=r"broken\.toml is not valid TOML"):
        resolve_style(str(tmp_path / "broken.toml"))


def test_a_bare_style_name_is_the_built_in_one_whatever_the_folder_holds(tmp_path, monkeypatch):
    from bandmate.arrange.style import resolve_style

    monkeypatch.chdir(tmp_path)
    (tmp_path / "pop").write_text("not a style", encoding="utf-8")
    assert resolve_style("pop") == load_style("pop")


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (("grid", "grid = 0\n"), "grid must be a whole number"),
        (("meter", 'meter = "0/4"\n'), "meter: a bar needs 1 to 64 beats"),
        (("meter", 'meter = "waltz"\n'), "meter: write it as two numbers"),
        (("program", "program = 128"), "program is a General MIDI program 0-127"),
        (("program", "program = -1"), "program is a General MIDI program 0-127"),
        (("patterns", "patterns.low = []"), "no pattern in the list"),
    ],
)
def test_a_style_file_of_ones_own_with_a_mistake_is_refused_in_one_sentence(change, says):
    # these passed the check and crashed the arrangement (ZeroDivisionError, IndexError,
    # ValueError from the random generator or the MIDI program), reachable now that --style
    # takes a user's file
    field, line = change
    text = MINIMAL_STYLE.format(level="")
    if field == "program":
        text = text.replace("program = 33", line)
    elif field == "patterns":
        text = text.replace('patterns.low = "R . . . . . . . R . . . . . . ."', line)
    else:
        text = line + text
    with pytest.raises(StyleError, match=says):
        parse_style(text, "mine")
