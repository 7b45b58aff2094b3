"""`bandmate harmonize`: MIDI and MusicXML out, the melody kept, mistakes in one line."""

from __future__ import annotations

from bandmate.io.formats import read_score
from bandmate.io.midi import read_midi, write_midi
from bandmate.score import Role, Track
from tests.builders import assert_user_error, make_score, notes, piano, run_cli

TUNE = [(0, 1, 72), (1, 1, 71), (2, 1, 69), (3, 1, 67), (4, 2, 69), (6, 2, 67)]


def write_tune(path, spec=TUNE):
    write_midi(make_score(Track("Tune", 73, role=Role.MELODY, notes=notes(*spec))), path)
    return path


def test_midi_gets_a_track_per_voice_and_musicxml_four_parts(tmp_path, untrained_chorale_model):
    tune = write_tune(tmp_path / "tune.mid")
    out = tmp_path / "satb.mid"
    result = run_cli("harmonize", tune, "-o", out, "--model", untrained_chorale_model)
    assert result.returncode == 0, result.stderr
    satb = read_midi(out)
    assert [t.name for t in satb.tracks] == ["Soprano", "Alto", "Tenor", "Bass"]
    assert [(n.onset_ticks, n.pitch) for n in satb.tracks[0].notes] == [
        (round(o * 480), p) for o, _, p in TUNE
    ]
    xml = tmp_path / "satb.musicxml"
    result = run_cli("harmonize", tune, "-o", xml, "--model", untrained_chorale_model)
    assert result.returncode == 0, result.stderr
    parts = read_score(xml).tracks
    assert len(parts) == 4


def test_a_chordal_input_is_harmonized_from_its_top_voice(tmp_path, untrained_chorale_model):
    path = tmp_path / "chords.mid"
    write_midi(make_score(piano((0, 2, 60), (0, 2, 64), (0, 2, 67), (2, 2, 65), (2, 2, 69))), path)
    result = run_cli(
        "harmonize", path, "-o", tmp_path / "o.mid", "--model", untrained_chorale_model
    )
    assert result.returncode == 0, result.stderr
    assert "top voice" in result.stderr
    assert [n.pitch for n in read_midi(tmp_path / "o.mid").tracks[0].notes] == [67, 69]


def test_mistakes_are_one_line(tmp_path, untrained_chorale_model):
    empty = tmp_path / "empty.mid"
    write_midi(make_score(), empty)
    model = ("--model", untrained_chorale_model)
    assert_user_error(run_cli("harmonize", empty, "-o", tmp_path / "o.mid", *model), "no notes")
    missing = run_cli("harmonize", tmp_path / "nope.mid", "-o", tmp_path / "o.mid", *model)
    assert_user_error(missing, "nope.mid")
    tune = write_tune(tmp_path / "tune.mid")
    assert_user_error(run_cli("harmonize", tune, "-o", tmp_path / "o.wav", *model), ".wav")
    assert_user_error(run_cli("harmonize", tune, "-o", tune, *model), "tune.mid")


def test_a_one_note_melody_is_harmonized(tmp_path, untrained_chorale_model):
    # a note a voice is too short to copy anything; the originality check refused it ("no
    # melody to check", exit 2) instead of letting it through
    tune = write_tune(tmp_path / "one.mid", [(0, 0.25, 72)])
    out = tmp_path / "satb.mid"
    result = run_cli("harmonize", tune, "-o", out, "--model", untrained_chorale_model)
    assert result.returncode == 0, result.stderr
    satb = read_midi(out)
    assert [len(t.notes) for t in satb.tracks] == [1, 1, 1, 1]


def test_a_melody_sung_high_is_set_for_treble_voices_and_says_so(tmp_path):
    # C6 D6 E6 D6 C6 got its lower voices two octaves and more below it, and no word of it
    tune = write_tune(tmp_path / "high.mid", [(0, 1, 84), (1, 1, 86), (2, 1, 88), (3, 1, 86)])
    out = tmp_path / "satb.mid"
    result = run_cli("harmonize", tune, "-o", out)
    assert result.returncode == 0, result.stderr
    assert "treble voices" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    soprano, alto = read_midi(out).tracks[:2]
    assert [n.pitch for n in soprano.notes] == [84, 86, 88, 86]
    assert min(n.pitch for n in alto.notes) >= 84 - 12  # within an octave of the lowest note


def test_the_summary_counts_bars_in_the_melodys_meter(tmp_path, untrained_chorale_model):
    # four bars of 6/8 after an eighth-note pickup were reported as "12 beats" (quarter notes)
    from bandmate.score import TimeSignature

    spec = [(0, 0.5, 62)] + [(0.5 + 0.5 * i, 0.5, 67 + i % 3) for i in range(23)] + [(12, 0.5, 67)]
    tune = make_score(Track("Tune", 73, role=Role.MELODY, notes=notes(*spec)))
    tune = tune.replace(time_signatures=(TimeSignature(0, 6, 8), TimeSignature(240, 6, 8)))
    write_midi(tune, tmp_path / "jig.mid")
    out = tmp_path / "o.mid"
    result = run_cli(
        "harmonize", tmp_path / "jig.mid", "-o", out, "--model", untrained_chorale_model
    )
    assert result.returncode == 0, result.stderr
    assert "over 4 bars and a pickup." in result.stdout, result.stdout


def test_a_last_note_let_go_just_after_the_bar_line_adds_no_bar(tmp_path, untrained_chorale_model):
    # four bars whose last note a keyboard player let go a 32nd late were "over 5 bars"
    spec = [(i, 1, (67, 69, 71, 72)[i % 4]) for i in range(15)] + [(15, 1.125, 67)]
    write_midi(
        make_score(Track("Tune", 0, role=Role.MELODY, notes=notes(*spec))), tmp_path / "t.mid"
    )
    out = tmp_path / "o.mid"
    result = run_cli("harmonize", tmp_path / "t.mid", "-o", out, "--model", untrained_chorale_model)
    assert result.returncode == 0, result.stderr
    assert "over 4 bars." in result.stdout, result.stdout
