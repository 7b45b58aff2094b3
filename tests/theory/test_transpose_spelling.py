"""A chart moved into a key spells its chords in that key's letters, as the key signature reads."""

import pytest

from bandmate.theory.chart import parse_chart, transpose_chart
from bandmate.theory.keys import Key

# Every diatonic triad of the key, each over its 3rd, then over its 5th.
MAJOR_CHART = "(key: C)\n| C/E | Dm/F | Em/G | F/A | G7/B | Am/C | Bdim/D |\n| C/G | F/C | G/D |"
MINOR_CHART = "(key: Am)\n| Am/C | Bdim/D | C/E | Dm/F | E7/G# | F/A | G/B |\n| Am/E | Dm/A | E/B |"

KEYS = [Key.from_sharps(s, minor) for s in range(-7, 8) for minor in (False, True)]


def _moved(key: Key):
    chart = parse_chart(MINOR_CHART if key.mode == "minor" else MAJOR_CHART)
    return transpose_chart(chart, (key.tonic - chart.key.tonic) % 12, key)


@pytest.mark.parametrize("key", KEYS, ids=str)
def test_chords_take_the_letters_of_the_key_they_are_moved_into(key):
    usual = key.usual_pitch_classes()
    for bar in _moved(key).bars:
        for chord in (c.symbol for c in bar.chords):
            assert chord.root_name == key.spell(chord.root), (key, str(chord))
            if chord.bass in usual and len(key.spell(chord.bass)) <= 2:
                assert chord.bass_name == key.spell(chord.bass), (key, str(chord))


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("Cb", ["Cb/Eb", "Dbm/Fb", "Ebm/Gb", "Fb/Ab", "Gb7/Bb", "Abm/Cb", "Bbdim/Db"]),
        ("C#", ["C#/E#", "D#m/F#", "E#m/G#", "F#/A#", "G#7/B#", "A#m/C#", "B#dim/D#"]),
        # G## (the raised 7th) is more than a chord symbol's one accidental: the bass is A
        ("A#m", ["A#m/C#", "B#dim/D#", "C#/E#", "D#m/F#", "E#7/A", "F#/A#", "G#/B#"]),
    ],
)
def test_keys_of_seven_sharps_or_flats(key, expected):
    moved = _moved(Key.parse(key))
    assert [str(bar.chords[0].symbol) for bar in moved.bars[:7]] == expected


def test_chords_outside_the_key_take_its_usual_chromatic_degrees():
    """bVII of C is Bb and bVI Ab, as a C-major chart writes them, not A# and G#."""
    chart = parse_chart("(key: G)\n| G | F | C/E | Eb | A7/C# |")
    moved = transpose_chart(chart, 5, Key.parse("C"))
    assert [str(c.symbol) for bar in moved.bars for c in bar.chords] == [
        "C", "Bb", "F/A", "Ab", "D7/F#",
    ]  # fmt: skip
