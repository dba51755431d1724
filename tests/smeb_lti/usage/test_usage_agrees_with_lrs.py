""""The counts agree with the LRS": active users per company and month equal the distinct actors with an
``initialized`` statement in that month, read back through the embedded LRS's statements API.

The fixture's statements go through the real outbox and worker to the tool's own embedded LRS served on
127.0.0.1. Actors are pseudonymous per company (xapi.actors.customer_key), so each company's actors are
told apart by the account names the player host makes for that company's learners.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from flask import Flask
from werkzeug.serving import make_server

from smeb_lti.db import session_scope
from smeb_lti.usage.report import usage_for_month
from smeb_lti.usage.store import Company
from tests.smeb_lti.dashboard.helpers import COMPANY_A, COMPANY_B, COMPANY_C
from tests.smeb_lti.test_customer_routing import _deliver
from tests.smeb_lti.usage import fixture
from tests.support.app import course_app
from xapi.delivery.destinations import Destination, load_destinations, save_destination

INITIALIZED = "http://adlnet.gov/expapi/verbs/initialized"


@pytest.fixture
def served(migrated_db_url: str, tmp_path: Path) -> Iterator[tuple[Flask, str]]:
    app = course_app(migrated_db_url, tmp_path, SMEB_XAPI_ACTOR_KEY="usage-actor-key-0123456789")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app, f"http://127.0.0.1:{server.server_port}/lrs/smeb/xapi/"
    server.shutdown()
    thread.join(timeout=15)
    app.extensions["smeb.engine"].dispose()


def _lrs_actors_per_month(endpoint: str, key: str, secret: str) -> dict[str, set[str]]:
    """``{YYYY-MM: {account name}}`` of ``initialized`` statements, following ``more`` links."""
    out: dict[str, set[str]] = defaultdict(set)
    headers = {"X-Experience-API-Version": "2.0.0"}
    with httpx.Client(auth=(key, secret), headers=headers, timeout=30) as client:
        url: str | None = endpoint + "statements"
        params: dict[str, Any] | None = {"verb": INITIALIZED, "limit": 50}
        while url:
            response = client.get(url, params=params)
            assert response.status_code == 200, response.text
            body = response.json()
            for statement in body["statements"]:
                out[statement["timestamp"][:7]].add(statement["actor"]["account"]["name"])
            more = body.get("more")
            url, params = (httpx.URL(endpoint).join(more).__str__(), None) if more else (None, None)
    return out


def test_active_users_per_company_and_month_equal_distinct_lrs_actors_with_initialized(served: tuple[Flask, str]) -> None:
    from smeb_lti.identity import actor_for
    from smeb_lti.lrs import auth, store
    from smeb_lti.lti.launches import get_launch

    app, endpoint = served
    with session_scope(app.extensions["smeb.sessions"]) as session:
        tenant = store.add_tenant(session, "smeb", "SMEB")
        issued = auth.add_credential(session, tenant, ["statements/write", "statements/read"], "usage-test")
        save_destination(session.connection(), Destination.from_mapping(
            {"name": "smeb-embedded", "endpoint": endpoint, "username": issued.key, "password": issued.secret}, "test"))
    launches = fixture.build(app)
    with app.extensions["smeb.engine"].connect() as conn:
        _deliver(app, load_destinations(conn))

    companies = {c.title: Company(c.issuer, c.deployment_id, c.context_id).company_id for c in (COMPANY_A, COMPANY_B, COMPANY_C)}
    company_of: dict[str, str] = {}
    with app.test_request_context(), app.extensions["smeb.sessions"]() as session:
        for (title, _sub), launch_id in launches.items():
            company_of[str(actor_for(get_launch(session, launch_id))["account"]["name"])] = companies[title]
    lrs = _lrs_actors_per_month(endpoint, issued.key, issued.secret)
    assert set(lrs) == {"2026-09", "2026-10"}  # the staff try-out is in October too, and is not a company's user
    with app.extensions["smeb.sessions"]() as session:
        for month in ("2026-09", "2026-10"):
            ours = {r.company_id: r.active_users for r in usage_for_month(session, month)}
            theirs: dict[str, int] = defaultdict(int)
            for name in lrs[month]:
                if name in company_of:
                    theirs[company_of[name]] += 1
            assert ours == dict(theirs), month
            # and every initialized actor of the month other than the one instructor is a counted learner
            assert len(lrs[month] - set(company_of)) == (1 if month == "2026-10" else 0)
