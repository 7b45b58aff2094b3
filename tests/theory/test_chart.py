"""Chord charts: each syntax element, each error, and round trips over generated charts."""

from __future__ import annotations

from fractions import Fraction
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bandmate.errors import ChartError
from bandmate.theory import (
    MODES,
    NO_CHORD,
    Bar,
    Chart,
    ChartChord,
    Key,
    format_chart,
    parse_chart,
    parse_chord,
)
from bandmate.theory.chart import chord_layout, transpose_chart


def layout(bar: Bar) -> list[tuple[Fraction, str]]:
    """(beat, chord text) pairs: what a musician reads in the bar."""
    return [(c.beat, str(c.symbol)) for c in bar.chords]


def chords_of(chart: Chart) -> list[str]:
    """One string per bar, e.g. "C G", for compact expectations."""
    return [" ".join(str(c.symbol) for c in bar.chords) for bar in chart.bars]


def test_bar_lines_are_optional_at_the_ends_and_merge_when_doubled():
    assert chords_of(parse_chart("C | F | G | C")) == ["C", "F", "G", "C"]
    assert chords_of(parse_chart("| C | F || G | C |")) == ["C", "F", "G", "C"]
    rows = parse_chart("| C | F |\n| G | C |\n")
    assert len(rows) == 4
    assert [bar.source_bar for bar in rows.bars] == [1, 2, 3, 4]


def test_a_progression_in_running_text_is_a_bar_a_chord():
    # "C G Am F" was one bar of four chords: a songwriter who types a progression without bar
    # lines means a chord a bar, as it is written in running text
    assert chords_of(parse_chart("C G Am F")) == ["C", "G", "Am", "F"]
    assert chords_of(parse_chart("C G Am F\nC G F F\n")) == [
        "C",
        "G",
        "Am",
        "F",
        "C",
        "G",
        "F",
        "F",
    ]
    assert chords_of(parse_chart("C % F %")) == ["C", "C", "F", "F"]
    waltz = parse_chart("(3/4) C G7 [B] F C")
    assert chords_of(waltz) == ["C", "G7", "F", "C"]
    assert [bar.meter for bar in waltz.bars] == [(3, 4)] * 4
    assert [bar.section for bar in waltz.bars] == [None, None, "B", "B"]
    # beat placeholders, or any bar line, keep the bar's chords together
    assert chords_of(parse_chart("C . F G")) == ["C F G"]
    assert chords_of(parse_chart("C G | Am F")) == ["C G", "Am F"]


def test_chords_share_a_bar_as_players_read_it():
    chart = parse_chart("| C G | C F G C | (3/4) C G | (6/8) D A |")
    assert layout(chart.bars[0]) == [(0, "C"), (2, "G")]
    assert [c.beat for c in chart.bars[1].chords] == [0, 1, 2, 3]
    assert layout(chart.bars[2]) == [(0, "C"), (2, "G")]  # was on the "and" of beat 2
    assert layout(chart.bars[3]) == [(0, "D"), (3, "A")]  # beats count eighths in 6/8


@pytest.mark.parametrize(
    ("text", "beats"),
    [("C F G", [0, 2, 3]),  # was on triplets (4/3, 8/3)
     ("(5/4) C G", [0, 3]), ("(7/8) C G", [0, 4]), ("(5/8) C G", [0, 3]),
     ("(12/8) C F G", [0, 6, 9]),  # dotted quarters: was mid-beat (4, 8)
     ("(9/8) C G", [0, 6]), ("(6/8) C D E F", [0, 2, 4, 5]),
     ("C D E F G", [Fraction(4 * i, 5) for i in range(5)])],  # more chords than beats: even
)  # fmt: skip
def test_a_bar_of_chords_is_shared_out_in_whole_beats_earlier_chords_longer(text, beats):
    bar = parse_chart(f"| {text} |").bars[0]
    assert [c.beat for c in bar.chords] == beats
    assert parse_chart(format_chart(parse_chart(f"| {text} |"))).bars[0] == bar


def test_dots_hold_the_chord_for_a_beat():
    chart = parse_chart("| C . F G | (3/4) Am . E7 |")
    assert layout(chart.bars[0]) == [(0, "C"), (2, "F"), (3, "G")]
    assert layout(chart.bars[1]) == [(0, "Am"), (2, "E7")]
    assert chart.chord_at(0, 1) == parse_chord("C")
    assert chart.chord_at(0, Fraction(5, 2)) == parse_chord("F")
    assert chart.chord_at(1, 2.5) == parse_chord("E7")
    with pytest.raises(ValueError):
        chart.chord_at(1, 3)


def test_percent_repeats_the_previous_bar():
    chart = parse_chart("| C G | % | F |")
    assert chords_of(chart) == ["C G", "C G", "F"]
    assert chart.bars[1] == chart.bars[0]
    assert chart.bars[1].source_bar == 2
    in_three = parse_chart("| C G | (3/4) % |")  # laid out again in the new meter
    assert layout(in_three.bars[1]) == [(0, "C"), (2, "G")]


def test_a_two_bar_repeat_plays_the_previous_two_bars():
    # '%%' (the two-bar repeat sign) was refused as an unknown chord symbol
    chart = parse_chart("| C | F G | %% | Am |")
    assert chords_of(chart) == ["C", "F G", "C", "F G", "Am"]
    assert [b.source_bar for b in chart.bars] == [1, 2, 3, 3, 4]
    with pytest.raises(ChartError, match="not two previous bars"):
        parse_chart("| C | %% |")
    with pytest.raises(ChartError, match="stands alone"):
        parse_chart("| C | F | %% G |")


def test_repeats_are_expanded():
    chart = parse_chart("| C |: F | G :| Am |")
    assert chords_of(chart) == ["C", "F", "G", "F", "G", "Am"]
    assert [bar.source_bar for bar in chart.bars] == [1, 2, 3, 2, 3, 4]
    assert chords_of(parse_chart("|: C :| x3")) == ["C"] * 3
    assert chords_of(parse_chart("|: C | D :| x 3 | E")) == ["C", "D"] * 3 + ["E"]
    assert chords_of(parse_chart("|: C :|: D :| x1")) == ["C", "C", "D"]
    assert chords_of(parse_chart("|:C:|")) == ["C", "C"]


def test_first_and_second_endings():
    # a lead sheet's voltas: the second pass skips the first ending and plays the second
    chart = parse_chart("|: C | F |1 G | G7 :|2 Am | D7 | E |")
    assert chords_of(chart) == ["C", "F", "G", "G7", "C", "F", "Am", "D7", "E"]
    assert [bar.source_bar for bar in chart.bars] == [1, 2, 3, 4, 1, 2, 5, 6, 7]
    dotted = parse_chart("[A] |: C |1. F :|2. G | [B] | Am |")
    assert chords_of(dotted) == ["C", "F", "C", "G", "Am"]
    assert [i for i, _ in dotted.sections] == [0, 2, 4]  # the repeated A starts again


@pytest.mark.parametrize(
    ("text", "token", "explanation"),
    [
        ("| C |1 G |", "1", "inside a repeat"),
        ("|: C |1 D |1 G :|2 A |", "1", "once"),
        ("| C | 2 G |", "2", "follows a repeat with a first ending"),
        ("|: C :|2 G |", "2", "follows a repeat with a first ending"),
        ("|: C |1 :|2 G |", ":|", "no bars"),
        ("|: C |1 G :| x3 |2 A |", ":|", "plays twice"),
    ],
)
def test_ending_mistakes(text, token, explanation):
    with pytest.raises(ChartError, match=explanation) as caught:
        parse_chart(text)
    assert caught.value.token == token


def test_a_bar_that_starts_with_a_hold_keeps_the_last_chord_sounding():
    # "| C G | . . F . |" was refused ("a bar cannot start with '.'"); a lead sheet means G held
    chart = parse_chart("| C G | . . F . | / / / Am |")
    assert [layout(b) for b in chart.bars[1:]] == [[(0, "G"), (2, "F")], [(0, "F"), (3, "Am")]]
    # a bar of holds alone, then another or its repeat: the chord still sounding (IndexError)
    for text in ("| C | . | . |", "| C | / / / / | % |"):
        assert [layout(b) for b in parse_chart(text).bars] == [[(0, "C")]] * 3, text


def test_slashes_hold_the_chord_for_a_beat_as_dots_do():
    assert parse_chart("| C / F / | G / / / |") == parse_chart("| C . F . | G . . . |")
    # and a dash standing alone, as charts are written by hand (attached, it is still minor)
    assert parse_chart("| C - - - | C- - F - |") == parse_chart("| C . . . | Cm . F . |")
    with pytest.raises(ChartError, match="cannot start with '-'"):
        parse_chart("| - | C |")
    with pytest.raises(ChartError, match="too few beats"):
        parse_chart("| C / F |")


def test_sections_label_the_following_bars():
    chart = parse_chart("[Intro] | C | [Verse 1] | F | G | [Chorus] C |")
    assert [bar.section for bar in chart.bars] == ["Intro", "Verse 1", "Verse 1", "Chorus"]
    assert chart.sections == ((0, "Intro"), (1, "Verse 1"), (3, "Chorus"))
    assert parse_chart("| C | [A] | D |").sections == ((1, "A"),)


def test_time_signatures_apply_from_their_bar_on():
    chart = parse_chart("| C | (3/4) F | G | (7/8) A |")
    assert [bar.meter for bar in chart.bars] == [(4, 4), (3, 4), (3, 4), (7, 8)]
    assert chart.meter == (4, 4)
    assert parse_chart("(6/8) | C |").meter == (6, 8)


def test_keys_and_key_changes():
    chart = parse_chart("(key: Bb) | Bb | F7 | (key: F#m) F#m | C#7 |")
    assert chart.key == Key.parse("Bb")
    assert [bar.key for bar in chart.bars] == [Key(10), Key(10), Key(6, "minor"), Key(6, "minor")]
    assert parse_chart("| C |").key is None
    late = parse_chart("| C | (key: G) G |")
    assert late.key is None and late.bars[1].key == Key(7)


def test_title_and_no_chord():
    chart = parse_chart("(title: Blue Tune)\n| N.C. | C7 . . NC |")
    assert chart.title == "Blue Tune"
    assert chart.bars[0].chords[0].symbol is NO_CHORD
    assert chart.chord_at(1, 3).is_no_chord


def test_a_whole_chart():
    text = """
        (title: Blue Tune)
        (key: Bb) (3/4)
        [Intro] | Bb | % |
        [Verse]
        |: Bb . Eb | F7 | Gm7 C7 | F :| x3
        (4/4) | Ebmaj7 . F7 Bb | N.C. |
    """
    chart = parse_chart(text)
    assert len(chart) == 2 + 4 * 3 + 2
    # each pass of a labelled repeat is a section of its own: three verses
    assert chart.sections == ((0, "Intro"), (2, "Verse"), (6, "Verse"), (10, "Verse"))
    assert chart.bars[-1].meter == (4, 4) and chart.bars[-3].meter == (3, 4)
    assert parse_chart(format_chart(chart)) == chart


def test_the_meter_may_be_named_as_key_and_title_are():
    named = parse_chart("(key: D) (meter: 5/4) | D | (Time: 7/8) A |")
    assert [b.meter for b in named.bars] == [(5, 4), (7, 8)]
    assert named == parse_chart("(key: D) (5/4) | D | (7/8) A |")


@pytest.mark.parametrize(
    ("text", "bar", "token", "explanation"),
    [
        ("| C | H7 |", 2, "H7", "H is the German name for B"),
        ("| C | F | Cmaj77 |", 3, "Cmaj77", "'maj77' is not a chord quality"),
        ("| C | F | (5/0) G |", 3, "(5/0)", "power of two"),
        ("| C | (0/4) G |", 2, "(0/4)", "1 to 64 beats"),
        ("| C | (key: H) G |", 2, "(key: H)", "not a key"),
        ("| C | (key: Bb locrianish) G |", 2, "(key: Bb locrianish)", "unknown mode"),
        ("| C | C . . . . |", 2, ".", "too many beats: 5 chords and dots, but 4/4 has 4"),
        ("| C | C . G F E |", 2, "E", "too many beats"),
        ("| C | (3/4) C . G F |", 2, "F", "3/4 has 3"),
        ("| C | C . G |", 2, "G", "too few beats"),
        (". C . . | F |", 1, ".", "first bar cannot start with '.'"),
        ("% | C |", 1, "%", "no previous bar"),
        ("| C | % G |", 2, "%", "stands alone"),
        ("| C . . . | (3/4) % |", 2, "%", "too many beats"),
        ("| C | F :| G |", 2, ":|", "never opened"),
        ("| C |: F | G", 2, "|:", "never closed"),
        ("|: C |: F :| G :|", 2, "|:", "do not nest"),
        ("| C |: :| G", 1, ":|", "no bars"),
        ("|: C :| x0", 1, "x0", "1 to 100 times"),
        ("|: C :| x 500", 1, "x 500", "1 to 100 times"),
        ("|: C :| x | D", 1, "x", "needs a number"),
        ("| C | x3 |", 2, "x3", "must follow ':|'"),
        ("| C | G x 2 |", 2, "x", "must follow ':|'"),
        # a word that only looks like a count is named as the unknown chord it stands for
        ("| C | X7 |", 2, "X7", "Unknown chord symbol 'X7': a chord starts with a root note"),
        ("| C | x | F |", 2, "x", "Unknown chord symbol 'x'"),
        ("| C | G (3/4) |", 2, "(3/4)", "before a bar's first chord"),
        ("| C | G [Verse] D |", 2, "[Verse]", "before a bar's first chord"),
        ("| C | [ ] D |", 2, "[ ]", "needs a name"),
        ("| C | (tempo 120) D |", 2, "(tempo 120)", "give it with --tempo"),
        ("| C | (swing) D |", 2, "(swing)", "unknown directive"),
        ("| C | (meter: waltz) D |", 2, "(meter: waltz)", "two numbers"),
        ("| C | (title: Late) D |", 2, "(title: Late)", "before the first bar"),
        ("| C | F ( |", 2, "(", "never closed"),
        ("| C | F ] |", 2, "]", "no matching"),
        ("| C | F : |", 2, ":", "repeat sign"),
        ("| C | F | [Coda]", 2, "[Coda]", "end of the chart"),
        # directives typed without their parentheses are named as such, not as chord symbols
        ("7/8 | A | D |", 1, "7/8", "a time signature goes in parentheses, like (7/8)"),
        ("| A | 3/4 | D |", 2, "3/4", "like (3/4)"),
        ("time 5/4 | Dm7 | G7 |", 1, "time", "like (5/4)"),
        ("key: Eb | Eb | Ab/Eb |", 1, "key", "a key goes in parentheses, like (key: Eb)"),
        ("| C | Time: 3/4 | F |", 2, "Time", "like (time: 3/4)"),
        ("Title: Blue | C |", 1, "Title", "a title goes in parentheses, like (title: Blue)"),
    ],
)
def test_errors_name_the_bar_and_token(text, bar, token, explanation):
    with pytest.raises(ChartError) as caught:
        parse_chart(text)
    error = caught.value
    assert (error.bar, error.token) == (bar, token)
    assert explanation in str(error)
    assert f"bar {bar}" in str(error)


@pytest.mark.parametrize("text", ["", "   \n ", "| |", "||", "(key: C)", "(title: x) [A]"])
def test_a_chart_without_bars_is_an_error(text):
    with pytest.raises(ChartError, match=r"no bars|end of the chart"):
        parse_chart(text)


def test_error_bar_numbers_count_bars_as_written():
    with pytest.raises(ChartError) as caught:
        parse_chart("|: C | D :| x4\n| E | Q7 |")
    assert caught.value.bar == 4  # bars 1-2 are played four times, but Q7 is written in bar 4


def test_data_model_validates_itself():
    c = parse_chord("C")
    with pytest.raises(ValueError):
        Bar(())
    with pytest.raises(ValueError):
        Bar((ChartChord(1, c),))  # must start on the downbeat
    with pytest.raises(ValueError):
        Bar((ChartChord(0, c), ChartChord(4, c)))  # outside the bar
    with pytest.raises(ValueError):
        Bar((ChartChord(0, c), ChartChord(Fraction(1, 2), c)))  # not writable in a chart
    with pytest.raises(ValueError):
        Bar((ChartChord(0, c),), meter=(5, 0))
    with pytest.raises(ValueError):
        Chart(())
    with pytest.raises(ValueError):
        Chart((Bar((ChartChord(0, c),), key=Key(0)),), key=None)
    assert ChartChord(0, c).beat == Fraction(0)


# ---------------------------------------------------------------------------------------------
# Generated charts

METERS = [(4, 4), (3, 4), (2, 4), (6, 8), (7, 8), (5, 4), (2, 2), (12, 8), (1, 4)]
CHORD_TEXTS = ["C", "Am7", "F#m7b5", "Bbmaj7/D", "G7b9", "C6/9", "N.C.", "Ebm", "D7alt", "E/G#"]
SECTIONS = ["Intro", "Verse", "Chorus", "A", "B", "Verse 2", "Bridge (x2)"]
TITLES = ["Blue Tune", "Autumn: Leaves", "Song 2"]

chords = st.sampled_from([parse_chord(text) for text in CHORD_TEXTS])
keys = st.builds(Key, st.integers(0, 11), st.sampled_from(sorted(MODES)))


@st.composite
def bar_chords(draw, meter: tuple[int, int]) -> tuple[ChartChord, ...]:
    beats_in_bar = meter[0]
    if draw(st.booleans()):  # written plainly
        beats = chord_layout(draw(st.integers(1, 5)), meter)
    else:  # whole beats, as dots write them
        later = draw(st.sets(st.integers(1, beats_in_bar - 1))) if beats_in_bar > 1 else set()
        beats = [Fraction(b) for b in [0, *sorted(later)]]
    return tuple(ChartChord(beat, draw(chords)) for beat in beats)


@st.composite
def charts(draw) -> Chart:
    meter = draw(st.sampled_from(METERS))
    key = draw(st.none() | keys)
    section = draw(st.none() | st.sampled_from(SECTIONS))
    bars = []
    for index in range(draw(st.integers(1, 10))):
        if index and draw(st.integers(0, 4)) == 0:
            meter = draw(st.sampled_from(METERS))
        if index and draw(st.integers(0, 5)) == 0:
            key = draw(keys)
        if index and draw(st.integers(0, 3)) == 0:
            section = draw(st.sampled_from(SECTIONS))
        bars.append(Bar(draw(bar_chords(meter)), meter, section, key, source_bar=index + 1))
    title = draw(st.none() | st.sampled_from(TITLES))
    return Chart(tuple(bars), key=bars[0].key, title=title)


@settings(max_examples=150, deadline=None)
@given(charts())
def test_format_then_parse_is_identity(chart):
    text = format_chart(chart)
    assert parse_chart(text) == chart, text


# Random chart text: many pieces are wrong on purpose. Whatever comes out must be a ChartError
# or a chart that keeps the invariants and survives a round trip.
PIECES = [
    "|", "|", "|", "|:", ":|", ":|:", "x3", "x 2", "%", ".", ".", "C", "G7", "Am", "F#m7b5",
    "Bb/D", "N.C.", "H7", "[A]", "[Verse]", "(3/4)", "(6/8)", "(4/4)", "(5/0)", "(key: Eb)",
    "(key: F#m)", "\n",
]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=30))
def test_any_text_gives_a_chart_error_or_a_sound_chart(pieces):
    try:
        chart = parse_chart(" ".join(pieces))
    except ChartError as error:
        assert error.bar is None or error.bar >= 1
        return
    assert len(chart) >= 1
    for bar in chart.bars:
        beats = [c.beat for c in bar.chords]
        assert beats[0] == 0
        assert all(a < b for a, b in pairwise(beats))
        assert beats[-1] < bar.meter[0]
        for chord in bar.chords:
            assert chart.chord_at(chart.bars.index(bar), chord.beat) == chord.symbol
    assert parse_chart(format_chart(chart)) == chart


def test_repeated_label_starts_a_new_section_aaba():
    chart = parse_chart("[A] | C | G7 | [A] | C | C7 | [B] | F | % | [A] | C | G7 C |")
    assert chart.sections == ((0, "A"), (2, "A"), (4, "B"), (6, "A"))
    assert parse_chart(format_chart(chart)) == chart


def test_a_repeat_of_a_labelled_passage_repeats_its_section():
    chart = parse_chart("|: [A] C | G7 :| [B] | F |")
    assert chart.sections == ((0, "A"), (2, "A"), (4, "B"))


def test_a_chart_told_its_own_key_keeps_its_chords_as_written():
    # --key equal to the chart's key, or a keyless chart told its key: nothing moves, so nothing
    # is respelled (Bb is not A# in C, D/F# is not D/Gb in F)
    keyless = transpose_chart(parse_chart("| C | Bb | Eb Ab | G/B |"), 0, Key.parse("C"))
    assert chords_of(keyless) == ["C", "Bb", "Eb Ab", "G/B"] and keyless.key == Key.parse("C")
    keyed = transpose_chart(parse_chart("(key: C) | C | Bb | Ab |"), 0, Key.parse("C"))
    assert chords_of(keyed) == ["C", "Bb", "Ab"]
    assert chords_of(transpose_chart(parse_chart("| G | D/F# | Em |"), 0, Key.parse("F"))) == [
        "G", "D/F#", "Em"]  # fmt: skip


def test_a_transposed_chart_is_spelled_in_each_bars_own_key():
    # an A minor chart asked for in "C" plays in C minor, so it reads Ab and Eb, not G# and D#
    minor = transpose_chart(parse_chart("(key: Am) | Am | F | C | G |"), 3, Key.parse("C"))
    assert chords_of(minor) == ["Cm", "Ab", "Eb", "Bb"] and minor.key == Key.parse("Cm")
    # a key change keeps its own signature: C -> D puts the Db section in Eb, not D#
    modulating = parse_chart("(key: C) | C | G7 | (key: Db) | Db | Ab7 |")
    assert chords_of(transpose_chart(modulating, 2, Key.parse("D"))) == ["D", "A7", "Eb", "Bb7"]


def test_a_chart_in_or_moved_to_f_sharp_is_spelled_in_sharps():
    # F# was read as Gb: `bandmate chart "(key: F#) ..."` said "key Gb", and --key F# gave Gb, Db7
    assert str(parse_chart("(key: F#) | F# | C#7 |").key) == "F#"
    moved = transpose_chart(parse_chart("(key: Bb) | Bb | F7 | Gm |"), -4, Key.parse("F#"))
    assert chords_of(moved) == ["F#", "C#7", "D#m"] and str(moved.key) == "F#"
    assert str(transpose_chart(parse_chart("(key: F#) | F# |"), 0, Key.parse("F#")).key) == "F#"


def test_invisible_characters_are_whitespace():
    # a chart file saved "UTF-8 with BOM" (Windows Notepad) or pasted from a web page carries
    # characters nobody can see; they must not become a chord nobody wrote
    plain = parse_chart("| C | Am | F | G |")
    assert parse_chart("\ufeff| C | Am |\r\n| F\u200b | G\u2060 |") == plain
    assert parse_chart("|\u200bC\u200d|\u200cAm | F | G |") == plain
