"""Property-based fuzzing of ``POST /play/<launch>/events`` (issue 13), on SQLite and PostgreSQL.

Valid events of the all-blocks course, mutated: wrong types, huge strings and numbers, NaN/Infinity, deep
nesting, NUL and unpaired surrogates, unknown fields, missing fields, bad ids. For every body: no 5xx; a refusal
is a 4xx JSON answer, a 400 names the field; a refused event stores nothing; every statement queued in the
outbox passes xAPI validation. A fixed budget (derandomized, a bounded number of examples per database).
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from smeb_lti.play.store import AppliedEvent
from tests.smeb_lti.dashboard.helpers import COMPANY_A, launch, open_player
from tests.support.app import course_app
from xapi.delivery import outbox
from xapi.delivery.destinations import Destination, save_destination
from xapi.validation import validate_statement

DEEP = "\u2063DEEP\u2063"  # a marker replaced by deeply nested JSON text after serialising
SESSION = str(uuid.UUID(int=7))

VALID: list[tuple[str, dict[str, Any]]] = [
    ("initialized", {}),
    ("state", {"state": "eyJsIjoxfQ", "location": "l1"}),
    ("progressed", {"lesson": "l1", "progress": 0.5}),
    ("answered", {"blockId": "q-single", "response": ["a"]}),
    ("answered", {"blockId": "q-multi", "response": ["tidspress", "hierarki"]}),
    ("answered", {"blockId": "q-tf", "response": ["false"]}),
    ("answered", {"blockId": "tavla.s1", "response": ["si-fra"]}),
    ("answered", {"blockId": "s-scale", "response": ["7"]}),
    ("answered", {"blockId": "s-likert", "response": ["4"]}),
    ("answered", {"blockId": "s-fritekst", "response": ["Mer øving."]}),
    ("answered", {"blockId": "s-rangering", "response": ["o2", "o1", "o3"]}),
    ("answered", {"blockId": "r1"}),
    ("answered", {"blockId": "plan"}),
    ("video", {"blockId": "film", "verb": "played", "sessionId": SESSION, "time": 0}),
    ("video", {"blockId": "film", "verb": "paused", "sessionId": SESSION, "time": 3.5, "length": 60, "progress": 0.05,
               "segments": "0[.]3.5"}),
    ("video", {"blockId": "film", "verb": "seeked", "sessionId": SESSION, "timeFrom": 3.5, "timeTo": 10}),
    ("video", {"blockId": "film", "verb": "completed", "sessionId": SESSION, "time": 60, "length": 60, "progress": 1,
               "segments": "0[.]60", "duration": "PT1M"}),
    ("outcome", {"completed": True, "passed": True, "progress": 1}),
    ("terminated", {"duration": "PT5M"}),
]

hostile_values = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**30), max_value=10**30), st.just(10**40),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30),
    st.text(alphabet=st.sampled_from(["\x00", "\ud800", "\udfff", "a", "é", "\u2028", "\"", "\\"]), min_size=1, max_size=8),
    st.just("x" * 70_000), st.just(DEEP), st.lists(st.text(max_size=5), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
    st.sampled_from(["not-a-uuid", str(uuid.UUID(int=0)), "urn:uuid:" + str(uuid.UUID(int=1)), "a" * 200, "", "\x00"]),
)


@st.composite
def mutated_events(draw: st.DrawFn) -> tuple[str, dict[str, str], int]:
    """``(body text, extra headers, nesting depth for DEEP)``: a valid event with a few hostile changes."""
    type_, data = draw(st.sampled_from(VALID))
    event: dict[str, Any] = {"id": str(uuid.UUID(int=draw(st.integers(0, 2**128 - 1)))), "type": type_,
                             "time": "2026-11-21T10:00:00.000Z", "courseId": "https://smeb.no/courses/test-all-blocks",
                             "data": copy.deepcopy(data)}
    for _ in range(draw(st.integers(0, 3))):
        where = draw(st.sampled_from(["envelope", "data", "unknown", "delete", "whole-data"]))
        if where == "envelope":
            event[draw(st.sampled_from(["id", "type", "time", "courseId"]))] = draw(hostile_values)
        elif where == "data" and event["data"] and isinstance(event["data"], dict):
            event["data"][draw(st.sampled_from(sorted(event["data"])))] = draw(hostile_values)
        elif where == "unknown":
            target = event["data"] if isinstance(event["data"], dict) and draw(st.booleans()) else event
            target[draw(st.text(min_size=1, max_size=12))] = draw(hostile_values)
        elif where == "delete" and isinstance(event["data"], dict) and event["data"]:
            del event["data"][draw(st.sampled_from(sorted(event["data"])))]
        elif where == "whole-data":
            event["data"] = draw(hostile_values)
    text = json.dumps(event, allow_nan=True)  # NaN / Infinity tokens: not JSON, sent anyway
    headers: dict[str, str] = {}
    if draw(st.integers(0, 19)) == 0:
        headers["X-SMEB-Launch-Token"] = draw(st.sampled_from(["", "x", "é" * 64, "0" * 64]))
    return text, headers, draw(st.sampled_from([2, 31, 40, 3000]))


@pytest.fixture
def fuzz_app(migrated_db_url: str, tmp_path: Path) -> Iterator[tuple[Flask, dict[str, Any]]]:
    app = course_app(migrated_db_url, tmp_path)
    with app.extensions["smeb.engine"].begin() as conn:
        save_destination(conn, Destination(name="bht-lrs", endpoint="https://lrs.example.no/xapi/"))
    config = open_player(app.test_client(), launch(app, COMPANY_A, "fuzz"))
    yield app, config
    app.extensions["smeb.engine"].dispose()


def _counts(app: Flask) -> tuple[int, int]:
    with app.extensions["smeb.engine"].connect() as conn:
        applied = conn.execute(select(func.count()).select_from(AppliedEvent.__table__)).scalar_one()
        queued = conn.execute(select(func.count()).select_from(outbox.outbox_table)).scalar_one()
    return applied, queued


def test_hostile_player_events_never_give_a_5xx_and_queue_only_valid_statements(fuzz_app: tuple[Flask, dict[str, Any]]) -> None:
    app, config = fuzz_app
    client = app.test_client()
    seen: dict[str, int] = {}

    @settings(max_examples=300, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large])
    @given(mutated_events())
    def check(case: tuple[str, dict[str, str], int]) -> None:
        text, headers, depth = case
        text = text.replace(json.dumps(DEEP), "[" * depth + "]" * depth)
        before = _counts(app)
        response = client.post(config["eventsUrl"], data=text.encode("utf-8", "surrogatepass"), content_type="application/json",
                               headers={config["tokenHeader"]: config["token"], **headers})
        status = response.status_code
        seen[str(status)] = seen.get(str(status), 0) + 1
        assert status < 500, (status, text[:300], response.get_data(as_text=True)[:300])
        if status >= 400:
            assert response.mimetype == "application/json", (status, response.get_data(as_text=True)[:200])
            body = response.get_json()
            assert body["error"] and body["message"]
            if status in (400, 413):
                assert body["field"], body
            assert _counts(app) == before, "a refused event stored something"
        else:
            assert status == 200 and response.get_json()["applied"]

    check()
    with app.extensions["smeb.engine"].connect() as conn:
        payloads = [row.payload for row in conn.execute(select(outbox.outbox_table.c.payload).where(outbox.outbox_table.c.kind == "lrs"))]
    for payload in payloads:
        validate_statement(json.loads(payload))
    # The generator reaches both sides: accepted events (with statements) and refusals.
    assert seen.get("200", 0) >= 5 and payloads, seen
    assert sum(n for s, n in seen.items() if s.startswith("4")) >= 30, seen
