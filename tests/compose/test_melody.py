"""Melodies over charts: the chart's bars and chords, the range, the style, whatever the model."""

from __future__ import annotations

import itertools

import pytest

from bandmate.compose.melody import MelodySettings, chart_skeleton, melody_over_chart
from bandmate.errors import UserError
from bandmate.theory.chart import parse_chart
from bandmate.theory.chords import format_chord

CHART = "| C | Am | Dm7 G7 | C | F | G7 | C Am | G |"


def chords_by_bar(score) -> list[list[str]]:
    grid = score.bar_grid
    out: dict[int, list[str]] = {}
    for chord in score.chords:
        out.setdefault(grid.bar_at(chord.onset_ticks), []).append(format_chord(chord.symbol))
    return [out[b] for b in sorted(out)]


def expected_chords(chart) -> list[list[str]]:
    return [[format_chord(c.symbol) for c in bar.chords] for bar in chart.bars]


@pytest.mark.parametrize("seed", range(4))
def test_the_melody_keeps_the_charts_bars_and_chords_and_its_range(untrained_melody_model, seed):
    chart = parse_chart(CHART)
    settings = MelodySettings(style="irish", seed=seed, pitch_range=(62, 74))
    score = melody_over_chart(chart, tempo_bpm=100, settings=settings, model=untrained_melody_model)
    assert chords_by_bar(score) == expected_chords(chart)
    melody = score.track("Melody").notes
    assert melody, "an untrained model still writes notes"
    assert all(62 <= n.pitch <= 74 for n in melody)
    ordered = sorted(melody, key=lambda n: n.onset_ticks)
    assert all(a.end_ticks <= b.onset_ticks for a, b in itertools.pairwise(ordered)), "one voice"
    assert score.end_ticks <= 8 * 4 * score.ticks_per_beat
    assert score.tempo_bpm == pytest.approx(100)


def test_a_keyless_chart_is_written_in_the_key_its_chords_resolve_to():
    # the model is prompted with this key: it took Dm7 G7 Cmaj7 A7 for G major, and wrote F#
    # against the Dm7 and the G7
    skeleton = chart_skeleton(parse_chart("| Dm7 | G7 | Cmaj7 | A7 |"), tempo_bpm=100)
    assert str(skeleton.key) == "C"


def test_no_bar_of_the_melody_is_silent():
    # the shipped model over chords its folk tunes rarely have (m7b5, 13b9) rested through whole
    # bars, 8% of bars over six charts and four styles, one take a single note in four bars
    chart = parse_chart("| C7sus4 | Fm7b5 | Bb13b9 | Ebmaj7 |")
    for style, seed in [("folk", 0), ("folk", 3), ("chorale", 0), ("folk", 4)]:
        score = melody_over_chart(chart, tempo_bpm=100, settings=MelodySettings(style, seed=seed))
        grid, notes = score.bar_grid, score.track("Melody").notes
        for bar in range(4):
            start, end = grid.bar_start(bar), grid.bar_start(bar + 1)
            assert any(n.onset_ticks < end and n.end_ticks > start for n in notes), (style, seed)


def test_a_waltz_chart_gives_bars_of_three(untrained_melody_model):
    chart = parse_chart("(3/4) | G | D7 | G | C D7 |")
    score = melody_over_chart(chart, tempo_bpm=120, model=untrained_melody_model)
    assert [(m.numerator, m.denominator) for m in score.time_signatures] == [(3, 4)]
    assert chords_by_bar(score) == expected_chords(chart)


def test_bars_repeat_or_cut_the_chart(untrained_melody_model):
    chart = parse_chart("| C | F | G | C |")
    score = melody_over_chart(chart, tempo_bpm=100, bars=6, model=untrained_melody_model)
    assert chords_by_bar(score) == [["C"], ["F"], ["G"], ["C"], ["C"], ["F"]]


def test_a_long_piece_is_written_in_windows(short_melody_model):
    chart = parse_chart("| C | F | G7 | C |")
    told = []  # a long piece said nothing until it was done
    score = melody_over_chart(
        chart,
        tempo_bpm=100,
        bars=24,
        model=short_melody_model,
        progress=lambda done, total, **_: told.append((done, total)),
    )
    assert len(told) > 1 and told[-1] == (24, 24) and told == sorted(told)
    assert len(chords_by_bar(score)) == 24
    assert score.bar_grid.bar_count(score.end_ticks) <= 24


@pytest.mark.parametrize(
    ("settings", "words"),
    [
        (MelodySettings(style="polka"), ["polka", "folk"]),
        (MelodySettings(density="dense"), ["density"]),
        (MelodySettings(pitch_range=(60, 62)), ["range"]),
    ],
)
def test_impossible_settings_are_user_errors(untrained_melody_model, settings, words):
    with pytest.raises(UserError) as info:
        melody_over_chart(
            parse_chart("| C |"), tempo_bpm=100, settings=settings, model=untrained_melody_model
        )
    for word in words:
        assert word in str(info.value)


def test_a_tune_with_a_pickup_bar_keeps_its_chords_in_place(untrained_melody_model):
    from bandmate.compose.melody import melody_over_lead_sheet
    from bandmate.score import ChordEvent, Score, TimeSignature
    from bandmate.theory import parse_chord

    # a one-beat pickup (4/4 at 0 and again at 480), then two full bars
    sheet = Score(
        time_signatures=(TimeSignature(0, 4, 4), TimeSignature(480, 4, 4)),
        chords=tuple(
            ChordEvent(t, parse_chord(c))
            for t, c in ((0, "G"), (480, "C"), (480 + 960, "F"), (480 + 1920, "G7"))
        ),
    )
    for seed in range(3):
        settings = MelodySettings(style="folk", seed=seed)
        out = melody_over_lead_sheet(
            sheet, tempo_bpm=90, settings=settings, model=untrained_melody_model
        )
        assert [(c.onset_ticks, str(c.symbol)) for c in out.chords] == [
            (0, "G"), (480, "C"), (1440, "F"), (2400, "G7"),
        ]  # fmt: skip
        assert out.time_signatures == sheet.time_signatures
        assert all(n.onset_ticks < 480 + 2 * 1920 for n in out.tracks[0].notes)


def test_a_style_is_read_however_it_is_spelt(untrained_melody_model):
    # `--style Irish` as `--style irish`, as backing styles are read
    chart = parse_chart("| C | G |")
    written = [
        melody_over_chart(
            chart,
            tempo_bpm=100,
            settings=MelodySettings(style=style, seed=3),
            model=untrained_melody_model,
        )
        for style in ("irish", " Irish", "IRISH")
    ]
    assert written[0].tracks[0].notes == written[1].tracks[0].notes == written[2].tracks[0].notes
