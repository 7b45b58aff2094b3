"""Provenance manifests beside generated files, and `verify` on what they describe."""

import json

import pytest

from bandmate.errors import UserError
from bandmate.io.midi import write_midi
from bandmate.models.registry import load
from bandmate.rights.provenance import (
    Provenance,
    manifest_path,
    model_use,
    publish,
    read_manifest,
    require_commercial,
    verify,
)
from bandmate.rights.tags import read_tags


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("BANDMATE_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture
def published(tmp_path, home, small_song):
    path = tmp_path / "song.mid"
    write_midi(small_song, path)
    melody = model_use(load("melody"))
    provenance = Provenance(
        command="melody",
        parameters={"style": "folk", "bars": 8},
        seed=3,
        models=[melody],
        originality={"flagged": False, "score": 0.1},
    )
    publish(path, provenance)
    return path


def test_a_published_file_has_its_manifest_and_tags(published):
    manifest = json.loads(manifest_path(published).read_text())
    assert manifest["command"] == "melody" and manifest["seed"] == 3
    assert manifest["digital_source_type"].endswith("/trainedAlgorithmicMedia")
    assert "AI-generated" in manifest["statement"]
    (model,) = manifest["models"]
    assert model["name"] == "melody" and len(model["checkpoint_sha256"]) == 64
    assert {c["name"] for c in model["collections"]} >= {"essen", "oneills1850"}
    assert manifest["originality"] == {"flagged": False, "score": 0.1}
    tags = read_tags(published)
    assert tags["source_type"] == "trainedAlgorithmicMedia" and "bandmate" in tags["software"]
    check = verify(published)
    assert check.ok, check.reason


def test_a_changed_file_no_longer_matches_its_manifest(published):
    data = bytearray(published.read_bytes())
    data[-5] ^= 1
    published.write_bytes(bytes(data))
    check = verify(published)
    assert not check.ok and "changed" in check.reason


def test_a_corrupted_manifest_is_a_clear_error(published):
    manifest_path(published).write_text('{"schema": "bandmate.provenance/1", "comm')
    with pytest.raises(UserError, match="corrupted"):
        read_manifest(published)
    manifest_path(published).write_text("[1, 2]")
    with pytest.raises(UserError, match="corrupted"):
        verify(published)


def test_a_file_without_manifest_or_credentials_is_not_valid(tmp_path, small_song):
    path = tmp_path / "plain.mid"
    write_midi(small_song, path)
    check = verify(path)
    assert not check.ok and "no credentials" in check.reason


def test_commercial_use_refuses_models_with_non_commercial_data():
    melody, chorale = model_use(load("melody")), model_use(load("chorale"))
    with pytest.raises(UserError, match="essen"):
        require_commercial([melody])
    require_commercial([chorale])  # the JSB chorales are public domain


def test_audio_written_with_its_tags_publishes_like_audio_tagged_afterwards(tmp_path, home):
    import numpy as np

    from bandmate.io.audio import Audio, read_audio, write_audio
    from bandmate.rights.provenance import publish_all, write_published_audio

    audio = Audio(np.random.default_rng(1).uniform(-0.3, 0.3, (2, 44_100)), 44_100)
    provenance = Provenance(command="backing", parameters={"style": "rock"}, seed=1)
    early, late = tmp_path / "early.wav", tmp_path / "late.wav"
    write_published_audio(audio, early, provenance)
    write_audio(audio, late)
    publish_all([early, late], provenance, tagged=[early])
    assert read_tags(early) == read_tags(late)
    assert read_tags(early)["title"] == "bandmate backing"
    np.testing.assert_array_equal(read_audio(early).samples, read_audio(late).samples)
    for path in (early, late):
        assert verify(path).ok and read_manifest(path)["file"]["name"] == path.name


def test_a_publisher_finishes_every_file_before_the_job_goes_on(tmp_path, home, small_song):
    import numpy as np

    from bandmate.io.audio import Audio
    from bandmate.rights.provenance import Publisher

    provenance = Provenance(command="backing", parameters={}, seed=1)
    midi, wav = tmp_path / "song.mid", tmp_path / "mix.wav"
    write_midi(small_song, midi)
    with Publisher(provenance) as publisher:
        publisher.file(midi)
        publisher.audio(Audio(np.full((2, 44_100), 0.1, np.float32), 44_100), wav)
    assert publisher.manifests == [manifest_path(midi), manifest_path(wav)]
    assert verify(wav).ok and read_tags(midi)["source_type"] == "algorithmicMedia"
    with pytest.raises(UserError), Publisher(provenance) as publisher:
        publisher.file(tmp_path / "missing.mid")


def test_a_manifest_edited_after_signing_fails_verification(tmp_path, home):
    """The manifest's own hash names the audio, not itself: an edit to the record (a seed, a
    licence) shows only against the record signed into the file's credentials."""
    import numpy as np

    from bandmate.io.audio import Audio, write_audio

    path = tmp_path / "take.wav"
    write_audio(Audio(np.random.default_rng(2).uniform(-0.3, 0.3, (2, 4_410)), 44_100), path)
    # a float whose shortest repr c2pa writes back differently: it must still verify
    parameters = {"style": "rock", "tempo_bpm": 112.00005973336519}
    publish(path, Provenance(command="backing", parameters=parameters, seed=1))
    assert verify(path).ok, verify(path).reason

    manifest = json.loads(manifest_path(path).read_text())
    manifest["seed"] = 99
    manifest["data"] = [{"name": "styles", "licence_class": "public-domain"}]
    manifest_path(path).write_text(json.dumps(manifest, indent=2))
    check = verify(path)
    assert not check.ok
    assert "edited after signing (data, seed differ" in check.reason
