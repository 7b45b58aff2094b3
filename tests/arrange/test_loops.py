"""Loops: exact length, a seam without a click, distinct loops, producer file names."""

import json

import numpy as np
import pytest
import soundfile as sf

from bandmate.arrange.loops import fit_chart, loop_key, loop_score, stock_chart
from bandmate.arrange.style import load_style
from bandmate.errors import UserError
from bandmate.io.audio import Audio, read_audio
from bandmate.jobs.loops import LoopRequest, make_loops
from bandmate.mix.meter import integrated_lufs
from bandmate.render.loop import fold_tail
from bandmate.theory.chart import parse_chart
from bandmate.theory.keys import Key


def test_stock_progressions_in_major_and_minor():
    assert [str(b.chords[0].symbol) for b in stock_chart(Key.parse("Em"), 4, (4, 4)).bars] == [
        "Em", "C", "G", "D"]  # fmt: skip
    assert [str(b.chords[0].symbol) for b in stock_chart(Key.parse("Bb"), 8, (4, 4)).bars][:4] == [
        "Bb", "Gm", "Eb", "F"]  # fmt: skip


def test_user_chords_are_repeated_to_fill_and_refused_when_too_long():
    assert len(fit_chart(parse_chart("| C | G |"), 8)) == 8
    with pytest.raises(UserError, match="run 3 bars"):
        fit_chart(parse_chart("| C | G | F |"), 2)


def test_a_loop_of_the_users_chords_is_in_their_key_unless_told_another(tmp_path):
    from bandmate.io.midi import read_midi

    # no --key: the chart's own key, else the key its chords are in; the chords stay as written
    assert str(loop_key(None, "| G | D | Em | C |", (4, 4))) == "G"
    assert str(loop_key(None, "| Fm | Db | Ab | Eb |", (4, 4))) == "Fm"  # not its relative
    assert str(loop_key(None, "(key: Bb) | Bb | F |", (4, 4))) == "Bb"
    assert str(loop_key(None, None, (4, 4))) == "C"  # the stock progression's default
    assert str(loop_key("Em", "| G | D |", (4, 4))) == "Em"
    files = make_loops(LoopRequest(style="rock", chords="(key: Bb) | Bb | Eb |", bars=2), tmp_path)
    assert "rock_120bpm_Bb_01.mid" in {p.name for p in files}
    chords = [str(c.symbol) for c in read_midi(tmp_path / "rock_120bpm_Bb_01.mid").chords]
    assert chords[:2] == ["Bb", "Eb"]


def test_a_loop_told_a_tonic_for_chords_in_a_minor_key_is_named_by_the_key_it_plays(tmp_path):
    from bandmate.io.midi import read_midi

    # --key A for chords in C minor plays them in A minor, and its files said "A" (major)
    assert str(loop_key("A", "(key: Cm) | Cm | G7 |", (4, 4))) == "Am"
    assert str(loop_key("Em", "(key: D dorian) | Dm7 | G7 |", (4, 4))) == "E dorian"
    files = make_loops(
        LoopRequest(style="rock", key="A", chords="(key: Cm) | Cm | G7 |", bars=2), tmp_path
    )
    assert "rock_120bpm_Am_01.mid" in {p.name for p in files}
    loop = read_midi(tmp_path / "rock_120bpm_Am_01.mid")
    assert [str(c.symbol) for c in loop.chords][:2] == ["Am", "E7"]
    assert str(loop.keys[0].key) == "Am"
    # a key whose mode the chords cannot take is refused before anything is written
    with pytest.raises(UserError, match="C major"):
        make_loops(LoopRequest(style="rock", key="Am", chords="(key: C) | C | G |"), tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_a_key_with_a_mode_puts_no_space_in_a_loops_file_names(tmp_path):
    # "D dorian" named every file funk_100bpm_D dorian_01..., which shells and samplers split
    files = make_loops(LoopRequest(style="funk", key="d  Dorian", bars=1), tmp_path)
    names = {p.name for p in files}
    assert not any(" " in name for name in names)
    assert {"funk_100bpm_D-dorian_01.mid", "funk_100bpm_D-dorian_01_bass.wav"} <= names
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert "funk_100bpm_D-dorian_01" in manifest["stem_gains_db"]


def test_parts_whose_names_make_one_slug_get_files_of_their_own(tmp_path):
    # "ギター" and "ピアノ" both made "part": the pack was refused as "given for two outputs"
    from importlib import resources

    text = (resources.files("bandmate.data.styles") / "rock.toml").read_text("utf-8")
    text = text.replace('name = "Guitar"', 'name = "ギター"').replace(
        'name = "Piano"', 'name = "ピアノ"'
    )
    style = tmp_path / "mine.toml"
    style.write_text(text, "utf-8")
    files = make_loops(LoopRequest(style=str(style), bars=1), tmp_path / "out")
    parts = sorted(p.name for p in files if p.suffix == ".wav" and p.stem.count("_") == 4)
    expected = ("bass", "drums", "organ", "part-1", "part-2")
    assert parts == [f"mine_120bpm_C_01_{n}.wav" for n in expected]


@pytest.mark.parametrize(
    "names", [["Synth", "Synth+", "Synth 2"], ["ギター", "ピアノ", "Part 2"], ["x", "x", "x-1"]]
)
def test_numbered_slugs_do_not_take_another_parts_name(names):
    # "Synth" and "Synth+" were numbered synth-1 and synth-2, the slug "Synth 2" already had
    from bandmate.jobs.loops import name_slug, unique_slugs

    slugs = unique_slugs(names)
    assert len(set(slugs)) == len(slugs)
    assert slugs[2] == name_slug(names[2])  # a name of its own keeps its slug


def test_loop_chords_may_be_a_chart_file_as_for_backing(tmp_path):
    chart = tmp_path / "verse.txt"
    chart.write_text("| G | D | Em | C |\n")
    rock = load_style("rock")
    assert str(loop_key(None, str(chart), (4, 4))) == "G"
    from_file = loop_score(rock, tempo_bpm=100, key="G", bars=4, seed=1, chords=str(chart))
    from_text = loop_score(rock, tempo_bpm=100, key="G", bars=4, seed=1, chords=chart.read_text())
    assert from_file == from_text


def test_a_loop_neither_stops_nor_fills_and_leads_back():
    score = loop_score(load_style("rock"), tempo_bpm=100, key="Em", bars=4, seed=1)
    bass = score.track("Bass").notes
    last_bar = [n for n in bass if n.onset_ticks >= 3 * 1920]
    assert len(last_bar) > 2  # grooves on through the last bar: no final hit
    assert score.end_ticks <= 4 * 1920 + 20


def test_fold_tail_adds_what_rings_past_the_end_to_the_start():
    audio = Audio(np.arange(10, dtype=np.float32)[np.newaxis].repeat(2, 0), 44100)
    folded = fold_tail(audio, 4)
    assert folded.samples[0].tolist() == [0 + 4 + 8, 1 + 5 + 9, 2 + 6, 3 + 7]
    assert fold_tail(audio, 16).frames == 16


@pytest.fixture(scope="module")
def pack(tmp_path_factory):
    out = tmp_path_factory.mktemp("loops")
    files = make_loops(
        LoopRequest(style="rock", tempo_bpm=100, key="Em", bars=4, count=2, seed=3, energy="high"),
        out,
    )
    return out, files


def test_loop_pack_names_and_exact_lengths(pack):
    out, files = pack
    names = sorted(p.name for p in files)
    assert "rock_100bpm_Em_01_drums.wav" in names and "rock_100bpm_Em_02.mid" in names
    expected = 4 * 4 * 60 / 100 * 44100
    for path in out.glob("*.wav"):
        assert sf.info(str(path)).frames == expected, path.name
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["settings"]["count"] == 2 and len(manifest["files"]) == len(files) - 1


def test_loop_parts_sit_at_the_styles_mix_levels_and_sum_to_the_loop(pack):
    out, _ = pack
    rock = load_style("rock")
    base = "rock_100bpm_Em_01"
    parts = [read_audio(out / f"{base}_{p.name.lower()}.wav") for p in rock.parts]
    levels = [integrated_lufs(a) for a in parts]
    for part, level in zip(rock.parts, levels, strict=True):
        assert level - max(levels) == pytest.approx(part.level_db, abs=1.0), part.name
    full = read_audio(out / f"{base}.wav").samples
    assert np.allclose(sum(a.samples for a in parts), full, atol=1e-4)
    assert np.abs(full).max() == pytest.approx(10 ** (-1 / 20), rel=0.01)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["levels_db"]["Organ"] == rock.part("Organ").level_db
    assert set(manifest["stem_gains_db"][base]) == {p.name for p in rock.parts}


def test_loops_are_distinct_and_seamless(pack):
    out, _ = pack
    one, _ = sf.read(out / "rock_100bpm_Em_01.wav", always_2d=True)
    two, _ = sf.read(out / "rock_100bpm_Em_02.wav", always_2d=True)
    assert not np.allclose(one, two)
    # played twice in a row, the jump across the seam is no bigger than the loop's own jumps
    looped = np.concatenate([one, one])
    steps = np.abs(np.diff(looped, axis=0)).max(axis=1)
    seam = steps[len(one) - 1]
    assert seam <= np.percentile(steps, 99.9)
    assert np.max(np.abs(one)) > 0.01


def test_a_minor_pentatonic_loop_is_a_minor_progression():
    # every mode whose tonic triad is minor takes i-VI-III-VII, not I-vi-IV-V
    chart = stock_chart(Key.parse("A minor pentatonic"), 4, (4, 4))
    assert [str(b.chords[0].symbol) for b in chart.bars] == ["Am", "F", "C", "G"]


def _grid_notes(path, steps_per_beat: int = 4):
    """A MIDI loop's notes as played on the grid: (track, pitch, step), the human feel taken off."""
    from bandmate.io.midi import read_midi

    score = read_midi(path)
    step = score.ticks_per_beat / steps_per_beat
    return {
        (k, n.pitch, round(n.onset_ticks / step))
        for k, t in enumerate(score.tracks)
        for n in t.notes
    }


def test_a_packs_loops_differ_in_their_notes_not_only_their_feel(tmp_path):
    # rock's verse groove has one pattern a part: of its first 150 seeds, 148 gave the same
    # 1-bar loop, so a pack of two was one loop twice, nudged differently
    make_loops(LoopRequest(style="rock", bars=1, count=2), tmp_path)
    one, two = (_grid_notes(tmp_path / f"rock_120bpm_C_0{n}.mid") for n in (1, 2))
    assert one != two
    manifest = json.loads((tmp_path / "rock_120bpm_C_02.mid.provenance.json").read_text())
    assert manifest["seed"] > 1  # seed 1 gave loop 1 again; loop 2 is the next that differs


def test_a_pack_larger_than_the_style_gives_is_refused_saying_how_many_it_gives(tmp_path):
    with pytest.raises(UserError, match=r"rock gives only 1 different 4-bar loop.*ask for one"):
        make_loops(LoopRequest(style="rock", count=2), tmp_path)
    assert not list(tmp_path.iterdir())
    # the chorus groove has more
    make_loops(LoopRequest(style="rock", count=2, energy="high"), tmp_path)


def test_a_refused_pack_costs_nothing(tmp_path, monkeypatch):
    # commands check their outputs before any work: a thousand 16-bar loops are not arranged
    # only to find that the folder already holds a pack
    import bandmate.arrange.loops as loops

    arranged = []
    real = loops.loop_score
    monkeypatch.setattr(loops, "loop_score", lambda *a, **k: arranged.append(1) or real(*a, **k))
    (tmp_path / "manifest.json").write_text("{}")
    with pytest.raises(UserError, match="already exists"):
        make_loops(LoopRequest(style="pop", bars=16, count=100), tmp_path)  # 57 minutes
    assert len(arranged) == 1  # the first loop, which vets the request


@pytest.mark.parametrize(("style", "tempo_bpm"), [("country", 136), ("waltz", 130)])
def test_a_loop_is_as_many_samples_as_its_named_tempo_gives(tmp_path, style, tempo_bpm):
    # the length came from the MIDI tempo, whole microseconds a beat (441176 at 136 BPM): a
    # 1-bar loop at 136 BPM was 77823 samples where the tempo in its name gives 77823.53, and
    # a DAW at 136 BPM counts 77824; one tempo in three was a sample or two out
    make_loops(LoopRequest(style=style, tempo_bpm=tempo_bpm, bars=1), tmp_path)
    beats = load_style(style).meter[0]
    expected = round(beats * 60 / tempo_bpm * 44_100)
    wavs = list(tmp_path.glob("*.wav"))
    assert len(wavs) >= 4
    for path in wavs:
        assert sf.info(str(path)).frames == expected, path.name


def test_a_pack_longer_than_an_hour_is_refused_before_any_loop_is_arranged(tmp_path, monkeypatch):
    # --count 1000 --bars 16 --tempo 20 asked for 53 hours of audio and started rendering; a
    # backing track stops at an hour, and so does a pack, whatever the meter
    import bandmate.arrange.loops as loops

    def arranged(*args, **kwargs):  # fails at once, not hours into a pack that was let start
        raise AssertionError("a loop was arranged")

    monkeypatch.setattr(loops, "loop_score", arranged)
    with pytest.raises(UserError, match=r"1000 loops .* 3200 minutes.* at most 18 loops"):
        make_loops(LoopRequest(style="funk", bars=16, tempo_bpm=20, count=1000), tmp_path / "a")
    # 6/8 at 72 BPM: 16 bars are 40 s, so 90 loops fill the hour and 91 do not
    with pytest.raises(UserError, match=r"at most 90 loops"):
        make_loops(LoopRequest(style="six-eight-ballad", bars=16, count=91), tmp_path / "b")
    # the loop's own chords set its length: 7/8 bars at 200 BPM are 1.05 s
    seven_eight = LoopRequest(style="funk", chords="(time: 7/8) | Em | A |", bars=16,
                              tempo_bpm=200, count=215)  # fmt: skip
    with pytest.raises(UserError, match=r"at most 214 loops"):
        make_loops(seven_eight, tmp_path / "c")
    assert not list(tmp_path.iterdir())


def test_a_part_that_rests_through_the_loop_gets_no_silent_file_and_high_energy_brings_it_in(
    tmp_path,
):
    # funk's brass rests in the verse groove a loop plays by default: the pack had a silent
    # funk_..._brass.wav; now it has none and says so, and --energy high plays the chorus groove
    low = make_loops(LoopRequest(style="funk", bars=1, seed=1), tmp_path / "low")
    assert not [p for p in low if p.name.endswith("_brass.wav")]
    assert [p for p in low if p.name.endswith("_clav.wav")]
    manifest = json.loads((tmp_path / "low" / "manifest.json").read_text())
    assert manifest["silent_parts"] == {"funk_100bpm_C_01": ["Brass"]}
    assert manifest["settings"]["energy"] is None
    high = make_loops(LoopRequest(style="funk", bars=1, seed=1, energy="high"), tmp_path / "hi")
    brass = [p for p in high if p.name.endswith("_brass.wav")]
    assert brass and integrated_lufs(read_audio(brass[0])) > -40


def test_loop_energy_overrides_the_chords_sections():
    style = load_style("funk")
    settings = {"tempo_bpm": 100, "key": "C", "bars": 2, "seed": 1, "chords": "[Chorus] | C | F |"}
    verse = loop_score(style, **settings, energy="low")
    chorus = loop_score(style, **settings)
    assert not verse.track("Brass").notes and chorus.track("Brass").notes
    with pytest.raises(UserError, match="Energy"):
        loop_score(style, tempo_bpm=100, key="C", bars=2, seed=1, energy="loud")


def test_a_smaller_pack_written_over_a_larger_one_with_force_leaves_no_old_loops(tmp_path):
    make_loops(LoopRequest(style="house", bars=1, count=2), tmp_path)
    make_loops(LoopRequest(style="house", bars=1, count=1), tmp_path, force=True)
    assert not list(tmp_path.glob("*_02*"))
    assert list(tmp_path.glob("house_124bpm_C_01_drums.wav*"))


def test_a_loop_pack_that_fails_part_way_leaves_none_of_its_files(tmp_path, monkeypatch):
    # the second loop's rendering fails (a full disk, Ctrl-C): the first loop's files stayed
    # behind with no manifest, and the pack could not be made again without --force
    import bandmate.render as render

    rendered = render.render_stems
    calls = []

    def fails_second_time(score, **kwargs):
        calls.append(score)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return rendered(score, **kwargs)

    monkeypatch.setattr(render, "render_stems", fails_second_time)
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(KeyboardInterrupt):
        make_loops(LoopRequest(style="pop", bars=1, count=3), tmp_path)
    assert len(calls) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_a_loops_midi_file_is_exactly_its_bars_long(tmp_path):
    # a humanised last hit rang a few ticks past the bar: funk_..._02.mid ran 1921 ticks, which
    # a DAW rounds up to a 2-bar clip, and another 1919
    import mido

    make_loops(LoopRequest(style="funk", bars=1, count=2), tmp_path)
    for path in sorted(tmp_path.glob("*.mid")):
        midi = mido.MidiFile(path)
        bar = 4 * midi.ticks_per_beat
        assert [sum(m.time for m in t) for t in midi.tracks] == [bar] * len(midi.tracks), path
        ends = [n.end_ticks for t in read_midi_notes(path) for n in t]
        assert max(ends) <= bar


def read_midi_notes(path):
    from bandmate.io.midi import read_midi

    return [t.notes for t in read_midi(path).tracks]


def test_no_part_of_a_loop_is_clipped_though_the_parts_push_against_each_other(tmp_path):
    # jazz-swing loop 3: the mix peaked at -1 dBFS but its drum stem alone reached full scale
    # and was written clipped, so the stems no longer summed to the loop
    make_loops(LoopRequest(style="jazz-swing", bars=2, seed=2), tmp_path)
    full, *parts = (read_audio(p).samples for p in sorted(tmp_path.glob("*.wav")))
    for part in parts:
        assert np.abs(part).max() <= 10 ** (-1 / 20) + 1e-4
    assert np.allclose(sum(parts), full, atol=1e-4)
