"""Standard MIDI File round trips and bad files."""

import dataclasses
import io
from pathlib import Path

import mido
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bandmate.errors import InputFileError, OutputError
from bandmate.io.midi import midi_bytes, midi_from_bytes, read_midi, write_midi
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
from bandmate.score.model import CHANNEL_PRESSURE, PITCH_BEND
from bandmate.theory.chords import parse_chord
from bandmate.theory.keys import Key

CHORDS = ["C", "Am7", "F#m7b5", "Bbmaj7/D", "G7b9", "N.C.", "Ebsus4", "C6/9"]
KEYS = ["C", "Bb", "F#", "Am", "Ebm", "Db", "G#m"]


@st.composite
def tracks_notes(draw, max_notes=30):
    # same-pitch notes may not overlap: MIDI cannot tell which note-off closes which
    out, busy_until = [], {}
    for _ in range(draw(st.integers(0, max_notes))):
        pitch = draw(st.integers(0, 127))
        onset = draw(st.integers(busy_until.get(pitch, 0), busy_until.get(pitch, 0) + 4000))
        dur = draw(st.integers(1, 3000))
        out.append(Note(onset, dur, pitch, draw(st.integers(1, 127))))
        busy_until[pitch] = onset + dur
    return tuple(out)


@st.composite
def track_controls(draw, max_controls=8):
    """Controller changes a Score keeps: control changes 1-119 but bank select's LSB (32), the
    reset of all controllers (121), pitch bends and channel aftertouch; several may share a
    tick."""
    out = []
    for _ in range(draw(st.integers(0, max_controls))):
        number = draw(
            st.one_of(
                st.integers(1, 119).filter(lambda n: n != 32),
                st.sampled_from([PITCH_BEND, CHANNEL_PRESSURE, 121]),
            )
        )
        low, high = (-8192, 8191) if number == PITCH_BEND else (0, 127)
        out.append(Control(draw(st.integers(0, 3000)), number, draw(st.integers(low, high))))
    return tuple(out)


@st.composite
def scores(draw):
    n_tracks = draw(st.integers(1, 6))
    tracks = []
    for i in range(n_tracks):
        is_drum = draw(st.booleans()) if i == n_tracks - 1 else False
        tracks.append(
            Track(
                name=draw(st.sampled_from(["Bass", "Piano", "Lead", "Pad", "Gtr", "Kit"])) + str(i),
                program=draw(st.integers(0, 127)),
                is_drum=is_drum,
                role=draw(st.sampled_from(list(Role))),
                notes=draw(tracks_notes()),
                controls=draw(track_controls()),
            )
        )
    ticks = st.integers(1, 20_000)
    tempos = [TempoChange(0, draw(st.integers(200_000, 2_000_000)))] + [
        TempoChange(draw(ticks), draw(st.integers(200_000, 2_000_000)))
        for _ in range(draw(st.integers(0, 3)))
    ]
    meters = [TimeSignature(0, draw(st.integers(1, 12)), draw(st.sampled_from([2, 4, 8])))] + [
        TimeSignature(draw(ticks), draw(st.integers(1, 12)), draw(st.sampled_from([2, 4, 8, 16])))
        for _ in range(draw(st.integers(0, 2)))
    ]
    keys = [KeyChange(draw(ticks), Key.parse(draw(st.sampled_from(KEYS)))) for _ in range(2)]
    chords = [
        ChordEvent(draw(st.integers(0, 20_000)), parse_chord(draw(st.sampled_from(CHORDS))))
        for _ in range(draw(st.integers(0, 6)))
    ]
    chords = list({c.onset_ticks: c for c in chords}.values())  # one chord per tick
    sections = [Section(draw(ticks), draw(st.sampled_from(["Verse", "Chorus", "A", "Bridge"])))]
    return Score(
        tracks=tuple(tracks),
        ticks_per_beat=draw(st.sampled_from([96, 480, 960])),
        tempos=tuple(tempos),
        time_signatures=tuple(meters),
        keys=tuple(keys),
        chords=tuple(chords),
        sections=tuple({s.onset_ticks: s for s in sections}.values()),
        title=draw(st.sampled_from([None, "Song", "Étude in C"])),
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(score=scores(), midi_type=st.sampled_from([0, 1]))
def test_midi_round_trip_is_exact(score, midi_type):
    back = midi_from_bytes(midi_bytes(score, midi_type))
    assert back.ticks_per_beat == score.ticks_per_beat
    assert back.tempos == score.tempos
    assert back.time_signatures == score.time_signatures
    assert back.keys == score.keys
    assert back.chords == score.chords
    assert back.sections == score.sections
    assert back.title == score.title
    assert back.tracks == score.tracks


def test_file_round_trip_and_atomic_write(tmp_path, small_song):
    path = tmp_path / "song.mid"
    write_midi(small_song, path)
    assert read_midi(path) == small_song
    assert [p.name for p in tmp_path.iterdir()] == ["song.mid"]  # no temporary left behind


def test_reads_foreign_type0_file_split_by_channel(tmp_path):
    mid = mido.MidiFile(type=0, ticks_per_beat=96)
    track = mido.MidiTrack()
    track += [
        mido.Message("program_change", channel=0, program=33, time=0),
        mido.Message("note_on", channel=0, note=40, velocity=100, time=0),
        mido.Message("note_on", channel=9, note=36, velocity=80, time=0),
        mido.Message("note_on", channel=9, note=36, velocity=0, time=24),  # note-off as velocity 0
        mido.Message("note_off", channel=0, note=40, velocity=0, time=72),
    ]
    mid.tracks.append(track)
    path = tmp_path / "foreign.mid"
    mid.save(path)
    score = read_midi(path)
    assert score.ticks_per_beat == 96
    by_drum = {t.is_drum: t for t in score.tracks}
    assert by_drum[False].notes == (Note(0, 96, 40, 100),)
    assert by_drum[False].role == Role.BASS  # inferred from the GM program
    assert by_drum[True].notes == (Note(0, 24, 36, 80),)
    assert by_drum[True].role == Role.DRUMS


def test_unterminated_notes_end_with_the_track(tmp_path):
    mid = mido.MidiFile(type=1)
    mid.tracks.append(
        mido.MidiTrack(
            [
                mido.Message("note_on", note=60, velocity=64, time=10),
                mido.MetaMessage("end_of_track", time=100),
            ]
        )
    )
    path = tmp_path / "stuck.mid"
    mid.save(path)
    assert read_midi(path).tracks[0].notes == (Note(10, 100, 60, 64),)


def test_a_final_chord_struck_as_the_track_ends_with_no_note_offs_lasts_a_beat(tmp_path):
    # its notes had no length and were dropped: the piece lost its last chord
    mid = mido.MidiFile(type=1, ticks_per_beat=96)
    chord = [mido.Message("note_on", note=p, velocity=70, time=0) for p in (60, 64, 67)]
    chord[0] = chord[0].copy(time=4 * 96)
    mid.tracks.append(
        mido.MidiTrack(
            [
                mido.Message("note_on", note=48, velocity=70, time=0),
                mido.Message("note_off", note=48, velocity=0, time=4 * 96),
                *chord,
                mido.MetaMessage("end_of_track", time=0),
            ]
        )
    )
    path = tmp_path / "ends.mid"
    mid.save(path)
    notes = read_midi(path).tracks[0].notes
    assert notes == (Note(0, 384, 48, 70), *(Note(768, 96, p, 70) for p in (60, 64, 67)))


def test_a_drum_hit_struck_as_the_track_ends_stays_a_hit(tmp_path):
    # a pitched note struck as the track ends lasts a beat; a drum hit stays as short as one
    # written with its note-off at the same tick
    mid = mido.MidiFile(type=1, ticks_per_beat=480)
    mid.tracks.append(
        mido.MidiTrack(
            [
                mido.Message("note_on", channel=9, note=36, velocity=90, time=0),
                mido.Message("note_off", channel=9, note=36, velocity=0, time=0),
                mido.Message("note_on", channel=9, note=38, velocity=90, time=1920),
                mido.MetaMessage("end_of_track", time=0),
            ]
        )
    )
    path = tmp_path / "hits.mid"
    mid.save(path)
    assert read_midi(path).tracks[0].notes == (Note(0, 60, 36, 90), Note(1920, 60, 38, 90))


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"RIFF....WAVEfmt ", "not a MIDI file"),
        (b"", "not a MIDI file"),
        (b"MThd\x00\x00\x00\x06\x00\x01", "truncated"),
    ],
)
def test_bad_bytes_are_user_errors(data, words):
    with pytest.raises(InputFileError, match=words):
        midi_from_bytes(data, "x.mid")


def test_truncated_file_is_a_clear_error(tmp_path, small_song):
    data = midi_bytes(small_song)
    for cut in (20, len(data) // 2, len(data) - 3):
        with pytest.raises(InputFileError, match=r"truncated|corrupt"):
            midi_from_bytes(data[:cut], "cut.mid")


def test_note_above_127_is_a_corrupt_file():
    # a note-on whose pitch byte is 200: it was clipped to 127 and rendered as silence
    track = b"\x00\x90\xc8\x64\x83\x60\x80\xc8\x00\x00\xff\x2f\x00"
    data = b"MThd\x00\x00\x00\x06\x00\x00\x00\x01\x01\xe0"
    data += b"MTrk" + len(track).to_bytes(4, "big") + track
    with pytest.raises(InputFileError, match="value above 127"):
        midi_from_bytes(data, "bad.mid")


def test_meter_before_the_first_time_signature_is_four_four():
    # a 3/4 event at bar 2 was taken back to tick 0: bar 1 became a 3/4 bar and a 1-beat bar
    data = _file_with(
        mido.MetaMessage("time_signature", numerator=3, denominator=4, time=1920),
        mido.Message("note_on", note=60, velocity=90, time=0),
        mido.Message("note_off", note=60, time=1440),
    )
    score = midi_from_bytes(data)
    assert score.time_signatures == (TimeSignature(0, 4, 4), TimeSignature(1920, 3, 4))
    assert score.bar_grid.bar_starts(3360) == [0, 1920]


def test_missing_file(tmp_path):
    with pytest.raises(InputFileError, match="does not exist"):
        read_midi(tmp_path / "nope.mid")


def test_conductor_text_that_is_not_a_chord_is_ignored(tmp_path):
    mid = mido.MidiFile(type=1)
    mid.tracks.append(
        mido.MidiTrack(
            [
                mido.MetaMessage("text", text="Composed by me", time=0),
                mido.MetaMessage("text", text="Dm7", time=480),
            ]
        )
    )
    path = Path(tmp_path / "t.mid")
    mid.save(path)
    score = read_midi(path)
    assert [(c.onset_ticks, str(c.symbol)) for c in score.chords] == [(480, "Dm7")]


def test_a_file_timed_in_smpte_frames_is_a_clear_error(small_song):
    # a division with its top bit set counts SMPTE frames, not ticks per beat; it was reported
    # as "an invalid MIDI event (ticks_per_beat must be >= 1, got -6360)"
    data = bytearray(midi_bytes(small_song))
    data[12:14] = bytes([0xE7, 0x28])  # -25 frames per second, 40 ticks per frame
    with pytest.raises(InputFileError, match="SMPTE"):
        midi_from_bytes(bytes(data), "film.mid")


def test_titles_and_names_outside_latin1_are_written_plain_not_a_crash():
    # mido writes text events as Latin-1: a typographic apostrophe raised UnicodeEncodeError
    tune = Track("Voix ő", role=Role.MELODY, notes=(Note(0, 480, 60), Note(480, 480, 62)))
    score = Score(tracks=(tune,), title="Don\u2019t Stop \u2013 caf\u00e9 \u2713")
    back = midi_from_bytes(midi_bytes(score))
    assert back.title == "Don't Stop - café ?"
    assert back.tracks[0].name == "Voix o"


@pytest.mark.parametrize("written", ["C#", "Cb", "F#", "Gb", "A#m", "Abm", "D#m", "Ebm"])
def test_a_key_signature_is_read_and_written_as_the_file_has_it(written):
    # 7 sharps (C#) came back as Db's 5 flats, F# major as Gb: a file lost its key signature
    mid = mido.MidiFile(type=1)
    mid.tracks.append(mido.MidiTrack([mido.MetaMessage("key_signature", key=written)]))
    buffer = io.BytesIO()
    mid.save(file=buffer)
    score = midi_from_bytes(buffer.getvalue())
    assert str(score.keys[0].key) == written
    back = mido.MidiFile(file=io.BytesIO(midi_bytes(score)))
    assert [m.key for m in back.tracks[0] if m.type == "key_signature"] == [written]


def test_a_riff_midi_file_is_read_as_the_midi_inside_it(small_song):
    # Windows' RIFF MIDI (RMID, .rmi, often saved as .mid) was "not a MIDI file"
    smf = midi_bytes(small_song)
    info = b"LIST" + (4).to_bytes(4, "little") + b"INFO"
    body = b"RMID" + info + b"data" + len(smf).to_bytes(4, "little") + smf
    assert midi_from_bytes(b"RIFF" + len(body).to_bytes(4, "little") + body) == small_song


def test_names_written_in_utf8_are_read_as_utf8():
    # many programs write UTF-8 names; mido reads Latin-1, so "Flûte" showed as "FlÃ»te"
    def raw(text: str) -> str:  # what mido hands over for UTF-8 bytes
        return text.encode("utf-8").decode("latin-1")

    mid = mido.MidiFile(type=1)
    mid.tracks.append(mido.MidiTrack([mido.MetaMessage("track_name", name="Café")]))  # Latin-1
    mid.tracks.append(
        mido.MidiTrack(
            [
                mido.MetaMessage("track_name", name=raw("Flûte ピアノ")),
                mido.MetaMessage("marker", text=raw("Refrão")),
                mido.Message("note_on", note=60, velocity=80),
                mido.Message("note_off", note=60, time=480),
            ]
        )
    )
    buffer = io.BytesIO()
    mid.save(file=buffer)
    score = midi_from_bytes(buffer.getvalue())
    assert (score.title, score.tracks[0].name) == ("Café", "Flûte ピアノ")
    assert [s.name for s in score.sections] == ["Refrão"]


def test_a_file_plays_at_120_bpm_until_its_first_tempo_event():
    # the first tempo event (60 BPM at beat 4) was taken to hold from the start, so the file's
    # first four beats lasted 4 s instead of the 2 s every MIDI player gives them
    mid = mido.MidiFile(type=1, ticks_per_beat=480)
    mid.tracks.append(
        mido.MidiTrack(
            [
                mido.Message("note_on", note=60, velocity=80),
                mido.Message("note_off", note=60, time=480 * 4),
                mido.MetaMessage("set_tempo", tempo=1_000_000, time=0),
                mido.Message("note_on", note=62, velocity=80),
                mido.Message("note_off", note=62, time=480),
            ]
        )
    )
    buffer = io.BytesIO()
    mid.save(file=buffer)
    score = midi_from_bytes(buffer.getvalue())
    assert score.duration_seconds == pytest.approx(mid.length) == pytest.approx(3.0)


def test_names_in_scripts_latin1_lacks_survive_a_round_trip():
    # a part named in Japanese or Russian was written as '???' and lost
    tune = Track("ギター", role=Role.MELODY, notes=(Note(0, 480, 60),))
    for midi_type in (0, 1):
        back = midi_from_bytes(midi_bytes(Score(tracks=(tune,), title="Песня"), midi_type))
        assert (back.title, back.tracks[0].name) == ("Песня", "ギター")


def test_a_marker_repeated_in_every_track_is_one_section():
    # three tracks each with a "Verse" marker gave sections "Verse, Verse, Verse"
    mid = mido.MidiFile(type=1)
    for channel in range(3):
        mid.tracks.append(
            mido.MidiTrack(
                [
                    mido.MetaMessage("marker", text="Verse"),
                    mido.MetaMessage("marker", text="Chorus", time=960),
                    mido.Message("note_on", channel=channel, note=60, velocity=80),
                    mido.Message("note_off", channel=channel, note=60, time=480),
                ]
            )
        )
    buffer = io.BytesIO()
    mid.save(file=buffer)
    score = midi_from_bytes(buffer.getvalue())
    assert [(s.onset_ticks, s.name) for s in score.sections] == [(0, "Verse"), (960, "Chorus")]


def test_a_type_0_file_refuses_parts_that_would_share_a_channel():
    # two drum parts (or 16 pitched ones) were written on one channel and read back as one part
    kit = Track("Kit", is_drum=True, role=Role.DRUMS, notes=(Note(0, 120, 36),))
    shaker = Track("Shaker", is_drum=True, role=Role.DRUMS, notes=(Note(0, 120, 70),))
    score = Score(tracks=(kit, shaker))
    with pytest.raises(OutputError, match="type 1"):
        midi_bytes(score, midi_type=0)
    assert [t.name for t in midi_from_bytes(midi_bytes(score, midi_type=1)).tracks] == [
        "Kit",
        "Shaker",
    ]


def test_drum_hits_of_no_length_are_kept_and_pitched_ones_left_out():
    # a drum pattern written as note-on and note-off at one tick (drum machines do) lost every
    # hit: the file read as having no drums at all
    events = []
    for _ in range(4):
        for channel, note in ((9, 36), (0, 60)):
            events += [
                mido.Message("note_on", channel=channel, note=note, velocity=100),
                mido.Message("note_off", channel=channel, note=note),
            ]
        events.append(mido.MetaMessage("text", text="", time=480))
    mid = mido.MidiFile(type=0, ticks_per_beat=480)
    mid.tracks.append(mido.MidiTrack(events))
    buffer = io.BytesIO()
    mid.save(file=buffer)
    score = midi_from_bytes(buffer.getvalue())
    [kit] = [t for t in score.tracks if t.notes]
    assert kit.is_drum
    assert [(n.onset_ticks, n.duration_ticks, n.pitch) for n in kit.notes] == [
        (beat * 480, 60, 36) for beat in range(4)
    ]


@pytest.mark.parametrize("suffix", [".kar", ".rmi"])
def test_karaoke_and_riff_midi_files_are_read(small_song, tmp_path, suffix):
    # a karaoke .kar file (a MIDI file with lyrics) and a Windows .rmi were refused by suffix
    from bandmate.io.formats import read_score

    smf = midi_bytes(small_song)
    if suffix == ".rmi":
        body = b"RMID" + b"data" + len(smf).to_bytes(4, "little") + smf
        smf = b"RIFF" + len(body).to_bytes(4, "little") + body
    (tmp_path / f"song{suffix}").write_bytes(smf)
    assert read_score(tmp_path / f"song{suffix}") == small_song


def test_a_type_2_file_is_refused_with_what_to_do(tmp_path):
    midi = mido.MidiFile(type=2)
    midi.tracks.append(mido.MidiTrack([mido.Message("note_on", note=60, velocity=90, time=0)]))
    path = tmp_path / "patterns.mid"
    midi.save(path)
    with pytest.raises(InputFileError, match=r"type 2.*export it .* as type 1"):
        read_midi(path)


def _file_with(*messages) -> bytes:
    mid = mido.MidiFile(type=0, ticks_per_beat=480)
    mid.tracks.append(mido.MidiTrack(messages))
    buffer = io.BytesIO()
    mid.save(file=buffer)
    return buffer.getvalue()


def test_program_change_mid_track_gives_each_instrument_its_notes():
    # a part that switches from piano to violin halfway: the violin's notes were read with the
    # first program, so render played them on a piano
    data = _file_with(
        mido.Message("note_on", note=60, velocity=90, time=0),  # before any program change
        mido.Message("program_change", program=0, time=0),
        mido.Message("note_off", note=60, time=480),
        mido.Message("program_change", program=40, time=0),
        mido.Message("note_on", note=72, velocity=90, time=0),
        mido.Message("program_change", program=0, time=240),  # the sounding note stays a violin's
        mido.Message("note_off", note=72, time=240),
        mido.Message("note_on", note=64, velocity=90, time=0),
        mido.Message("note_off", note=64, time=480),
    )
    score = midi_from_bytes(data)
    assert [(t.program, [n.pitch for n in t.notes]) for t in score.tracks] == [
        (0, [60, 64]),
        (40, [72]),
    ]
    assert score.tracks[1].role == Role.MELODY  # a violin, by its own program
    assert len({t.name for t in score.tracks}) == 2


def test_program_changes_in_a_setup_track_set_the_parts_programs():
    # many files set every channel's program in a first track of their own: its changes were
    # read as two silent parts, and the violin and the bass as pianos
    setup = mido.MidiTrack(
        [
            mido.Message("program_change", channel=0, program=40),
            mido.Message("program_change", channel=1, program=33),
        ]
    )
    parts = []
    for channel, name, pitch in ((0, "Violin", 72), (1, "Bass", 36)):
        part = mido.MidiTrack([mido.MetaMessage("track_name", name=name)])
        part += [
            mido.Message("note_on", channel=channel, note=pitch, velocity=90),
            mido.Message("note_off", channel=channel, note=pitch, time=480),
        ]
        parts.append(part)
    mid = mido.MidiFile(type=1)
    mid.tracks += [setup, *parts]
    buffer = io.BytesIO()
    mid.save(file=buffer)
    score = midi_from_bytes(buffer.getvalue())
    assert [(t.name, t.program, len(t.notes)) for t in score.tracks] == [
        ("Violin", 40, 1),
        ("Bass", 33, 1),
    ]


def test_parts_sharing_a_channel_keep_their_own_programs():
    # past 15 pitched parts bandmate shares channels; each part's own change is its program
    tracks = [
        Track(f"Part {i}", program=i, notes=(Note(0, 480, 60 + i % 12, 90),)) for i in range(17)
    ]
    back = midi_from_bytes(midi_bytes(Score(tracks=tuple(tracks))))
    assert [t.program for t in back.tracks] == list(range(17))


def test_repeated_program_change_keeps_one_track():
    data = _file_with(
        mido.Message("program_change", program=33, time=0),
        mido.Message("note_on", note=40, velocity=90, time=0),
        mido.Message("note_off", note=40, time=480),
        mido.Message("program_change", program=33, time=0),
        mido.Message("note_on", note=43, velocity=90, time=0),
        mido.Message("note_off", note=43, time=480),
    )
    (track,) = midi_from_bytes(data).tracks
    assert (track.program, track.name, len(track.notes)) == (33, "Track 0 (channel 1)", 2)


def test_a_type_0_file_s_track_name_is_the_title_not_a_part_s_name():
    # the standard makes the one track's name the sequence's; it was read as the part's name, so
    # the piece had no title and its bass part was called "Blue Bossa"
    data = _file_with(
        mido.MetaMessage("track_name", name="Blue Bossa", time=0),
        mido.Message("program_change", program=33, time=0),
        mido.Message("note_on", note=40, velocity=90, time=0),
        mido.Message("note_off", note=40, time=480),
    )
    score = midi_from_bytes(data)
    assert score.title == "Blue Bossa"
    (track,) = score.tracks
    assert (track.name, track.program, track.role) == ("Track 0 (channel 1)", 33, Role.BASS)
    # with several parts, no part is named after the piece either
    data = _file_with(
        mido.MetaMessage("track_name", name="Blue Bossa", time=0),
        mido.Message("note_on", channel=0, note=60, velocity=90, time=0),
        mido.Message("note_on", channel=9, note=36, velocity=90, time=0),
        mido.Message("note_off", channel=0, note=60, time=480),
        mido.Message("note_off", channel=9, note=36, time=0),
    )
    score = midi_from_bytes(data)
    assert score.title == "Blue Bossa"
    assert not any("Blue Bossa" in t.name for t in score.tracks)


def test_a_titled_one_part_score_reads_back_from_type_0(small_song):
    song = dataclasses.replace(small_song, tracks=small_song.tracks[:1], title="Rainy Tuesday")
    assert midi_from_bytes(midi_bytes(song, midi_type=0)) == song


@pytest.mark.parametrize(("ticks_per_beat", "meter"), [(1, (7, 8)), (2, (3, 16)), (5, (4, 4))])
def test_a_coarse_file_is_read_at_a_resolution_that_holds_its_beats(ticks_per_beat, meter):
    # at 1 tick a quarter a 7/8 bar's eighths were 0 ticks long: `bandmate show` drew beat lines
    # forever and `bandmate chords` divided by zero; times must stay exactly where they were
    mid = mido.MidiFile(type=1, ticks_per_beat=ticks_per_beat)
    events = [mido.MetaMessage("time_signature", numerator=meter[0], denominator=meter[1])]
    for i in range(8):
        events += [
            mido.Message("note_on", note=60 + i, velocity=80, time=ticks_per_beat if i else 0),
            mido.Message("note_off", note=60 + i, time=ticks_per_beat),
        ]
    mid.tracks.append(mido.MidiTrack(events))
    buffer = io.BytesIO()
    mid.save(file=buffer)
    score = midi_from_bytes(buffer.getvalue())
    assert score.ticks_per_beat >= 24 and score.ticks_per_beat % ticks_per_beat == 0
    grid = score.bar_grid
    assert grid.beat_ticks(0) * meter[1] == 4 * score.ticks_per_beat  # a whole number of ticks
    assert grid.bar_start(1) * meter[1] == 4 * meter[0] * score.ticks_per_beat
    onsets = [score.tempo_map.seconds_at(n.onset_ticks) for n in score.tracks[0].notes]
    assert onsets == pytest.approx([i * 1.0 for i in range(8)])  # two beats apart at 120 BPM
    assert score.duration_seconds == pytest.approx(mid.length)


def test_an_end_of_track_a_bar_after_the_last_note_is_a_closing_bar_of_rests(tmp_path):
    # a DAW ends its tracks at the bar line the user set: a closing bar of rests was lost
    def file_ending(end_ticks: int) -> Score:
        track = mido.MidiTrack(
            [
                mido.Message("note_on", note=60, velocity=90, time=0),
                mido.Message("note_off", note=60, velocity=0, time=4 * 480),
                mido.MetaMessage("end_of_track", time=end_ticks - 4 * 480),
            ]
        )
        midi = mido.MidiFile(ticks_per_beat=480, tracks=[track])
        buffer = io.BytesIO()
        midi.save(file=buffer)
        return midi_from_bytes(buffer.getvalue())

    assert file_ending(8 * 480).written_end_ticks == 8 * 480
    assert file_ending(8 * 480 + 30).written_end_ticks == 8 * 480  # a hair after the bar line
    assert file_ending(8 * 480 - 30).written_end_ticks == 8 * 480  # a hair before it
    assert file_ending(4 * 480 + 30).written_end_ticks is None  # a track let go a little late
    assert file_ending(5 * 480).written_end_ticks is None  # inside the bar after: no bar of rests
    # half a bar or more of a pedal's release is still no bar of rests (it was rounded up to one)
    assert file_ending(6 * 480).written_end_ticks is None
    assert file_ending(7 * 480).written_end_ticks is None
    # a DAW project's end, far past the music, is not a written rest (it was 60 empty bars on)
    assert file_ending(64 * 4 * 480).written_end_ticks is None
    rests = file_ending(12 * 480)
    write_midi(rests, tmp_path / "rests.mid")
    assert read_midi(tmp_path / "rests.mid").written_end_ticks == 12 * 480


def test_a_setup_tracks_controllers_hold_for_the_part_on_their_channel():
    # many files set each channel's volume, pan and bend range in a first track without notes
    midi = mido.MidiFile(ticks_per_beat=480)
    setup = mido.MidiTrack(
        [
            mido.Message("control_change", channel=1, control=7, value=70),
            mido.Message("control_change", channel=1, control=101, value=0),
            mido.Message("control_change", channel=1, control=100, value=0),
            mido.Message("control_change", channel=1, control=6, value=12),
            mido.Message("control_change", channel=2, control=10, value=0),
        ]
    )
    part = mido.MidiTrack(
        [
            mido.Message("program_change", channel=1, program=80),
            mido.Message("pitchwheel", channel=1, pitch=-4096, time=240),
            mido.Message("note_on", channel=1, note=60, velocity=90),
            mido.Message("note_off", channel=1, note=60, time=480),
        ]
    )
    midi.tracks.extend([setup, part])
    buffer = io.BytesIO()
    midi.save(file=buffer)
    (track,) = midi_from_bytes(buffer.getvalue()).tracks
    assert track.controls == (
        Control(0, 7, 70),
        Control(0, 101, 0),
        Control(0, 100, 0),
        Control(0, 6, 12),
        Control(240, PITCH_BEND, -4096),
    )


def test_bank_selects_and_per_key_aftertouch_are_not_kept_but_a_reset_is():
    midi = mido.MidiFile(ticks_per_beat=480)
    midi.tracks.append(
        mido.MidiTrack(
            [
                mido.Message("control_change", control=0, value=8),
                mido.Message("control_change", control=32, value=1),
                mido.Message("note_on", note=60, velocity=90),
                mido.Message("polytouch", note=60, value=50, time=10),
                mido.Message("aftertouch", value=40),
                mido.Message("pitchwheel", pitch=2000),
                mido.Message("note_off", note=60, time=470),
                # the reset of all controllers: the bend and the aftertouch go back to rest
                mido.Message("control_change", control=121, value=0),
            ]
        )
    )
    buffer = io.BytesIO()
    midi.save(file=buffer)
    (track,) = midi_from_bytes(buffer.getvalue()).tracks
    assert track.controls == (
        Control(10, CHANNEL_PRESSURE, 40),
        Control(10, PITCH_BEND, 2000),
        Control(480, 121, 0),
    )


@pytest.mark.parametrize("mode", [123, 120, 126])
def test_all_notes_off_ends_the_notes_left_sounding(mode):
    # a sequencer that stops its notes with an all-notes-off rather than a note-off each: the
    # chord rang on to the end of the track, two bars later
    midi = mido.MidiFile(ticks_per_beat=480)
    midi.tracks.append(
        mido.MidiTrack(
            [
                mido.Message("note_on", note=60, velocity=90),
                mido.Message("note_on", note=64, velocity=90),
                mido.Message("note_on", channel=1, note=40, velocity=90),
                mido.Message("control_change", control=mode, value=0, time=480),
                mido.Message("note_off", channel=1, note=40, time=1440),
            ]
        )
    )
    buffer = io.BytesIO()
    midi.save(file=buffer)
    chord, bass = midi_from_bytes(buffer.getvalue()).tracks
    assert [n.duration_ticks for n in chord.notes] == [480, 480]
    assert [n.duration_ticks for n in bass.notes] == [1920]  # another channel: not ended
    # all sound off is kept too: it silences what a pedal holds
    assert chord.controls == ((Control(480, 120, 0),) if mode == 120 else ())
    assert bass.controls == ()


def midi_file_bytes(*tracks: list[mido.Message]) -> bytes:
    midi = mido.MidiFile(ticks_per_beat=480)
    midi.tracks.extend(mido.MidiTrack(t) for t in tracks)
    buffer = io.BytesIO()
    midi.save(file=buffer)
    return buffer.getvalue()


def part(channel: int, program: int | None, pitch: int, *controls: mido.Message) -> list:
    """A MIDI track that plays one note of `pitch` on `channel` after `controls`."""
    head = (
        []
        if program is None
        else [mido.Message("program_change", channel=channel, program=program)]
    )
    return [
        *head,
        *controls,
        mido.Message("note_on", channel=channel, note=pitch, velocity=90),
        mido.Message("note_off", channel=channel, note=pitch, time=480),
    ]


def test_parts_of_a_daw_export_without_program_changes_keep_their_own_controllers():
    # every track on channel 1 and no program change (an export of virtual instruments): all
    # program 0, the bass took the lead's bend and the keys' pedal
    bend = mido.Message("pitchwheel", pitch=8191)
    pedal = mido.Message("control_change", control=64, value=127)
    named = [
        [mido.MetaMessage("track_name", name=name), *part(0, None, pitch, *controls)]
        for name, pitch, controls in (("Lead", 72, [bend]), ("Bass", 40, []), ("Keys", 60, [pedal]))
    ]
    score = midi_from_bytes(midi_file_bytes(*named))
    assert {t.name: t.controls for t in score.tracks} == {
        "Lead": (Control(0, PITCH_BEND, 8191),),
        "Bass": (),
        "Keys": (Control(0, 64, 127),),
    }


def test_parts_of_other_programs_on_one_channel_keep_their_own_controllers():
    # a DAW's export with every track on channel 1: the bass took the lead's bend (every note a
    # whole tone sharp) and the piano's pedal; a setup track's volume still reaches them all
    volume = mido.Message("control_change", control=7, value=90)
    bend = mido.Message("pitchwheel", pitch=8191)
    pedal = mido.Message("control_change", control=64, value=127)
    score = midi_from_bytes(
        midi_file_bytes(
            [volume],
            part(0, 80, 72, bend),
            part(0, 33, 40),
            part(0, 0, 60, pedal),
        )
    )
    controls = {t.program: t.controls for t in score.tracks}
    assert controls[80] == (Control(0, 7, 90), Control(0, PITCH_BEND, 8191))
    assert controls[33] == (Control(0, 7, 90),)
    assert controls[0] == (Control(0, 7, 90), Control(0, 64, 127))


@pytest.mark.parametrize("upper", ["Piano RH", "Piano"])
def test_a_pedal_written_in_one_staffs_track_holds_the_other_staff_on_its_channel(upper):
    pedal = mido.Message("control_change", control=64, value=127)
    right = [mido.MetaMessage("track_name", name=upper), *part(0, 0, 72, pedal)]
    left = [mido.MetaMessage("track_name", name="Piano LH"), *part(0, 0, 48)]
    score = midi_from_bytes(midi_file_bytes(right, left))
    assert [t.controls for t in score.tracks] == [(Control(0, 64, 127),)] * 2


def test_drum_tracks_sharing_channel_10_keep_their_own_pan_through_conversions():
    kick = part(9, None, 36, mido.Message("control_change", channel=9, control=10, value=40))
    snare = part(9, None, 38, mido.Message("control_change", channel=9, control=10, value=90))
    score = midi_from_bytes(midi_file_bytes(kick, snare))
    assert [t.controls for t in score.tracks] == [(Control(0, 10, 40),), (Control(0, 10, 90),)]
    again = midi_from_bytes(midi_bytes(midi_from_bytes(midi_bytes(score))))
    assert again.tracks == score.tracks


def test_parts_sharing_a_channel_and_program_do_not_double_their_controllers():
    # past 15 pitched parts channels are shared; two pianos on one channel share a pedal, and
    # each conversion wrote it into both tracks, to be read twice: 1, 2, 4, 8 pedal changes
    pianos = [
        Track("Piano", notes=(Note(0, 480, 60 + k, 90),), controls=(Control(0, 64, 127),))
        for k in range(16)
    ]
    score = midi_from_bytes(midi_bytes(Score(tracks=tuple(pianos))))
    for _ in range(3):
        score = midi_from_bytes(midi_bytes(score))
    assert all(t.controls == (Control(0, 64, 127),) for t in score.tracks)


def test_a_reset_block_after_the_first_notes_keeps_them():
    # a type 0 file whose reset block (121, then all notes off) follows the first note-ons at
    # tick 0: the notes were cut to nothing and bar 1 lost them
    score = midi_from_bytes(
        midi_file_bytes(
            [
                mido.Message("note_on", note=60, velocity=90),
                mido.Message("control_change", control=121, value=0),
                mido.Message("control_change", control=123, value=0),
                mido.Message("note_off", note=60, time=480),
                mido.Message("note_on", note=62, velocity=90),
                mido.Message("note_off", note=62, time=480),
            ]
        )
    )
    assert [(n.onset_ticks, n.duration_ticks) for n in score.tracks[0].notes] == [
        (0, 480),
        (480, 480),
    ]


@pytest.mark.parametrize(
    ("first", "second", "low"),
    [("Guitar", "Bass Guitar", 40), ("Synth", "Synth Bass", 40), ("Vocal", "Main Vocal", 52),
     ("Guitar", "Guitar Left", 52), ("Claps", "Hand Claps", 52), ("Strings", "Strings Lower", 52)],
)  # fmt: skip
def test_a_part_whose_name_only_adds_a_staff_word_does_not_take_anothers_bend(first, second, low):
    # "bass" tells a piano's lower staff from its upper one, but "Synth"/"Synth Bass" are two
    # parts: on one channel without program changes the bass played the synth's bends; and
    # "Main", "Left", "Hand" or "Lower" alone in one name are no staff of the other's part
    bend = mido.Message("pitchwheel", pitch=8191)
    named = [
        [mido.MetaMessage("track_name", name=first), *part(0, None, 64, bend)],
        [mido.MetaMessage("track_name", name=second), *part(0, None, low)],
    ]
    score = midi_from_bytes(midi_file_bytes(*named))
    assert score.track(second).controls == ()
