"""Two customers, two real LRSs: neither receives the other's learners, erasure voids included (SQLite and PostgreSQL).

Customer 1 is a Canvas customer (registration ``client-c1``, deployment ``dep-c1``) whose LRS is the real
Ralph; customer 2 is another Canvas customer (``client-c2``/``dep-c2``) whose LRS is the tool's embedded LRS
served over HTTP on 127.0.0.1 (its own tenant). Learners complete a course through the player host (which
queues progress, answers, completion and the certificate's ``earned``), one person has accounts at both
customers with the same LMS user id, and the outbox worker delivers for real. Then a learner of customer 1
is erased: the voiding statements go to Ralph only.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from flask import Flask
from werkzeug.serving import make_server

from smeb_lti.db import session_scope
from smeb_lti.privacy import erasure as privacy_erasure
from smeb_lti.privacy import learners as privacy_learners
from tests.smeb_lti.dashboard.helpers import COMPANY_C, COMPANY_D, complete, launch, register
from tests.support.app import course_app
from tests.support.ralph import RalphServer
from xapi.delivery import outbox
from xapi.delivery.destinations import Destination, load_destinations, save_destination
from xapi.delivery.sender import DeliveryPolicy
from xapi.delivery.worker import Worker

pytestmark = pytest.mark.ralph
ACTOR_KEY = "test-actor-key-0123456789abcdef"
EMBEDDED_TENANT = "kunde-2"


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"SMEB_XAPI_ACTOR_KEY": ACTOR_KEY}


@pytest.fixture
def embedded_lrs(app: Flask) -> Iterator[str]:
    """The tool itself on 127.0.0.1 (a free port): its embedded LRS is customer 2's LRS."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="embedded-lrs", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/lrs/{EMBEDDED_TENANT}/xapi/"
    server.shutdown()
    thread.join(timeout=15)


def _bind(app: Flask, ralph: RalphServer, embedded: str) -> dict[str, Destination]:
    from smeb_lti.lrs import auth, store

    with session_scope(app.extensions["smeb.sessions"]) as session:
        tenant = store.add_tenant(session, EMBEDDED_TENANT, "Kunde 2")
        issued = auth.add_credential(session, tenant, ["statements/write", "statements/read"], "smeb")
        save_destination(session.connection(), Destination.from_mapping({
            "name": "kunde-1-ralph", "endpoint": ralph.endpoint, "username": ralph.username, "password": ralph.password,
            "server_filters": False, "customers": [{"issuer": COMPANY_C.issuer, "client_id": COMPANY_C.client_id}]}, "test"))
        save_destination(session.connection(), Destination.from_mapping({
            "name": "kunde-2-embedded", "endpoint": embedded, "username": issued.key, "password": issued.secret,
            "customers": [{"issuer": COMPANY_D.issuer, "client_id": COMPANY_D.client_id, "deployment_id": COMPANY_D.deployment_id}]}, "test"))
    with app.extensions["smeb.engine"].connect() as conn:
        return load_destinations(conn)


def _deliver(app: Flask, destinations: dict[str, Destination]) -> None:
    """Run the real outbox worker until nothing is pending (fail after a generous deadline)."""
    engine = app.extensions["smeb.engine"]
    policy = DeliveryPolicy(timeout=10, backoff_base=0.1, backoff_cap=0.5)
    deadline = time.monotonic() + 120
    with Worker(engine, destinations, policy) as worker:
        while True:
            stats = worker.run_once()
            with engine.connect() as conn:
                counts = outbox.status_counts(conn)
            if not any(status == outbox.PENDING for (_d, status) in counts):
                break
            assert time.monotonic() < deadline, f"outbox not drained: {counts}; errors {stats.errors}"
            time.sleep(0.2)
    assert not any(status == "parked" for (_d, status) in counts), counts


def _embedded_statements(app: Flask) -> list[dict[str, Any]]:
    from smeb_lti.lrs import store, tables

    with session_scope(app.extensions["smeb.sessions"]) as session:
        tenant = store.tenant_by_slug(session, EMBEDDED_TENANT)
        assert tenant is not None
        rows = session.scalars(sa.select(tables.statements.c.full_json).where(tables.statements.c.tenant_id == tenant.id))
        return [json.loads(r) for r in rows]


def _actor_names(statements: list[dict[str, Any]]) -> set[str]:
    return {s["actor"]["account"]["name"] for s in statements if "account" in s.get("actor", {})}


def _names(app: Flask, company: Any, sub: str) -> str:
    """The learner's account name as the player host makes it for that company."""
    from smeb_lti.identity import actor_for
    from smeb_lti.lti import launches

    launch_id = launch(app, company, sub)
    with app.test_request_context(), session_scope(app.extensions["smeb.sessions"]) as session:
        return str(actor_for(launches.get_launch(session, launch_id))["account"]["name"])


def test_each_customer_lrs_receives_only_its_own_learners_including_erasure_voids(
        app: Flask, ralph: RalphServer, embedded_lrs: str) -> None:
    destinations = _bind(app, ralph, embedded_lrs)
    learners = {"ola-c1": COMPANY_C, "kari-c2": COMPANY_D}
    for sub, company in learners.items():
        assert complete(app, launch(app, company, sub))["completed"]
    # The same person (the same LMS user id) at both customers.
    for company in (COMPANY_C, COMPANY_D):
        assert complete(app, launch(app, company, "same-person"))["completed"]
    one = {_names(app, COMPANY_C, "ola-c1"), _names(app, COMPANY_C, "same-person")}
    two = {_names(app, COMPANY_D, "kari-c2"), _names(app, COMPANY_D, "same-person")}
    assert len(one | two) == 4  # the same person has two unrelated ids, one per customer

    # Routing is decided when the statement is queued: every row names its customer's LRS only.
    with app.extensions["smeb.engine"].connect() as conn:
        rows = conn.execute(sa.select(outbox.outbox_table.c.destination, outbox.outbox_table.c.payload)).all()
    by_destination: dict[str, set[str]] = {}
    for destination, payload in rows:
        by_destination.setdefault(destination, set()).update(_actor_names([json.loads(payload)]))
    assert by_destination == {"kunde-1-ralph": one, "kunde-2-embedded": two}

    _deliver(app, destinations)
    at_ralph, at_embedded = ralph.stored_statements(), _embedded_statements(app)
    assert _actor_names(at_ralph) == one
    assert _actor_names(at_embedded) == two
    earned = [s for s in at_ralph + at_embedded if s["verb"]["id"] == "http://id.tincanapi.com/verb/earned"]
    assert len(earned) == 4  # a certificate each, and each "earned" at its customer's LRS only
    ids_ralph = {s["id"] for s in at_ralph}
    assert not ids_ralph & {s["id"] for s in at_embedded}

    # Erase ola (customer 1): voids go where ola's statements went (Ralph), none to customer 2's LRS.
    with app.test_request_context(), session_scope(app.extensions["smeb.sessions"]) as session:
        ref = privacy_learners.resolve_subject(session, COMPANY_C.issuer, "ola-c1", privacy_learners.keys_from_app(app))
        receipt = privacy_erasure.erase_learner(session, ref, erased_by="test")
    assert receipt.voids_queued > 0
    with app.extensions["smeb.engine"].connect() as conn:
        queued = set(conn.execute(sa.select(outbox.outbox_table.c.destination).where(
            outbox.outbox_table.c.status == outbox.PENDING)).scalars())
    assert queued == {"kunde-1-ralph"}
    _deliver(app, destinations)
    ola = _names(app, COMPANY_C, "ola-c1")
    ola_ids = {s["id"] for s in at_ralph if s["actor"]["account"]["name"] == ola}
    voids = [s for s in ralph.stored_statements() if s["verb"]["id"] == "http://adlnet.gov/expapi/verbs/voided"]
    assert {v["object"]["id"] for v in voids} == ola_ids
    after = _embedded_statements(app)
    assert not [s for s in after if s["verb"]["id"] == "http://adlnet.gov/expapi/verbs/voided"]
    assert _actor_names(after) == two and {s["id"] for s in after} == {s["id"] for s in at_embedded}


def _register(db_url: str, tmp_path: Path, company: Any) -> None:
    app = course_app(db_url, tmp_path / "app")
    try:
        register(app, company)
    finally:
        app.extensions["smeb.engine"].dispose()


def test_the_operator_sees_and_manages_routing_with_the_cli(migrated_db_url: str, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from smeb_lti.cli import main

    monkeypatch.setenv("SMEB_DATABASE_URL", migrated_db_url)
    monkeypatch.setenv("SMEB_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("SMEB_LRS_UPSTREAMS", raising=False)
    runner = CliRunner()

    def smeb(*args: str) -> Any:
        return runner.invoke(main, list(args), catch_exceptions=False)

    assert "no upstream LRS" in smeb("lrs", "upstreams", "list").output
    added = smeb("lrs", "upstreams", "add", "kunde-1", "--endpoint", "https://lrs.kunde1.example/xapi/",
                 "--customer", f"issuer={COMPANY_C.issuer},client_id={COMPANY_C.client_id}")
    assert added.exit_code == 0, added.output
    assert smeb("lrs", "upstreams", "add", "smeb", "--endpoint", "https://lrs.smeb.example/xapi/", "--all-customers").exit_code == 0
    refused = smeb("lrs", "upstreams", "add", "x", "--endpoint", "https://lrs.x.example/xapi/", "--customer", "issuer=https://a,company=b")
    assert refused.exit_code != 0 and "unknown field(s) ['company']" in refused.output
    assert smeb("lrs", "upstreams", "add", "y", "--endpoint", "https://lrs.y.example/xapi/").exit_code != 0  # say whose statements
    listed = smeb("lrs", "upstreams", "list")
    assert f"kunde-1\thttps://lrs.kunde1.example/xapi/\tdatabase\tissuer={COMPANY_C.issuer} client_id={COMPANY_C.client_id}" in listed.output
    assert "smeb\thttps://lrs.smeb.example/xapi/\tdatabase\tevery customer" in listed.output
    assert "receive(s) EVERY customer's statements" in listed.stderr
    route_c = smeb("lrs", "upstreams", "route", "--issuer", COMPANY_C.issuer, "--client-id", COMPANY_C.client_id,
                   "--deployment-id", COMPANY_C.deployment_id, "--context-id", COMPANY_C.context_id)
    assert route_c.output.split() == ["kunde-1", "smeb"]
    route_d = smeb("lrs", "upstreams", "route", "--issuer", COMPANY_D.issuer, "--client-id", COMPANY_D.client_id)
    assert route_d.output.split() == ["smeb"]
    # Which known customer goes where: every registered deployment, and each course context seen in it.
    _register(migrated_db_url, tmp_path, COMPANY_C)
    customers = smeb("lrs", "upstreams", "customers").output.splitlines()
    assert f"issuer={COMPANY_C.issuer} client_id={COMPANY_C.client_id} deployment_id={COMPANY_C.deployment_id}\tkunde-1, smeb" in customers
    assert smeb("lrs", "upstreams", "remove", "kunde-1").exit_code == 0
    assert smeb("lrs", "upstreams", "remove", "kunde-1").exit_code != 0
    assert "kunde-1" not in smeb("lrs", "upstreams", "list").output
    # The environment's upstreams are listed too, with their customers; a bad rule names the variable.
    monkeypatch.setenv("SMEB_LRS_UPSTREAMS", json.dumps([{"name": "env-lrs", "endpoint": "https://lrs.env.example/xapi/",
                                                          "customers": [{"issuer": COMPANY_D.issuer, "context_id": "ctx-a"}]}]))
    assert f"env-lrs\thttps://lrs.env.example/xapi/\tSMEB_LRS_UPSTREAMS\tissuer={COMPANY_D.issuer} context_id=ctx-a" in smeb(
        "lrs", "upstreams", "list").output
    monkeypatch.setenv("SMEB_LRS_UPSTREAMS", json.dumps([{"name": "e", "endpoint": "https://e.example/", "customers": [{"issuer": "x", "x": 1}]}]))
    bad = smeb("lrs", "upstreams", "list")
    assert bad.exit_code != 0 and "SMEB_LRS_UPSTREAMS[0].customers[0]: unknown field(s) ['x']" in bad.output


def test_certificate_number_stays_out_of_the_lrs_unless_the_operator_turns_it_on(migrated_db_url: str, tmp_path: Path) -> None:
    for setting, expect_number in ((None, False), ("true", True)):
        extra = {"SMEB_CERT_NUMBER_IN_STATEMENTS": setting} if setting else {}
        app = course_app(migrated_db_url, tmp_path / str(setting), SMEB_XAPI_ACTOR_KEY=ACTOR_KEY, **extra)
        try:
            with app.extensions["smeb.engine"].begin() as conn:
                save_destination(conn, Destination(name="lrs", endpoint="https://lrs.example/xapi/"))
            sub = f"learner-{setting}"
            assert complete(app, launch(app, COMPANY_C, sub))["completed"]
            with session_scope(app.extensions["smeb.sessions"]) as session:
                number = session.scalars(sa.select(sa.text("id")).select_from(sa.table("cert_certificates")).where(
                    sa.text("learner_subject = :s").bindparams(s=sub))).one()
            with app.extensions["smeb.engine"].connect() as conn:
                payloads = list(conn.execute(sa.select(outbox.outbox_table.c.payload)).scalars())
            mine = [p for p in payloads if _names(app, COMPANY_C, sub) in p]
            earned = [json.loads(p) for p in mine if "/verb/earned" in p]
            assert len(earned) == 1
            assert (number in json.dumps(earned[0])) is expect_number
            assert any(number in p for p in mine) is expect_number
            if not expect_number:
                assert earned[0]["object"]["id"].endswith("/certificate")
        finally:
            app.extensions["smeb.engine"].dispose()
