"""xapi.delivery.client against the real Ralph LRS and against real scripted servers on 127.0.0.1."""

from __future__ import annotations

import base64
import json
import socket
import threading
import uuid
from collections.abc import Callable

import pytest

from tests.support.ralph import RalphServer, ScriptedLrs, free_port, ralph_rejects_this_statement, sample_statement
from xapi.delivery.client import (
    LrsClient,
    LrsCredentialsError,
    LrsProtocolError,
    Outcome,
    batch_body,
    classify_status,
    serialize_statement,
)
from xapi.delivery.outbox import prepare_statement

#: The ``scripted_lrs`` fixture: starts an LRS that answers as scripted.
StartLrs = Callable[..., ScriptedLrs]

pytestmark = pytest.mark.ralph


def _prepared(n: int = 0) -> dict:
    return prepare_statement(sample_statement(n))


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, Outcome.DELIVERED),
        (204, Outcome.DELIVERED),
        (409, Outcome.CONFLICT),
        (400, Outcome.REJECTED),
        (413, Outcome.REJECTED),
        (422, Outcome.REJECTED),
        (401, Outcome.CREDENTIALS),
        (403, Outcome.CREDENTIALS),
        (408, Outcome.RETRYABLE),
        (429, Outcome.RETRYABLE),
        (500, Outcome.RETRYABLE),
        (502, Outcome.RETRYABLE),
        (503, Outcome.RETRYABLE),
    ],
)
def test_each_http_status_maps_to_what_the_sender_must_do(status: int, outcome: Outcome) -> None:
    assert classify_status(status) is outcome


def test_serialization_is_byte_stable_whatever_the_key_order() -> None:
    statement = _prepared()
    shuffled = dict(reversed(list(statement.items())))
    assert serialize_statement(statement) == serialize_statement(shuffled)
    assert "PT20M" in serialize_statement(statement)  # values are never rewritten
    assert json.loads(batch_body([serialize_statement(statement)])) == [statement]


def test_a_batch_posted_to_ralph_is_delivered_and_stored_once(ralph_session: RalphServer) -> None:
    statements = [_prepared(n) for n in range(5)]
    with LrsClient(ralph_session.endpoint, username=ralph_session.username, password=ralph_session.password) as client:
        first = client.send_statements(statements)
        again = client.send_statements(statements)  # the retry of a request whose answer we lost
    assert first.outcome is Outcome.DELIVERED and first.status_code == 200
    assert again.outcome is Outcome.DELIVERED and again.status_code == 204
    counts = ralph_session.stored_id_counts()
    assert [counts.get(s["id"]) for s in statements] == [1] * 5


def test_a_different_statement_under_a_known_id_is_a_conflict(ralph_session: RalphServer) -> None:
    statement = _prepared(1)
    changed = dict(statement, result={"completion": False})
    with LrsClient(ralph_session.endpoint, username=ralph_session.username, password=ralph_session.password) as client:
        assert client.send_statements([statement]).ok
        result = client.send_statements([changed])
    assert result.outcome is Outcome.CONFLICT and result.status_code == 409
    assert statement["id"] in result.detail


def test_a_statement_ralph_rejects_is_a_permanent_rejection_with_its_reason(ralph_session: RalphServer) -> None:
    bad = prepare_statement(ralph_rejects_this_statement())
    with LrsClient(ralph_session.endpoint, username=ralph_session.username, password=ralph_session.password) as client:
        result = client.send_statements([_prepared(2), bad])
    assert result.outcome is Outcome.REJECTED and result.status_code == 422
    assert "mbox_sha1sum" in result.detail


def test_wrong_credentials_are_a_credentials_error_not_a_rejection(ralph_session: RalphServer) -> None:
    with LrsClient(ralph_session.endpoint, username=ralph_session.username, password="wrong") as client:
        result = client.send_statements([_prepared(3)])
        assert result.outcome is Outcome.CREDENTIALS and result.status_code == 401
        assert "username and password" in result.detail
        with pytest.raises(LrsCredentialsError, match="username and password"):
            client.get_json("statements")


def test_nobody_listening_is_retryable() -> None:
    with LrsClient(f"http://127.0.0.1:{free_port()}/xAPI/", username="u", password="p", timeout=2) as client:
        result = client.send_statements([_prepared()])
    assert result.outcome is Outcome.RETRYABLE and result.status_code is None
    assert "cannot reach" in result.detail


def test_a_server_that_never_answers_times_out_as_retryable() -> None:
    silent = socket.create_server(("127.0.0.1", 0))  # accepts (backlog) but never reads or answers
    port = silent.getsockname()[1]
    try:
        with LrsClient(f"http://127.0.0.1:{port}/xAPI/", username="u", password="p", timeout=0.5) as client:
            result = client.send_statements([_prepared()])
    finally:
        silent.close()
    assert result.outcome is Outcome.RETRYABLE and "timeout" in result.detail


def test_every_request_names_the_xapi_version_and_authenticates_on_one_reused_connection(scripted_lrs: StartLrs) -> None:
    server = scripted_lrs({"*": [(200, ["x"])]})
    with LrsClient(server.endpoint, username="key", password="sécret", version="2.0.0") as client:
        for n in range(3):
            assert client.send_statements([_prepared(n)]).ok
    expected_auth = "Basic " + base64.b64encode("key:sécret".encode()).decode()
    assert [r["headers"]["X-Experience-API-Version"] for r in server.seen] == ["2.0.0"] * 3
    assert {r["headers"]["Authorization"] for r in server.seen} == {expected_auth}
    assert {r["path"] for r in server.seen} == {"/xAPI/statements"}
    assert len({r["peer"] for r in server.seen}) == 1  # same client port: the connection was reused


def test_an_endpoint_without_a_trailing_slash_still_posts_below_it(scripted_lrs: StartLrs) -> None:
    server = scripted_lrs({"*": [(204, b"")]})
    with LrsClient(server.endpoint.rstrip("/"), username="k", password="s") as client:
        assert client.send_statements([_prepared()]).ok
    assert server.seen[0]["path"] == "/xAPI/statements"


def test_the_body_sent_is_exactly_the_stored_payloads(scripted_lrs: StartLrs) -> None:
    server = scripted_lrs({"*": [(200, [])]})
    payloads = [serialize_statement(_prepared(n)) for n in range(3)]
    with LrsClient(server.endpoint, username="k", password="s") as client:
        client.send(payloads)
        client.send(payloads)
    assert server.seen[0]["body"] == server.seen[1]["body"] == batch_body(payloads)


def test_an_lrs_answering_non_json_to_a_query_is_a_protocol_error(scripted_lrs: StartLrs) -> None:
    server = scripted_lrs({"*": [(200, b"<html>proxy login</html>")]})
    with LrsClient(server.endpoint, username="k", password="s") as client, pytest.raises(LrsProtocolError, match="non-JSON"):
        client.get_json("statements")


def test_the_client_can_be_used_from_several_threads(ralph_session: RalphServer) -> None:
    results: list[Outcome] = []
    with LrsClient(ralph_session.endpoint, username=ralph_session.username, password=ralph_session.password) as client:
        threads = [threading.Thread(target=lambda n=n: results.append(client.send_statements([_prepared(n)]).outcome)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert results == [Outcome.DELIVERED] * 4


def test_ids_we_set_are_uuids_and_timestamps_are_utc_milliseconds() -> None:
    statement = _prepared()
    assert uuid.UUID(statement["id"]).version == 4
    assert statement["timestamp"].endswith("Z") and len(statement["timestamp"]) == len("2026-11-21T10:00:00.000Z")


@pytest.mark.parametrize("status", [200, 422, 503])
def test_on_sent_is_called_exactly_once_whatever_the_answer(scripted_lrs: StartLrs, status: int) -> None:
    server = scripted_lrs({"*": [(status, {"detail": "scripted"})]})
    calls: list[int] = []
    with LrsClient(server.endpoint, username="k", password="s") as client:
        result = client.send([serialize_statement(_prepared())], on_sent=lambda: calls.append(len(calls)))
    assert result.status_code == status and calls == [0]


def test_on_sent_is_called_even_when_the_request_never_gets_out() -> None:
    calls: list[int] = []
    with LrsClient(f"http://127.0.0.1:{free_port()}/xAPI/", username="u", password="p", timeout=2) as client:
        result = client.send([serialize_statement(_prepared())], on_sent=lambda: calls.append(1))
    assert result.outcome is Outcome.RETRYABLE and calls == [1]  # a caller waiting for it is never left hanging
