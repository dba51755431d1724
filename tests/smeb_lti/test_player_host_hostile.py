"""Hostile player events (issue 13): every one is a JSON 4xx naming the field, never a 500, and nothing is stored.

The player's fetch reads JSON, so refusals of ``POST /play/<launch>/events`` are JSON whatever went wrong.
On SQLite and PostgreSQL (PostgreSQL refuses U+0000 in text late, at the write).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from smeb_lti.play.store import AppliedEvent
from tests.smeb_lti.dashboard.helpers import COMPANY_A, launch, open_player
from xapi.delivery import outbox


def _envelope(type_: str, data: Any) -> str:
    return json.dumps({"id": str(uuid.uuid4()), "type": type_, "time": "2026-11-21T10:00:00Z", "data": data})


def _post_raw(app: Flask, body: str | bytes, headers: dict[str, str] | None = None) -> tuple[Any, dict[str, Any]]:
    launch_id = launch(app, COMPANY_A, "ola")
    config = open_player(app.test_client(), launch_id)
    response = app.test_client().post(config["eventsUrl"], data=body, content_type="application/json",
                                      headers={config["tokenHeader"]: config["token"], **(headers or {})})
    return response, config


def _stored(app: Flask) -> tuple[int, int]:
    with app.extensions["smeb.engine"].connect() as conn:
        events = conn.execute(select(func.count()).select_from(AppliedEvent.__table__)).scalar_one()
        queued = conn.execute(select(func.count()).select_from(outbox.outbox_table)).scalar_one()
    return events, queued


def _refused(response: Any, status: int = 400) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/json", response.get_data(as_text=True)[:300]
    body: dict[str, Any] = response.get_json()
    assert body["field"] and body["message"]
    return body


def test_json_nested_50000_deep_is_a_json_400_naming_the_depth_limit(app: Flask) -> None:
    response, _ = _post_raw(app, '{"id": "x", "type": "state", "data": {"state": ' + "[" * 50000 + "]" * 50000 + "}}")
    body = _refused(response)
    assert "SMEB_MAX_JSON_DEPTH" in body["message"] and "32" in body["message"]
    assert _stored(app) == (0, 0)


def test_a_nul_in_an_event_is_a_json_400_naming_the_field(app: Flask) -> None:
    response, _ = _post_raw(app, _envelope("state", {"state": "abc\u0000def", "location": "l1"}))
    body = _refused(response)
    assert body["field"] == "$.data.state" and "NUL" in body["message"]
    response, _ = _post_raw(app, _envelope("answered", {"blockId": "q-single", "response": ["a"], "no\u0000te": 1}))
    assert "NUL" in _refused(response)["message"]
    assert _stored(app) == (0, 0)


@pytest.mark.parametrize("raw", [
    '{"id": "%s", "type": "progressed", "data": {"progress": NaN}}',
    '{"id": "%s", "type": "progressed", "data": {"progress": 1e999}}',
    '{"id": "%s", "type": "progressed", "data": {"progress": ' + "9" * 5000 + "}}",
    '{"id": "%s", "type": "state", "data": {"state": "\\ud800"}}',
    '{"id": "%s", "type": "state", "data": {"state": "x"}',
    '\xff\xfe{"id": "%s"}',
    '["%s"]',
])
def test_malformed_json_is_a_json_400_naming_where(app: Flask, raw: str) -> None:
    body = raw % uuid.uuid4()
    response, _ = _post_raw(app, body.encode("latin-1") if "\xff" in body else body.encode("utf-8"))
    assert _refused(response)["field"]
    assert _stored(app) == (0, 0)


def test_a_wrong_content_type_is_a_json_400(app: Flask) -> None:
    launch_id = launch(app, COMPANY_A, "ola")
    config = open_player(app.test_client(), launch_id)
    response = app.test_client().post(config["eventsUrl"], data=_envelope("initialized", {}), content_type="text/plain",
                                      headers={config["tokenHeader"]: config["token"]})
    assert "Content-Type" in _refused(response)["message"]


def test_a_non_ascii_launch_token_or_launch_id_is_a_4xx_not_a_500(app: Flask) -> None:
    response, config = _post_raw(app, _envelope("initialized", {}), headers={"X-SMEB-Launch-Token": "\u00e9" * 64})
    assert response.status_code == 401 and response.get_json()["error"] == "LaunchTokenInvalid"
    response = app.test_client().post("/play/%C3%A9t%C3%A9/events", data=_envelope("initialized", {}), content_type="application/json",
                                      headers={config["tokenHeader"]: config["token"]})
    assert response.status_code == 401
    assert app.test_client().get("/play/%C3%A9t%C3%A9").status_code == 404


def test_a_field_of_a_refused_event_is_named_in_the_json(app: Flask) -> None:
    response, _ = _post_raw(app, _envelope("progressed", {"progress": "lots"}))
    assert _refused(response)["field"] == "data.progress"
