"""xapi.delivery.query against the real Ralph LRS, and against scripted real servers for what Ralph never does."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from tests.support.ralph import RalphServer, ScriptedLrs, sample_statement
from xapi.delivery.client import LrsClient, LrsProtocolError, LrsUnavailableError
from xapi.delivery.outbox import prepare_statement
from xapi.delivery.query import (
    QueryInterruptedError,
    StatementQuery,
    exclude_voided,
    fetch_statements,
    iter_statements,
)

#: The ``scripted_lrs`` fixture: starts an LRS that answers as scripted.
StartLrs = Callable[..., ScriptedLrs]

pytestmark = pytest.mark.ralph
ATTEMPTED = "http://adlnet.gov/expapi/verbs/attempted"
VOIDED = "http://adlnet.gov/expapi/verbs/voided"


def _client(server: RalphServer) -> LrsClient:
    return LrsClient(server.endpoint, username=server.username, password=server.password)


def _learner() -> dict:
    """An agent of our own, so tests sharing one Ralph see only their statements."""
    return {"objectType": "Agent", "account": {"homePage": "https://lms.example.org", "name": f"q-{uuid.uuid4().hex[:10]}"}}


def _store(server: RalphServer, statements: list[dict]) -> list[dict]:
    prepared = [prepare_statement(s) for s in statements]
    with _client(server) as client:
        assert client.send_statements(prepared).ok
    return prepared


def test_paging_follows_more_until_done_and_returns_each_statement_once(ralph_session: RalphServer) -> None:
    agent = _learner()
    stored = _store(ralph_session, [sample_statement(n, actor=agent) for n in range(7)])
    with _client(ralph_session) as client:
        found = fetch_statements(client, StatementQuery(agent=agent, limit=3))
    assert sorted(s["id"] for s in found) == sorted(s["id"] for s in stored)


def test_a_result_that_fills_the_last_page_exactly_ends_with_an_empty_page_we_survive(ralph_session: RalphServer) -> None:
    agent = _learner()
    stored = _store(ralph_session, [sample_statement(n, actor=agent) for n in range(4)])
    with _client(ralph_session) as client:
        found = list(iter_statements(client, StatementQuery(agent=agent, limit=2)))
    assert len(found) == len(stored) == 4


def test_ralph_ignores_verb_and_activity_filters_so_we_filter_them_locally(ralph_session: RalphServer) -> None:
    agent = _learner()
    stored = _store(
        ralph_session,
        [sample_statement(1, actor=agent), sample_statement(2, actor=agent, verb={"id": ATTEMPTED}), sample_statement(3, actor=agent)],
    )
    by_verb = StatementQuery(agent=agent, verb=ATTEMPTED)
    by_activity = StatementQuery(agent=agent, activity=stored[2]["object"]["id"])
    with _client(ralph_session) as client:
        # The known Ralph 5.1.0 defect, kept visible: when this starts failing, Ralph was fixed.
        assert list(iter_statements(client, by_verb)) == []
        assert list(iter_statements(client, by_activity)) == []
        assert [s["id"] for s in iter_statements(client, by_verb, server_filters=False)] == [stored[1]["id"]]
        assert [s["id"] for s in iter_statements(client, by_activity, server_filters=False)] == [stored[2]["id"]]


def test_voided_statements_and_what_points_at_them_are_left_out_of_reports(ralph_session: RalphServer) -> None:
    agent = _learner()
    kept, voided, comment = (prepare_statement(sample_statement(n, actor=agent)) for n in range(3))
    comment["object"] = {"objectType": "StatementRef", "id": voided["id"]}
    voiding = sample_statement(9, actor=agent, verb={"id": VOIDED}, object={"objectType": "StatementRef", "id": voided["id"]})
    _store(ralph_session, [kept, voided, comment, voiding])
    with _client(ralph_session) as client:
        assert [s["id"] for s in fetch_statements(client, StatementQuery(agent=agent))] == [kept["id"]]
        assert len(fetch_statements(client, StatementQuery(agent=agent), include_voided=True)) == 4
        by_verb = fetch_statements(client, StatementQuery(agent=agent, verb=voided["verb"]["id"]), server_filters=False)
    assert [s["id"] for s in by_verb] == [kept["id"]]


def test_exclude_voided_compares_ids_case_insensitively() -> None:
    target = str(uuid.uuid4())
    statements = [
        {"id": target, "verb": {"id": ATTEMPTED}, "object": {"id": "https://x.example/a"}},
        {"id": str(uuid.uuid4()), "verb": {"id": VOIDED}, "object": {"objectType": "StatementRef", "id": target.upper()}},
    ]
    assert exclude_voided(statements) == []


def _page(statements: list[dict], more: str | None = None) -> dict:
    return {"statements": statements, **({"more": more} if more is not None else {})}


def _s() -> dict:
    return prepare_statement(sample_statement(0))


def test_an_empty_more_on_an_early_page_means_done(scripted_lrs: StartLrs) -> None:
    server = scripted_lrs({"/xAPI/statements?limit=2": [(200, _page([_s(), _s()], more=""))]})
    with LrsClient(server.endpoint) as client:
        assert len(list(iter_statements(client, StatementQuery(limit=2)))) == 2
    assert len(server.seen) == 1


def test_empty_pages_with_more_are_followed_but_not_forever(scripted_lrs: StartLrs) -> None:
    script = {
        "/xAPI/statements": [(200, _page([_s()], more="/xAPI/statements?p=1"))],
        "/xAPI/statements?p=1": [(200, _page([], more="/xAPI/statements?p=2"))],
        "/xAPI/statements?p=2": [(200, _page([_s()], more="/xAPI/statements?p=3"))],
    }
    script.update({f"/xAPI/statements?p={n}": [(200, _page([], more=f"/xAPI/statements?p={n + 1}"))] for n in range(3, 50)})
    server = scripted_lrs(script)
    with LrsClient(server.endpoint) as client:
        found: list[dict] = []
        with pytest.raises(LrsProtocolError, match="empty pages in a row"):
            found.extend(iter_statements(client, max_empty_pages=3))
    assert len(found) == 2  # the statement after one empty page was still read
    assert len(server.seen) == 7


def test_a_more_link_that_loops_is_an_error_not_a_hang(scripted_lrs: StartLrs) -> None:
    server = scripted_lrs({"*": [(200, _page([_s()], more="/xAPI/statements?again"))]})
    with LrsClient(server.endpoint) as client, pytest.raises(LrsProtocolError, match="repeats"):
        list(iter_statements(client))


def test_a_more_link_to_another_host_is_not_followed_with_our_credentials(scripted_lrs: StartLrs) -> None:
    server = scripted_lrs({"*": [(200, _page([_s()], more="https://evil.example/xAPI/statements?p=2"))]})
    with LrsClient(server.endpoint, username="k", password="s") as client, pytest.raises(LrsProtocolError, match="points away"):
        list(iter_statements(client))
    assert len(server.seen) == 1


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<html>gateway</html>", "non-JSON"),
        ([1, 2], "StatementResult object"),
        ({"more": ""}, "'statements' is missing"),
        ({"statements": [{"no": "id"}]}, "statements\\[0\\]"),
        ({"statements": [], "more": 7}, "'more' must be a string"),
    ],
)
def test_garbage_from_the_lrs_is_a_clear_protocol_error(scripted_lrs: StartLrs, body: object, message: str) -> None:
    server = scripted_lrs({"*": [(200, body)]})
    with LrsClient(server.endpoint) as client, pytest.raises(LrsProtocolError, match=message):
        list(iter_statements(client))


def test_an_lrs_that_stops_half_way_says_how_far_it_got_and_where_to_resume(scripted_lrs: StartLrs) -> None:
    server = scripted_lrs(
        {
            "/xAPI/statements": [(200, _page([_s(), _s()], more="/xAPI/statements?p=2"))],
            "/xAPI/statements?p=2": [(200, None)],  # the connection drops without an answer
        }
    )
    with LrsClient(server.endpoint, timeout=5) as client, pytest.raises(QueryInterruptedError) as raised:
        list(iter_statements(client))
    assert raised.value.statements_so_far == 2
    assert raised.value.resume_from.endswith("/xAPI/statements?p=2")


def test_an_lrs_down_from_the_start_is_unavailable_not_interrupted(scripted_lrs: StartLrs) -> None:
    server = scripted_lrs({"*": [(503, {"detail": "maintenance"})]})
    with LrsClient(server.endpoint) as client, pytest.raises(LrsUnavailableError, match="503"):
        list(iter_statements(client))


def test_the_filters_become_the_spec_query_parameters(scripted_lrs: StartLrs) -> None:
    server = scripted_lrs({"*": [(200, _page([]))]})
    query = StatementQuery(
        agent={"mbox": "mailto:a@example.org"},
        verb=ATTEMPTED,
        activity="https://smeb.example/c",
        registration="ec531277-b57b-4c15-8d91-d292c5b2b8f7",
        since="2026-11-01T00:00:00Z",
        until="2026-11-30T00:00:00Z",
        ascending=True,
        limit=50,
    )
    with LrsClient(server.endpoint) as client:
        list(iter_statements(client, query))
    import urllib.parse

    sent = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(str(server.seen[0]["path"])).query))
    assert sent == {
        "agent": '{"mbox":"mailto:a@example.org"}',
        "verb": ATTEMPTED,
        "activity": "https://smeb.example/c",
        "registration": "ec531277-b57b-4c15-8d91-d292c5b2b8f7",
        "since": "2026-11-01T00:00:00Z",
        "until": "2026-11-30T00:00:00Z",
        "ascending": "true",
        "limit": "50",
    }
