"""A schema-driven fuzz of the studio's API with Schemathesis: every operation in
`/openapi.json`, with requests generated from its schema (and beyond it), never answers 500.

The app runs with no workers (queued jobs wait), so only request handling is under test; the
CSRF header is sent, so that state-changing requests get past the check and into the handlers.
"""

from __future__ import annotations

import tempfile

import schemathesis
from hypothesis import HealthCheck, settings

from bandmate.web.app import create_app

_app = create_app(tempfile.mkdtemp(prefix="bandmate-schema-fuzz-"), workers=0)
schema = schemathesis.openapi.from_asgi("/openapi.json", _app)


@schema.parametrize()
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_operation_answers_a_server_error(case):
    response = case.call(headers={"X-Bandmate": "1"})
    assert response.status_code < 500, (case.method, case.path, response.text[:300])
