"""The profile's session-id extension (docs/xapi-profile.md) on the statements the player's events make (issue 18 item 8)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from flask import Flask

from smeb_lti.play.tokens import player_session_id
from tests.smeb_lti.test_player_host import _launch, _outbox, _post, _with_lrs, app  # noqa: F401  (app: fixture)
from xapi.profile import match_templates
from xapi.validation import validate_statement

SESSION_ID = "https://smeb.no/xapi/extensions/session-id"


def test_every_player_statement_carries_the_session_id_of_its_launch(app: Flask) -> None:  # noqa: F811
    _with_lrs(app)
    first, second = _launch(app), _launch(app, sub="learner-2")
    events: list[tuple[str, dict[str, Any]]] = [
        ("initialized", {}),
        ("answered", {"blockId": "q-single", "response": ["a"]}),
        ("answered", {"blockId": "tavla.s1", "response": ["si-fra"]}),
        ("answered", {"blockId": "s-likert", "response": ["4"]}),
        ("answered", {"blockId": "r1"}),
        ("progressed", {"lesson": "l1", "progress": 0.5}),
        ("outcome", {"completed": True, "passed": False, "progress": 1}),
    ]
    for type_, data in events:
        assert _post(app, first, type_, data).status_code == 200
    assert _post(app, second, "initialized", {}).status_code == 200
    statements = [json.loads(r["payload"]) for r in _outbox(app, "lrs")]
    assert len(statements) >= len(events) + 1
    sessions = [s["context"]["extensions"][SESSION_ID] for s in statements]
    assert len(set(sessions[:-1])) == 1 and sessions[-1] != sessions[0]  # one per launch
    assert all(uuid.UUID(value) for value in sessions)
    assert first not in sessions and second not in sessions  # derived: the launch id itself opens /play/<launch_id>
    for statement in statements:
        validate_statement(statement)
        assert len(match_templates(statement)) == 1, statement["verb"]["id"]


def test_a_replayed_event_rebuilds_the_same_session_id(app: Flask) -> None:  # noqa: F811
    with app.app_context():
        assert player_session_id("launch-1") == player_session_id("launch-1") != player_session_id("launch-2")
