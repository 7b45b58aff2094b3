"""Where a notated piece ends: a template's empty measures after the music are not the piece's.

A score begun from a MuseScore, Finale or Sibelius template keeps the template's measures, whole
rests in every part; the piece ends where its music does. A bar or two of rests the composer
closed the piece with, and rests between sections, are the piece's.
"""

from bandmate.compose.continuation import written_end
from bandmate.io.music21_io import read_abc, read_musicxml

BAR = 4 * 480  # ticks of a 4/4 bar at 480 per beat
STEPS = "CDEFGAB"


def measure(number: int, content: str, *, first: bool = False) -> str:
    """A 4/4 measure (1 division per quarter); its attributes open the first."""
    attributes = (
        "<attributes><divisions>1</divisions><key><fifths>0</fifths></key>"
        "<time><beats>4</beats><beat-type>4</beat-type></time></attributes>"
        if first
        else ""
    )
    return f'<measure number="{number}">{attributes}{content}</measure>'


def quarters(bar: int, octave: int) -> str:
    """Four quarter notes, a scale from a step that moves with the bar."""
    return "".join(
        f"<note><pitch><step>{STEPS[(bar + b) % 7]}</step><octave>{octave}</octave></pitch>"
        "<duration>1</duration><type>quarter</type></note>"
        for b in range(4)
    )


WHOLE_REST = '<note><rest measure="yes"/><duration>4</duration></note>'
C_CHORD = "<harmony><root><root-step>C</root-step></root><kind>major</kind></harmony>"


def musicxml(*parts: list[str]) -> str:
    """A score of `parts`, each a list of measure contents (MusicXML between <measure> tags)."""
    names = ["Flute", "Bass", "Violin"]
    head = "".join(
        f'<score-part id="P{i}"><part-name>{names[i]}</part-name></score-part>'
        for i in range(len(parts))
    )
    body = "".join(
        f'<part id="P{i}">'
        + "".join(measure(m + 1, c, first=m == 0) for m, c in enumerate(part))
        + "</part>"
        for i, part in enumerate(parts)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><score-partwise version="4.0">'
        f"<part-list>{head}</part-list>{body}</score-partwise>"
    )


def template(written: list[str], total: int = 32) -> list[str]:
    """`written` measures, then whole rests up to `total` measures: a template's part."""
    return written + [WHOLE_REST] * (total - len(written))


def read(tmp_path, *parts: list[str]):
    path = tmp_path / "score.musicxml"
    path.write_text(musicxml(*parts))
    return read_musicxml(path)


def test_a_templates_empty_measures_after_the_music_are_not_the_piece(tmp_path):
    # 8 bars written in a 32-bar template: `continue` wrote after 24 bars of silence
    flute = template([quarters(b, 5) for b in range(8)])
    bass = template([quarters(b, 3) for b in range(8)])
    score = read(tmp_path, flute, bass)
    assert score.written_bars_end == 8 * BAR
    assert written_end(score) == 8 * BAR


def test_the_last_bar_any_part_plays_in_ends_the_piece(tmp_path):
    # the flute stops at bar 6, the bass plays on to bar 10
    flute = template([quarters(b, 5) for b in range(6)])
    bass = template([quarters(b, 3) for b in range(10)])
    assert written_end(read(tmp_path, flute, bass)) == 10 * BAR


def test_empty_bars_between_sections_stay_in_the_piece(tmp_path):
    # 4 bars, a bar's rest in every part, 4 bars more, then the template's rests
    music = [quarters(b, 5) for b in range(4)] + [WHOLE_REST] + [quarters(b, 5) for b in range(4)]
    score = read(tmp_path, template(music))
    assert written_end(score) == 9 * BAR
    assert score.bar_grid.bar_count(score.written_bars_end) == 9


def test_a_closing_bar_or_two_of_rests_stays_but_a_templates_run_of_them_does_not(tmp_path):
    # the same rule as a MIDI file's end of track: up to two bars of rests close a piece
    music = [quarters(b, 5) for b in range(4)]
    for rests, bars in ((1, 5), (2, 6), (3, 4), (24, 4)):
        score = read(tmp_path, template(music, total=4 + rests))
        assert written_end(score) == bars * BAR, rests


def test_rests_inside_the_last_written_bar_are_kept(tmp_path):
    # the last bar: one note and three beats of written rest, then the template's bars
    last = (
        "<note><pitch><step>C</step><octave>5</octave></pitch><duration>1</duration></note>"
        "<note><rest/><duration>3</duration></note>"
    )
    score = read(tmp_path, template([quarters(b, 5) for b in range(7)] + [last]))
    assert score.end_ticks == 7 * BAR + 480
    assert written_end(score) == 8 * BAR
    # a note tied over the bar line into the last bar that holds anything makes that bar the last
    tied = (
        "<note><pitch><step>C</step><octave>5</octave></pitch><duration>4</duration>"
        '<tie type="start"/></note>'
    )
    held = (
        "<note><pitch><step>C</step><octave>5</octave></pitch><duration>2</duration>"
        '<tie type="stop"/></note>'
        "<note><rest/><duration>2</duration></note>"
    )
    score = read(tmp_path, template([quarters(b, 5) for b in range(6)] + [tied, held]))
    assert score.end_ticks == 7 * BAR + 2 * 480
    assert written_end(score) == 8 * BAR


def test_chord_symbols_over_rests_are_written_music(tmp_path):
    # a lead sheet whose last four bars give only the chords (the band plays, the melody rests)
    music = [quarters(b, 5) for b in range(4)] + [C_CHORD + WHOLE_REST] * 4
    score = read(tmp_path, template(music))
    assert score.end_ticks == 4 * BAR
    assert written_end(score) == 8 * BAR
    assert score.bar_grid.bar_count(score.written_bars_end) == 8


def test_a_meter_or_key_change_in_the_templates_bars_does_not_make_them_written(tmp_path):
    change = (
        "<attributes><key><fifths>2</fifths></key>"
        "<time><beats>3</beats><beat-type>4</beat-type></time></attributes>"
        '<note><rest measure="yes"/><duration>3</duration></note>'
    )
    music = [quarters(b, 5) for b in range(8)] + [WHOLE_REST] * 4 + [change]
    music += ['<note><rest measure="yes"/><duration>3</duration></note>'] * 19
    score = read(tmp_path, music)
    assert written_end(score) == 8 * BAR
    # and they go with the bars: kept, `continue` wrote its 4/4 bars across the 3/4 ones
    assert [(t.numerator, t.denominator) for t in score.time_signatures] == [(4, 4)]
    assert [k.onset_ticks for k in score.keys] == [0]


def test_a_score_of_rests_alone_keeps_all_its_measures(tmp_path):
    # nothing written at all: the measures are all there is to say how long it is
    score = read(tmp_path, [WHOLE_REST] * 12)
    assert score.end_ticks == 0 and score.written_end_ticks == 12 * BAR


def test_abc_rest_bars_after_the_tune_follow_the_same_rule(tmp_path):
    path = tmp_path / "tune.abc"
    path.write_text("X:1\nM:4/4\nL:1/4\nK:C\nC D E F | G A B c | z4 | z4 |]\n")
    assert written_end(read_abc(path)) == 4 * BAR
    path.write_text("X:1\nM:4/4\nL:1/4\nK:C\nC D E F | G A B c | z4 | z4 | z4 | z4 | z4 |]\n")
    assert written_end(read_abc(path)) == 2 * BAR


METRONOME_60 = (
    '<direction placement="above"><direction-type><metronome><beat-unit>quarter</beat-unit>'
    '<per-minute>60</per-minute></metronome></direction-type><sound tempo="60"/></direction>'
)


def test_a_first_tempo_mark_at_bar_nine_leaves_the_bars_before_it_at_120(tmp_path):
    # "Slower, 60" at bar 9 of a score with no mark before it set the whole piece at 60
    music = [quarters(b, 5) for b in range(12)]
    music[8] = METRONOME_60 + music[8]
    score = read(tmp_path, music)
    assert [(t.onset_ticks, round(t.tempo_bpm)) for t in score.tempos] == [(0, 120), (8 * BAR, 60)]
    # a mark on the first bar is the piece's tempo from the start
    music = [quarters(b, 5) for b in range(12)]
    music[0] = METRONOME_60 + music[0]
    assert [round(t.tempo_bpm) for t in read(tmp_path, music).tempos] == [60]
    # on bar 2 it is a change: bar 1 plays at 120, as a MIDI file's first bar would
    music = [quarters(b, 5) for b in range(12)]
    music[1] = METRONOME_60 + music[1]
    assert [round(t.tempo_bpm) for t in read(tmp_path, music).tempos] == [120, 60]
