"""The HTTP API: uploads, jobs, files, validation, and the cross-site and token checks."""

from __future__ import annotations

import io

import pytest

from tests.web.conftest import CSRF, TINY_BACKING, midi_bytes, upload, wait_for, wav_bytes


def test_health_answers(studio):
    response = studio.get("/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_openapi_lists_the_api(studio):
    paths = studio.get("/openapi.json").json()["paths"]
    for path in ("/api/uploads", "/api/jobs", "/api/jobs/{job_id}", "/api/styles"):
        assert path in paths


def test_styles_come_from_the_style_library(studio):
    from bandmate.arrange.style import style_names

    names = [s["name"] for s in studio.get("/api/styles").json()]
    assert names == style_names()


def test_the_page_and_its_script_are_served_locally(studio):
    page = studio.get("/")
    assert page.status_code == 200
    assert 'src="/static/studio.js"' in page.text
    assert "http" not in page.text.split("<body>")[1]  # nothing from a CDN
    assert studio.get("/static/studio.js").status_code == 200


# ---- uploads ----------------------------------------------------------------------------------


def test_a_wav_upload_is_kept_under_a_generated_name(studio):
    response = upload(studio, "../../evil name.wav", wav_bytes())
    assert response.status_code == 201, response.text
    upload_id = response.json()["id"]
    store = studio.app.state.uploads
    assert store.path(upload_id, ("wav",)).name == "input.wav"
    assert store.meta(upload_id)["name"] == "../../evil name.wav"  # recorded, never a path
    assert not any(p.name.startswith("evil") for p in store.root.parent.rglob("*"))


def test_a_midi_upload_is_accepted(studio):
    assert upload(studio, "tune.MID", midi_bytes()).status_code == 201


def test_an_upload_over_the_limit_is_413(studio):
    response = upload(studio, "big.wav", wav_bytes(seconds=7.0))  # ~1.2 MB, limit 1 MB
    assert response.status_code == 413
    assert "limit of 1 MB" in response.json()["detail"]
    assert not list(studio.app.state.uploads.root.glob(".incoming-*"))


@pytest.mark.parametrize(
    ("name", "data", "says"),
    [
        ("notes.txt", b"hello", "not accepted"),
        ("fake.wav", b"MThd" + bytes(40), "content is a midi file"),
        ("fake.mid", b"<html><body>hi</body></html>", "not a file bandmate reads"),
        ("noext", wav_bytes(0.1), "The file 'noext' has no extension; upload a file whose name"),
        ("", wav_bytes(0.1), "The file came without its name; send it with its name"),
        ("song.m4a", b"\x00\x00\x00\x20ftypM4A " + bytes(40), "ending in '.m4a' are not accepted"),
    ],
)
def test_a_wrong_type_is_415_with_a_reason(studio, name, data, says):
    response = upload(studio, name, data)
    assert response.status_code == 415
    assert says in response.json()["detail"]


def test_a_file_named_only_by_its_extension_is_that_type(studio):
    assert upload(studio, ".wav", wav_bytes(0.1)).status_code == 201


def test_a_file_name_in_rfc_5987_form_is_read(studio):
    """As urllib3 before 2.0 (so `requests`) sends a name that is not ASCII."""
    body = (
        b'--XX\r\nContent-Disposition: form-data; name="file"; '
        b"filename*=UTF-8''t%C3%BCne%20%E2%99%AA.mid\r\n\r\n" + midi_bytes() + b"\r\n--XX--\r\n"
    )
    headers = {**CSRF, "content-type": "multipart/form-data; boundary=XX"}
    response = studio.post("/api/uploads", content=body, headers=headers)
    assert response.status_code == 201, response.text
    assert studio.app.state.uploads.meta(response.json()["id"])["name"] == "tüne ♪.mid"


def test_an_upload_without_the_file_field_is_400(studio):
    response = studio.post("/api/uploads", files={"other": ("a.wav", wav_bytes(0.1))}, headers=CSRF)
    assert response.status_code == 400
    assert "'file'" in response.json()["detail"]


# ---- jobs -------------------------------------------------------------------------------------


def test_a_backing_job_runs_to_done_with_every_file(studio, backing_job):
    files = backing_job["files"]
    for name in ("song.mid", "song.musicxml", "mix.wav", "master.wav", "manifest.json"):
        assert name in files
    assert any(f.startswith("stems/") and f.endswith(".wav") for f in files)
    assert backing_job["progress"] == 1.0
    assert backing_job["error"] is None


def test_a_job_file_downloads(studio, backing_job):
    response = studio.get(f"/api/jobs/{backing_job['id']}/files/master.wav")
    assert response.status_code == 200
    assert response.headers["content-type"] == "audio/wav"
    assert response.content[:4] == b"RIFF"
    stem = next(f for f in backing_job["files"] if f.startswith("stems/"))
    assert studio.get(f"/api/jobs/{backing_job['id']}/files/{stem}").status_code == 200


def test_the_piano_roll_is_the_midi_in_seconds(studio, backing_job):
    roll = studio.get(f"/api/jobs/{backing_job['id']}/pianoroll").json()
    assert roll["notes"] and set(roll["tracks"]) >= {n["track"] for n in roll["notes"]}
    # two bars of 4/4 at 132 BPM last 3.6 s
    assert max(n["end_s"] for n in roll["notes"]) <= roll["duration_s"] + 1e-3
    assert 3.0 < roll["duration_s"] < 5.0
    assert all(0 <= n["start_s"] < n["end_s"] for n in roll["notes"])


@pytest.mark.parametrize(
    "name",
    [
        "../../jobs.sqlite",
        "..%2F..%2Fjobs.sqlite",
        "%2e%2e/%2e%2e/jobs.sqlite",
        "/etc/passwd",
        "stems/../../../jobs.sqlite",
        "song.mid.provenance.json/..",
        "nothing.wav",
    ],
)
def test_file_names_outside_the_jobs_files_are_404(studio, backing_job, name):
    response = studio.get(f"/api/jobs/{backing_job['id']}/files/{name}")
    assert response.status_code == 404


def test_an_unknown_job_is_404(studio):
    assert studio.get("/api/jobs/" + "0" * 32).status_code == 404
    assert studio.get("/api/jobs/not-an-id").status_code == 404
    assert studio.get("/api/jobs/" + "0" * 32 + "/files/song.mid").status_code == 404


def test_a_failing_job_reports_the_librarys_sentence(studio):
    # its header is sound (a header that is not is refused at submit), its samples cut short
    upload_id = upload(studio, "mix.wav", wav_bytes()[:100]).json()["id"]
    response = studio.post("/api/jobs", json={"kind": "master", "input": upload_id}, headers=CSRF)
    assert response.status_code == 201
    job = wait_for(studio, response.json()["id"])
    assert job["status"] == "failed"
    assert job["files"] == []
    assert job["error"].startswith("'mix.wav' is truncated"), job["error"]
    assert str(studio.app.state.store.data_dir) not in job["error"]  # no server paths


def test_a_progression_without_bar_lines_is_a_bar_a_chord(studio):
    # "C G/B" was refused as a file name; typed as running text it is a bar a chord, as on the
    # command line
    params = {**TINY_BACKING, "chart": "C G/B", "audio": False}
    job = wait_for(studio, studio.post("/api/jobs", json=params, headers=CSRF).json()["id"])
    assert job["status"] == "done", job
    manifest = studio.get(f"/api/jobs/{job['id']}/files/manifest.json").json()
    assert manifest["duration_seconds"] == pytest.approx(2 * 4 * 60 / 132, abs=0.01)  # not one


def test_mastering_an_uploaded_mix(studio):
    upload_id = upload(studio, "mix.wav", wav_bytes(seconds=3.0)).json()["id"]
    params = {"kind": "master", "input": upload_id, "target_lufs": -16}
    job = wait_for(studio, studio.post("/api/jobs", json=params, headers=CSRF).json()["id"])
    assert job["status"] == "done", job
    assert {"master.wav", "master.json"} <= set(job["files"])
    report = studio.get(f"/api/jobs/{job['id']}/files/master.json").json()
    assert abs(report["after"]["integrated_lufs"] - -16) < 1.0
    plot = studio.get(f"/api/jobs/{job['id']}/files/master.png")  # was application/octet-stream
    assert plot.headers["content-type"] == "image/png"
    assert plot.content[:8] == b"\x89PNG\r\n\x1a\n"


def mp3_bytes(seconds: float = 3.0) -> bytes:
    """`wav_bytes`' tone as an MP3, as libsndfile encodes one (ID3-less: a bare MPEG frame)."""
    import soundfile as sf

    samples, rate = sf.read(io.BytesIO(wav_bytes(seconds=seconds)), dtype="float32")
    buffer = io.BytesIO()
    sf.write(buffer, samples, rate, format="MP3")
    return buffer.getvalue()


def test_a_reference_track_given_as_mp3_or_ogg_is_matched(studio):
    # a producer's reference is often at hand only as an MP3; the studio took WAV and FLAC only
    import soundfile as sf

    mix = upload(studio, "mix.wav", wav_bytes(seconds=3.0)).json()["id"]
    mp3 = upload(studio, "reference.mp3", mp3_bytes()).json()["id"]
    samples, rate = sf.read(io.BytesIO(wav_bytes(seconds=3.0)), dtype="float32")
    buffer = io.BytesIO()
    sf.write(buffer, samples, rate, format="OGG")
    ogg = upload(studio, "reference.ogg", buffer.getvalue())
    assert ogg.status_code == 201, ogg.text
    for reference in (mp3, ogg.json()["id"]):
        params = {"kind": "master", "input": mix, "reference": reference, "target_lufs": -16}
        job = wait_for(studio, studio.post("/api/jobs", json=params, headers=CSRF).json()["id"])
        assert job["status"] == "done", job
        report = studio.get(f"/api/jobs/{job['id']}/files/master.json").json()
        assert report["reference"] is not None
    # an MP3's name on a file that is not one is still refused
    assert upload(studio, "fake.mp3", wav_bytes()).status_code == 415


def test_stems_given_as_mp3_are_mixed_and_said_to_be_lossy(studio):
    # the mixer took WAV and FLAC stems only, while `bandmate mix` mixed an MP3 named to it
    stems = [
        upload(studio, "bass.wav", tone_wav(80)).json()["id"],
        upload(studio, "keys.mp3", mp3_bytes()).json()["id"],
    ]
    job = studio.post("/api/jobs", json={"kind": "mix", "stems": stems}, headers=CSRF)
    assert job.status_code == 201, job.text
    job = wait_for(studio, job.json()["id"])
    assert job["status"] == "done", job
    report = studio.get(f"/api/jobs/{job['id']}/files/mix.json").json()
    assert [s["role"] for s in report["stems"]] == ["bass", "keys"]
    assert any(n.startswith("02-keys.mp3 is lossy") for n in report["notes"]), report["notes"]


ABC_TUNE = b"""X:1
T:Twinkle
M:4/4
L:1/4
K:C
C C G G | A A G2 | F F E E | D D C2 |]
"""


def test_an_abc_tune_is_harmonized_as_the_cli_would(studio):
    # the studio took MIDI and MusicXML only, though bandmate harmonize reads ABC and .mxl
    upload_id = upload(studio, "twinkle.abc", ABC_TUNE).json()["id"]
    params = {"kind": "harmonize", "input": upload_id}
    job = wait_for(studio, studio.post("/api/jobs", json=params, headers=CSRF).json()["id"])
    assert job["status"] == "done", job
    assert upload(studio, "notes.abc", b"just some words\n").status_code == 415


def test_a_truncated_stem_is_named_as_uploaded(studio):
    """The reason named the mixer's link to it: ''the job's folder/.stems/02-trunc.wav' is
    truncated'."""
    good = upload(studio, "drums.wav", wav_bytes()).json()["id"]
    broken = upload(studio, "my bass ü.wav", wav_bytes()[:100]).json()["id"]
    params = {"kind": "mix", "stems": [good, broken]}
    job = wait_for(studio, studio.post("/api/jobs", json=params, headers=CSRF).json()["id"])
    assert job["status"] == "failed"
    assert job["error"].startswith("'my bass ü.wav' is truncated"), job["error"]
    assert ".stems" not in job["error"] and "job's folder" not in job["error"]


@pytest.mark.parametrize(
    ("kind", "name", "data", "says"),
    [
        (
            "master",
            "tune.mid",
            midi_bytes,
            "'tune.mid' is a midi file; this needs wav, flac, mp3 or ogg.",
        ),
        (
            "mix",
            "drums.mid",
            midi_bytes,
            "'drums.mid' is a midi file; this needs wav, flac, mp3 or ogg.",
        ),
        (
            "harmonize",
            "a.wav",
            wav_bytes,
            "'a.wav' is a wav file; this needs midi, musicxml, mxl or abc.",
        ),
    ],
)
def test_an_upload_of_the_wrong_type_for_the_job_is_named_as_uploaded(
    studio, kind, name, data, says
):
    """The sentence named the upload's id, which the user never saw."""
    upload_id = upload(studio, name, data()).json()["id"]
    params = {"kind": kind, "stems": [upload_id]} if kind == "mix" else {"input": upload_id}
    response = studio.post("/api/jobs", json={"kind": kind, **params}, headers=CSRF)
    assert response.status_code == 422
    assert response.json()["detail"] == says


def test_a_download_from_a_job_not_done_says_why(tmp_path):
    """A queued or running job's file was a 404 'has no file', as if its results were lost; a
    failed job's said nothing of the failure."""
    from fastapi.testclient import TestClient

    from bandmate.web.app import create_app

    app = create_app(tmp_path, workers=0)  # nothing runs: the job stays queued
    with TestClient(app) as client:
        job_id = client.post("/api/jobs", json=TINY_BACKING, headers=CSRF).json()["id"]
        for url in (f"/api/jobs/{job_id}/files/master.wav", f"/api/jobs/{job_id}/pianoroll"):
            response = client.get(url)
            assert response.status_code == 409
            assert response.json()["detail"] == (
                f"Job {job_id} is still queued; its files are there once it is done."
            )
        app.state.store.finish(job_id, error="The chart is too long.")
        response = client.get(f"/api/jobs/{job_id}/files/master.wav")
        assert response.status_code == 404
        assert response.json()["detail"] == (
            f"Job {job_id} failed, so it has no files: The chart is too long."
        )


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({**TINY_BACKING, "colour": "blue"}, "no field 'colour'"),
        ({**TINY_BACKING, "tempo": 1000}, "tempo: input should be less than or equal to 400"),
        # the range `bandmate master` takes: the studio stopped at -40 LUFS
        ({**TINY_BACKING, "target_lufs": -61}, "greater than or equal to -60"),
        ({"kind": "master", "input": "f" * 32, "target_lufs": -61}, "greater than or equal to -60"),
        ({**TINY_BACKING, "style": "polka-metal"}, "polka-metal"),
        ({**TINY_BACKING, "chart": "| C | Hm7 |"}, "Hm7"),
        ({**TINY_BACKING, "chart": "/etc/passwd"}, "not file names"),
        ({**TINY_BACKING, "chart": "song.txt"}, "not file names"),
        ({"kind": "karaoke"}, "'kind' must be one of"),
        ({"chart": "| C |"}, "'kind' must be one of"),
        ({"kind": "master", "input": "f" * 32}, "no upload"),
        ({"kind": "master", "input": "../x"}, "input"),
        ({"kind": "mix", "stems": []}, "stems"),
        ({**TINY_BACKING, "key": "H#"}, "Unknown key 'H#'"),
        ({"kind": "melody", "chart": "| C | G |", "key": "Zb minor"}, "Unknown key 'Zb minor'"),
        # queued, then failed in the worker with 'e.g. --range C4-C6', a flag the API lacks
        ({"kind": "melody", "chart": "| C | G |", "low": 60, "high": 62}, "under a fifth"),
        # queued, then failed: the melody model writes MIDI 36-96 only
        ({"kind": "melody", "chart": "| C | G |", "low": 0, "high": 127}, "within MIDI 36-96"),
        ({"kind": "melody", "chart": "| C | G |", "low": 100, "high": 120}, "within MIDI 36-96"),
        # 4,000 bars of 4/4 sixteen times at 20 BPM: 53 days in the queue's worker, not refused
        (
            {**TINY_BACKING, "chart": "| C " * 4000 + "|", "choruses": 16, "tempo": 20},
            "60-minute limit",
        ),
    ],
)
def test_bad_job_parameters_are_422_with_one_sentence(studio, params, says):
    response = studio.post("/api/jobs", json=params, headers=CSRF)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert isinstance(detail, str) and says in detail


def _wav(channels: int, rate: int) -> bytes:
    import io

    import numpy as np
    import soundfile as sf

    buffer = io.BytesIO()
    sf.write(buffer, np.zeros((rate // 10, channels), np.float32), rate, format="WAV")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "data", "says"),
    [
        ("surround.wav", _wav(6, 44100), "'surround.wav' has 6 channels; bandmate takes mono"),
        ("phone.wav", _wav(1, 8000), "'phone.wav' is at 8000 Hz, a sample rate bandmate does"),
        ("cut.wav", b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(40), "'cut.wav' is not a readable"),
    ],
)
def test_audio_a_job_cannot_take_is_422_at_submit_naming_it(studio, name, data, says):
    """Queued, these failed only when a worker reached them; the header says so at once."""
    audio = upload(studio, name, data).json()["id"]
    good = upload(studio, "good.wav", wav_bytes(0.1)).json()["id"]
    for job in (
        {"kind": "master", "input": audio},
        {"kind": "master", "input": good, "reference": audio},
        {"kind": "mix", "stems": [good, audio]},
    ):
        response = studio.post("/api/jobs", json=job, headers=CSRF)
        assert response.status_code == 422, response.text
        detail = response.json()["detail"]
        assert detail.startswith(says) and "input.wav" not in detail, detail


def test_a_stem_given_twice_is_422_naming_it(studio):
    """It was queued and failed with 'Stem 'the job's folder/.stems/02-bass.wav' is given twice
    (as 'the job's folder/.stems/01-bass.wav' too)', names the user never gave."""
    bass = upload(studio, "bass.wav", wav_bytes()).json()["id"]
    drums = upload(studio, "drums.wav", wav_bytes()).json()["id"]
    params = {"kind": "mix", "stems": [bass, drums, bass]}
    response = studio.post("/api/jobs", json=params, headers=CSRF)
    assert response.status_code == 422
    assert response.json()["detail"] == "The stem 'bass.wav' is given twice; give each stem once."


def tone_wav(freq_hz: float, seconds: float = 2.0, rate: int = 44100) -> bytes:
    """A stereo tone at -12 dBFS as 16-bit WAV bytes: tones an octave or more apart share no
    band, so the mixer's masking cuts leave their levels alone."""
    import io

    import numpy as np
    import soundfile as sf

    t = np.arange(int(seconds * rate)) / rate
    tone = (0.25 * np.sin(2 * np.pi * freq_hz * t)).astype(np.float32)
    buffer = io.BytesIO()
    sf.write(buffer, np.stack([tone, tone], axis=1), rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def test_a_mix_sets_a_stems_level_and_role_as_asked(studio):
    """Automix undoes the gain a stem comes in at: a level is the user's one way to set a part
    back, and a role says what a name cannot (a pad that is really a vocal)."""
    ids = {
        name: upload(studio, name, tone_wav(freq_hz)).json()["id"]
        for name, freq_hz in (("bass.wav", 80), ("piano.wav", 440), ("pad.wav", 660))
    }
    params = {
        "kind": "mix",
        "stems": list(ids.values()),
        "levels": {ids["piano.wav"]: -9},
        "roles": {ids["pad.wav"]: "vocal"},
    }
    response = studio.post("/api/jobs", json=params, headers=CSRF)
    assert response.status_code == 201, response.text
    job = wait_for(studio, response.json()["id"])
    assert job["status"] == "done", job
    report = studio.get(f"/api/jobs/{job['id']}/files/mix.json").json()
    stems = {s["name"]: s for s in report["stems"]}
    after = {name: s["loudness_after_lufs"] for name, s in stems.items()}
    assert after["02-piano.wav"] - max(after.values()) == pytest.approx(-9, abs=0.5)
    assert [s["level_from"] for s in stems.values()] == ["model", "given", "model"]
    assert (stems["03-pad.wav"]["role"], stems["03-pad.wav"]["role_from"]) == ("vocal", "given")
    assert stems["01-bass.wav"]["role_from"] == "name"


@pytest.mark.parametrize(
    ("setting", "value", "other", "says"),
    [
        ("levels", -3, "vocal.wav", "A level is given for 'vocal.wav', which is not one of the"),
        ("roles", "vocal", "vocal.wav", "A role is given for 'vocal.wav', which is not one of the"),
        ("levels", -3, None, f"A level is given for the upload {'f' * 32!r}, which is not"),
    ],
)
def test_a_role_or_level_for_an_upload_not_among_the_stems_is_refused(
    studio, setting, value, other, says
):
    """It would be dropped without a word, the mix made without the user's say."""
    bass = upload(studio, "bass.wav", wav_bytes()).json()["id"]
    key = upload(studio, other, wav_bytes()).json()["id"] if other else "f" * 32  # no upload
    params = {"kind": "mix", "stems": [bass], setting: {key: value}}
    response = studio.post("/api/jobs", json=params, headers=CSRF)
    assert response.status_code == 422
    assert says in response.json()["detail"]


@pytest.mark.parametrize(
    ("setting", "value", "says"),
    [
        ("levels", 3, "less than or equal to 0"),
        ("levels", -41, "greater than or equal to -40"),
        ("roles", "tuba", "'drums'"),
    ],
)
def test_a_level_out_of_range_or_an_unknown_role_is_422(studio, setting, value, says):
    bass = upload(studio, "bass.wav", wav_bytes()).json()["id"]
    params = {"kind": "mix", "stems": [bass], setting: {bass: value}}
    response = studio.post("/api/jobs", json=params, headers=CSRF)
    assert response.status_code == 422
    assert says in response.json()["detail"]


def test_the_studios_roles_are_the_mixers():
    from typing import get_args

    from bandmate.mix.balance import ROLES
    from bandmate.web.kinds import Role

    assert get_args(Role) == ROLES


def test_malformed_json_is_422(studio):
    response = studio.post(
        "/api/jobs",
        content=b"{not json",
        headers={**CSRF, "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert "not valid JSON" in response.json()["detail"]


def test_an_oversized_json_body_is_413_before_it_is_read(studio):
    response = studio.post(
        "/api/jobs", json={**TINY_BACKING, "chart": "| C " * 400_000}, headers=CSRF
    )
    assert response.status_code == 413


# ---- cross-site requests and the token --------------------------------------------------------


def test_a_state_change_without_the_header_is_403(studio):
    response = studio.post("/api/jobs", json=TINY_BACKING)
    assert response.status_code == 403
    assert "X-Bandmate" in response.json()["detail"]


def test_a_cross_site_form_post_is_403(studio):
    response = studio.post(
        "/api/uploads",
        files={"file": ("a.wav", wav_bytes(0.1))},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 403


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Referer": "https://evil.example/page"},
        {"Origin": "http://testserver.evil.example"},
    ],
)
def test_a_cross_origin_request_with_the_header_is_403(studio, headers):
    response = studio.post("/api/jobs", json=TINY_BACKING, headers={**CSRF, **headers})
    assert response.status_code == 403
    assert "Cross-site" in response.json()["detail"]


def test_a_same_origin_request_is_allowed(studio):
    headers = {**CSRF, "Origin": "http://testserver"}
    response = studio.post("/api/jobs", json={**TINY_BACKING, "audio": False}, headers=headers)
    assert response.status_code == 201


def test_a_token_is_needed_when_set(tmp_path):
    from fastapi.testclient import TestClient

    from bandmate.web.app import create_app

    with TestClient(create_app(tmp_path, token="s3cret")) as client:
        assert client.get("/health").status_code == 200
        assert client.get("/api/styles").status_code == 401
        wrong = {"Authorization": "Bearer nope"}
        assert client.get("/api/styles", headers=wrong).status_code == 401
        right = {"Authorization": "Bearer s3cret"}
        assert client.get("/api/styles", headers=right).status_code == 200
        assert client.post("/api/jobs", json=TINY_BACKING, headers=right).status_code == 403
        assert client.get("/?token=nope", follow_redirects=False).status_code == 401
        visit = client.get("/?token=s3cret", follow_redirects=False)
        assert visit.status_code == 303
        assert "httponly" in visit.headers["set-cookie"].lower()
        assert client.get("/api/styles").status_code == 200  # the cookie now


def test_a_non_ascii_token_is_a_wrong_token_not_a_crash(tmp_path):
    """`hmac.compare_digest` raises on non-ASCII str: every token check compares bytes."""
    from fastapi.testclient import TestClient

    from bandmate.web.app import create_app

    with TestClient(create_app(tmp_path, token="s3cret"), raise_server_exceptions=False) as c:
        assert c.get("/?token=%C3%A9", follow_redirects=False).status_code == 401
        assert c.get("/?token=%FF", follow_redirects=False).status_code == 401  # not UTF-8
        for value in (b"Bearer \xe9", b"Bearer \xc3\xa9"):
            assert c.get("/api/styles", headers={"Authorization": value}).status_code == 401
        cookie = {"Cookie": b"bandmate_token=\xc3\xa9"}
        assert c.get("/api/styles", headers=cookie).status_code == 401


def test_a_cancelled_upload_leaves_no_partial_folder(tmp_path):
    """A client going away cancels the handler (CancelledError, a BaseException)."""
    import asyncio

    from bandmate.web.app import create_app

    app = create_app(tmp_path, workers=0)
    boundary = "bandmateboundary"
    first = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n'
        "Content-Type: audio/wav\r\n\r\n"
    ).encode() + wav_bytes(0.1)[:1000]
    chunks = [{"type": "http.request", "body": first, "more_body": True}]
    partial = []

    async def receive():
        if chunks:
            return chunks.pop()
        partial.extend((tmp_path / "uploads").glob(".incoming-*"))
        raise asyncio.CancelledError  # as when the server cancels the request's task

    async def send(message):
        pass

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/uploads",
        "raw_path": b"/api/uploads",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"x-bandmate", b"1"),
            (b"content-type", f"multipart/form-data; boundary={boundary}".encode()),
        ],
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
    }
    with pytest.raises(asyncio.CancelledError):
        asyncio.run(app(scope, receive, send))
    assert partial  # the upload was under way when it was cancelled
    assert not list((tmp_path / "uploads").glob(".incoming-*"))


# ---- chords -----------------------------------------------------------------------------------


def g_major_tune_bytes() -> bytes:
    """Sixteen beats of a tune in G (G B D B | C A F# A | G B D G | G D B G), as MIDI."""
    import tempfile
    from pathlib import Path

    from bandmate.io.midi import write_midi
    from bandmate.score import Role, Track
    from tests.builders import make_score, notes

    pitches = (67, 71, 74, 71, 72, 69, 66, 69, 67, 71, 74, 79, 79, 74, 71, 67)
    tune = Track(
        "Tune", 73, role=Role.MELODY, notes=notes(*((i, 1, p) for i, p in enumerate(pitches)))
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "tune.mid"
        write_midi(make_score(tune), path)
        return path.read_bytes()


def chords_of(studio, params: dict) -> tuple[dict, list[dict]]:
    response = studio.post("/api/jobs", json={"kind": "chords", **params}, headers=CSRF)
    assert response.status_code == 201, response.text
    job = wait_for(studio, response.json()["id"])
    assert job["status"] == "done", job
    answer = studio.get(f"/api/jobs/{job['id']}/files/chords.json")
    assert answer.headers["content-type"] == "application/json"
    return job, answer.json()


def test_chords_for_an_uploaded_melody_are_charts_in_its_key(studio):
    from bandmate.theory.chart import parse_chart
    from bandmate.theory.keys import Key

    upload_id = upload(studio, "tune.mid", g_major_tune_bytes()).json()["id"]
    job, suggestions = chords_of(studio, {"input": upload_id, "count": 3})
    assert len(suggestions) == 3
    assert [set(s) for s in suggestions] == [{"chart", "name", "score"}] * 3
    assert [s["score"] for s in suggestions] == sorted(
        (s["score"] for s in suggestions), reverse=True
    )
    assert parse_chart(suggestions[0]["chart"]).key == Key.parse("G")
    assert "warning.txt" not in job["files"]  # the file states no key its notes deny


def test_chords_for_a_melody_name_a_key_signature_its_notes_deny(studio):
    """As `bandmate chords` warns on stderr: an E minor tune under a DAW's C major."""
    import tempfile
    from pathlib import Path

    from bandmate.io.midi import write_midi
    from bandmate.score import Role, Track
    from bandmate.score.model import KeyChange
    from bandmate.theory.keys import Key
    from tests.builders import make_score, notes

    pitches = (64, 66, 67, 71, 71, 69, 67, 66, 64, 67, 71, 76, 75, 71, 66, 63, 64)
    tune = Track(
        "Tune", 73, role=Role.MELODY, notes=notes(*((i, 1, p) for i, p in enumerate(pitches)))
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "tune.mid"
        write_midi(make_score(tune, keys=(KeyChange(0, Key(0, "major")),)), path)
        upload_id = upload(studio, "tune.mid", path.read_bytes()).json()["id"]
    job, _ = chords_of(studio, {"input": upload_id, "count": 1})
    warning = studio.get(f"/api/jobs/{job['id']}/files/warning.txt").text
    assert "key signature says C" in warning and "set the key to Em" in warning
    assert "--key" not in warning  # a flag the studio has no such thing as
    job, told = chords_of(studio, {"input": upload_id, "count": 1, "key": "Em"})
    assert told[0]["chart"].startswith("(key: Em) |")
    assert "warning.txt" not in job["files"]


def test_chords_for_a_key_style_and_bars_give_count_charts(studio):
    from bandmate.theory.chart import parse_chart
    from bandmate.theory.keys import Key

    _, suggestions = chords_of(studio, {"key": "Bb", "style": "jazz", "bars": 8, "count": 3})
    assert len(suggestions) == 3
    for suggestion in suggestions:
        chart = parse_chart(suggestion["chart"])
        assert chart.key == Key.parse("Bb") and len(chart.bars) == 8


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({}, "Give a melody file to harmonize, or a key such as Bb."),
        ({"style": "jazz", "bars": 4}, "Give a melody file to harmonize, or a key"),
        ({"key": "H"}, "Unknown key 'H'; write a key like C, Bb, F#m or Eb minor."),
        ({"key": "C", "style": "polka"}, "Unknown chord style 'polka'"),
        ({"key": "C", "count": 0}, "count"),
        ({"key": "C", "count": 11}, "count"),
        ({"key": "C", "bars": 0}, "bars"),
        ({"input": "f" * 32}, "no upload"),
        ({"input": "MELODY", "style": "jazz"}, "A style and bars are for progressions in a key"),
        ({"input": "MELODY", "bars": 8}, "A style and bars are for progressions in a key"),
        ({"input": "MELODY", "key": "Zb"}, "Unknown key 'Zb'"),
    ],
)
def test_bad_chords_requests_are_422_with_one_sentence(studio, params, says):
    if params.get("input") == "MELODY":
        params = {**params, "input": upload(studio, "t.mid", midi_bytes()).json()["id"]}
    response = studio.post("/api/jobs", json={"kind": "chords", **params}, headers=CSRF)
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, str) and says in detail, detail
