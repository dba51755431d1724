"""X-Experience-API-Consistent-Through under concurrent writers (Communication 2.1.3), on SQLite and PostgreSQL.

A client that polls ``GET statements?since=<the previous answer's Consistent-Through>`` must see every
statement exactly once. ``stored`` used to be taken when a request started while its rows committed at
its end, and the header said "now": a statement that committed after a poll yet was stored before that
poll's header was never returned (500 of 24,700 lost on SQLite, 200 of 30,600 on PostgreSQL).

Real HTTP (a threaded server: each request on its own thread and database connection), several writer
threads with their own HTTP connections, and one reader polling as a client would.
"""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections import Counter
from typing import Any

import requests

from smeb_lti.lrs.statements import parse_timestamp
from tests.support.lrs_server import statement

WRITERS = 4
BATCH = 3
WRITE_SECONDS = 4.0
HEADER = "X-Experience-API-Consistent-Through"


def _poll(session: requests.Session, server: Any, since: str | None) -> tuple[list[dict[str, Any]], str]:
    """One poll: every page of ``since=...`` (ascending), and the first page's Consistent-Through."""
    params = {"ascending": "true", "limit": "100"}
    if since is not None:
        params["since"] = since
    response = session.get(server.endpoint + "statements", params=params, timeout=30)
    assert response.status_code == 200, response.text
    through = response.headers[HEADER]
    found = response.json()["statements"]
    more = response.json()["more"]
    while more:
        page = session.get(server.base_url + more, timeout=30)
        assert page.status_code == 200, page.text
        assert page.headers[HEADER] == through, "later pages of one query keep its Consistent-Through"
        found += page.json()["statements"]
        more = page.json()["more"]
    return found, through


def test_a_client_polling_since_consistent_through_sees_every_statement_exactly_once(lrs_server):
    headers = {"Authorization": lrs_server.auth_header, "X-Experience-API-Version": "1.0.3"}
    posted: list[str] = []
    posted_lock = threading.Lock()
    stop = threading.Event()
    errors: list[str] = []

    def write(number: int) -> None:
        with requests.Session() as session:
            session.headers.update(headers)
            while not stop.is_set():
                batch = [statement(activity=f"https://smeb.no/xapi/ct/{number}", id=str(uuid.uuid4())) for _ in range(BATCH)]
                response = session.post(lrs_server.endpoint + "statements", json=batch, timeout=30)
                if response.status_code != 200:
                    errors.append(f"writer {number}: {response.status_code} {response.text[:200]}")
                    return
                with posted_lock:
                    posted.extend(s["id"] for s in batch)

    seen: Counter[str] = Counter()
    throughs: list[str] = []
    with requests.Session() as reader:
        reader.headers.update(headers)
        threads = [threading.Thread(target=write, args=(n,), daemon=True) for n in range(WRITERS)]
        for thread in threads:
            thread.start()
        since: str | None = None
        deadline = time.monotonic() + WRITE_SECONDS
        while time.monotonic() < deadline:
            found, since = _poll(reader, lrs_server, since)
            throughs.append(since)
            seen.update(s["id"] for s in found)
            # What a poll returns lies in (since, Consistent-Through]: the next poll starts there.
            assert all(parse_timestamp(s["stored"]) <= parse_timestamp(since) for s in found)
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        assert not errors, errors
        # The writers are done: one more poll must bring the rest, and a second nothing new.
        found, since = _poll(reader, lrs_server, since)
        seen.update(s["id"] for s in found)
        found, _ = _poll(reader, lrs_server, since)
        assert found == []

    print(f"{len(posted)} statements from {WRITERS} writers, {len(throughs)} polls")
    assert len(posted) > 200, f"the writers stored too little to race ({len(posted)} statements)"
    assert len(throughs) > 20, f"the reader polled too rarely to race ({len(throughs)} polls)"
    missing = set(posted) - set(seen)
    repeated = {sid: count for sid, count in seen.items() if count > 1}
    assert not missing, f"{len(missing)} of {len(posted)} statements never reached the polling client"
    assert not repeated, f"{len(repeated)} statements were returned more than once"
    assert set(seen) == set(posted)
    stamps = [parse_timestamp(value) for value in throughs]
    assert stamps == sorted(stamps), "Consistent-Through never goes back"


def test_consistent_through_covers_a_statement_as_soon_as_its_post_answers(lrs):
    s = statement()
    response = lrs.post_statements(s)
    assert response.status_code == 200
    posted_through = parse_timestamp(response.headers[HEADER])
    got = lrs.get_statements(statementId=s["id"])
    stored = parse_timestamp(got.get_json()["stored"])
    assert stored <= posted_through
    listed = lrs.get_statements()
    assert parse_timestamp(listed.headers[HEADER]) >= stored
    assert [x["id"] for x in listed.get_json()["statements"]] == [s["id"]]
    # An error answer of the Statements resource carries it too (Communication 2.1.3).
    assert HEADER in lrs.get_statements(limit="x").headers


def test_stored_grows_strictly_from_write_to_write(lrs):
    ids = []
    for _ in range(5):
        s = statement()
        assert lrs.post_statements(s).status_code == 200
        ids.append(s["id"])
    stored = [parse_timestamp(lrs.get_statements(statementId=sid).get_json()["stored"]) for sid in ids]
    assert all(earlier < later for earlier, later in itertools.pairwise(stored)), stored
