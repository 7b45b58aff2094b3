"""The bass player: roots on the changes, approaches that land, walking lines that walk."""

from __future__ import annotations

import random
from itertools import pairwise

import numpy as np
import pytest

from bandmate.arrange import bass
from bandmate.arrange.plan import plan_song
from bandmate.arrange.style import parse_style
from bandmate.theory.chart import parse_chart

STYLE_TOML = """
name = "test"
description = "a bass-only test style"
meter = "4/4"
grid = {grid}
tempo = {{ min = 60, max = 240, default = 120 }}

[[parts]]
name = "Bass"
role = "bass"
generator = "bass"
program = 33
range = ["E1", "G3"]
patterns.low = {low}
patterns.high = {high}
"""
POP_LOW = "R . . . . . R . R - . 5 . . A ."
POP_HIGH = ["R . R . 8 . ?5 . R - 3 . 5_ . S .", "R - - 7 . . 8 - R . ?R . 5 - A -"]
WALK = "W . . W . . W . . W . ."
LOW_E1, HIGH_G3 = 28, 55


def make_style(low=POP_LOW, high=POP_HIGH, grid=16):
    text = STYLE_TOML.format(grid=grid, low=_toml(low), high=_toml(high))
    return parse_style(text, "test")


def _toml(value) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    return "[" + ", ".join(f'"{v}"' for v in value) + "]"


def play(chart_text, style, seed=1, intro_bars=0, ending_bars=1):
    song = plan_song(
        parse_chart(chart_text), tempo_bpm=120, intro_bars=intro_bars, ending_bars=ending_bars
    )
    notes = bass.play(song, style.parts[0], style, np.random.default_rng(seed))
    return song, sorted(notes)


def random_chart(seed: int) -> str:
    """A chart of 8-12 bars: random roots and qualities, slash chords, two-chord bars, a 3/4 bar
    and an N.C. bar."""
    r = random.Random(seed)
    roots = ["C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]
    qualities = ["", "m", "7", "m7", "maj7", "6", "m6", "dim7", "m7b5", "sus4", "7alt", "9", "5"]

    def chord() -> str:
        text = r.choice(roots) + r.choice(qualities)
        return text + "/" + r.choice(roots) if r.random() < 0.2 else text

    bars = []
    for _ in range(r.randint(8, 12)):
        kind = r.random()
        if kind < 0.1:
            bars.append("N.C.")
        elif kind < 0.45:
            bars.append(f"{chord()} {chord()}")
        else:
            bars.append(chord())
    three_four = r.randrange(1, len(bars) - 1)
    bars[three_four] = f"(3/4) {bars[three_four]} | (4/4)"
    return "| " + " | ".join(bars).replace("| (4/4) |", "| (4/4)") + " |"


def notes_at(notes, tick):
    return [n for n in notes if n.onset_ticks == tick]


@pytest.mark.parametrize("seed", range(50))
@pytest.mark.parametrize("walking", [False, True])
def test_random_charts_keep_the_bass_on_the_changes_in_range_and_apart(seed, walking):
    style = make_style(WALK, WALK, 12) if walking else make_style()
    song, notes = play(random_chart(seed), style, seed, intro_bars=seed % 3, ending_bars=seed % 2)
    assert notes
    step_ticks = 1920 // style.grid
    for bar in song.bars:
        for span in bar.chords:
            sounding = [
                n
                for n in notes
                if n.onset_ticks < span.end_ticks and n.end_ticks > span.start_ticks
            ]
            if span.symbol.is_no_chord:
                assert not sounding, f"bass sounds in the N.C. of bar {bar.index}"
                continue
            # the root comes on the change, or on the first step after one that falls between
            # steps (beat 2 1/2 of a 3/4 bar on a triplet grid: the swung "and")
            first = min(n for n in notes if n.onset_ticks >= span.start_ticks)
            assert first.onset_ticks - span.start_ticks < step_ticks
            assert first.pitch % 12 == span.symbol.bass_pc, (bar.index, str(span.symbol))
        if not bar.final:
            inside = [n for n in notes if bar.start_ticks <= n.onset_ticks < bar.end_ticks]
            assert all(n.end_ticks <= bar.end_ticks for n in inside)
    for note in notes:
        assert LOW_E1 <= note.pitch <= HIGH_G3
        assert note.duration_ticks > 0
        assert note.onset_ticks >= 0 and note.end_ticks <= song.end_ticks
    for before, after in pairwise(notes):
        assert before.end_ticks <= after.onset_ticks, (before, after)


def test_mid_bar_changes_get_their_bass_at_the_change():
    style = make_style("R - - - - - - - - - - - - - - -", "R - - - - - - - - - - - - - - -")
    song, notes = play("| C G/B | Am . F/A G | (3/4) D7 G | (4/4) C |", style)
    changes = [span for bar in song.bars for span in bar.chords]
    assert len(changes) == 9
    for span in changes:
        (note,) = notes_at(notes, span.start_ticks)
        assert note.pitch % 12 == span.symbol.bass_pc
    # the held root gives way to the next chord's bass: G/B starts on beat 3 with B
    assert notes[0].end_ticks <= 960 and notes[1].onset_ticks == 960 and notes[1].pitch % 12 == 11


def test_slash_chords_put_their_bass_on_the_downbeat():
    _, notes = play("| C/E | F/A | G/B | C |", make_style())
    assert [n.pitch % 12 for n in notes if n.onset_ticks % 1920 == 0][:4] == [4, 9, 11, 0]


def test_chromatic_approaches_land_a_half_step_from_the_next_bass():
    style = make_style("R - - - - - - - 5 - - - - - A -", "R - - - - - - - 5 - - - - - A -")
    for seed in range(5):
        song, notes = play("| C | F | Bb7 | Eb | Abmaj7 | Db/F | G7sus4 | C |", style, seed)
        for bar in song.bars[:-1]:
            (approach,) = notes_at(notes, bar.start_ticks + 14 * 120)
            (landing,) = notes_at(notes, bar.end_ticks)
            assert abs(approach.pitch - landing.pitch) == 1
            assert landing.pitch % 12 == bar.next_chord.bass_pc


def test_scale_approaches_come_from_the_key_a_step_away():
    style = make_style("R - - - - - - - - - - - - - S -", "R - - - - - - - - - - - - - S -")
    song, notes = play("(key: D) | D | Bm | G | A7 | D |", style)
    for bar in song.bars[:-1]:
        (approach,) = notes_at(notes, bar.start_ticks + 14 * 120)
        (landing,) = notes_at(notes, bar.end_ticks)
        assert 1 <= abs(approach.pitch - landing.pitch) <= 2
        assert bar.key.contains(approach.pitch % 12)


JAZZ_CHARTS = [
    "(key: C) | Dm7 | G7 | Cmaj7 | % | Fm7 | Bb7 | Ebmaj7 | % |"
    " Abm7 | Db7 | Gbmaj7 | Bm7 E7 | Am7 D7 | Dm7 G7 | C6 |",
    # rhythm changes, A and bridge
    "(key: Bb) | Bb6 G7 | Cm7 F7 | Bb6 G7 | Cm7 F7 | Fm7 Bb7 | Eb7 Ebm6 | Bb6 G7 | Cm7 F7 |"
    " D7 | % | G7 | % | C7 | % | F7 | % |",
    # a minor blues with a tritone sub
    "(key: Cm) | Cm7 | Fm7 | Cm7 | % | Fm7 | % | Cm7 | % | Ab7 | G7alt | Cm7 | Dm7b5 G7 |",
]


@pytest.mark.parametrize("grid, pattern", [(12, WALK), (8, "W - W - W - W -")])
def test_walking_lines_approach_each_change_and_never_repeat(grid, pattern):
    style = make_style(pattern, pattern, grid)
    approached = changes = 0
    for seed in range(4):
        for chart in JAZZ_CHARTS:
            song, notes = play(chart, style, seed, intro_bars=2)
            beat_notes = [n for n in notes if n.onset_ticks % 480 == 0]
            assert len(beat_notes) == len(notes)  # one note per beat
            pitches = [n.pitch for n in notes]
            assert all(a != b for a, b in pairwise(pitches))
            by_tick = {n.onset_ticks: n.pitch for n in notes}
            for bar in song.bars[1:]:
                for span in bar.chords:
                    if span.start_ticks - 480 not in by_tick:
                        continue
                    changes += 1
                    before, landing = by_tick[span.start_ticks - 480], by_tick[span.start_ticks]
                    dominant = (before - landing) % 12 == 7
                    approached += abs(before - landing) <= 2 or dominant
            # a walking bass moves mostly by step or small skip
            leaps = sum(abs(a - b) > 7 for a, b in pairwise(pitches))
            assert leaps <= len(pitches) // 10
    assert changes > 150
    assert approached / changes >= 0.8


def test_walking_notes_ring_over_the_rests_of_a_triplet_grid():
    style = make_style(WALK, WALK, 12)
    _, notes = play("| Dm7 | G7 | C |", style)
    assert all(n.duration_ticks >= 400 for n in notes[:8])  # a beat (480) less a small gap


def test_a_three_four_bar_plays_the_first_steps_of_a_four_four_pattern():
    style = make_style("R . . . R . . . R . . . 8 . . .", "R . . . R . . . R . . . 8 . . .")
    song, notes = play("| C | (3/4) F | (4/4) G |", style, ending_bars=0)
    three_four = song.bars[1]
    inside = [n for n in notes if three_four.start_ticks <= n.onset_ticks < three_four.end_ticks]
    assert [n.onset_ticks - three_four.start_ticks for n in inside] == [0, 480, 960]


def test_the_last_bar_holds_the_root_to_its_end():
    song, notes = play("(key: C) | Dm7 | G7 |", make_style(), ending_bars=2)
    last = song.bars[-1]
    final = [n for n in notes if n.onset_ticks >= last.start_ticks]
    assert len(final) == 1
    assert final[0].onset_ticks == last.start_ticks and final[0].end_ticks == last.end_ticks
    assert final[0].pitch % 12 == 0  # the ending holds the tonic


def test_accents_fall_on_the_downbeat():
    style = make_style("R . R . R . R . R . R . R . R .", "R . R . R . R . R . R . R . R .")
    _, notes = play("| C | C | C |", style)
    first_bar = notes[:8]
    assert first_bar[0].velocity > first_bar[2].velocity > first_bar[1].velocity


def test_the_same_seed_gives_the_same_line_and_another_seed_another():
    style = make_style()  # the high set has variants and optional notes
    chart = "| C | Am | F | G | C | Am | Dm7 | G7 | C |"
    song = plan_song(parse_chart(chart), tempo_bpm=120, choruses=2, ending_bars=1)
    assert any(bar.level == "high" for bar in song.bars)
    part = style.parts[0]

    def line(seed):
        return bass.play(song, part, style, np.random.default_rng(seed))

    assert line(7) == line(7)
    assert line(7) != line(8)
    walking = make_style(WALK, WALK, 12)
    walk = [bass.play(song, walking.parts[0], walking, np.random.default_rng(s)) for s in (1, 2)]
    assert walk[0] != walk[1]


@pytest.mark.parametrize(
    "pattern, grid, problem",
    [
        ("R . . .", 4, None),
        ("W . . W . . W . . W . .", 12, None),
        ("R - ?5 - 8 . 5_ . ?A . S . 3 7 W -", 16, None),
        ("R . . .", 16, "has 4 steps, the grid has 16"),
        ("R . Q .", 4, "unknown token 'Q' at step 3"),
        ("R . ?- .", 4, "unknown token '?-' at step 3"),
        ("5 . R .", 4, "must begin with R or W"),
        ("?R . R .", 4, "must begin with R or W"),
        ({"kick": "x..."}, 4, "a bass pattern is a string"),
    ],
)
def test_check_pattern_says_what_is_wrong(pattern, grid, problem):
    found = bass.check_pattern(pattern, grid)
    if problem is None:
        assert found is None
    else:
        assert found is not None and found.startswith(problem)


def test_a_style_with_a_bad_bass_pattern_is_refused():
    from bandmate.arrange.style import StyleError

    with pytest.raises(StyleError, match="has 3 steps, the grid has 16"):
        make_style("R . .", "R . .")


def test_an_intro_pattern_set_plays_in_the_intro_when_the_style_gives_one():
    text = STYLE_TOML.format(grid=4, low='"R 5 R 5"', high='"R 5 R 5"')
    style = parse_style(text + 'patterns.intro = "R - - -"\n', "test")
    song, notes = play("| C | F | G | C |", style, intro_bars=2)
    intro_end = song.bars[2].start_ticks
    assert len([n for n in notes if n.onset_ticks < intro_end]) == 2
    assert len([n for n in notes if intro_end <= n.onset_ticks < song.bars[3].start_ticks]) == 4


def test_a_narrow_range_still_keeps_every_note_inside_it():
    text = STYLE_TOML.format(grid=16, low=_toml(POP_HIGH[0]), high=_toml(POP_HIGH))
    style = parse_style(text.replace('["E1", "G3"]', '["C2", "G2"]'), "test")
    for seed in range(10):
        _, notes = play(random_chart(seed), style, seed)
        assert all(36 <= n.pitch <= 43 for n in notes)


def test_six_token_plays_the_sixth_for_a_boogie():
    from bandmate.arrange.bass import _sixth
    from bandmate.theory.chords import parse_chord

    assert _sixth(parse_chord("C7")) == 9  # the boogie's A over C7
    assert _sixth(parse_chord("Cm6")) == 9
    assert _sixth(parse_chord("C7b13")) == 8
    assert _sixth(parse_chord("Caug")) == 8
