"""The song plan, the drummer, and feel (swing, humanize, groove)."""

import numpy as np
import pytest

from bandmate.arrange.drums import DRUM_VOICES
from bandmate.arrange.drums import check_pattern as check_drums
from bandmate.arrange.drums import play as play_drums
from bandmate.arrange.feel import (
    apply_groove,
    apply_swing,
    extract_groove,
    humanize,
    swing_ticks,
)
from bandmate.arrange.plan import plan_song, section_energy
from bandmate.arrange.style import load_style
from bandmate.score import Note, Score, TimeSignature, Track
from bandmate.theory.chart import parse_chart

CHART = "[Verse] | C | Am | F | G | C | Am | F | G | [Chorus] | F | G | C | Am | F | G | C | % |"


def test_plan_lays_out_intro_choruses_and_ending():
    chart = parse_chart(CHART)
    song = plan_song(chart, tempo_bpm=120, choruses=2, intro_bars=2, ending_bars=2)
    assert len(song.bars) == 2 + 2 * 16 + 2
    assert [b.part for b in song.bars[:3]] == ["intro", "intro", "body"]
    assert song.bars[0].chords[0].symbol == chart.bars[-2].chords[0].symbol  # turnaround intro
    assert song.bars[-1].final and song.bars[-1].part == "ending"
    assert str(song.bars[-1].chords[0].symbol) == "C"  # the last chord of the chart: the tonic
    starts = [b.index for b in song.bars if b.starts_section]
    assert starts == [0, 2, 10, 18, 26, 34]
    fills = [b.index for b in song.bars if b.ends_section]
    assert fills == [1, 9, 17, 25, 33]
    verse, chorus = song.bars[2], song.bars[10]
    assert chorus.intensity > verse.intensity and chorus.level == "high"


@pytest.mark.parametrize(
    ("chart", "tonic"),
    [
        ("| Dm7 | G7 | Cmaj7 | A7 |", "C"),  # a turnaround: it ended on the A7
        ("| Eb | Cm | Ab | Bb7 |", "Eb"),  # ended on the Bb7
        ("| Bm | G | D | A |", "Bm"),
        ("| C7 | F7 | C7 | G7 |", "C"),
    ],
)
def test_a_chart_that_names_no_key_ends_on_the_tonic_of_the_key_its_chords_name(chart, tonic):
    song = plan_song(parse_chart(chart), tempo_bpm=120, ending_bars=1)
    assert str(song.bars[-1].chords[0].symbol) == tonic
    assert song.key is not None and song.key.tonic == song.bars[-1].chords[0].symbol.root
    assert {bar.key for bar in song.bars} == {song.key}  # the bass plays in it too


def test_plan_without_intro_and_ending_is_exactly_the_chart():
    chart = parse_chart("(3/4) | C | G7 | (4/4) C |")
    song = plan_song(chart, tempo_bpm=90)
    assert [b.start_ticks for b in song.bars] == [0, 1440, 2880]
    assert song.end_ticks == 2880 + 1920


@pytest.mark.parametrize(
    ("name", "energy"),
    [
        ("Chorus", "high"),
        ("Verse 2", "low"),
        ("A", "low"),
        ("B", "mid"),
        ("Bridge", "mid"),
        ("Solo", "high"),
        ("Coda", "mid"),
        ("A2", "low"),
        ("Pre-Chorus", "high"),
        ("Outro", "low"),  # the word outro, not the "out" of an out-chorus inside it
        ("Outro 2", "low"),
        ("Head Out", "high"),
        ("Shout", "high"),
        ("Prechorus", "high"),
    ],
)
def test_section_energy(name, energy):
    assert section_energy(name) == energy


def test_drums_play_every_bar_fill_crash_and_final_hit():
    style = load_style("rock")
    song = plan_song(parse_chart(CHART), tempo_bpm=120, intro_bars=2, ending_bars=2)
    notes = play_drums(song, style.part("Drums"), style, np.random.default_rng(1))
    for bar in song.bars:
        inside = [n for n in notes if bar.start_ticks <= n.onset_ticks < bar.end_ticks]
        assert inside, f"drums drop out in bar {bar.index}"
    crash = DRUM_VOICES["crash"]
    chorus_start = song.bars[10].start_ticks
    assert any(n.pitch == crash and n.onset_ticks == chorus_start for n in notes)
    last = song.bars[-1]
    assert {n.pitch for n in notes if n.onset_ticks >= last.start_ticks} == {36, crash}


def test_drum_pattern_checks():
    assert check_drums({"kick": "x..."}, 4) is None
    assert "steps" in check_drums({"kick": "x.."}, 4)
    assert "unknown drum voice" in check_drums({"cowbel": "x..."}, 4)
    assert "unknown step" in check_drums({"kick": "x.y."}, 4)


def test_swing_moves_offbeat_eighths_to_the_triplet():
    assert swing_ticks(240, 480, 2 / 3) == 320
    assert swing_ticks(480, 480, 2 / 3) == 480
    assert swing_ticks(120, 480, 2 / 3) == 160  # a 16th follows the stretched first half
    swung = apply_swing([Note(240, 240, 60)], 480, 2 / 3, 8)
    assert (swung[0].onset_ticks, swung[0].end_ticks) == (320, 480)


def test_swing_counts_its_pairs_from_each_bars_downbeat():
    # after a bar of 7/8 (3.5 beats) the next downbeat falls off the beat: it must not be swung
    # as an off-beat 8th, and that bar's own off-beats swing as usual
    bar_starts = [0, 1680]
    notes = [Note(1680, 240, 36), Note(1920, 240, 36), Note(1440, 240, 36)]
    swung = apply_swing(notes, 480, 2 / 3, 8, bar_starts)
    assert [(n.onset_ticks, n.end_ticks) for n in swung] == [
        (1680, 2000), (2000, 2160), (1440, 1680)]  # fmt: skip


def test_a_swung_style_in_seven_eight_keeps_every_downbeat_on_the_bar_line():
    from dataclasses import replace

    from bandmate.arrange.backing import backing

    reggae = replace(load_style("reggae"), timing_ms=0, velocity_jitter=0)  # swung 8ths
    score = backing("(7/8) | Am | D | Am | D |", style=reggae, intro=False, ending=False)
    bar_starts = [score.bar_grid.bar_start(b) for b in range(4)]
    bass = {n.onset_ticks for n in score.track("Bass").notes}
    assert set(bar_starts) <= bass, (bar_starts, sorted(bass))


def _strikes(track) -> list[int]:
    """Where the track's notes and chords are struck (a strummed chord at its first note)."""
    onsets = sorted({n.onset_ticks for n in track.notes})
    return [t for i, t in enumerate(onsets) if i == 0 or t - onsets[i - 1] > 40]


def _straight(name: str):
    from dataclasses import replace

    return replace(load_style(name), timing_ms=0, velocity_jitter=0)


@pytest.mark.parametrize("name", ["pop", "funk", "blues-shuffle", "jazz-swing"])
def test_a_twelve_eight_bar_in_a_four_four_style_plays_its_groove_beat_for_beat(name):
    # a 12/8 bar is four dotted-quarter beats: the 4/4 groove's four beats fall on them, its
    # straight 8ths and 16ths swung onto the triplet (a triplet grid spread evenly); it ran the
    # 16 steps of a 4/4 bar and then half the groove again, its downbeat in mid-bar
    from dataclasses import replace

    from bandmate.arrange.backing import backing
    from bandmate.arrange.feel import swing_position

    style = _straight(name)
    chart = "| C | F | G7 | C |"
    score = backing("(12/8) " + chart, style=style, intro=False, ending=False)
    four = backing(chart, style=replace(style, swing=0.5), intro=False, ending=False)
    tpb = score.ticks_per_beat
    per_beat = style.grid // 4

    def in_twelve_eight(tick: int) -> int:
        bar, rest = divmod(tick, 4 * tpb)
        beat, position = divmod(rest, tpb)
        if per_beat % 3:
            position = swing_position(position, tpb, 2 / 3)
        return round(bar * 6 * tpb + (beat + position / tpb) * 1.5 * tpb)

    def hits(s, where=lambda t: t):
        return sorted((where(n.onset_ticks), n.pitch) for n in s.track("Drums").notes)

    assert hits(score) == hits(four, in_twelve_eight)
    sixteenth = tpb // 4
    for track in score.tracks:
        off = [t for t in _strikes(track) if t % sixteenth]
        assert not off, (track.name, off[:5])


def test_a_four_four_bar_in_a_six_eight_style_plays_two_of_its_bars_on_the_triplet():
    from bandmate.arrange.backing import backing

    score = backing(
        "(4/4) | C | F | C |", style=_straight("six-eight-ballad"), intro=False, ending=False
    )
    tpb = score.ticks_per_beat
    sixth = tpb // 6  # a 6/8 16th, as a quarter's sextuplet
    for track in score.tracks:
        off = [t for t in _strikes(track) if t % sixth]
        assert not off, (track.name, off[:5])
    kicks = [n.onset_ticks for n in score.track("Drums").notes if n.pitch == DRUM_VOICES["kick"]]
    assert 0 in kicks and 2 * tpb in kicks  # the 6/8 bar's downbeat on beats 1 and 3


def test_humanize_keeps_chords_together_and_stays_bounded():
    rng = np.random.default_rng(3)
    chord = [Note(960, 480, p) for p in (60, 64, 67)]
    out = humanize(chord, rng, ticks_per_second=960, timing_ms=10, velocity_jitter=8)
    assert len({n.onset_ticks for n in out}) == 1
    assert abs(out[0].onset_ticks - 960) <= 10


def test_groove_round_trip_from_a_laid_back_drummer():
    # a drummer who plays the off-beat 16ths late by a third of a step and accents beats
    hits = []
    for bar in range(4):
        for step in range(16):
            late = 40 if step % 2 else 0
            hits.append(Note(bar * 1920 + step * 120 + late, 60, 42, 110 if step % 4 == 0 else 70))
    drums = Score(
        tracks=(Track("Drums", is_drum=True, notes=tuple(hits)),),
        time_signatures=(TimeSignature(0, 4, 4),),
    )
    groove = extract_groove(drums)
    assert groove.offsets[1] == pytest.approx(1 / 3) and groove.offsets[0] == pytest.approx(0)
    assert groove.accents[0] > 1.2 > groove.accents[1]
    moved = apply_groove([Note(120, 100, 60, 80), Note(0, 100, 60, 80)], groove, 480, [0])
    assert moved[0].onset_ticks == 160 and moved[1].velocity > 80


def test_a_groove_moves_only_bars_of_its_own_length():
    # a 3/4 groove accenting its downbeat laid over 4/4 wrapped: beat 4 took the accent
    hits = [Note(bar * 1440 + beat * 480, 60, 36, 120 if beat == 0 else 40)
            for bar in range(4) for beat in range(3)]  # fmt: skip
    waltz = Score(
        tracks=(Track("Drums", is_drum=True, notes=tuple(hits)),),
        time_signatures=(TimeSignature(0, 3, 4),),
    )
    groove = extract_groove(waltz)
    four = [Note(beat * 480, 100, 60, 80) for beat in range(4)]
    three = [Note(1920 + beat * 480, 100, 60, 80) for beat in range(3)]
    moved = apply_groove(four + three, groove, 480, [0, 1920], [1920, 1440])
    assert [n.velocity for n in moved[:4]] == [80] * 4  # the 4/4 bar as it was played
    assert moved[4].velocity > 80 > moved[5].velocity  # the 3/4 bar takes the waltz's accent


def test_top_level_api_is_lazy_and_works():
    import subprocess
    import sys

    code = (
        "import sys, bandmate; light = 'numpy' not in sys.modules; "
        "s = bandmate.backing('| C | Am | F | G7 |', style='pop', tempo_bpm=110, seed=1); "
        "print(light, len(s.tracks), round(s.tempo_bpm, 3))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "5", "110.0"]


TWO_BAR_STYLE = """
name = "clave"
description = "a two-bar clave"
meter = "4/4"
grid = 16
tempo = { min = 80, max = 200, default = 120 }
intro_bars = 0
ending_bars = 0

[[parts]]
name = "Drums"
role = "drums"
generator = "drums"
[[parts.patterns.low]]
clave = "x..x ..x. .... .... | ..x. x... x... ...."
kick  = "x... .... x... .... | x... .... x... ...."
[[parts.patterns.low]]
clave = "x..x ..x. ..x. .... | ..x. x... x... ...."
kick  = "x... .... x... .... | x... .... x... ...."

[[parts]]
name = "Bass"
role = "bass"
generator = "bass"
program = 33
range = ["E1", "G3"]
patterns.low = "R . . . . . . 5 . . . . R . . . R . . . 5 . . . . . . . . . . ."
"""


def test_two_bar_patterns_count_from_each_section_and_keep_their_variant():
    from bandmate.arrange.players import check_pattern
    from bandmate.arrange.style import parse_style

    style = parse_style(TWO_BAR_STYLE, "clave")
    # sections of 3 and 2 bars: the third bar of A plays the clave's first bar again, and B
    # starts the clave afresh
    song = plan_song(parse_chart("[A] | C | F | G | [B] | C | C |"), tempo_bpm=120)
    assert [b.bar_in_section for b in song.bars] == [0, 1, 2, 0, 1]
    notes = play_drums(song, style.part("Drums"), style, np.random.default_rng(5))
    clave = DRUM_VOICES["clave"]
    for bar in song.bars[:-1]:  # the last bar is the final hit
        onsets = [
            n.onset_ticks - bar.start_ticks
            for n in notes
            if n.pitch == clave and bar.start_ticks <= n.onset_ticks < bar.end_ticks
        ]
        if bar.bar_in_section % 2 == 0:  # the "3" side, either variant
            assert onsets[:3] == [0, 360, 720], bar.index
        else:  # the "2" side
            assert onsets == [240, 480, 960], bar.index
    assert check_pattern("drums", {"kick": "x" * 32}, 16) is None
    assert "24 steps" in check_pattern("drums", {"kick": "x" * 24}, 16)
    assert "same number" in check_pattern("drums", {"kick": "x" * 32, "clave": "x" * 16}, 16)
    assert "each bar" in check_pattern("bass", "R " * 16 + "5 " * 16, 16)


def test_a_two_bar_variant_plays_its_whole_phrase():
    from bandmate.arrange.players import choose_pattern
    from bandmate.arrange.style import parse_style

    style = parse_style(TWO_BAR_STYLE, "clave")
    part = style.part("Drums")
    song = plan_song(parse_chart("| C | C | C | C | C | C | C | C |"), tempo_bpm=120)
    for seed in range(20):
        rng, phrases = np.random.default_rng(seed), {}
        bars = [choose_pattern(b, part, rng, 16, phrases)["clave"] for b in song.bars]
        for first, second in zip(bars[::2], bars[1::2], strict=True):
            assert second == "..x.x...x......."  # the 2 side follows whichever 3 side played
            assert first in ("x..x..x.........", "x..x..x...x.....")


def test_the_ending_lands_on_the_keys_tonic_triad():
    for key, tonic in (("A minor pentatonic", "Am"), ("D dorian", "Dm"), ("G mixolydian", "G")):
        song = plan_song(parse_chart(f"(key: {key}) | C | F |"), tempo_bpm=100, ending_bars=1)
        assert str(song.bars[-1].chords[0].symbol) == tonic, key
