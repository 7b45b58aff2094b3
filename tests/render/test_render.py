"""Rendering with the real FluidSynth and the system's GM SoundFont: what a listener notices."""

from __future__ import annotations

import numpy as np
import pytest

from bandmate.errors import AudioFormatError, EmptyScoreError, SoundFontError
from bandmate.render import (
    SOUNDFONT_ENV,
    TAIL_MAX_SECONDS,
    find_soundfont,
    render,
    render_mix,
    render_stems,
    stem_filenames,
)
from bandmate.score import Control, Note, Role, Score, TempoChange, Track
from bandmate.score.model import PITCH_BEND
from tests.builders import TPB, bass, drums, make_score, notes, piano

SILENCE = 1e-4  # -80 dBFS: below this a sample is taken as silence


def onset_seconds(samples: np.ndarray, sample_rate: int, after_seconds: float = 0.0) -> float:
    """When the sound first rises above SILENCE, at or after `after_seconds`."""
    start = round(after_seconds * sample_rate)
    loud = np.max(np.abs(samples[:, start:]), axis=0) > SILENCE
    assert loud.any(), "no sound after the given time"
    return (start + int(np.argmax(loud))) / sample_rate


@pytest.fixture(scope="module")
def band() -> Score:
    """Piano, bass, drums, and a track without notes, for two bars at 100 BPM."""
    return make_score(
        piano((0, 4, 60), (0, 4, 64), (0, 4, 67), (4, 4, 65), (4, 4, 69), (4, 4, 72)),
        bass((0, 1, 36), (1, 1, 43), (2, 2, 36), (4, 2, 41), (6, 2, 48)),
        drums(*[(b / 2, 0.25, 42) for b in range(16)], (0, 0.5, 36), (2, 0.5, 38)),
        Track("Empty", program=40),
        tempo_bpm=100,
    )


@pytest.fixture(scope="module")
def rendered(band):
    return render(band)


@pytest.fixture(scope="module")
def tempo_change() -> Score:
    """120 BPM for four beats (2 s), then 60 BPM: beat 6 falls at 4 s, beat 7 ends at 5 s."""
    return Score(
        tracks=(
            piano((0, 1, 60), name="First"),
            Track("Late", program=0, notes=notes((6, 1, 67), velocity=100)),
        ),
        tempos=(TempoChange.from_bpm(0, 120), TempoChange.from_bpm(4 * TPB, 60)),
    )


def test_one_stem_per_track_all_the_same_length(band, rendered):
    stems, mix = rendered
    assert len(stems) == len(band.tracks)
    assert {s.samples.shape for s in stems} == {(2, mix.frames)}
    assert {s.sample_rate for s in stems} == {44_100}


def test_the_stems_add_up_to_the_mix(rendered):
    stems, mix = rendered
    total = np.sum([s.samples.astype(np.float64) for s in stems], axis=0)
    assert np.max(np.abs(total - mix.samples)) < 1e-4
    assert render_mix(stems).samples.tobytes() == mix.samples.tobytes()


def test_every_stem_with_notes_sounds_and_one_without_is_silent(band, rendered):
    stems, mix = rendered
    for track, stem in zip(band.tracks, stems, strict=True):
        if track.notes:
            assert stem.peak() > 0.005, track.name
        else:
            assert stem.peak() == 0.0, track.name
    assert 0.01 < mix.peak() < 1.0  # audible, and the default gain leaves headroom


def test_a_stem_is_the_track_rendered_on_its_own(band, rendered):
    stems, _ = rendered
    bass_only = render_stems(band.replace(tracks=(band.tracks[1],)))[0]
    n = min(bass_only.frames, stems[1].frames)
    assert np.array_equal(bass_only.samples[:, :n], stems[1].samples[:, :n])
    assert np.max(np.abs(stems[1].samples[:, n:]), initial=0.0) < SILENCE


def test_rendering_is_deterministic(band, rendered):
    stems, mix = rendered
    again, mix_again = render(band)
    assert mix_again.samples.tobytes() == mix.samples.tobytes()
    for a, b in zip(stems, again, strict=True):
        assert a.samples.tobytes() == b.samples.tobytes()


@pytest.mark.parametrize("sample_rate", [44_100, 48_000])
def test_length_and_note_times_follow_the_tempo_map(tempo_change, sample_rate):
    assert tempo_change.duration_seconds == pytest.approx(5.0)
    first, late = render_stems(tempo_change, sample_rate=sample_rate)
    assert late.sample_rate == sample_rate
    tail_seconds = late.duration_seconds - 5.0
    assert 0.1 < tail_seconds <= TAIL_MAX_SECONDS
    # the note at beat 6 starts at 4 s (within 3 ms: FluidSynth's 64-frame blocks and the
    # sample's own attack), and nothing of it sounds before
    assert onset_seconds(late.samples, sample_rate) == pytest.approx(4.0, abs=0.003)
    assert onset_seconds(first.samples, sample_rate) == pytest.approx(0.0, abs=0.003)


def test_a_repeated_note_is_struck_again():
    # two piano notes of one pitch back to back: the second attack lifts the decaying level
    stem = render_stems(make_score(piano((0, 1, 60), (1, 1, 60))))[0]  # beats of 0.5 s
    rms = np.sqrt(np.mean(stem.samples**2, axis=0))
    window = stem.sample_rate // 50
    before = rms[stem.sample_rate // 2 - window : stem.sample_rate // 2].mean()
    after = rms[stem.sample_rate // 2 + window // 4 : stem.sample_rate // 2 + window].mean()
    assert after > 2 * before


def spectral_centroid_hz(samples: np.ndarray, sample_rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples.mean(axis=0)))
    freqs = np.fft.rfftfreq(samples.shape[1], 1 / sample_rate)
    return float(np.sum(spectrum * freqs) / np.sum(spectrum))


def test_drum_tracks_play_the_drum_kit():
    # key 42 is a closed hi-hat on a drum track (bright noise) but a low F#2 on a piano
    hat, low_f_sharp = render_stems(make_score(drums((0, 1, 42)), piano((0, 1, 42))))
    assert hat.peak() > 0.005
    assert spectral_centroid_hz(hat.samples, hat.sample_rate) > 4_000
    assert spectral_centroid_hz(low_f_sharp.samples, low_f_sharp.sample_rate) < 2_000


def test_progress_is_reported_up_to_the_total(band):
    calls = []
    render_stems(band, progress=lambda done, total: calls.append((done, total)))
    assert calls
    assert calls[-1][0] == calls[-1][1] > 0
    assert all(0 <= done <= total for done, total in calls)


def test_a_score_without_notes_is_refused():
    with pytest.raises(EmptyScoreError, match="no notes"):
        render_stems(Score())
    with pytest.raises(EmptyScoreError):
        render_stems(make_score(Track("Silent", role=Role.OTHER)))


def test_a_sample_rate_fluidsynth_cannot_use_is_refused():
    with pytest.raises(AudioFormatError, match="192000 Hz"):
        render_stems(make_score(piano((0, 1, 60))), sample_rate=192_000)


def test_soundfont_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(SOUNDFONT_ENV, str(tmp_path / "missing.sf2"))
    with pytest.raises(SoundFontError, match=SOUNDFONT_ENV):
        find_soundfont()
    with pytest.raises(SoundFontError):
        render_stems(make_score(piano((0, 1, 60))))
    monkeypatch.delenv(SOUNDFONT_ENV)
    system = find_soundfont()
    monkeypatch.setenv(SOUNDFONT_ENV, str(system))
    assert find_soundfont() == system


def test_a_file_that_is_no_soundfont_is_refused(tmp_path):
    fake = tmp_path / "fake.sf2"
    fake.write_bytes(b"RIFF\x00\x00\x00\x00not a soundfont")
    with pytest.raises(SoundFontError, match=r"fake\.sf2"):
        render_stems(make_score(piano((0, 1, 60))), soundfont=fake)


def test_stem_filenames_are_safe_unique_and_in_score_order():
    names = stem_filenames(["Bass", "Lead Vox (Verse)", "Bass", "../../etc/passwd", "♫", ""])
    assert names == [
        "01-bass.wav",
        "02-lead-vox-verse.wav",
        "03-bass.wav",
        "04-etc-passwd.wav",
        "05-track.wav",
        "06-track.wav",
    ]
    assert stem_filenames(["x"] * 100, ".flac")[99] == "100-x.flac"


def test_more_tracks_than_midi_channels():
    # 20 tracks (MIDI has 16 channels): every one gets its stem and sounds
    tracks = tuple(
        Track(f"T{k}", program=k * 6, notes=(Note(k * TPB // 4, TPB, 48 + k, 80),))
        for k in range(20)
    )
    stems, mix = render(make_score(*tracks))
    assert len(stems) == 20
    assert all(s.peak() > 0.001 for s in stems)
    assert mix.peak() < 1.0


def test_a_stray_note_days_past_the_music_is_refused_before_any_memory_is_taken(tmp_path):
    # a corrupt delta time put a note 77 hours on: numpy was asked for 184 GB (MemoryError)
    from bandmate.errors import UserError
    from bandmate.render import write_rendering

    # at 4 BPM (near the slowest a MIDI file holds), 2,291 hours on: no machine holds 3 TB,
    # so the refusal does not hang on how much memory the machine running the tests has
    stray = make_score(piano((0, 1, 60), (550_000, 1, 62)), tempo_bpm=4)
    with pytest.raises(UserError, match=r"2291:\d\d:\d\d \(h:mm:ss\).* GB of memory"):
        render_stems(stray)
    with pytest.raises(UserError, match="a note far past the music"):
        write_rendering(stray, tmp_path / "mix.wav")
    assert list(tmp_path.iterdir()) == []


def test_a_part_that_ends_early_is_digital_silence_once_its_tail_dies_away():
    # each part was rendered to the song's end: a pad that plays only in the intro went on
    # through its reverb as noise (1e-8) for the rest of the song, and cost the time to render it
    pad = Track("Intro pad", program=89, notes=notes((0, 1, 60)))
    song = make_score(pad, piano(*[(b, 0.8, 60 + b % 5) for b in range(40)]))
    stems = render_stems(song)
    tail_end = round((0.5 + TAIL_MAX_SECONDS) * stems[0].sample_rate)
    assert np.abs(stems[0].samples[:, :tail_end]).max() > 0.01  # the pad sounds
    assert not np.any(stems[0].samples[:, tail_end:])
    assert stems[0].frames == stems[1].frames > tail_end


def band_level_db(stem, low_hz: float, high_hz: float, start_s: float, end_s: float) -> float:
    """The stem's energy between two frequencies and two times, in dB."""
    rate = stem.sample_rate
    window = stem.samples[:, round(start_s * rate) : round(end_s * rate)].mean(axis=0)
    spectrum = np.abs(np.fft.rfft(window * np.hanning(len(window)))) ** 2
    hz = np.fft.rfftfreq(len(window), 1 / rate)
    return float(10 * np.log10(spectrum[(hz >= low_hz) & (hz < high_hz)].sum() + 1e-30))


def sustain(*changes: tuple[float, int]) -> tuple[Control, ...]:
    return tuple(Control(round(b * TPB), 64, v) for b, v in changes)


def test_a_pedal_held_past_the_last_note_rings_until_it_is_released():
    # a piano's last chord let go at beat 1, its pedal at beat 4 (2 s): it rings until then
    held = Track("Piano", notes=notes((0, 1, 48)), controls=sustain((0, 127), (4, 0)))
    drums_on = drums(*[(b, 0.25, 42) for b in range(8)])
    stem = render_stems(make_score(held, drums_on))[0]
    dry = render_stems(make_score(held.with_controls(()), drums_on))[0]
    assert band_level_db(stem, 0, 1000, 1.4, 1.9) > band_level_db(dry, 0, 1000, 1.4, 1.9) + 20
    # and is let go there: a second later it has died away far below its held level
    assert band_level_db(stem, 0, 1000, 3.0, 3.5) < band_level_db(stem, 0, 1000, 1.4, 1.9) - 30


def test_lifting_and_pressing_the_pedal_where_the_chord_changes_lets_the_old_chord_go():
    # the pedal comes up and goes down again at the very tick the low C gives way to a high
    # C: the low C stops; with the pedal held through the change it rings on under the new one
    chords = notes((0, 2, 36), (2, 2, 84))
    relifted = Track("Piano", notes=chords, controls=sustain((0, 127), (2, 0), (2, 127)))
    held = Track("Piano", notes=chords, controls=sustain((0, 127)))
    low = {
        name: band_level_db(render_stems(make_score(t))[0], 40, 90, 1.4, 1.9)
        for name, t in (("relifted", relifted), ("held", held))
    }
    assert low["relifted"] < low["held"] - 15, low


def test_a_bend_range_set_by_its_controllers_bends_by_that_range():
    # RPN 0 set to 12 semitones (101, 100 and 6 at one tick, in that order), then a full bend
    # up: the A4 sounds an octave higher
    controls = (
        Control(0, 101, 0),
        Control(0, 100, 0),
        Control(0, 6, 12),
        Control(0, PITCH_BEND, 8191),
    )
    lead = Track("Lead", program=80, notes=notes((0, 2, 69)), controls=controls)
    stem = render_stems(make_score(lead))[0]
    assert band_level_db(stem, 860, 900, 0.2, 0.9) > band_level_db(stem, 420, 460, 0.2, 0.9) + 20


def test_a_reset_of_all_controllers_takes_a_bend_back_to_rest():
    # a lead bent up a whole tone, then reset (CC121) before its next note: that note sounds as
    # struck, an A, not the B the bend left behind
    controls = (Control(0, PITCH_BEND, 8191), Control(2 * TPB, 121, 0))
    lead = Track("Lead", program=80, notes=notes((0, 2, 69), (2, 2, 69)), controls=controls)
    stem = render_stems(make_score(lead))[0]
    assert band_level_db(stem, 480, 510, 0.2, 0.9) > band_level_db(stem, 425, 455, 0.2, 0.9) + 20
    assert band_level_db(stem, 425, 455, 1.2, 1.9) > band_level_db(stem, 480, 510, 1.2, 1.9) + 20


def test_a_pedal_released_seconds_after_the_songs_last_note_is_not_cut_off():
    # strings held by the pedal 6 s past the last note (at 120 BPM, 12 beats): the render
    # stopped 4 s after the last note, the strings still at full level, a click
    strings = Track(
        "Strings", program=48, notes=notes((0, 1, 60)), controls=sustain((0, 127), (13, 0))
    )
    (stem,) = render_stems(make_score(strings))
    assert stem.frames / stem.sample_rate > 6.5
    assert band_level_db(stem, 0, 20_000, 5.5, 6.0) > -60  # held on to the release
    end = stem.samples[:, -stem.sample_rate // 50 :]
    assert np.max(np.abs(end)) < 1e-3  # and faded out after it, not cut


@pytest.mark.parametrize("beats", [1, 2, 3])
def test_all_sound_off_silences_what_the_pedal_holds(beats):
    # a chord held by the pedal, then all sound off (CC120) as its keys come up: it rang on
    # under the pedal (sent only when its time rounded to before the note's end)
    controls = (Control(0, 64, 127), Control(beats * TPB, 120, 0))
    chord = Track(
        "Strings", program=48, notes=notes((0, beats, 60), (0, beats, 64)), controls=controls
    )
    other = piano((0, 8, 40))  # the song goes on
    stem = render_stems(make_score(chord, other))[0]
    during, after = (0.1, 0.4), (beats / 2 + 0.6, beats / 2 + 1.5)
    assert band_level_db(stem, 0, 20_000, *during) > band_level_db(stem, 0, 20_000, *after) + 40


def test_a_fade_after_the_last_note_fades_what_the_pedal_holds():
    # the keys let go, the pedal holds the strings and the volume (CC7) fades them out before
    # the pedal comes up: the fade was dropped and they rang on at full level
    fade = tuple(Control(2 * TPB + k * 60, 7, 100 - k * 10) for k in range(11))
    controls = (Control(0, 64, 127), *fade, Control(16 * TPB, 64, 0))
    strings = Track("Strings", program=48, notes=notes((0, 2, 60), (0, 2, 64)), controls=controls)
    (stem,) = render_stems(make_score(strings))
    end = stem.frames / stem.sample_rate
    assert end < 4  # silent once faded, not rendered on to the pedal's release at 8 s
    assert band_level_db(stem, 0, 20_000, 0.5, 0.9) > band_level_db(stem, 0, 20_000, 1.7, end) + 40


def test_strings_held_by_a_pedal_never_released_are_let_go_not_cut_off():
    # a pedal never lifted over a strings chord: it droned for 30 s and was cut at full level
    strings = Track("Strings", program=48, notes=notes((0, 2, 60)), controls=sustain((0, 127)))
    (stem,) = render_stems(make_score(strings))
    assert np.max(np.abs(stem.samples[:, -stem.sample_rate // 50 :])) < 1e-3


def test_a_pedal_released_far_past_the_music_renders_no_minutes_of_silence():
    # a DAW writes the pedal's release at the project's end, here 2 minutes on: the render ran
    # to it, minutes of silence after the piano had died away
    chord = Track(
        "Piano", notes=notes((0, 1, 60), (0, 1, 64)), controls=sustain((0, 127), (240, 0))
    )
    (stem,) = render_stems(make_score(chord))
    assert stem.frames / stem.sample_rate < 40
    assert band_level_db(stem, 0, 20_000, 1.0, 1.5) > -60  # held on by the pedal meanwhile


def test_a_pedal_never_released_lets_the_last_chord_ring():
    # a keyboard take that ends with the pedal down: the chord was cut as the keys came up
    chord = Track("Piano", notes=notes((0, 1, 60), (0, 1, 64)), controls=sustain((0, 127)))
    (stem,) = render_stems(make_score(chord))
    assert band_level_db(stem, 0, 20_000, 1.5, 2.0) > -60
