"""Content credentials: a signed file verifies, one changed sample does not, keys are local."""

from __future__ import annotations

import stat
import struct

import numpy as np
import pytest
import soundfile as sf

from bandmate.errors import InputFileError, UserError
from bandmate.rights.credentials import (
    PROVENANCE_LABEL,
    SOURCE_TYPE_URL,
    init_keys,
    key_paths,
    load_keys,
    sign_file,
    verify_file,
)
from bandmate.rights.tags import Tags, read_tags, write_tags

PROVENANCE = {"model": "melody-small", "seed": 7, "style": "pop"}


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    """A bandmate home of its own, so that no test touches (or makes) the user's key."""
    folder = tmp_path / "home"
    monkeypatch.setenv("BANDMATE_HOME", str(folder))
    return folder


def noise_file(path, rng, subtype="PCM_16"):
    sf.write(path, rng.uniform(-0.9, 0.9, (12_000, 2)), 48_000, subtype=subtype)
    return path


def flip_one_sample(path) -> None:
    """Change the first sample of a WAV file's `data` chunk by one step, as an editor would."""
    data = bytearray(path.read_bytes())
    offset = 12  # after RIFF size WAVE
    while offset + 8 <= len(data):
        chunk, size = (
            data[offset : offset + 4],
            struct.unpack("<I", data[offset + 4 : offset + 8])[0],
        )
        if chunk == b"data":
            start = offset + 8
            (value,) = struct.unpack("<h", data[start : start + 2])
            data[start : start + 2] = struct.pack("<h", value + 1 if value < 32767 else value - 1)
            path.write_bytes(bytes(data))
            return
        offset += 8 + size + (size & 1)
    raise AssertionError("no data chunk")


def flip_flac_frame_byte(path) -> None:
    """Change one byte of the last FLAC audio frame (the manifest sits in the metadata)."""
    data = bytearray(path.read_bytes())
    data[-20] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("name", ["take.wav", "take.flac"])
def test_a_signed_file_verifies_and_says_how_it_was_made(tmp_path, rng, home, name):
    path = noise_file(tmp_path / name, rng)
    before = sf.read(path, dtype="int32")[0]
    sign_file(path, title="Take 1", provenance=PROVENANCE)  # the key is made on first use
    result = verify_file(path)
    assert result.ok, result.reason
    assert result.state == "Trusted"
    assert result.reason.startswith("valid: signed by bandmate")
    assert "trainedAlgorithmicMedia" in result.reason
    assertions = {a["label"]: a["data"] for a in result.manifest["assertions"]}
    assert assertions[PROVENANCE_LABEL] == PROVENANCE
    (created,) = next(v for k, v in assertions.items() if k.startswith("c2pa.actions"))["actions"]
    assert created["action"] == "c2pa.created"
    assert created["digitalSourceType"] == SOURCE_TYPE_URL
    assert created["softwareAgent"]["name"] == "bandmate"
    np.testing.assert_array_equal(sf.read(path, dtype="int32")[0], before)
    # the private key is the owner's alone
    assert stat.S_IMODE(key_paths(home / "keys").key.stat().st_mode) == 0o600


def test_changing_one_sample_fails_verification(tmp_path, rng):
    path = noise_file(tmp_path / "take.wav", rng)
    sign_file(path, title="Take 1", provenance=PROVENANCE)
    flip_one_sample(path)
    result = verify_file(path)
    assert not result.ok
    assert "data hash mismatch" in result.reason


def test_changing_flac_audio_fails_verification(tmp_path, rng):
    path = noise_file(tmp_path / "take.flac", rng)
    sign_file(path, title="Take 1", provenance=PROVENANCE)
    flip_flac_frame_byte(path)
    result = verify_file(path)
    assert not result.ok
    assert "data hash mismatch" in result.reason


@pytest.mark.parametrize("name", ["take.wav", "take.flac"])
def test_tags_written_before_signing_stay_and_are_covered(tmp_path, rng, name):
    path = noise_file(tmp_path / name, rng)
    write_tags(path, Tags(title="Session A", copyright="© 2026 Ada"))
    sign_file(path, title="Take 1", provenance=PROVENANCE)
    assert read_tags(path)["title"] == "Session A"
    assert verify_file(path).ok
    # a tag edited in place after signing (as a tag editor would) is a change to the file
    data = path.read_bytes()
    assert data.count(b"Session A") == 1
    path.write_bytes(data.replace(b"Session A", b"Session B"))
    assert "data hash mismatch" in verify_file(path).reason
    # bandmate's own tagging rewrites the file, credentials and all
    write_tags(path, Tags(title="Take 2"))
    assert verify_file(path).reason == "no credentials"


def test_an_unsigned_file_has_no_credentials(tmp_path, rng):
    result = verify_file(noise_file(tmp_path / "plain.wav", rng))
    assert (result.ok, result.reason, result.manifest) == (False, "no credentials", None)


def test_verify_refuses_missing_files_and_other_types(tmp_path):
    with pytest.raises(InputFileError, match="does not exist"):
        verify_file(tmp_path / "gone.wav")
    (tmp_path / "song.mid").write_bytes(b"MThd")
    with pytest.raises(InputFileError, match=r"\.wav and \.flac"):
        verify_file(tmp_path / "song.mid")


def test_a_missing_key_says_how_to_create_one(tmp_path, rng, home):
    with pytest.raises(UserError, match="create one with `bandmate keys init`"):
        load_keys()
    path = noise_file(tmp_path / "take.wav", rng)
    with pytest.raises(UserError, match="bandmate keys init"):
        sign_file(path, title="Take 1", provenance={}, keys=load_keys())
    assert not (home / "keys").exists()


def test_init_refuses_to_replace_a_key_without_force():
    init_keys()
    with pytest.raises(UserError, match="--force"):
        init_keys()


def test_files_signed_before_a_new_key_still_verify(tmp_path, rng):
    path = noise_file(tmp_path / "old.wav", rng)
    sign_file(path, title="Old", provenance={})
    init_keys(force=True)
    assert verify_file(path).ok
    sign_file(path, title="New", provenance={})  # re-signing replaces the credentials
    result = verify_file(path)
    assert result.ok and result.manifest["title"] == "New"


def test_another_machines_file_is_trusted_only_with_its_root(tmp_path, rng, monkeypatch):
    path = noise_file(tmp_path / "theirs.wav", rng)
    monkeypatch.setenv("BANDMATE_HOME", str(tmp_path / "their-home"))
    sign_file(path, title="Theirs", provenance={})
    their_root = key_paths().root
    monkeypatch.setenv("BANDMATE_HOME", str(tmp_path / "my-home"))
    init_keys()
    result = verify_file(path)
    assert not result.ok
    assert result.state == "Valid"  # intact, but not signed by anyone trusted here
    assert "trusted root" in result.reason
    assert verify_file(path, trust=[their_root]).ok
