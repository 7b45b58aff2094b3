"""Fuzzing the API with Hypothesis: whatever a client sends, the answer is never a 500.

Bodies are valid job parameters with one field replaced by an arbitrary JSON value, or an
arbitrary JSON value altogether; no worker runs, so only the request handling is under test.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.web.conftest import CSRF, TINY_BACKING

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=10,
)
VALID = [
    TINY_BACKING,
    {"kind": "melody", "chart": "| C | G |"},
    {"kind": "master", "input": "0" * 32},
    {"kind": "mix", "stems": ["0" * 32]},
    {"kind": "harmonize", "input": "0" * 32},
    {"kind": "continue", "input": "0" * 32, "bars": 2},
]
KEYS = sorted({k for params in VALID for k in params} | {"tempo", "key", "low", "high", "curve"})
ANSWERS = {201, 404, 413, 415, 422}
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def idle_studio(tmp_path_factory):
    from fastapi.testclient import TestClient

    from bandmate.web.app import create_app

    app = create_app(tmp_path_factory.mktemp("studio"))
    app.state.pool.workers = 0
    with TestClient(app) as client:
        yield client


@FUZZ
@given(base=st.sampled_from(VALID), key=st.sampled_from(KEYS), value=JSON)
def test_a_mutated_job_is_never_a_server_error(idle_studio, base, key, value):
    response = idle_studio.post("/api/jobs", json={**base, key: value}, headers=CSRF)
    assert response.status_code in ANSWERS, response.text
    assert isinstance(response.json().get("id") or response.json()["detail"], str)


@FUZZ
@given(body=JSON)
def test_any_json_body_is_never_a_server_error(idle_studio, body):
    response = idle_studio.post("/api/jobs", json=body, headers=CSRF)
    assert response.status_code in ANSWERS, response.text


@FUZZ
@given(name=st.text(min_size=1, max_size=30), job=st.text(min_size=1, max_size=40))
def test_any_file_name_is_never_a_server_error(idle_studio, name, job):
    name, job = quote(name, safe="/."), quote(job, safe=".")
    for url in (f"/api/jobs/{job}/files/{name}", f"/api/jobs/{job}", f"/api/jobs/{job}/pianoroll"):
        assert idle_studio.get(url).status_code in ANSWERS | {405, 200}
