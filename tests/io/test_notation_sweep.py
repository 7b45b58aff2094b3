"""Score files as notation programs write them: drum kits, titles on the first page only,
repeats written out. Each file is written by hand here, the way MuseScore, Dorico or an ABC
tune book has it."""

import zipfile

from bandmate.io.formats import read_score, write_score
from bandmate.score import Note, Role, Score, TimeSignature, Track
from bandmate.theory.chords import format_chord
from bandmate.theory.keys import Key

_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<score-partwise version="4.0">
  {credits}
  <part-list>
    <score-part id="P1"><part-name>Voice</part-name></score-part>
    <score-part id="P2"><part-name>Drumset</part-name>
      {instruments}
    </score-part>
  </part-list>
  <part id="P1">
    <measure number="1">
      <attributes><divisions>1</divisions><key><fifths>2</fifths></key>
        <time><beats>4</beats><beat-type>4</beat-type></time></attributes>
      <note><pitch><step>D</step><octave>5</octave></pitch><duration>2</duration></note>
      <note><pitch><step>A</step><octave>4</octave></pitch><duration>2</duration></note>
    </measure>
  </part>
  <part id="P2">
    <measure number="1">
      <attributes><divisions>1</divisions><time><beats>4</beats><beat-type>4</beat-type></time>
        <clef><sign>percussion</sign></clef></attributes>
      {drums}
    </measure>
  </part>
</score-partwise>
"""

# MuseScore's drumset: one score-instrument per drum, <midi-unpitched> counted from 1
_KIT = """
      <score-instrument id="P2-I36"><instrument-name>Acoustic Bass Drum</instrument-name>
        </score-instrument>
      <score-instrument id="P2-I39"><instrument-name>Acoustic Snare</instrument-name>
        </score-instrument>
      <score-instrument id="P2-I43"><instrument-name>Closed Hi-Hat</instrument-name>
        </score-instrument>
      <score-instrument id="P2-I47"><instrument-name>Open Hi-Hat</instrument-name>
        </score-instrument>
      <midi-instrument id="P2-I36"><midi-channel>10</midi-channel>
        <midi-unpitched>36</midi-unpitched></midi-instrument>
      <midi-instrument id="P2-I39"><midi-channel>10</midi-channel>
        <midi-unpitched>39</midi-unpitched></midi-instrument>
      <midi-instrument id="P2-I43"><midi-channel>10</midi-channel>
        <midi-unpitched>43</midi-unpitched></midi-instrument>
      <midi-instrument id="P2-I47"><midi-channel>10</midi-channel>
        <midi-unpitched>47</midi-unpitched></midi-instrument>"""


def _drum(step: str, octave: int, instrument: str | None, head: str | None = None) -> str:
    ref = f'<instrument id="{instrument}"/>' if instrument else ""
    notehead = f"<notehead>{head}</notehead>" if head else ""
    return (
        f"<note><unpitched><display-step>{step}</display-step><display-octave>{octave}"
        f"</display-octave></unpitched><duration>1</duration>{ref}<voice>1</voice>"
        f"<type>quarter</type>{notehead}</note>"
    )


def _kit_bar() -> str:
    # bass drum on F4, snare on C5, closed hi-hat and open hi-hat both on G5 (x and circle-x)
    return "".join(
        [
            _drum("F", 4, "P2-I36"),
            _drum("C", 5, "P2-I39"),
            _drum("G", 5, "P2-I43", "x"),
            _drum("G", 5, "P2-I47", "circle-x"),
        ]
    )


def _drum_pitches(score) -> list[int]:
    drums = [t for t in score.tracks if t.is_drum]
    assert len(drums) == 1
    return [n.pitch for n in sorted(drums[0].notes, key=lambda n: n.onset_ticks)]


def test_a_musescore_drum_kit_plays_its_drums_not_the_staff_positions(tmp_path):
    xml = _HEAD.format(credits="", instruments=_KIT, drums=_kit_bar())
    path = tmp_path / "kit.musicxml"
    path.write_text(xml)
    score = read_score(path)
    # GM: acoustic bass drum 35, snare 38, closed hi-hat 42, open hi-hat 46; F4, C5 and G5
    # (65, 72, 79) are only where they are drawn
    assert _drum_pitches(score) == [35, 38, 42, 46]
    # and a MIDI file made of it plays those drums
    out = tmp_path / "kit.mid"
    write_score(score, out)
    assert _drum_pitches(read_score(out)) == [35, 38, 42, 46]
    # the pitched part is left as it is
    assert [n.pitch for n in score.tracks[0].notes] == [74, 69]


def test_a_compressed_drum_part_of_one_instrument_plays_that_drum(tmp_path):
    # a part of one drum and notes that name no instrument (Finale, older MuseScore)
    one = (
        '<score-instrument id="P2-I39"><instrument-name>Snare</instrument-name>'
        '</score-instrument><midi-instrument id="P2-I39"><midi-channel>10</midi-channel>'
        "<midi-unpitched>39</midi-unpitched></midi-instrument>"
    )
    bar = "".join(_drum("C", 5, None) for _ in range(4))
    xml = _HEAD.format(credits="", instruments=one, drums=bar)
    path = tmp_path / "snare.mxl"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(
            "META-INF/container.xml",
            '<?xml version="1.0"?><container><rootfiles>'
            '<rootfile full-path="snare.musicxml"/></rootfiles></container>',
        )
        z.writestr("snare.musicxml", xml)
    assert _drum_pitches(read_score(path)) == [38, 38, 38, 38]


def test_a_title_given_only_on_the_first_page_is_the_pieces_title(tmp_path):
    credits = (
        '<credit page="1"><credit-type>title</credit-type><credit-words justify="center" '
        'font-size="24">Morning  Song</credit-words></credit>'
        '<credit page="1"><credit-type>composer</credit-type><credit-words>A. Person'
        "</credit-words></credit>"
    )
    xml = _HEAD.format(credits=credits, instruments=_KIT, drums=_kit_bar())
    path = tmp_path / "dorico.musicxml"
    path.write_text(xml)
    score = read_score(path)
    assert score.title == "Morning Song"
    # and a file written from it keeps it
    out = tmp_path / "copy.musicxml"
    write_score(score, out)
    assert read_score(out).title == "Morning Song"


def test_a_credit_that_is_not_the_title_gives_no_title(tmp_path):
    credits = (
        '<credit page="1"><credit-type>composer</credit-type><credit-words>A. Person'
        "</credit-words></credit>"
    )
    path = tmp_path / "untitled.musicxml"
    path.write_text(_HEAD.format(credits=credits, instruments=_KIT, drums=_kit_bar()))
    assert read_score(path).title is None


def test_a_repeated_strain_keeps_one_key(tmp_path):
    # a reel: the strain played twice is the same key, not a key change where it comes back
    path = tmp_path / "reel.abc"
    path.write_text(
        "X:1\nT:Reel\nM:4/4\nL:1/8\nK:D\n"
        '|:"D"d2 fd A>B AF|"G"GABG "A"(3ABA FA|1"G"BdAF "D"D4:|2"G"BdAF "D"D2 z2|]\n'
    )
    score = read_score(path)
    assert [(k.onset_ticks, k.key) for k in score.keys] == [(0, Key(2))]
    # the strain is written out: 3 bars then 2 more
    assert len(score.tracks[0].notes) > 2 * 16


def test_key_changes_between_repeated_strains_are_kept(tmp_path):
    path = tmp_path / "change.abc"
    path.write_text(
        "X:1\nT:Change\nM:4/4\nL:1/4\nK:G\n"
        "|:G A B c|d e d c|B A G2:|\n"
        "[K:D]|:f g a f|e d c d|e c d2:|\n"
        "[K:G]G A B c|d B G2|]\n"
    )
    keys = [(k.onset_ticks, k.key) for k in read_score(path).keys]
    bar = 1920
    # each strain twice: G, then D from bar 7, then G again from bar 13, once each
    assert keys == [(0, Key(7)), (6 * bar, Key(2)), (12 * bar, Key(7))]


def _legato_melody(overlap: int) -> Score:
    """A tune as a keyboard player plays it into MIDI: each quarter held `overlap` ticks into
    the next; the last one let go on the beat."""
    pitches = [67, 69, 71, 72, 74, 72, 71, 69]
    notes = [Note(i * 480, 480 + (overlap if i < 7 else 0), p) for i, p in enumerate(pitches)]
    return Score(
        tracks=(Track("Lead", 0, False, Role.MELODY, tuple(notes)),),
        time_signatures=(TimeSignature(0, 4, 4),),
        title="Legato",
    )


def test_a_melody_played_legato_is_notated_as_one_line_of_quarters(tmp_path):
    midi = tmp_path / "played.mid"
    write_score(_legato_melody(overlap=90), midi)
    out = tmp_path / "played.musicxml"
    write_score(read_score(midi), out)
    notes = read_score(out).tracks[0].notes
    # quarters, each ending where the next begins: not two voices of quarters tied to 16ths
    assert [(n.onset_ticks, n.duration_ticks) for n in notes] == [(i * 480, 480) for i in range(8)]
    assert [n.pitch for n in notes] == [67, 69, 71, 72, 74, 72, 71, 69]
    # the MIDI file itself is read as it was played
    assert read_score(midi).tracks[0].notes[0].duration_ticks == 570


def test_notes_held_a_beat_under_the_next_stay_two_voices(tmp_path):
    out = tmp_path / "held.musicxml"
    write_score(_legato_melody(overlap=480), out)
    notes = read_score(out).tracks[0].notes
    # half notes each under the next quarter's onset: written as they sound
    assert [n.duration_ticks for n in notes] == [960] * 7 + [480]


def test_abc_chord_symbols_after_an_annotation_are_read(tmp_path):
    # "^Chorus" is text above the staff, "G/B" the chord: music21 kept the first quoted string
    # only, and the chord was lost
    path = tmp_path / "annotated.abc"
    path.write_text(
        "X:1\nT:Annotated\nM:4/4\nL:1/4\nK:G\n"
        '"^Verse"G A B c|"D7"d2 A2|\n'
        '"^Chorus" "G/B"B d "_rit." "C"c2|"<Fine""D7"A "G"G2 z|]\n'
        "w:la la la la la la la la la la la la la\n"
    )
    score = read_score(path)
    chords = [(c.onset_ticks // 480, format_chord(c.symbol)) for c in score.chords]
    assert chords == [(4, "D7"), (8, "G/B"), (10, "C"), (12, "D7"), (13, "G")]
    # the notes are all there, as written
    assert [n.pitch for n in score.tracks[0].notes] == [
        67, 69, 71, 72, 74, 69, 71, 74, 72, 69, 67,
    ]  # fmt: skip


def test_a_chord_symbol_before_a_sharp_or_flat_note_keeps_the_bar(tmp_path):
    # the closing quote of "E7" before ^g (a leading tone, in any minor tune) was taken for the
    # opening of an annotation: everything up to the next quote was dropped, a bar with it
    path = tmp_path / "leading.abc"
    path.write_text(
        "X:1\nT:Leading tone\nM:4/4\nL:1/8\nK:Am\n"
        '"Am"A2 c2 e2 a2 | "E7"^g2 e2 B2 ^G2 | "Am"A2 c2 "Dm"d2 _B2 | "E7"e2 ^g2 "Am"a4 |]\n'
    )
    score = read_score(path)
    chords = [format_chord(c.symbol) for c in score.chords]
    assert chords == ["Am", "E7", "Am", "Dm", "E7", "Am"]
    assert len(score.tracks[0].notes) == 15
    assert score.bar_grid.bar_count(score.end_ticks) == 4


def test_cue_notes_in_a_players_part_are_not_played(tmp_path):
    # a flute part exported from Finale or Dorico: the oboe's line printed small over two beats
    # of rest (a chord among them), then the flute's own notes
    def cue(step: str, chord: bool = False) -> str:
        return (
            f"<note>{'<chord/>' if chord else ''}<cue/><pitch><step>{step}</step>"
            "<octave>4</octave></pitch><duration>1</duration><type>quarter</type></note>"
        )

    own = "".join(
        f"<note><pitch><step>{s}</step><octave>5</octave></pitch><duration>1</duration>"
        "<type>quarter</type></note>"
        for s in "DE"
    )
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?><score-partwise version="3.1">'
        '<part-list><score-part id="P1"><part-name>Flute</part-name></score-part></part-list>'
        '<part id="P1"><measure number="1"><attributes><divisions>1</divisions>'
        "<time><beats>4</beats><beat-type>4</beat-type></time></attributes>"
        f"{cue('E')}{cue('G')}{cue('B', chord=True)}{own}</measure></part></score-partwise>"
    )
    path = tmp_path / "flute.musicxml"
    path.write_text(xml)
    notes = read_score(path).tracks[0].notes
    assert [(n.onset_ticks, n.pitch) for n in notes] == [(960, 74), (1440, 76)]


def test_a_grand_staff_gives_two_tracks_told_apart_by_name(tmp_path):
    # MuseScore's piano: one part of two staves, the left hand on staff 2 after a <backup>
    def n(step: str, octave: int, staff: int) -> str:
        return (
            f"<note><pitch><step>{step}</step><octave>{octave}</octave></pitch><duration>2"
            f"</duration><voice>{1 if staff == 1 else 5}</voice><type>half</type>"
            f"<staff>{staff}</staff></note>"
        )

    xml = (
        '<?xml version="1.0" encoding="UTF-8"?><score-partwise version="3.1">'
        '<part-list><score-part id="P1"><part-name>Piano</part-name></score-part></part-list>'
        '<part id="P1"><measure number="1"><attributes><divisions>1</divisions>'
        "<time><beats>4</beats><beat-type>4</beat-type></time><staves>2</staves>"
        '<clef number="1"><sign>G</sign><line>2</line></clef>'
        '<clef number="2"><sign>F</sign><line>4</line></clef></attributes>'
        f"{n('E', 5, 1)}{n('D', 5, 1)}<backup><duration>4</duration></backup>"
        f"{n('C', 3, 2)}{n('G', 2, 2)}</measure></part></score-partwise>"
    )
    path = tmp_path / "piano.musicxml"
    path.write_text(xml)
    score = read_score(path)
    assert [(t.name, [x.pitch for x in t.notes]) for t in score.tracks] == [
        ("Piano (upper staff)", [76, 74]),
        ("Piano (lower staff)", [48, 43]),
    ]
