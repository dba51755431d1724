"""Pseudonyms per customer, end to end (SQLite and PostgreSQL).

One person (the same LMS user id) learns in two companies on the same LMS; the player host gives them two
unrelated xAPI ids. Records made before the change (under the legacy one-per-LMS id) are still found by
``smeb learner export|erase``, and ``smeb learner migrate-pseudonyms`` links the legacy id to each company's id.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from flask import Flask

from smeb_lti.db import session_scope
from smeb_lti.privacy import pseudonyms as privacy_pseudonyms
from tests.smeb_lti.dashboard.helpers import COMPANY_A, COMPANY_B, complete, launch
from tests.support.app import course_app
from xapi.actors import legacy_account_name
from xapi.delivery import outbox
from xapi.delivery.destinations import Destination, save_destination

ACTOR_KEY = "test-actor-key-0123456789abcdef"
PERSON = "user-4711"


@pytest.fixture
def app(migrated_db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    # The commands below build the tool from the environment: the same database and keys as this app.
    monkeypatch.setenv("SMEB_DATABASE_URL", migrated_db_url)
    monkeypatch.setenv("SMEB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SMEB_XAPI_ACTOR_KEY", ACTOR_KEY)
    monkeypatch.delenv("SMEB_LRS_UPSTREAMS", raising=False)
    app = course_app(migrated_db_url, tmp_path, SMEB_XAPI_ACTOR_KEY=ACTOR_KEY)
    with app.extensions["smeb.engine"].begin() as conn:
        save_destination(conn, Destination(name="bht-lrs", endpoint="https://lrs.example.no/xapi/"))
    yield app
    app.extensions["smeb.engine"].dispose()


def _payloads(app: Flask) -> list[dict[str, Any]]:
    with app.extensions["smeb.engine"].connect() as conn:
        return [json.loads(p) for p in conn.execute(sa.select(outbox.outbox_table.c.payload)).scalars()]


def _ids_by_company(app: Flask) -> dict[str, str]:
    from smeb_lti.identity import actor_for
    from smeb_lti.lti import launches

    found = {}
    for company in (COMPANY_A, COMPANY_B):
        launch_id = launch(app, company, PERSON)
        with app.test_request_context(), session_scope(app.extensions["smeb.sessions"]) as session:
            found[company.context_id] = actor_for(launches.get_launch(session, launch_id))["account"]["name"]
    return found


def test_one_person_in_two_companies_has_two_unrelated_ids_and_export_erase_and_migration_find_all(app: Flask) -> None:
    for company in (COMPANY_A, COMPANY_B):
        assert complete(app, launch(app, company, PERSON))["completed"]
    ids = _ids_by_company(app)
    legacy = legacy_account_name(ACTOR_KEY.encode(), COMPANY_A.issuer, PERSON)
    assert len({ids["ctx-a"], ids["ctx-b"], legacy}) == 3
    # What the LRSs got: each company's statements under its own id, and nothing under the shared legacy id.
    names = {s["actor"]["account"]["name"] for s in _payloads(app) if "account" in s["actor"]}
    assert names == {ids["ctx-a"], ids["ctx-b"]}
    text = json.dumps(_payloads(app))
    assert PERSON not in text and legacy not in text

    # A record from before the upgrade, under the legacy id, already sent to the customer's LRS.
    from xapi import statements as xb

    old = xb.voided({"objectType": "Agent", "account": {"homePage": COMPANY_A.issuer, "name": legacy}},
                    "7d2b8a3e-0b64-4f86-9a55-7f3c1e2d4b61")
    with session_scope(app.extensions["smeb.sessions"]) as session:
        old_id = outbox.enqueue(session, {**old, "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced", "display": {"en": "experienced"}},
                                          "object": {"id": "https://smeb.no/courses/test-all-blocks", "objectType": "Activity"}}, ["bht-lrs"])
    with app.extensions["smeb.engine"].connect() as conn:
        row_ids = list(conn.execute(sa.select(outbox.outbox_table.c.id)).scalars())
    outbox.mark_delivered(app.extensions["smeb.engine"], row_ids)

    runner = CliRunner()
    from smeb_lti.cli import main

    migrated = runner.invoke(main, ["learner", "migrate-pseudonyms"], catch_exceptions=False)
    assert migrated.exit_code == 0, migrated.output
    assert "2 link(s) from old to per-customer ids (2 new)" in migrated.output
    assert "1 old id(s) belong to a person in more than one company" in migrated.stderr
    again = runner.invoke(main, ["learner", "migrate-pseudonyms"], catch_exceptions=False)
    assert "(0 new)" in again.output  # idempotent
    links = list(csv.DictReader(io.StringIO(runner.invoke(main, ["learner", "pseudonym-links", "--context-id", "ctx-a"]).output)))
    assert [(r["legacy_name"], r["actor_name"], r["context_id"]) for r in links] == [(legacy, ids["ctx-a"], "ctx-a")]
    assert PERSON not in json.dumps(links)

    exported = runner.invoke(main, ["learner", "export", "--issuer", COMPANY_A.issuer, "--subject", PERSON], catch_exceptions=False)
    document = json.loads(exported.output)
    assert {a["account"]["name"] for a in document["learner"]["xapi_actors"]} >= {ids["ctx-a"], ids["ctx-b"], legacy}
    queued = {r["item_id"] for r in document["stores"]["outbox"]["queued_and_sent"] if r["kind"] == "lrs"}
    assert old_id in queued and {s["id"] for s in _payloads(app)} <= queued
    assert len(document["stores"]["pseudonym_links"]["links"]) == 2

    erased = runner.invoke(main, ["learner", "erase", "--issuer", COMPANY_A.issuer, "--subject", PERSON, "--yes", "--by", "test"],
                           catch_exceptions=False)
    assert erased.exit_code == 0, erased.output
    receipt = json.loads(erased.output[: erased.output.rindex("}") + 1])
    assert receipt["counts"]["pseudonym_links"] == 2
    left = _payloads(app)
    # Only voids are left, by the tool, of every statement that had been sent, the legacy one included.
    assert {s["verb"]["id"] for s in left} == {"http://adlnet.gov/expapi/verbs/voided"}
    assert old_id in {s["object"]["id"] for s in left}
    text = json.dumps(left)
    assert not [n for n in (PERSON, legacy, ids["ctx-a"], ids["ctx-b"]) if n in text]
    with session_scope(app.extensions["smeb.sessions"]) as session:
        assert privacy_pseudonyms.pseudonym_links(session) == []


def test_a_certificate_issued_from_the_command_line_names_the_learner_by_the_same_pseudonym(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    from smeb_lti.cli import main
    from tests.support.paths import FIXTURES

    ids = _ids_by_company(app)  # registers the platform (with its deployment) and stores launches
    monkeypatch.setenv("SMEB_PUBLIC_URL", "https://kurs.smeb.example")
    issued = CliRunner().invoke(main, ["cert", "issue", "--platform", COMPANY_B.issuer, "--deployment", COMPANY_B.deployment_id,
                                       "--context", COMPANY_B.context_id, "--subject", PERSON, "--name", "Kari Nordmann",
                                       "--course", str(FIXTURES / "courses" / "valid" / "all-blocks")], catch_exceptions=False)
    assert issued.exit_code == 0, issued.output
    [earned] = [s for s in _payloads(app) if s["verb"]["id"] == "http://id.tincanapi.com/verb/earned"]
    assert earned["actor"]["account"] == {"homePage": COMPANY_B.issuer, "name": ids["ctx-b"]}
    assert PERSON not in json.dumps(earned) and json.loads(issued.output)["id"] not in json.dumps(earned)


def test_a_company_report_joins_records_from_before_the_change_with_its_links_file(app: Flask, tmp_path: Path) -> None:
    import base64
    import uuid

    from smeb_lti.cli import main
    from smeb_lti.lrs import auth, store

    assert complete(app, launch(app, COMPANY_A, PERSON))["completed"]
    ids = _ids_by_company(app)
    legacy = legacy_account_name(ACTOR_KEY.encode(), COMPANY_A.issuer, PERSON)
    now = [s for s in _payloads(app) if s["actor"]["account"]["name"] == ids["ctx-a"]]
    # The same learner's record from before the upgrade: the one-per-LMS id, an earlier attempt.
    before = [{**s, "id": str(uuid.uuid4()), "actor": {**s["actor"], "account": {**s["actor"]["account"], "name": legacy}}} for s in now[:3]]
    with session_scope(app.extensions["smeb.sessions"]) as session:
        issued = auth.add_credential(session, store.add_tenant(session, "elektro"), ["all"], "test")
    basic = "Basic " + base64.b64encode(f"{issued.key}:{issued.secret}".encode()).decode()
    posted = app.test_client().post("/lrs/elektro/xapi/statements", json=now + before,
                                    headers={"Authorization": basic, "X-Experience-API-Version": "1.0.3"})
    assert posted.status_code == 200, posted.get_data(as_text=True)

    runner = CliRunner()
    assert runner.invoke(main, ["learner", "migrate-pseudonyms"], catch_exceptions=False).exit_code == 0
    links = tmp_path / "links-ctx-a.csv"
    links.write_text(runner.invoke(main, ["learner", "pseudonym-links", "--issuer", COMPANY_A.issuer, "--context-id", "ctx-a"]).output)

    def learners(*extra: str) -> set[str]:
        result = runner.invoke(main, ["report", "completion", "--tenant", "elektro", "--format", "csv", *extra], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return {row["Deltaker-ID"] for row in csv.DictReader(io.StringIO(result.output), delimiter=";")}

    assert len(learners()) == 2  # without the links: the old id counts as another learner
    joined = learners("--pseudonym-links", str(links))
    assert len(joined) == 1 and ids["ctx-a"] in next(iter(joined))
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    refused = runner.invoke(main, ["report", "completion", "--tenant", "elektro", "--pseudonym-links", str(bad)])
    assert refused.exit_code != 0 and "expected the columns ['legacy_name', 'actor_name']" in refused.output
