"""Chord suggestions: real progressions in the key asked for, charts that backing reads."""

from __future__ import annotations

import pytest

from bandmate.compose.chords import (
    numeral_chord,
    progression_family,
    progression_styles,
    request_key,
    suggest_for_key,
    suggest_for_melody,
)
from bandmate.errors import UserError
from bandmate.score import KeyChange, Note, Role, TimeSignature, Track
from bandmate.theory import Key
from bandmate.theory.chart import parse_chart
from bandmate.theory.chords import format_chord
from tests.builders import bass, make_score, notes


@pytest.mark.parametrize(
    ("numeral", "key", "chord"),
    [("V7", "C", "G7"), ("bVII", "D", "C"), ("iiø7", "C", "Dm7b5"), ("bVI", "C", "Ab"),
     ("vi", "Eb", "Cm"), ("Imaj7", "F", "Fmaj7"), ("ii7", "Bb", "Cm7")],
)  # fmt: skip
def test_roman_numerals_in_keys(numeral, key, chord):
    assert format_chord(numeral_chord(numeral, Key.parse(key))) == chord


@pytest.mark.parametrize("style", progression_styles())
@pytest.mark.parametrize("key", ["Bb", "F#m"])
def test_every_style_suggests_charts_that_parse_and_stay_in_the_key(style, key):
    suggestions = suggest_for_key(Key.parse(key), 8, style)
    assert suggestions
    assert [s.score for s in suggestions] == sorted((s.score for s in suggestions), reverse=True)
    for s in suggestions:
        chart = parse_chart(s.chart)
        assert len(chart.bars) == 8
        assert chart.key == Key.parse(key)


@pytest.mark.parametrize("style", progression_styles())
def test_a_minor_key_never_gets_its_parallel_majors_tonic(style):
    # "ii7 | V7 | Imaj7" was taken for a minor-key progression (its "ii" starts with "i") and
    # played in F# major under a chart that says F#m; in Bb it was ranked down as "darker"
    for s in suggest_for_key(Key.parse("F#m"), 8, style):
        for bar in parse_chart(s.chart).bars:
            for chord in bar.chords:
                tones = chord.symbol.pitch_classes()
                assert not (chord.symbol.root == 6 and 10 in tones), (s.name, s.chart)


@pytest.mark.parametrize("style", progression_styles())
@pytest.mark.parametrize("key", ["Em", "C#m"])
def test_a_minor_key_gets_a_progression_that_sounds_its_tonic_first(style, key):
    # E minor folk began | G | C | G | D |, rock | G | F | C | G |: major-key progressions with no
    # vi to start from, set in the relative major, never sound the minor tonic (nor keep to its
    # scale), and came before those that do
    tonic = Key.parse(key)

    def in_the_key(suggestion) -> bool:
        chords = [c.symbol for bar in parse_chart(suggestion.chart).bars for c in bar.chords]
        sounds_tonic = any(c.root == tonic.tonic and c.quality.startswith("m") for c in chords)
        scale = set(tonic.pitch_classes()) | {(tonic.tonic + 9) % 12, (tonic.tonic + 11) % 12}
        return sounds_tonic and all(set(c.pitch_classes()) <= scale for c in chords)

    suggestions = suggest_for_key(tonic, 8, style, count=10)
    if any(in_the_key(s) for s in suggestions):
        assert in_the_key(suggestions[0]), [s.chart for s in suggestions]


def test_the_ii_v_i_leads_jazz_in_a_major_key():
    best = suggest_for_key(Key.parse("Bb"), 4, "jazz")[0]
    assert [format_chord(b.chords[0].symbol) for b in parse_chart(best.chart).bars] == [
        "Cm7", "F7", "Bbmaj7", "Gm7",
    ]  # fmt: skip


def test_the_four_chords_lead_pop_in_a_major_key():
    best = suggest_for_key(Key.parse("G"), 4, "pop")[0]
    assert [format_chord(b.chords[0].symbol) for b in parse_chart(best.chart).bars] == [
        "G", "D", "Em", "C",
    ]  # fmt: skip


def test_a_minor_key_gets_a_minor_blues():
    # "Am blues" gave C major's 12-bar blues (C7 F7 G7), which never sounds A minor
    best = suggest_for_key(Key.parse("Am"), 12, "blues")[0]
    bars = [format_chord(b.chords[0].symbol) for b in parse_chart(best.chart).bars]
    assert (bars[0], bars[4], bars[9], bars[10]) == ("Am7", "Dm7", "E7", "Am7")


def test_a_minor_key_starts_on_its_tonic():
    for s in suggest_for_key(Key.parse("Am"), 4, "pop"):
        assert format_chord(parse_chart(s.chart).bars[0].chords[0].symbol) == "Am"


@pytest.mark.parametrize(("key", "style"), [("D dorian", "folk"), ("G mixolydian", "rock"),
                                          ("F lydian", "pop"), ("A dorian", "jazz")])  # fmt: skip
def test_a_mode_gets_progressions_on_its_own_tonic_and_in_its_scale_first(key, style):
    # the progressions were set as in the major key of the mode's tonic: D dorian was offered
    # | D | G | D | A |, whose F# and C# the mode does not have, before | Dm | C | Dm | Am |
    mode = Key.parse(key)
    suggestions = suggest_for_key(mode, 8, style)
    best = parse_chart(suggestions[0].chart)
    assert best.key == mode
    first = best.bars[0].chords[0].symbol
    third = (mode.tonic + (3 if mode.is_minor else 4)) % 12
    assert first.root == mode.tonic and third in first.pitch_classes()

    def outside(suggestion) -> int:
        chords = {c.symbol for b in parse_chart(suggestion.chart).bars for c in b.chords}
        return sum(not all(mode.contains(pc) for pc in c.pitch_classes()) for c in chords)

    # each chord outside the mode costs, so where a style has progressions that keep to the
    # mode (dorian folk, mixolydian rock), they come first
    counts = [outside(s) for s in suggestions]
    assert counts[0] == min(counts)
    if style in ("folk", "rock"):
        assert counts[0] == 0


def test_a_melody_of_arpeggios_gets_its_own_chords_first():
    arps = [(0, 4, 7), (5, 9, 12), (7, 11, 14), (0, 4, 7)]
    spec = [(4 * i + b, 1, 60 + chord[b % 3]) for i, chord in enumerate(arps) for b in range(4)]
    tune = make_score(Track("Tune", 73, role=Role.MELODY, notes=notes(*spec)))
    best = suggest_for_melody(tune)[0]
    chords = [format_chord(b.chords[0].symbol) for b in parse_chart(best.chart).bars]
    assert chords[0] == "C" and chords[1] == "F" and chords[2] in ("G", "G7") and chords[3] == "C"


def test_a_tune_that_modulates_gets_a_chart_that_changes_key_with_it():
    # G for four bars, then D: the chart was in G throughout, with Am under the A major bars
    arps = [(7, 11, 14), (0, 4, 7), (2, 6, 9), (7, 11, 14)] + [(2, 6, 9), (9, 13, 16)] * 2
    spec = [(4 * i + b, 1, 60 + chord[b % 3]) for i, chord in enumerate(arps) for b in range(4)]
    keys = (KeyChange(0, Key(7)), KeyChange(4 * 4 * 480, Key(2)))
    tune = make_score(Track("Tune", 73, role=Role.MELODY, notes=notes(*spec)), keys=keys)
    best = suggest_for_melody(tune)[0]
    chart = parse_chart(best.chart)
    assert [str(b.key) for b in chart.bars] == ["G"] * 4 + ["D"] * 4
    chords = [format_chord(b.chords[0].symbol) for b in chart.bars]
    assert chords[:4] == ["G", "C", "D", "G"] and chords[5] in ("A", "A7"), best.chart


AMAZING_GRACE = """X:1
T:Amazing Grace
M:3/4
L:1/4
K:G
D | G2 B/G/ | B2 A | G2 E | D2 D | G2 B/G/ | B2 A/B/ | d3- | d2 B |
d2 B/d/ | B2 A | G2 E | D2 D | G2 B/G/ | B2 A | G3- | G2 |]
"""


def test_a_tune_is_harmonized_first_in_the_key_it_ends_in(tmp_path):
    # its chords fit E minor (B7 under "B A") a little better than G, and the first suggestion
    # was in E minor, ending on an E minor chord under the hymn's final G
    from bandmate.io.formats import read_score

    path = tmp_path / "grace.abc"
    path.write_text(AMAZING_GRACE)
    best = suggest_for_melody(read_score(path))[0]
    chart = parse_chart(best.chart)
    assert chart.key == Key.parse("G")
    assert format_chord(chart.bars[-1].chords[-1].symbol) in ("G", "Gmaj7", "G6")


GMIX_TUNE = """X:1
T:Mixolydian
M:4/4
L:1/4
K:Gmix
G B d B | F2 A F | G A B c | d2 G2 |
G B d g | f2 d B | c A F A | G4 |]
"""


def test_a_tune_in_a_mode_gets_charts_in_that_mode_with_its_chords(tmp_path):
    # K:Gmix was charted "(key: G)" with D and D7 under the tune's F naturals
    from bandmate.io.formats import read_score

    path = tmp_path / "mix.abc"
    path.write_text(GMIX_TUNE)
    best = suggest_for_melody(read_score(path))[0]
    assert best.chart.startswith("(key: G mixolydian)")
    chart = parse_chart(best.chart)
    assert chart.key == Key(7, "mixolydian")
    names = {format_chord(c.symbol) for bar in chart.bars for c in bar.chords}
    assert names.isdisjoint({"D", "D7", "Dmaj7"})
    assert names & {"F", "Fmaj7", "Dm", "Dm7"}


def test_a_backing_style_suggests_its_familys_progressions():
    # so that `chords --style bossa-nova` gives charts to play with `backing --style bossa-nova`
    from bandmate.arrange.style import style_names
    from bandmate.compose.chords import progression_family

    assert {progression_family(name) for name in style_names()} <= set(progression_styles())
    assert suggest_for_key(Key.parse("F"), 8, "bossa-nova") == suggest_for_key(
        Key.parse("F"), 8, "jazz"
    )


def test_a_style_is_read_however_it_is_spelt():
    # backing takes `--style POP` and `--style "Bossa Nova"`; the chords for it must too
    assert suggest_for_key(Key.parse("F"), 8, "POP") == suggest_for_key(Key.parse("F"), 8, "pop")
    assert progression_family("Bossa Nova") == progression_family("bossa-nova") is not None


def test_bad_requests_are_user_errors():
    with pytest.raises(UserError, match=r"polka.*bandmate styles"):
        suggest_for_key(Key.parse("C"), 8, "polka")
    with pytest.raises(UserError, match="backing"):
        suggest_for_key(Key.parse("C"), 8, "backing")  # the table's name is no style
    with pytest.raises(UserError, match="no notes"):
        suggest_for_melody(make_score())


def test_a_charts_bars_are_the_melodys_after_a_pickup_and_a_change_of_meter():
    # a beat of pickup, two bars of 4/4, then 3/4: the chart said (4/4) alone, so backing
    # played a full bar for the pickup and 4/4 bars over the 3/4 ones
    spec = [(0, 1, 67)] + [(1 + b, 1, (67, 71, 74, 71)[b % 4]) for b in range(8)]
    spec += [(9 + b, 1, (74, 78, 81)[b % 3]) for b in range(6)]
    meters = (TimeSignature(0, 4, 4), TimeSignature(480, 4, 4), TimeSignature(9 * 480, 3, 4))
    tune = make_score(Track("Tune", 73, role=Role.MELODY, notes=notes(*spec))).replace(
        time_signatures=meters
    )
    for suggestion in suggest_for_melody(tune):
        bars = parse_chart(suggestion.chart).bars
        assert [bar.meter for bar in bars] == [(1, 4), (4, 4), (4, 4), (3, 4), (3, 4)]


def test_an_empty_vocal_staff_above_the_tune_is_not_taken_as_the_melody():
    # a score template's Voice part, all rests, over the tune on a violin: "no notes" before
    arps = [(0, 4, 7), (5, 9, 12), (7, 11, 14), (0, 4, 7)]
    spec = [(4 * i + b, 1, 72 + chord[b % 3]) for i, chord in enumerate(arps) for b in range(4)]
    voice = Track("Voice", 53, role=Role.MELODY)
    violin = Track("Violin", 40, role=Role.OTHER, notes=notes(*spec))
    best = suggest_for_melody(make_score(voice, violin))[0]
    chords = [format_chord(b.chords[0].symbol) for b in parse_chart(best.chart).bars]
    assert chords[0] == "C" and chords[1] == "F" and chords[3] == "C"


def test_a_request_with_neither_melody_nor_key_is_refused_in_the_callers_own_words():
    with pytest.raises(UserError) as plain:
        request_key(False, None)
    assert str(plain.value) == "Give a melody file to harmonize, or a key such as Bb."
    with pytest.raises(UserError) as hinted:
        request_key(False, None, key_hint="--key Bb")
    assert str(hinted.value) == "Give a melody file to harmonize, or a key such as Bb (--key Bb)."
    assert request_key(True, None) is None and request_key(False, "Bb") == Key.parse("Bb")


def _tune(*pitches_beats: tuple[int | None, float], meter=(4, 4), key: Key | None = None):
    """A melody from (pitch or None for a rest, beats) pairs, one after another."""
    spec, onset = [], 0.0
    for pitch, beats in pitches_beats:
        if pitch is not None:
            spec.append((onset, beats, pitch))
        onset += beats
    keys = {"keys": (KeyChange(0, key),)} if key else {}
    melody = Track("Tune", 73, role=Role.MELODY, notes=notes(*spec))
    return make_score(melody, meter=meter, **keys)


# plain diatonic tunes, as a folk musician sets them with triads (a V7 is a triad palette's too)
D_MAJOR_TUNE = [(62, 1), (66, 1), (69, 1), (66, 1), (67, 1), (71, 1), (69, 2), (66, 1), (64, 1)]
D_MAJOR_TUNE += [(62, 1), (64, 1), (66, 2), (69, 2), (71, 1), (69, 1), (67, 1), (66, 1)]
D_MAJOR_TUNE += [(64, 1), (67, 1), (66, 1), (64, 1), (62, 1), (66, 1), (64, 1), (73, 1), (74, 4)]
E_MINOR_TUNE = [(64, 1), (67, 1), (71, 1), (67, 1), (69, 1), (72, 1), (71, 2), (69, 1)]
E_MINOR_TUNE += [(66, 1), (63, 1), (66, 1), (64, 4)]


@pytest.mark.parametrize(
    "tune",
    [_tune(*D_MAJOR_TUNE), _tune(*D_MAJOR_TUNE, meter=(3, 4)), _tune(*E_MINOR_TUNE)],
    ids=["D major", "D major in 3/4", "E minor"],
)
def test_a_plain_diatonic_tune_gets_triads_first(tune):
    # every one came out first as | Dmaj7 | Gmaj7 Dmaj7 | F#m7 Em7 |..., sevenths whose seventh
    # the tune never sings ranked above its triads because four notes "fit" more of it than three
    best = suggest_for_melody(tune)[0]
    qualities = {c.symbol.quality for bar in parse_chart(best.chart).bars for c in bar.chords}
    assert qualities.isdisjoint({"maj7", "m7", "m7b5"}), best.chart
    assert best.name.startswith("triads"), best.name


def test_a_tune_that_sings_its_sevenths_still_gets_seventh_chords_first():
    # arpeggios of Dm7 G7 Cmaj7 Fmaj7 Bm7b5 E7 Am7, each seventh sung, ending on A
    arps = [(62, (0, 3, 7, 10)), (67, (0, 4, 7, 10)), (60, (0, 4, 7, 11)), (65, (0, 4, 7, 11))]
    arps += [(59, (0, 3, 6, 10)), (64, (0, 4, 7, 10)), (69, (0, 3, 7, 10)), (69, (0,))]
    tune = _tune(*[(root + i, 4 / len(ivs)) for root, ivs in arps for i in ivs])
    best = suggest_for_melody(tune)[0]
    firsts = [format_chord(b.chords[0].symbol) for b in parse_chart(best.chart).bars]
    assert firsts[:4] == ["Dm7", "G7", "Cmaj7", "Fmaj7"], best.chart


def test_each_suggestion_is_named_for_the_harmonic_rhythm_its_chart_has():
    # a half-bar labelling that kept a chord a bar was offered as "changing at the half bar"
    for tune in (_tune(*D_MAJOR_TUNE), _tune(*E_MINOR_TUNE), _tune(*D_MAJOR_TUNE, meter=(3, 4))):
        for suggestion in suggest_for_melody(tune, count=8):
            bars = parse_chart(suggestion.chart).bars
            one_a_bar = all(len(bar.chords) == 1 for bar in bars)
            assert ("a chord a bar" in suggestion.name) == one_a_bar, suggestion
            assert ("changing at the half bar" in suggestion.name) != one_a_bar, suggestion


def test_a_tune_played_legato_gets_the_chords_and_bars_of_the_tune_as_written():
    # a keyboard player holds each note 1/8 beat into the next and lets the last go 1/8 beat
    # after the bar line: the chart grew a ninth bar, and the held notes moved its chords
    written = _tune(*D_MAJOR_TUNE)
    played = written.tracks[0].notes
    held = tuple(Note(n.onset_ticks, n.duration_ticks + 60, n.pitch, n.velocity) for n in played)
    legato = written.replace(tracks=(written.tracks[0].with_notes(held),))
    assert [s.chart for s in suggest_for_melody(legato)] == [
        s.chart for s in suggest_for_melody(written)
    ]
    assert len(parse_chart(suggest_for_melody(legato)[0].chart).bars) == 8


def _firsts(suggestion) -> list[str]:
    return [format_chord(b.chords[0].symbol) for b in parse_chart(suggestion.chart).bars]


def test_a_piano_part_of_block_chords_is_charted_by_its_chords():
    # C F G C as block chords was charted by its top notes alone (E A B E): | Am | Am | E | Am |
    voicings = [(48, 52, 55, 60, 64), (53, 57, 60, 65, 69), (55, 59, 62, 67, 71)] * 2
    voicings += [(48, 52, 55, 60, 64)]
    spec = [(4 * bar, 4, p) for bar, chord in enumerate(voicings) for p in chord]
    part = make_score(Track("Piano", 0, notes=notes(*spec)), keys=(KeyChange(0, Key(0)),))
    best = suggest_for_melody(part)[0]
    assert _firsts(best) == ["C", "F", "G", "C", "F", "G", "C"], best.chart


def test_a_tune_with_a_bass_part_gets_the_chords_its_bass_plays():
    # a tune in C of long notes, each a tone of several chords (E of C, Am and Em), over a bass
    # that plays root and fifth of C F G C F G G C: the bass says which chord each bar is. The
    # chart was the tune's alone, | Am | Am | E | Am |...
    pitches = (64, 69, 71, 64, 69, 71, 71, 64)
    tune = Track(
        "Tune", 73, role=Role.MELODY, notes=notes(*[(4 * i, 4, p) for i, p in enumerate(pitches)])
    )
    roots = (36, 41, 43, 36, 41, 43, 43, 36)
    line = [(4 * i + b, 1, r + 7 * (b % 2)) for i, r in enumerate(roots) for b in range(4)]
    song = make_score(tune, bass(*line), keys=(KeyChange(0, Key(0)),))
    best = suggest_for_melody(song)[0]
    assert _firsts(best) == ["C", "F", "G", "C", "F", "G", "G", "C"], best.chart


def _misspelt(chart_text: str) -> list[str]:
    """The chords of a chart whose root is a note of its key's scale under another letter."""
    chart = parse_chart(chart_text)
    return [
        format_chord(c.symbol)
        for bar in chart.bars
        for c in bar.chords
        if bar.key.contains(c.symbol.root)
        and c.symbol.root_name[0] != bar.key.spell(c.symbol.root)[0]
    ]


@pytest.mark.parametrize("key", ["Gb", "Ebm", "Cb", "F#", "C#", "Abm"])
def test_chords_are_spelt_as_their_key_spells_its_notes(key):
    # Gb major's IV came out as B, Eb minor's VI as B: a player reading the chart in six flats
    # met a chord in sharps
    for style in progression_styles():
        for s in suggest_for_key(Key.parse(key), 8, style, count=10):
            assert not _misspelt(s.chart), (style, s.chart)
    tune = _tune(*[(p + 4, beats) for p, beats in D_MAJOR_TUNE], key=Key.parse("Gb"))
    for s in suggest_for_melody(tune, count=8):
        assert not _misspelt(s.chart), s.chart


@pytest.mark.parametrize("flag", [("--style", "jazz"), ("--bars", "4")])
def test_chords_for_a_melody_refuses_the_flags_it_would_ignore(tmp_path, flag):
    # `bandmate chords tune.abc --style jazz` printed the tune's own charts as if no style had
    # been asked for; the studio refuses the same request
    from tests.builders import assert_user_error, run_cli

    path = tmp_path / "grace.abc"
    path.write_text(AMAZING_GRACE)
    assert_user_error(run_cli("chords", str(path), *flag), flag[0], "--key")
    assert run_cli("chords", str(path), "--key", "G", "--count", "1").returncode == 0
