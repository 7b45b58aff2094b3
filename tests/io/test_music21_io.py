"""MusicXML and ABC through music21: round trips, tiny edge-case files and the bundled corpus."""

import re
import zipfile
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bandmate.errors import InputFileError, OutputError
from bandmate.io.formats import read_score, write_score
from bandmate.io.music21_io import (
    corpus_names,
    load_corpus,
    musicxml_bytes,
    quantize_for_notation,
    read_abc,
    read_abc_book,
    read_musicxml,
    write_musicxml,
)
from bandmate.score import (
    ChordEvent,
    Control,
    KeyChange,
    Note,
    Role,
    Score,
    Section,
    TempoChange,
    TimeSignature,
    Track,
)
from bandmate.theory.chords import format_chord, parse_chord
from bandmate.theory.keys import Key
from tests.builders import bass, drums, make_score, notes, piano

SIXTEENTH = 120  # ticks at 480 per beat


def in_quarters(track: Track, tpb: int = 480) -> list[tuple[Fraction, Fraction, int]]:
    """(onset, duration, pitch) of each note in quarter lengths: what notation shows."""
    return [
        (Fraction(n.onset_ticks, tpb), Fraction(n.duration_ticks, tpb), n.pitch)
        for n in track.notes
    ]


def round_trip(score: Score, tmp_path, name: str = "song.musicxml") -> Score:
    path = tmp_path / name
    write_musicxml(score, path)
    return read_musicxml(path)


@pytest.fixture
def lead_sheet() -> Score:
    """Three parts on a 16th grid, notes across bar lines, a meter change, chords and sections."""
    lead = Track(
        "Lead",
        program=73,
        role=Role.MELODY,
        notes=notes(
            (0, 1, 70), (1, 1.5, 72), (2.5, 2.25, 74),  # 74 crosses bar 1 -> 2: tied
            (4.75, 0.25, 75), (5, 3, 77), (7.5, 1, 79),  # 79 crosses into the 3/4 bar
            (7.5, 2, 74),  # overlaps 79 with another length: a second voice
            (8.5, 0.75, 72), (8.5, 0.75, 69),  # a chord of two notes
        ),
    )  # fmt: skip
    return make_score(
        lead,
        bass((0, 4, 34), (4, 2, 41), (6, 5, 39)),  # the last one crosses two bar lines
        drums(*[(b / 2, 0.25, 42) for b in range(8)], (0, 0.5, 36), (2, 0.5, 38)),
        keys=(KeyChange(0, Key.parse("Bb")),),
        chords=tuple(
            ChordEvent(i * 960, parse_chord(c))
            for i, c in enumerate(["Bb", "Gm7", "Ebmaj7", "F7sus4", "Bb/D", "C6/9", "N.C."])
        ),
        sections=(Section(0, "Intro"), Section(1920, "Verse")),
        title="Lead sheet",
        tempo_bpm=96,
    ).replace(time_signatures=(TimeSignature(0, 4, 4), TimeSignature(1920 * 2, 3, 4)))


# --- round trips -------------------------------------------------------------------------------
def test_round_trip_keeps_notes_meters_and_key(lead_sheet, tmp_path):
    back = round_trip(lead_sheet, tmp_path)
    assert [t.name for t in back.tracks] == ["Lead", "Bass", "Drums"]
    for before, after in zip(lead_sheet.tracks, back.tracks, strict=True):
        assert in_quarters(after, back.ticks_per_beat) == in_quarters(before), before.name
    assert [(m.onset_ticks, str(m)) for m in back.time_signatures] == [(0, "4/4"), (3840, "3/4")]
    assert back.key == Key.parse("Bb")


def test_round_trip_keeps_parts_chords_sections_tempo_and_title(lead_sheet, tmp_path):
    back = round_trip(lead_sheet, tmp_path)
    assert [(t.program, t.is_drum, t.role) for t in back.tracks] == [
        (73, False, Role.MELODY),
        (33, False, Role.BASS),
        (0, True, Role.DRUMS),
    ]
    assert [(c.onset_ticks, format_chord(c.symbol)) for c in back.chords] == [
        (c.onset_ticks, format_chord(c.symbol)) for c in lead_sheet.chords
    ]
    assert back.sections == lead_sheet.sections
    assert back.tempo_bpm == pytest.approx(96)
    assert back.title == "Lead sheet"


def test_tied_notes_are_written_as_ties_and_read_as_one_note(lead_sheet, tmp_path):
    xml = musicxml_bytes(lead_sheet).decode()
    assert '<tie type="start"' in xml and '<tie type="stop"' in xml
    back = round_trip(lead_sheet, tmp_path)
    bass_notes = back.track("Bass").notes
    assert (bass_notes[-1].onset_ticks, bass_notes[-1].duration_ticks) == (6 * 480, 5 * 480)


def test_every_chord_symbol_survives(tmp_path):
    symbols = ["Bbmaj7", "F#m7b5", "C7b9", "Am7/G", "C6/9", "Ebm", "Bb7/Ab", "Dm9", "G7#9"]
    symbols += ["Caug", "Bdim7", "Esus2", "AbmMaj7", "N.C."]
    score = make_score(
        piano((0, len(symbols) * 2, 60)),
        chords=tuple(ChordEvent(i * 960, parse_chord(s)) for i, s in enumerate(symbols)),
    )
    back = round_trip(score, tmp_path)
    assert [format_chord(c.symbol) for c in back.chords] == [
        format_chord(parse_chord(s)) for s in symbols
    ]


def test_pickup_bar_is_written_as_a_pickup_and_read_back(tmp_path):
    # one beat of pickup, then full bars: the meter is repeated where the short bar ends
    score = make_score(piano((0, 1, 67), (1, 4, 72), (5, 3, 71))).replace(
        time_signatures=(TimeSignature(0, 4, 4), TimeSignature(480, 4, 4))
    )
    xml = musicxml_bytes(score).decode()
    assert re.search(r'<measure implicit="yes" number="0"', xml)
    back = round_trip(score, tmp_path)
    assert back.time_signatures == score.time_signatures
    assert in_quarters(back.tracks[0]) == in_quarters(score.tracks[0])


def test_notes_are_spelled_in_the_key(tmp_path):
    score = make_score(piano((0, 1, 70), (1, 1, 66)), keys=(KeyChange(0, Key.parse("F")),))
    xml = musicxml_bytes(score).decode()
    steps = re.findall(r"<step>([A-G])</step>\s*<alter>(-?\d)</alter>", xml)
    assert steps == [("B", "-1"), ("G", "-1")]  # Bb and Gb in F major, not A# and F#


@pytest.mark.parametrize("program", [71, 65, 60])  # clarinet, alto sax, horn
def test_transposing_instruments_keep_concert_pitch(program, tmp_path):
    score = make_score(
        Track("Horn", program, notes=notes((0, 1, 60), (1, 1, 64))),
        keys=(KeyChange(0, Key.parse("F")),),
        chords=(ChordEvent(0, parse_chord("Bb7")),),
    )
    xml = musicxml_bytes(score).decode()
    assert "<transpose>" in xml  # the part is written as its players read it
    back = round_trip(score, tmp_path)
    assert [n.pitch for n in back.tracks[0].notes] == [60, 64]
    assert back.key == Key.parse("F")
    assert [format_chord(c.symbol) for c in back.chords] == ["Bb7"]


def test_velocities_survive_and_a_chord_takes_its_loudest(tmp_path):
    soft, loud = Note(0, 480, 60, 30), Note(480, 480, 62, 127)
    chord = (Note(960, 480, 64, 50), Note(960, 480, 67, 70))
    score = make_score(Track("Piano", notes=(soft, loud, *chord)))
    back = round_trip(score, tmp_path)
    assert [n.velocity for n in back.tracks[0].notes] == [30, 127, 70, 70]


def test_compressed_mxl_round_trip(lead_sheet, tmp_path):
    back = round_trip(lead_sheet, tmp_path, "song.mxl")
    assert in_quarters(back.tracks[0]) == in_quarters(lead_sheet.tracks[0])


@st.composite
def grid_scores(draw):
    """Scores on a 16th grid with meter changes at bar lines."""
    meters = draw(
        st.lists(st.sampled_from([(4, 4), (3, 4), (2, 4), (6, 8), (5, 4)]), min_size=1, max_size=3)
    )
    time_signatures, tick = [], 0
    for numerator, denominator in meters:
        time_signatures.append(TimeSignature(tick, numerator, denominator))
        tick += draw(st.integers(1, 3)) * numerator * 1920 // denominator
    tracks = []
    for index in range(draw(st.integers(1, 3))):
        # up to four lines of notes that do not overlap (notation's four voices a staff), and one
        # pitch never overlaps itself
        velocity = draw(st.integers(1, 127))  # one per track: a chord has one velocity
        busy_until: dict[int, int] = {}
        track_notes = []
        for _ in range(draw(st.integers(1, 4))):
            now = 0
            for _ in range(draw(st.integers(1, 6))):
                pitch = draw(st.integers(36, 96))
                onset = max(now, busy_until.get(pitch, 0)) + draw(st.integers(0, 12)) * SIXTEENTH
                duration = draw(st.integers(1, 40)) * SIXTEENTH
                track_notes.append(Note(onset, duration, pitch, velocity))
                busy_until[pitch] = now = onset + duration
        program = draw(st.integers(0, 127))  # clarinets, horns, saxes are written transposed
        tracks.append(Track(f"Part {index + 1}", program, notes=tuple(track_notes)))
    key = Key.parse(draw(st.sampled_from(["C", "Eb", "A", "F#m", "Bbm", "D dorian"])))
    return Score(
        tracks=tuple(tracks),
        time_signatures=tuple(time_signatures),
        keys=(KeyChange(0, key),),
        tempos=(TempoChange.from_bpm(0, draw(st.sampled_from([60, 96, 120, 140.5]))),),
    )


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(score=grid_scores())
def test_round_trip_of_any_16th_grid_score(score):
    from bandmate.io.music21_write import _without_legato_overlaps

    # a part in one line whose notes are each held a 16th at most into the next is a line played
    # legato, and is written cut (test_notation_sweep: a melody played legato); the generator
    # makes such parts now and then, when two of its lines happen to meet so
    assume(all(sorted(_without_legato_overlaps(t.notes)) == sorted(t.notes) for t in score.tracks))
    back = score_from_bytes(musicxml_bytes(score))
    for before, after in zip(score.tracks, back.tracks, strict=True):
        assert after.notes == before.notes
    assert back.key == score.key
    assert back.tempos == score.tempos
    # the meter map as written (a meter repeated at a bar line changes nothing), up to the
    # music's end: a meter set in empty bars more than two past it goes with those bars, as a
    # template's do (`_with_written_end`)
    end = back.written_bars_end
    assert end >= score.written_bars_end
    assert _meter_changes(back) == [(t, m) for t, m in _meter_changes(score) if t < end]


def score_from_bytes(data: bytes) -> Score:
    from music21 import converter

    from bandmate.io.music21_io import score_from_music21

    return score_from_music21(converter.parseData(data, format="musicxml"))


def _meter_changes(score: Score) -> list[tuple[int, str]]:
    out = []
    for m in score.time_signatures:
        if not out or out[-1][1] != str(m):
            out.append((m.onset_ticks, str(m)))
    return out


# --- quantization ------------------------------------------------------------------------------
def test_off_grid_notes_snap_to_16ths_or_triplets():
    tpb = 480
    score = make_score(
        Track(
            "Piano",
            notes=(
                Note(130, 230, 60),  # about a 16th late, an eighth long -> 120..360
                Note(480 + 158, 163, 62),  # a triplet eighth, slightly off -> 640..800
                Note(960, 5, 64),  # a flam: too short to notate -> one 16th
            ),
        )
    )
    quantized = quantize_for_notation(score)
    assert quantized.ticks_per_beat == tpb
    assert [(n.onset_ticks, n.end_ticks) for n in quantized.tracks[0].notes] == [
        (120, 360),
        (640, 800),
        (960, 1080),
    ]


def test_triplets_survive_a_round_trip(tmp_path):
    score = make_score(Track("Piano", notes=notes(*[(i / 3, 1 / 3, 60 + i) for i in range(6)])))
    back = round_trip(score, tmp_path)
    assert in_quarters(back.tracks[0]) == in_quarters(score.tracks[0])


# --- ABC ---------------------------------------------------------------------------------------
ABC_TUNE = """X:1
T:Little Waltz
M:3/4
L:1/8
Q:1/4=100
K:G
D | G2 B2 d2 | e4 d2 | c>B A2 G2- | G4 z2 |
"""


def test_read_abc_tune(tmp_path):
    path = tmp_path / "waltz.abc"
    path.write_text(ABC_TUNE)
    score = read_abc(path)
    assert score.title == "Little Waltz"
    assert score.key == Key.parse("G")
    assert score.tempo_bpm == pytest.approx(100)
    # the pickup eighth is bar 0: the meter repeats where it ends
    assert score.time_signatures == (TimeSignature(0, 3, 4), TimeSignature(240, 3, 4))
    [track] = score.tracks
    q = Fraction
    assert in_quarters(track) == [
        (q(0), q(1, 2), 62),  # D
        (q(1, 2), q(1), 67), (q(3, 2), q(1), 71), (q(5, 2), q(1), 74),  # G2 B2 d2
        (q(7, 2), q(2), 76), (q(11, 2), q(1), 74),  # e4 d2
        (q(13, 2), q(3, 4), 72), (q(29, 4), q(1, 4), 71), (q(15, 2), q(1), 69),  # c>B A2
        (q(17, 2), q(3), 67),  # G2- | G4: tied across the bar line, one note
    ]  # fmt: skip
    assert score.bar_grid.bar_at(17 * 240) == 3  # the tied G starts in bar 3 (from 0)


def test_abc_chord_symbols_chords_and_grace_notes(tmp_path):
    path = tmp_path / "grace.abc"
    path.write_text('X:1\nT:Grace\nM:4/4\nL:1/4\nK:Am\n"Am" A {c}B c d | "E7" e4 | "Am" [Ac]4 |\n')
    score = read_abc(path)
    assert score.key == Key.parse("Am")
    assert [(c.onset_ticks, format_chord(c.symbol)) for c in score.chords] == [
        (0, "Am"),
        (1920, "E7"),
        (3840, "Am"),
    ]
    # the grace note {c} is left out; the chord [Ac] is two notes
    assert [(n.onset_ticks, n.pitch) for n in score.tracks[0].notes] == [
        (0, 69), (480, 71), (960, 72), (1440, 74), (1920, 76), (3840, 69), (3840, 72),
    ]  # fmt: skip


def test_read_score_dispatches_on_suffix(tmp_path, lead_sheet):
    abc = tmp_path / "tune.abc"
    abc.write_text(ABC_TUNE)
    assert read_score(abc).title == "Little Waltz"
    write_score(lead_sheet, tmp_path / "song.xml")
    assert read_score(tmp_path / "song.xml").title == "Lead sheet"
    write_score(lead_sheet, tmp_path / "song.mid", midi_type=0)
    assert read_score(tmp_path / "song.mid").note_count == lead_sheet.note_count


def test_unknown_suffixes_name_the_supported_ones(tmp_path, lead_sheet):
    (tmp_path / "song.txt").write_text("hello")
    with pytest.raises(InputFileError, match=r"\.musicxml"):
        read_score(tmp_path / "song.txt")
    with pytest.raises(OutputError, match=r"\.mid"):
        write_score(lead_sheet, tmp_path / "song.pdf")
    assert not (tmp_path / "song.pdf").exists()


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("broken.musicxml", "<score-partwise><part-list>"),
        ("notes.xml", "shopping list: eggs, milk"),
        ("empty.mxl", ""),
    ],
)
def test_bad_musicxml_is_a_clear_error(tmp_path, name, content):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(InputFileError, match=re.escape(name)):
        read_musicxml(path)


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(InputFileError, match="does not exist"):
        read_abc(tmp_path / "nothing.abc")


def test_abc_repeats_and_endings_are_played_out(tmp_path):
    # a strain with first and second endings: it was read once, both endings one after the other
    path = tmp_path / "reel.abc"
    path.write_text("X:1\nT:Reel\nM:4/4\nL:1/4\nK:G\n|: G A B c |1 d4 :|2 g4 |]\n")
    [track] = read_abc(path).tracks
    assert [(n.onset_ticks, n.pitch) for n in track.notes] == [
        (0, 67), (480, 69), (960, 71), (1440, 72), (1920, 74),  # G A B c | d4 (first ending)
        (3840, 67), (4320, 69), (4800, 71), (5280, 72), (5760, 79),  # G A B c | g4 (second)
    ]  # fmt: skip


def test_musicxml_repeat_is_played_out(tmp_path):
    from music21 import bar, meter, note, stream

    part = stream.Part()
    first = stream.Measure(number=1)
    first.append([meter.TimeSignature("3/4"), note.Note("C5"), note.Note("D5"), note.Note("E5")])
    first.leftBarline = bar.Repeat(direction="start")
    first.rightBarline = bar.Repeat(direction="end")
    last = stream.Measure(number=2)
    last.append(note.Note("G5", quarterLength=3))
    part.append([first, last])
    path = tmp_path / "repeat.musicxml"
    stream.Score([part]).write("musicxml", fp=path)
    [track] = read_musicxml(path).tracks
    assert [n.pitch for n in track.notes] == [72, 74, 76, 72, 74, 76, 79]
    assert track.notes[-1].onset_ticks == 6 * 480


# --- the corpus --------------------------------------------------------------------------------
def test_bach_chorale_from_the_corpus():
    score = load_corpus("bach/bwv66.6")
    assert [t.name for t in score.tracks] == ["Soprano", "Alto", "Tenor", "Bass"]
    assert score.note_count > 100
    assert score.key == Key.parse("F# minor")
    assert score.track("Soprano").role == Role.MELODY
    assert score.track("Bass").role == Role.BASS
    # a one-beat pickup, then 4/4 bars
    assert score.time_signatures == (TimeSignature(0, 4, 4), TimeSignature(480, 4, 4))
    assert score.title == "bach/bwv66.6"


def test_bach_chorale_round_trips_through_musicxml(tmp_path):
    score = load_corpus("bach/bwv66.6")
    back = round_trip(score, tmp_path)
    assert [t.notes for t in back.tracks] == [t.notes for t in score.tracks]
    assert back.time_signatures == score.time_signatures


def test_unknown_corpus_name_says_how_to_list_names():
    with pytest.raises(InputFileError, match="--list-corpus"):
        load_corpus("nobody/nothing")


def test_a_corpus_name_of_several_pieces_is_refused_not_guessed():
    # "bach" converted whichever chorale came first (bwv1.6), without a word
    with pytest.raises(InputFileError, match=r"'bach' names \d+ pieces .*--list-corpus bach"):
        load_corpus("bach")
    with pytest.raises(InputFileError, match="beethoven/opus18no1/movement1"):
        load_corpus("beethoven/opus18no1")
    assert load_corpus("bwv66.6").tracks == load_corpus("bach/bwv66.6").tracks  # one piece


def test_corpus_names_are_loadable():
    names = corpus_names("bach/bwv66")
    assert "bach/bwv66.6" in names


def test_more_overlaps_than_four_voices_are_cut_short(tmp_path):
    # a rolled chord held by the pedal: six notes that start apart and all end together
    rolled = Track("Piano", notes=notes(*[(i / 4, 4 - i / 4, 60 + 3 * i) for i in range(6)]))
    xml = musicxml_bytes(make_score(rolled)).decode()
    assert set(re.findall(r"<voice>(\d+)</voice>", xml)) <= {"1", "2", "3", "4"}
    back = round_trip(make_score(rolled), tmp_path)
    assert [n.pitch for n in back.tracks[0].notes] == [60 + 3 * i for i in range(6)]
    assert max(n.end_ticks for n in back.tracks[0].notes) == 4 * 480


@pytest.mark.parametrize("meter", [(64, 4), (255, 1)])
def test_bars_longer_than_any_note_value_are_written(meter, tmp_path):
    # a chart in 64/4 crashed the writer (a 16-whole-note rest has no MusicXML type); a note held
    # through such a bar comes back whole, and the bar is written as tied breves and breve rests
    beats = meter[0] * 4 // meter[1]
    held = Track("Pad", notes=notes((1, beats - 1, 60), (beats, beats, 64)))
    score = make_score(held, meter=meter)
    back = round_trip(score, tmp_path)
    assert in_quarters(back.tracks[0]) == in_quarters(held)
    assert [str(m) for m in back.time_signatures] == [f"{meter[0]}/{meter[1]}"]
    xml = musicxml_bytes(score).decode()
    assert not set(re.findall(r"<type>([a-z-]+)</type>", xml)) & {"long", "maxima"}


def test_a_sharp_key_keeps_its_sharps(tmp_path):
    # a piece in F# major was written with Gb major's six flats (and its E# as F)
    tune = Track("Tune", notes=notes((0, 1, 66), (1, 1, 65), (2, 2, 66)))
    score = make_score(tune, keys=(KeyChange(0, Key.parse("F#")),))
    xml = musicxml_bytes(score).decode()
    assert "<fifths>6</fifths>" in xml
    assert re.search(r"<step>E</step>\s*<alter>1</alter>", xml)
    assert str(round_trip(score, tmp_path).keys[0].key) == "F#"


@pytest.mark.parametrize(
    ("body", "keys", "pitches"),
    [
        # inline fields: music21 ignored [K:F] and [M:3/4]: the B after [K:F] sounded B natural,
        # the meter and key maps never changed, and a [K:] in the middle of a bar split the bar
        (
            "G A B c | [M:3/4] d e f | [K:F] B A G |\n"
            "[M:4/4][K:D] F G [K:C] F G | [Q:1/4=140] A4 |]\n",
            [(0, "G"), (7, "F"), (10, "D"), (12, "C")],
            [67, 69, 71, 72, 74, 76, 78, 70, 69, 67, 66, 67, 65, 67, 69],
        ),
        # fields on lines of their own: a K: line changed the notes but not the key map, so a
        # modulating tune was continued in its first key; an M: line after a bar line was lost
        (
            "G A B c |\nM:3/4\nd e f |\nK:F % to the subdominant\nB A G |\n"
            "M:4/4\nK:D\nF G F G |\nQ:1/4=140\nA4 |]\n",
            [(0, "G"), (7, "F"), (10, "D")],
            [67, 69, 71, 72, 74, 76, 78, 70, 69, 67, 66, 67, 66, 67, 69],
        ),
    ],
    ids=["inline", "own lines"],
)
def test_abc_key_meter_and_tempo_changes_inside_a_tune(tmp_path, body, keys, pitches):
    path = tmp_path / "changes.abc"
    path.write_text("X:1\nT:Changes\nM:4/4\nL:1/4\nQ:1/4=100\nK:G\n" + body)
    score = read_abc(path)
    beat = 480
    assert [(m.onset_ticks // beat, str(m)) for m in score.time_signatures] == [
        (0, "4/4"), (4, "3/4"), (10, "4/4")]  # fmt: skip
    assert [(k.onset_ticks // beat, str(k.key)) for k in score.keys] == keys
    assert [(t.onset_ticks // beat, round(t.tempo_bpm)) for t in score.tempos] == [
        (0, 100), (14, 140)]  # fmt: skip
    assert [n.pitch for n in score.tracks[0].notes] == pitches
    assert score.bar_grid.bar_count(score.end_ticks) == 5


def test_abc_files_saved_in_latin1_or_with_a_bom_are_read(tmp_path):
    # music21 reads ABC as UTF-8 only: an old tune book with "Café" in Latin-1 was refused
    tune = "X:1\nT:Café Waltz\nM:3/4\nL:1/4\nK:G\nG A B | c d e |]\n"
    windows = b"\xef\xbb\xbf" + tune.replace("\n", "\r\n").encode()  # Notepad: a BOM and CRLF
    for name, data in [
        ("latin1.abc", tune.encode("latin-1")),
        ("bom.abc", windows),
        ("utf16.abc", tune.encode("utf-16")),  # Notepad's "Unicode"
    ]:
        (tmp_path / name).write_bytes(data)
        score = read_abc(tmp_path / name)
        assert score.title == "Café Waltz"
        assert [n.pitch for n in score.tracks[0].notes] == [67, 69, 71, 72, 74, 76]
    (tmp_path / "empty.abc").write_text("\n")
    with pytest.raises(InputFileError, match="is empty"):
        read_abc(tmp_path / "empty.abc")


TIMEWISE = """<?xml version="1.0" encoding="UTF-8"?>
<score-timewise version="4.0">
  <work><work-title>Timewise</work-title></work>
  <part-list>
    <score-part id="P1"><part-name>Flute</part-name></score-part>
    <score-part id="P2"><part-name>Bass</part-name></score-part>
  </part-list>
  <measure number="1">
    <part id="P1">
      <attributes><divisions>1</divisions><key><fifths>6</fifths></key><time><beats>2</beats><beat-type>4</beat-type></time></attributes>
      <note><pitch><step>F</step><alter>1</alter><octave>5</octave></pitch><duration>1</duration><type>quarter</type></note>
      <note><pitch><step>E</step><alter>1</alter><octave>5</octave></pitch><duration>1</duration><type>quarter</type></note>
    </part>
    <part id="P2">
      <attributes><divisions>1</divisions><key><fifths>6</fifths></key><time><beats>2</beats><beat-type>4</beat-type></time><clef><sign>F</sign><line>4</line></clef></attributes>
      <note><pitch><step>F</step><alter>1</alter><octave>2</octave></pitch><duration>2</duration><type>half</type></note>
    </part>
  </measure>
  <measure number="2">
    <part id="P1">
      <note><pitch><step>C</step><alter>1</alter><octave>5</octave></pitch><duration>2</duration><type>half</type></note>
    </part>
    <part id="P2">
      <note><pitch><step>C</step><alter>1</alter><octave>3</octave></pitch><duration>2</duration><type>half</type></note>
    </part>
  </measure>
</score-timewise>
"""


def test_a_timewise_musicxml_file_is_read(tmp_path):
    # music21 refuses <score-timewise> ("Cannot parse MusicXML files not in score-partwise")
    path = tmp_path / "timewise.musicxml"
    path.write_text(TIMEWISE)
    score = read_musicxml(path)
    assert score.title == "Timewise" and [t.name for t in score.tracks] == ["Flute", "Bass"]
    assert [(n.onset_ticks, n.pitch) for n in score.tracks[0].notes] == [(0, 78), (480, 77),
                                                                          (960, 73)]  # fmt: skip
    assert [(n.onset_ticks, n.pitch) for n in score.tracks[1].notes] == [(0, 42), (960, 49)]


@pytest.mark.parametrize("name", ["zipped.musicxml", "zipped.xml", "plain.mxl"])
def test_compressed_or_plain_musicxml_under_either_name_is_read(lead_sheet, tmp_path, name):
    # a compressed file saved as .musicxml was "not well-formed (invalid token)"
    source = tmp_path / ("source.musicxml" if name == "plain.mxl" else "source.mxl")
    write_musicxml(lead_sheet, source)
    (tmp_path / name).write_bytes(source.read_bytes())
    assert read_musicxml(tmp_path / name) == read_musicxml(source)


@pytest.mark.parametrize(
    ("name", "holds", "rename_to"),
    [("song.abc", "MIDI", ".mid"), ("song.mid", "MusicXML", ".musicxml"),
     ("tune.mid", "ABC", ".abc"), ("song.xml", "MIDI", ".mid"), ("zip.mid", "MusicXML", ".mxl")],
)  # fmt: skip
def test_a_file_named_as_another_format_says_how_to_rename_it(
    lead_sheet, tmp_path, name, holds, rename_to
):
    # a MIDI file saved as .abc was "not a readable ABC file ('utf-8' codec can't decode ...)"
    sources = {"MIDI": "x.mid", "MusicXML": "x.mxl" if rename_to == ".mxl" else "x.musicxml"}
    if holds == "ABC":
        (tmp_path / name).write_text(ABC_TUNE)
    else:
        write_score(lead_sheet, tmp_path / sources[holds])
        (tmp_path / name).write_bytes((tmp_path / sources[holds]).read_bytes())
    with pytest.raises(
        InputFileError, match=f"holds {holds}, not .* rename it to end in {rename_to}"
    ):
        read_score(tmp_path / name)


def _harmony(root: str, kind: str, *degrees: tuple[int, int, str]) -> str:
    """A MusicXML <harmony> with <degree>s (value, alter, type), then a quarter note."""
    parts = "".join(
        f"<degree><degree-value>{v}</degree-value><degree-alter>{a}</degree-alter>"
        f"<degree-type>{t}</degree-type></degree>"
        for v, a, t in degrees
    )
    return (
        f"<harmony><root><root-step>{root}</root-step></root><kind>{kind}</kind>{parts}</harmony>"
        "<note><pitch><step>C</step><octave>5</octave></pitch><duration>1</duration></note>"
    )


DEGREES = (
    '<?xml version="1.0" encoding="UTF-8"?><score-partwise version="3.1"><part-list>'
    '<score-part id="P1"><part-name>Lead</part-name></score-part></part-list><part id="P1">'
    '<measure number="1"><attributes><divisions>1</divisions><time><beats>4</beats>'
    "<beat-type>4</beat-type></time></attributes>"
    + _harmony("C", "dominant", (9, -1, "add"))
    + _harmony("A", "minor-seventh", (5, -1, "alter"))
    + _harmony("G", "dominant", (5, 1, "alter"), (9, 1, "add"))
    + _harmony("F", "major", (9, 0, "add"))
    + _harmony("C", "major", (5, -1, "alter"))
    + _harmony("E", "major", (11, 1, "add"))
    + "</measure></part></score-partwise>"
)


def test_chord_alterations_written_as_degrees_are_kept(tmp_path):
    # <degree> alterations (how notation programs write C7(b9)) and ABC's "Am7(b5)" were
    # dropped: the chords read as C7, Am7, G7 and F; then a major triad with its fifth flattened
    # read as "Cb5", a C flat power chord, and E with a #11 added (a symbol bandmate has not) as
    # "E#11", on E sharp: an alteration bandmate cannot write is left out, the root kept
    (tmp_path / "degrees.musicxml").write_text(DEGREES)
    chords = read_musicxml(tmp_path / "degrees.musicxml").chords
    assert [format_chord(c.symbol) for c in chords] == [
        "C7b9", "Am7b5", "G7#5#9", "Fadd9", "C(b5)", "E",
    ]  # fmt: skip
    (tmp_path / "tune.abc").write_text('X:1\nM:4/4\nL:1/4\nK:C\n"Am7(b5)" A4 | "D7" D4 |]\n')
    chords = read_abc(tmp_path / "tune.abc").chords
    assert [format_chord(c.symbol) for c in chords] == ["Am7b5", "D7"]


@pytest.mark.parametrize(
    "field", [" [K:bass] ", " [K:clef=alto] ", " [K:] ", "\nK:bass\n", "\nK:clef=alto\n"]
)
def test_a_clef_change_keeps_the_key(tmp_path, field):
    # once inline fields were read, music21 took [K:bass] for B major and [K:clef=alto] for C
    # major, so the F sharps after them became F natural (or D sharp); so too once such fields
    # on lines of their own were
    path = tmp_path / "clef.abc"
    path.write_text(f"X:1\nM:4/4\nL:1/4\nK:G\nG A B c |{field}d e f g |]\n")
    score = read_abc(path)
    assert [n.pitch for n in score.tracks[0].notes][4:] == [74, 76, 78, 79]
    assert [str(k.key) for k in score.keys] == ["G"]


def test_a_damaged_or_empty_mxl_file_says_what_is_wrong(lead_sheet, tmp_path):
    # a cut .mxl was "not well-formed (invalid token)", a zip without a score "a bytes-like
    # object is required, not 'NoneType'"
    write_musicxml(lead_sheet, tmp_path / "good.mxl")
    (tmp_path / "cut.mxl").write_bytes((tmp_path / "good.mxl").read_bytes()[:200])
    with pytest.raises(InputFileError, match="damaged compressed MusicXML"):
        read_musicxml(tmp_path / "cut.mxl")
    with zipfile.ZipFile(tmp_path / "notes.mxl", "w") as archive:
        archive.writestr("readme.txt", "no score here")
    with pytest.raises(InputFileError, match="no MusicXML score in it"):
        read_musicxml(tmp_path / "notes.mxl")


@pytest.mark.parametrize("encoding", ["UTF-16", "ISO-8859-1"])
def test_a_compressed_file_in_another_encoding_is_read(lead_sheet, tmp_path, encoding):
    # the score inside an .mxl was decoded as UTF-8 whatever its declaration said (Finale and
    # older exporters write UTF-16): "'utf-8' codec can't decode byte 0xff"
    xml = musicxml_bytes(lead_sheet.replace(title="Café")).decode()
    xml = xml.replace('encoding="utf-8"', f'encoding="{encoding}"', 1)
    assert f'encoding="{encoding}"' in xml
    with zipfile.ZipFile(tmp_path / "song.mxl", "w") as archive:
        archive.writestr("score.xml", xml.encode(encoding.lower().replace("iso-", "iso")))
    assert read_musicxml(tmp_path / "song.mxl").title == "Café"


def test_a_meter_change_off_the_grid_is_written(tmp_path):
    # a meter change a few ticks off a 16th (a sloppy MIDI file's) made a bar end at an odd
    # tick, whose rest no note value spells: "Cannot convert "2048th" duration to MusicXML"
    tune = Track("Tune", notes=notes((0, 1, 60), (1, 1, 62), (4, 2, 64)))
    score = make_score(tune).replace(
        time_signatures=(TimeSignature(0, 13, 4), TimeSignature(4713, 3, 8))
    )
    back = round_trip(score, tmp_path)
    assert [(m.onset_ticks, str(m)) for m in back.time_signatures] == [(0, "13/4"), (4680, "3/8")]
    assert in_quarters(back.tracks[0]) == in_quarters(tune)


def test_a_musicxml_score_without_parts_reads_as_an_empty_score(tmp_path):
    # an empty <part-list> (an exporter's blank document) was an AttributeError traceback
    path = tmp_path / "blank.musicxml"
    path.write_text(
        '<?xml version="1.0"?><score-partwise version="3.1"><work><work-title>Blank'
        "</work-title></work><part-list></part-list></score-partwise>"
    )
    score = read_musicxml(path)
    assert score.is_empty and score.tracks == () and score.title == "Blank"


def test_a_broken_tune_in_a_book_leaves_the_others_readable(tmp_path):
    # one tune music21 cannot parse made the whole book unreadable: `info` on its first tune
    # failed, and `corpus add` recorded none of its tunes
    path = tmp_path / "book.abc"
    path.write_text(
        "X:1\nT:Good\nM:4/4\nL:1/4\nK:C\nCDEF|G4|]\n\n"
        "X:2\nT:Broken\nM:4/4\nL:1/4\nK:C\nCDEF|[[[ |G4|]\n\n"
        "X:3\nT:Also good\nM:3/4\nL:1/4\nK:G\nGAB|d3|]\n"
    )
    assert read_abc(path).title == "Good"
    assert [s.title for s in read_abc_book(path)] == ["Good", "Also good"]


RESTING_END = """<?xml version="1.0" encoding="UTF-8"?>
<score-partwise version="4.0">
  <part-list><score-part id="P1"><part-name>Flute</part-name></score-part></part-list>
  <part id="P1">
    <measure number="1">
      <attributes><divisions>1</divisions><time><beats>3</beats><beat-type>4</beat-type></time></attributes>
      <note><pitch><step>C</step><octave>5</octave></pitch><duration>3</duration><type>half</type><dot/></note>
    </measure>
    <measure number="2">
      <note><pitch><step>D</step><octave>5</octave></pitch><duration>1</duration><type>quarter</type></note>
      <note><rest/><duration>2</duration><type>half</type></note>
    </measure>
    <measure number="3"><note><rest measure="yes"/><duration>3</duration></note></measure>
  </part>
</score-partwise>
"""


def test_a_closing_bar_of_rests_is_kept_as_the_written_end(tmp_path):
    # `| C D E F | z4 |` read as one bar: the notes alone do not say the piece goes on resting
    (tmp_path / "rest.musicxml").write_text(RESTING_END)
    score = read_musicxml(tmp_path / "rest.musicxml")
    assert score.end_ticks == 4 * 480 and score.written_end_ticks == 9 * 480
    assert score.written_bars_end == 9 * 480
    (tmp_path / "rest.abc").write_text("X:1\nM:4/4\nL:1/4\nK:C\nC D E F | z4 |]\n")
    score = read_abc(tmp_path / "rest.abc")
    assert score.end_ticks == 4 * 480 and score.written_end_ticks == 8 * 480
    # a last bar that rests after its note needs no written end: the bar holds a note
    (tmp_path / "note.abc").write_text("X:1\nM:4/4\nL:1/4\nK:C\nC D E F | G z3 |]\n")
    score = read_abc(tmp_path / "note.abc")
    assert score.written_end_ticks is None and score.written_bars_end == 8 * 480


def test_a_pedalled_piano_keeps_its_pedalling_through_musicxml(tmp_path):
    # an arpeggio in 16ths each bar, the pedal pressed just after each bar's first note and
    # let go just before the next bar: in MusicXML a pedal mark over each bar's notes, read
    # back as the pedal down from the first note to the next bar's
    arpeggio = [
        (bar * 4 + k / 4, 0.25, (48, 55, 60, 64)[k % 4]) for bar in range(3) for k in range(16)
    ]
    pedal = [
        Control(round(t * 480), 64, v)
        for bar in range(3)
        for t, v in ((bar * 4 + 0.02, 127), (bar * 4 + 3.98, 0))
    ]
    track = Track("Piano", 0, notes=notes(*arpeggio), controls=tuple(pedal))
    write_score(make_score(track), tmp_path / "p.musicxml")
    assert (tmp_path / "p.musicxml").read_text().count('type="start"') >= 3
    (back,) = read_score(tmp_path / "p.musicxml").tracks
    tpb = read_score(tmp_path / "p.musicxml").ticks_per_beat
    bars = [(s / (4 * tpb), e / (4 * tpb)) for s, e in back.pedal_spans()]
    assert bars == [(0, 1), (1, 2), (2, 3)]  # the last let go as its last 16th ends


def test_pedal_marks_of_a_grand_staff_pedal_both_staves(tmp_path):
    # a notation program writes a piano as one part on two staves; music21 keeps the pedal
    # marks with the upper staff while they mark the lower staff's notes, and they were lost
    from music21 import expressions, layout, note, stream

    upper, lower = stream.PartStaff(), stream.PartStaff()
    upper.partName = lower.partName = "Piano"
    bar = stream.Measure(number=1)
    bar.append(note.Note(72, quarterLength=4))
    upper.append(bar)
    low_notes = [note.Note(48 + k, quarterLength=1) for k in range(4)]
    bar = stream.Measure(number=1)
    bar.append(low_notes)
    lower.append(bar)
    upper.insert(0, expressions.PedalMark(low_notes[0], low_notes[-1]))
    score = stream.Score()
    for staff in (upper, lower):
        score.insert(0, staff)
    score.insert(0, layout.StaffGroup([upper, lower], symbol="brace"))
    score.write("musicxml", fp=tmp_path / "grand.musicxml")
    back = read_score(tmp_path / "grand.musicxml")
    whole_bar = (0, 4 * back.ticks_per_beat)
    assert [t.pedal_spans() for t in back.tracks] == [[whole_bar], [whole_bar]]


def test_a_pedal_changed_over_a_held_note_stays_changed(tmp_path):
    # a bass held a whole bar under a pedal changed at the half bar: the first mark ran to its
    # note's end, over the second, and the two were read as one mark a bar
    from music21 import expressions, note, stream

    held, first, second = note.Note(36, quarterLength=4), note.Note(69), note.Note(71)
    first.quarterLength = second.quarterLength = 2
    bar = stream.Measure(number=1)
    low, high = stream.Voice(id="1"), stream.Voice(id="2")
    low.append(held)
    high.append([first, second])
    bar.insert(0, low)
    bar.insert(0, high)
    part = stream.Part()
    part.append(bar)
    part.insert(0, expressions.PedalMark(held, held))
    part.insert(0, expressions.PedalMark(second, second))
    score = stream.Score()
    score.insert(0, part)
    score.write("musicxml", fp=tmp_path / "p.musicxml")
    back = read_score(tmp_path / "p.musicxml")
    half = 2 * back.ticks_per_beat
    assert back.tracks[0].pedal_spans() == [(0, half), (half, 2 * half)]


def pedal_through_musicxml(tmp_path, spec, pedal) -> list[tuple[float, float]]:
    """The sustain pedal's spans, in beats, of a piano playing `spec` ((onset, length, pitch)
    in beats) with `pedal` ((beat, value) changes), written as MusicXML and read back."""
    controls = tuple(Control(round(beat * 480), 64, value) for beat, value in pedal)
    write_score(
        make_score(Track("Piano", 0, notes=notes(*spec), controls=controls)),
        tmp_path / "p.musicxml",
    )
    back = read_score(tmp_path / "p.musicxml")
    beat = back.ticks_per_beat
    return [(down / beat, up / beat) for down, up in back.tracks[0].pedal_spans()]


def test_a_pedal_mark_ending_on_a_tied_chord_holds_it_to_its_end(tmp_path):
    # the mark's last chord is tied over the bar line: the pedal was lifted at the bar line,
    # where the chord's first piece ends, not where the chord does
    spec = [(0, 2, 60), (2, 4, 64), (2, 4, 67)]
    assert pedal_through_musicxml(tmp_path, spec, [(0, 127), (6, 0)]) == [(0, 6)]


def test_a_pedal_held_through_rests_after_the_notes_keeps_holding(tmp_path):
    # an arpeggio over half a bar, then rests, the pedal held to the bar's end: the mark ended
    # on the last note and the arpeggio came back held for half the bar
    spec = [(bar * 4 + k / 4, 0.25, (48, 55, 60, 64)[k % 4]) for bar in range(2) for k in range(8)]
    pedal = [(bar * 4 + t, v) for bar in range(2) for t, v in ((0.02, 127), (3.98, 0))]
    assert pedal_through_musicxml(tmp_path, spec, pedal) == [(0, 4), (4, 8)]


def test_a_pedal_lifted_in_the_middle_of_a_tied_chord_is_read_back_lifted_there(tmp_path):
    # a chord held 6 beats over the bar line, the pedal lifted at beat 4: the reader took the
    # mark to the tied chord's end, two beats late
    spec = [(0, 6, 48), (0, 6, 55), (2, 1, 72), (6, 2, 67)]
    assert pedal_through_musicxml(tmp_path, spec, [(0, 127), (4, 0)]) == [(0, 4)]


def test_a_pedal_held_over_an_empty_bar_after_a_bar_of_two_voices_holds_it(tmp_path):
    # the notes' bar is written in two voices, the empty bar after it in one: the mark did not
    # run on over the empty bar's rest, and the bar the pedal lets ring went silent
    spec = [(0, 4, 36), (0, 1, 72), (1, 1, 74), (2, 2, 76), (8, 4, 60)]
    pedal = [(0, 127), (8, 0), (8, 127)]
    assert pedal_through_musicxml(tmp_path, spec, pedal)[0] == (0, 8)


@pytest.mark.parametrize(
    "body",
    [
        "G |: ABcd efga | bagf edcB :|\n",  # one plain bar line
        "G |: ABcd efga :: bagf edcB :|\n",  # none: only repeat signs
    ],
    ids=["one plain bar line", "none"],
)
def test_abc_tune_with_fewer_than_two_plain_bar_lines_keeps_its_bars(tmp_path, body):
    # music21 made no bars of such a tune: the repeats were not played and the pickup was lost
    path = tmp_path / "short.abc"
    path.write_text("X:1\nT:Short\nM:4/4\nL:1/8\nK:G\n" + body)
    score = read_abc(path)
    pitches = [n.pitch for n in score.tracks[0].notes]
    strain = [69, 71, 72, 74, 76, 78, 79, 81, 83, 81, 79, 78, 76, 74, 72, 71]
    if "::" in body:  # two strains, each repeated
        strain = strain[:8] * 2 + strain[8:] * 2
    else:
        strain = strain * 2
    assert pitches == [67, *strain]
    # an eighth's pickup, then 4/4 bars
    assert score.time_signatures == (TimeSignature(0, 4, 4), TimeSignature(240, 4, 4))
    assert score.bar_grid.bar_count(score.end_ticks) == 5


def test_abc_tune_in_free_metre_keeps_its_written_bars(tmp_path):
    # bars of 3 and 4 eighths were read as 4/4 bars that cut across the written ones
    path = tmp_path / "free.abc"
    path.write_text("X:1\nT:Free\nM:none\nL:1/8\nK:D\nDEF | GABc | dcB | A4 |]\n")
    score = read_abc(path)
    assert [(m.onset_ticks, str(m)) for m in score.time_signatures] == [
        (0, "3/8"), (720, "2/4"), (1680, "3/8"), (2400, "2/4")]  # fmt: skip
    assert score.bar_grid.bar_count(score.end_ticks) == 4
    assert [n.pitch for n in score.tracks[0].notes] == [62, 64, 66, 67, 69, 71, 73, 74, 73, 71, 69]


def test_abc_tune_without_a_meter_field_is_read_in_common_time(tmp_path):
    # a hand-written tune that leaves M: out most often means 4/4: read in free metre, its
    # pickup and short closing bar were meters of their own, and `continue` went on in the
    # closing bar's 7/8
    path = tmp_path / "tune.abc"
    path.write_text("X:1\nL:1/8\nK:G\nD|GABc dedB|c2A2 G2 GA|GABc dedB|c2A2 G3|]\n")
    assert {str(m) for m in read_abc(path).time_signatures} == {"4/4"}
