"""automix_files: stems as a producer hands them over, in folders and files."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from bandmate.errors import OutputError
from bandmate.mix.automix import automix_files

RATE = 22_050


def write_tone(path, freq_hz: float, seconds: float = 1.0, amplitude: float = 0.2):
    t = np.arange(round(seconds * RATE)) / RATE
    x = amplitude * np.sin(2 * np.pi * freq_hz * t)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, np.stack([x, x]).T, RATE, subtype="PCM_24")
    return path


def test_stems_of_one_name_from_two_folders_are_told_apart(tmp_path):
    # two takes' "bass.wav": the table and the JSON had two rows named bass.wav with different
    # gains, and no way to tell which file each was
    first = write_tone(tmp_path / "take1" / "bass.wav", 55.0)
    second = write_tone(tmp_path / "take2" / "bass.wav", 82.0, amplitude=0.05)
    keys = write_tone(tmp_path / "take1" / "keys.wav", 262.0)
    report = automix_files([first, second, keys], tmp_path / "mix.wav")
    names = [s.name for s in report.stems]
    assert names == [str(first), str(second), "keys.wav"]
    assert [s.role for s in report.stems] == ["bass", "bass", "keys"]
    assert len({s["name"] for s in json.loads(json.dumps(report.to_dict()))["stems"]}) == 3


def test_stems_whose_names_differ_by_case_keep_their_names(tmp_path):
    paths = [
        write_tone(tmp_path / n, 55.0 * (k + 1)) for k, n in enumerate(["Bass.wav", "bass.wav"])
    ]
    report = automix_files([tmp_path], tmp_path.parent / f"{tmp_path.name}-mix.wav")
    assert sorted(s.name for s in report.stems) == sorted(p.name for p in paths)


@pytest.mark.parametrize("nested", [False, True])
def test_a_mix_written_among_the_stems_it_mixes_is_refused(tmp_path, nested):
    # the mix landed beside the stems, and the next `bandmate mix` of the folder mixed it in as
    # one more stem: the whole song twice
    folder = tmp_path / "song"
    stems = folder / "stems" if nested else folder
    write_tone(stems / "bass.wav", 55.0)
    write_tone(stems / "keys.wav", 262.0)
    with pytest.raises(OutputError, match="in the stems folder"):
        automix_files([folder], stems / "mix.wav")
    assert sorted(p.name for p in stems.iterdir()) == ["bass.wav", "keys.wav"]


def test_a_mix_beside_a_backing_folders_stems_is_written(tmp_path):
    # `bandmate backing` writes song/stems/*.wav and song/mix.wav: the stems are in stems/
    write_tone(tmp_path / "song" / "stems" / "bass.wav", 55.0)
    automix_files([tmp_path / "song"], tmp_path / "song" / "mix.wav")
    assert (tmp_path / "song" / "mix.wav").exists()


def test_stems_beside_an_empty_stems_folder_are_mixed(tmp_path):
    # "Folder 'song' holds no .wav, .flac or .aiff stems" of a folder that held them, beside an
    # empty stems/ made ahead of an export
    write_tone(tmp_path / "song" / "bass.wav", 55.0)
    write_tone(tmp_path / "song" / "keys.wav", 262.0)
    (tmp_path / "song" / "stems").mkdir()
    report = automix_files([tmp_path / "song"], tmp_path / "mix.wav")
    assert [s.name for s in report.stems] == ["bass.wav", "keys.wav"]


@pytest.mark.parametrize("suffix", [".bwf", ".w64", ".rf64", ".aifc", ".wave"])
def test_a_folders_stems_under_the_other_names_of_wav_and_aiff_are_mixed(tmp_path, suffix):
    # a broadcast WAV, Wave64 or RF64 file (what a DAW writes over 4 GB) or an AIFF-C was passed
    # over without a word: the mix held the drums alone
    folder = tmp_path / "export"
    write_tone(folder / "Drums.wav", 110.0)
    kind = {".w64": "W64", ".rf64": "RF64", ".aifc": "AIFF"}.get(suffix, "WAV")
    x = 0.2 * np.sin(2 * np.pi * 440.0 * np.arange(RATE) / RATE)
    sf.write(folder / f"Keys{suffix}", np.stack([x, x]).T, RATE, format=kind, subtype="PCM_24")
    report = automix_files([folder], tmp_path / "mix.wav")
    assert [s.name for s in report.stems] == ["Drums.wav", f"Keys{suffix}"]
    assert not any(n.startswith("Left out") for n in report.notes)


def test_a_link_to_a_missing_file_and_a_folder_named_like_a_stem_are_left_out(tmp_path):
    # a link whose file was moved stopped the mix with a traceback, and a folder named
    # "old.wav" with "is not a file"
    folder = tmp_path / "export"
    write_tone(folder / "Drums.wav", 110.0)
    write_tone(folder / "old.wav" / "Keys.wav", 440.0)
    (folder / "Gtr.wav").symlink_to(tmp_path / "moved" / "Gtr.wav")
    report = automix_files([folder], tmp_path / "mix.wav")
    assert [s.name for s in report.stems] == ["Drums.wav"]
    (note,) = [n for n in report.notes if n.startswith("Left out")]
    assert "Gtr.wav (a link to a missing file)" in note and "old.wav/" in note


def test_a_stems_subfolder_holding_only_a_folder_named_like_a_stem_is_passed_over(tmp_path):
    # "stems/take1.wav" being a folder, the stems folder was taken for the stems, and the
    # folder refused as holding none
    folder = tmp_path / "export"
    write_tone(folder / "Drums.wav", 110.0)
    write_tone(folder / "Bass.wav", 55.0)
    (folder / "stems" / "take1.wav").mkdir(parents=True)
    report = automix_files([folder], tmp_path / "mix.wav")
    assert [s.name for s in report.stems] == ["Bass.wav", "Drums.wav"]
