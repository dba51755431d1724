"""A learner's data can be exported and erased, across every store, on SQLite and PostgreSQL.

Two learners of one company are seeded through the real modules: a stored launch (with name and
e-mail), the player host's events over the Flask test client (progress, statements and AGS scores in
the outbox, a certificate on completion, the dashboard's member row), statements, a state document and
an agent profile posted to the embedded LRS over its HTTP API, a journal, forum posts, a survey answer
and a workshop participation. Then A is exported and erased, and every table is scanned for A.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from flask import Flask

from smeb_lti.certificates import privacy as certificates_privacy
from smeb_lti.db import session_scope
from smeb_lti.lti import claims as c
from smeb_lti.lti import launches, registrations
from smeb_lti.privacy import erasure as privacy_erasure
from smeb_lti.privacy import errors as privacy_errors
from smeb_lti.privacy import learners as privacy_learners
from smeb_lti.privacy import outbox as privacy_outbox
from smeb_lti.privacy import rows as privacy_rows
from smeb_lti.privacy import subject as privacy_subject
from smeb_lti.surveys import privacy as surveys_privacy
from tests.smeb_lti.dashboard.helpers import (
    COMPANY_A,
    RIGHT,
    event,
    open_player,
    register,
)
from xapi.delivery import outbox
from xapi.delivery.destinations import Destination, save_destination

LEARNER_ROLE = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
A = {"sub": "sub-aaa-1c7f", "name": "Aslaug Aasen", "email": "aslaug.aasen@elektro-nord.example"}
B = {"sub": "sub-bbb-9e2d", "name": "Bjarne Berg", "email": "bjarne.berg@elektro-nord.example"}
XAPI = {"X-Experience-API-Version": "1.0.3"}


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"SMEB_XAPI_ACTOR_KEY": "test-actor-key-0123456789abcdef"}


@pytest.fixture
def app(app: Flask) -> Flask:
    """The suite's ``app`` with an upstream LRS destination."""
    with app.extensions["smeb.engine"].begin() as conn:
        save_destination(conn, Destination(name="bht-lrs", endpoint="https://lrs.example.no/xapi/"))
    return app


def _launch(app: Flask, who: dict[str, str]) -> str:
    register(app, COMPANY_A)
    claims: dict[str, Any] = {
        "iss": COMPANY_A.issuer, "sub": who["sub"], "aud": COMPANY_A.client_id, "name": who["name"], "email": who["email"],
        c.MESSAGE_TYPE: c.RESOURCE_LINK_REQUEST, c.VERSION: "1.3.0", c.DEPLOYMENT_ID: COMPANY_A.deployment_id,
        c.TARGET_LINK_URI: "https://tool.example/lti/launch", c.RESOURCE_LINK: {"id": "rl-1"}, c.ROLES: [LEARNER_ROLE],
        c.CUSTOM: {"course": "all-blocks"}, c.CONTEXT: {"id": COMPANY_A.context_id, "title": COMPANY_A.title},
        c.LAUNCH_PRESENTATION: {"locale": "nb-NO"},
        c.AGS_ENDPOINT: {"scope": [c.SCOPE_SCORE], "lineitems": COMPANY_A.issuer + "/li", "lineitem": COMPANY_A.issuer + "/li/1"},
    }
    with session_scope(app.extensions["smeb.sessions"]) as session:
        registration = registrations.find(session, COMPANY_A.issuer, COMPANY_A.client_id)
        assert registration is not None
        return launches.save_launch(session, launches.new_launch_id(), registration.id, COMPANY_A.client_id, claims, 3600).launch_id


def _lrs_credential(app: Flask) -> str:
    from smeb_lti.lrs import auth, store

    with session_scope(app.extensions["smeb.sessions"]) as session:
        tenant = store.tenant_by_slug(session, "smeb") or store.add_tenant(session, "smeb")
        issued = auth.add_credential(session, tenant, ["all"], label="test")
    return "Basic " + base64.b64encode(f"{issued.key}:{issued.secret}".encode()).decode()


def _statements_of(app: Flask, actor_name: str) -> list[dict[str, Any]]:
    with app.extensions["smeb.engine"].connect() as conn:
        rows = conn.execute(sa.select(outbox.outbox_table.c.payload).where(outbox.outbox_table.c.kind == "lrs")).scalars()
        return [s for s in map(json.loads, rows) if s["actor"].get("account", {}).get("name") == actor_name]


def _seed(app: Flask, who: dict[str, str], auth: str) -> dict[str, Any]:
    """Everything a learner leaves behind, through the real modules."""
    from smeb_lti.forum.store import Post, Profile, Thread
    from smeb_lti.identity import actor_for
    from smeb_lti.journal.store import JournalEntry, JournalKeyring
    from smeb_lti.play.store import Progress
    from smeb_lti.surveys.routes import _answer_token
    from smeb_lti.surveys.store import add_survey, save_answer
    from smeb_lti.workshops.store import (
        Attendance,
        Participant,
        Series,
        SeriesCompany,
        WorkshopSession,
    )

    launch_id = _launch(app, who)
    client = app.test_client()
    config = open_player(client, launch_id)
    for quiz, right in RIGHT.items():
        assert event(client, config, "answered", {"blockId": quiz, "response": right}).status_code == 200
    assert event(client, config, "outcome", {"completed": True, "passed": True, "progress": 1}).get_json()["completed"]
    now = dt.datetime.now(dt.UTC)
    with app.test_request_context(), session_scope(app.extensions["smeb.sessions"]) as session:
        context = launches.get_launch(session, launch_id)
        actor = actor_for(context)
        attempt = session.scalars(sa.select(Progress.attempt).where(Progress.subject == who["sub"])).one()
        reg = context.registration_id
        session.add(JournalKeyring(registration_id=reg, subject=who["sub"], version=1, kdf="PBKDF2-SHA256", pass_iterations=600000,
                                   pass_salt="c2FsdA", pass_wrapped="d3JhcHBlZA", recovery_iterations=600000, recovery_salt="c2FsdDI",
                                   recovery_wrapped="d3JhcHBlZDI", created_at=now, updated_at=now))
        session.add(JournalEntry(registration_id=reg, subject=who["sub"], entry_id=str(uuid.uuid4()), course_key="all-blocks", kind="entry",
                                 block_id=None, iv="aXZpdml2aXZpdml2", ciphertext="Y2lwaGVy" + who["sub"][-4:], version=1,
                                 created_at=now, updated_at=now))
        profile = Profile(registration_id=reg, subject=who["sub"], display_name=who["name"], trade="elektriker", employer=None,
                          created_at=now, updated_at=now)
        session.add(profile)
        session.flush()
        thread = Thread(course_key="all-blocks", module_id=None, title=f"Spørsmål fra {who['name']}", author_id=profile.id,
                        created_at=now, last_post_at=now, locked=False)
        session.add(thread)
        session.flush()
        opening = Post(thread_id=thread.id, parent_id=None, author_id=profile.id, body=f"Hilsen {who['name']}", created_at=now,
                       edited_at=None, hidden=False, statement_id=None)
        session.add(opening)
        session.flush()
        # A reply in the other learner's thread, to their opening post (B replies to A: A's thread must keep B's reply).
        other = session.scalars(sa.select(Thread).where(Thread.id != thread.id)).first()
        if other is not None:
            first = session.scalars(sa.select(Post).where(Post.thread_id == other.id)).first()
            session.add(Post(thread_id=other.id, parent_id=first.id if first else None, author_id=profile.id, body=f"Svar fra {who['name']}",
                             created_at=now, edited_at=None, hidden=False, statement_id=None))
        survey = session.scalars(sa.select(privacy_rows.reflected(session, "survey_surveys").c.id)).first()
        if survey is None:
            survey = add_survey(session, registration_id=reg, deployment_id=context.deployment_id, context_id=context.context_id or "",
                                template="psych-safety-pulse", frequency="once", starts_on=now.date(), ends_on=now.date()).id
        from smeb_lti.surveys.store import Survey

        save_answer(session, session.get(Survey, survey), 0, "all", _answer_token(context, survey, 0), {"q1": 4})
        series = session.scalars(sa.select(Series)).first()
        if series is None:
            series = Series(registration_id=reg, deployment_id=context.deployment_id, context_id=context.context_id, course_slug="all-blocks",
                            title="Verksted", join_code="ABCD1234", notes="", created_at=now)
            session.add(series)
            session.flush()
            session.add(SeriesCompany(series_id=series.id, registration_id=reg, deployment_id=context.deployment_id,
                                      context_id=context.context_id, title=COMPANY_A.title, joined_at=now))
            session.add(WorkshopSession(series_id=series.id, block_id="w1", starts_at=now, place="Bodø", assignment_block_id=None, survey_id=None))
            session.flush()
        company = session.scalars(sa.select(SeriesCompany)).first()
        workshop = session.scalars(sa.select(WorkshopSession)).first()
        participant = Participant(series_id=series.id, company_id=company.id, issuer=context.issuer, subject=who["sub"], name=who["name"],
                                  course_key="all-blocks")
        session.add(participant)
        session.flush()
        session.add(Attendance(session_id=workshop.id, participant_id=participant.id, recorded_at=now))
    from smeb_lti.lti.storage import DbStore

    # An OIDC login state whose login_hint is the learner's id (Moodle sends the user id there).
    DbStore(app.extensions["smeb.sessions"]).put("state:" + who["sub"][-4:], {"login_params": {"login_hint": who["sub"]}}, 600)
    statements = _statements_of(app, actor["account"]["name"])
    # Half of them reached the customer's LRS already; all of them are in the embedded LRS.
    with app.extensions["smeb.engine"].connect() as conn:
        ids = conn.execute(sa.select(outbox.outbox_table.c.id).where(
            outbox.outbox_table.c.item_id.in_([s["id"] for s in statements[: len(statements) // 2]]))).scalars().all()
    outbox.mark_delivered(app.extensions["smeb.engine"], list(ids))
    lrs = app.test_client()
    posted = lrs.post("/lrs/smeb/xapi/statements", json=statements, headers={"Authorization": auth, **XAPI})
    assert posted.status_code == 200, posted.get_data(as_text=True)
    agent = json.dumps(actor)
    state = lrs.put("/lrs/smeb/xapi/activities/state", query_string={"activityId": config["courseId"], "agent": agent, "registration": attempt,
                                                                   "stateId": "bookmark"},
                    data=json.dumps({"at": "l1"}), headers={"Authorization": auth, "Content-Type": "application/json", **XAPI})
    assert state.status_code == 204, state.get_data(as_text=True)
    profile_doc = lrs.put("/lrs/smeb/xapi/agents/profile", query_string={"agent": agent, "profileId": "prefs"},
                          data=json.dumps({"lang": "nb"}), headers={"Authorization": auth, "Content-Type": "application/json", **XAPI, "If-None-Match": "*"})
    assert profile_doc.status_code == 204, profile_doc.get_data(as_text=True)
    from smeb_lti.lrs.cmi5_launch import create_launch_for_app

    # A cmi5 AU launched for the learner: a session, its LaunchData state and the learner preferences profile.
    create_launch_for_app(app, "smeb", actor, config["courseId"] + "/au-1", "https://kurs.smeb.example/packages/p/index.html",
                          "https://kurs.smeb.example")
    return {"actor": actor, "statements": statements, "delivered": len(ids), "launch_id": launch_id}


def _needles(who: dict[str, str], seeded: dict[str, Any]) -> list[str]:
    return [who["sub"], who["name"], who["email"], seeded["actor"]["account"]["name"]]


def _tables_holding(app: Flask, needles: list[str]) -> dict[str, list[str]]:
    """Every table and the needles found in any of its rows (every column, as text)."""
    engine = app.extensions["smeb.engine"]
    found: dict[str, list[str]] = {}
    with engine.connect() as conn:
        for name in sa.inspect(conn).get_table_names():
            table = sa.Table(name, sa.MetaData(), autoload_with=conn)
            text = "\n".join(repr(tuple(bytes(v).decode("utf-8", "replace") if isinstance(v, (bytes, memoryview)) else v for v in row))
                             for row in conn.execute(sa.select(table)))
            hits = [n for n in needles if n in text]
            if hits:
                found[name] = hits
    return found


def _ref(app: Flask, who: dict[str, str]) -> privacy_subject.SubjectRef:
    with app.extensions["smeb.sessions"]() as session:
        return privacy_learners.resolve_subject(session, COMPANY_A.issuer, who["sub"], privacy_learners.keys_from_app(app))


def _export(app: Flask, ref: privacy_subject.SubjectRef) -> dict[str, Any]:
    with app.extensions["smeb.sessions"]() as session:
        document = privacy_erasure.export_learner(session, ref)
    document.pop("exported_at")
    return document


@pytest.fixture
def seeded(app: Flask) -> dict[str, dict[str, Any]]:
    auth = _lrs_credential(app)
    return {"A": _seed(app, A, auth), "B": _seed(app, B, auth), "auth": {"header": auth}}


def test_the_seed_reaches_every_store_that_holds_learners(app: Flask, seeded: dict[str, Any]) -> None:
    # Guards the tests below: a store the seed missed would make "A is gone from it" pass vacuously.
    tables = set(_tables_holding(app, _needles(A, seeded["A"])))
    assert {"lti_launches", "lti_kv", "play_progress", "dashboard_members", "journal_keyrings", "journal_entries", "forum_profiles", "forum_threads",
            "forum_posts", "workshop_participants", "cert_certificates", "lrs_statements", "lrs_statement_links", "lrs_cmi5_sessions", "xapi_outbox"} <= tables


def test_the_survey_token_is_the_one_the_surveys_module_makes(app: Flask, seeded: dict[str, Any]) -> None:
    from smeb_lti.surveys import routes as surveys

    assert privacy_subject.SURVEY_TOKEN_LABEL == surveys.ANSWER_TOKEN_LABEL
    with app.extensions["smeb.sessions"]() as session:
        assert len(surveys_privacy._survey_answer_ids(session, _ref(app, A))) == 1


def test_the_export_holds_everything_of_the_learner_and_nothing_of_anyone_else(app: Flask, seeded: dict[str, Any]) -> None:
    document = _export(app, _ref(app, A))
    text = json.dumps(document, ensure_ascii=False)
    assert not [n for n in _needles(B, seeded["B"]) if n in text]
    assert A["name"] in text and A["email"] in text and seeded["A"]["actor"]["account"]["name"] in text
    stores = document["stores"]
    assert document["format"] == privacy_erasure.FORMAT and document["learner"]["subject"] == A["sub"]
    assert [launch["claims"]["email"] for launch in stores["lti_launches"]["launches"]] == [A["email"]]
    assert seeded["A"]["launch_id"] not in text  # a bearer secret is not exported
    [progress] = stores["play"]["progress"]
    assert progress["completed"] is True and progress["answers"] == {k: sorted(v) for k, v in RIGHT.items()} | progress["answers"]
    assert len(stores["dashboard"]["memberships"]) == 1
    assert len(stores["journal"]["keyrings"]) == 1 and len(stores["journal"]["entries"]) == 1
    assert [p["body"] for p in stores["forum"]["posts"]] == [f"Hilsen {A['name']}"]
    assert stores["surveys"]["open_answers"][0]["answers"] == {"q1": 4} and "token" not in stores["surveys"]["open_answers"][0]
    assert [p["name"] for p in stores["workshops"]["participations"]] == [A["name"]]
    [cert] = stores["certificates"]["certificates"]
    assert cert["learner_name"] == A["name"] and cert["revoked_at"] is None
    lrs = stores["lrs"]["tenants"]["smeb"]
    extra = [s["verb"]["id"] for s in lrs["statements"] if s["id"] not in {t["id"] for t in seeded["A"]["statements"]}]
    assert len(lrs["statements"]) == len(seeded["A"]["statements"]) + 1 and extra == ["http://adlnet.gov/expapi/verbs/launched"]  # cmi5
    assert len(lrs["documents"]) == 4 and len(lrs["cmi5_sessions"]) == 1  # bookmark, prefs, cmi5 LaunchData and preferences
    queued = stores["outbox"]["queued_and_sent"]
    # The player's statements, and the cmi5 "launched" the embedded LRS forwards like every other statement.
    forwarded_cmi5 = {s["id"] for s in lrs["statements"] if s["verb"]["id"] == "http://adlnet.gov/expapi/verbs/launched"}
    assert {r["item_id"] for r in queued if r["kind"] == "lrs"} == {s["id"] for s in seeded["A"]["statements"]} | forwarded_cmi5
    assert {r["payload"]["score"]["userId"] for r in queued if r["kind"] == "ags"} == {A["sub"]}


def test_erasure_removes_the_learner_from_every_table_and_leaves_the_other_learner_untouched(app: Flask, seeded: dict[str, Any]) -> None:
    ref_a, ref_b = _ref(app, A), _ref(app, B)
    before_b = _export(app, ref_b)
    with session_scope(app.extensions["smeb.sessions"]) as session:
        receipt = privacy_erasure.erase_learner(session, ref_a, erased_by="ticket-4711")
    assert _tables_holding(app, _needles(A, seeded["A"])) == {}
    after_b = _export(app, ref_b)
    for document in (before_b, after_b):  # B's reply to A's post loses its parent (the reply itself stays; tested below)
        for post in document["stores"]["forum"]["posts"]:
            post.pop("parent_id")
    for store in privacy_erasure.stores():
        assert after_b["stores"][store.name] == before_b["stores"][store.name], store.name
    with app.extensions["smeb.engine"].connect() as conn:  # documents are found by hash: what is left is exactly B's
        assert conn.execute(sa.text("SELECT count(*) FROM lrs_documents")).scalar() == len(after_b["stores"]["lrs"]["tenants"]["smeb"]["documents"])
        assert conn.execute(sa.text("SELECT count(*) FROM lrs_cmi5_sessions")).scalar() == 1
    # The receipt says what and how many, with no personal data.
    assert receipt.voids_queued == seeded["A"]["delivered"] > 0
    assert receipt.counts["play"] >= 1 and receipt.counts["lrs"] >= len(seeded["A"]["statements"]) and receipt.counts["certificates"] == 1
    with app.extensions["smeb.sessions"]() as session:
        [stored] = privacy_erasure.list_receipts(session)
    assert stored.id == receipt.id and stored.erased_by == "ticket-4711" and stored.counts == receipt.counts


def test_a_thread_with_other_peoples_replies_stays_under_an_erased_author(app: Flask, seeded: dict[str, Any]) -> None:
    from smeb_lti.forum.store import Post, Profile, Thread

    with session_scope(app.extensions["smeb.sessions"]) as session:
        privacy_erasure.erase_learner(session, _ref(app, A), erased_by="ops")
    with app.extensions["smeb.sessions"]() as session:
        threads = {t.title: t for t in session.scalars(sa.select(Thread))}
        assert set(threads) == {"(slettet)", f"Spørsmål fra {B['name']}"}
        kept = threads["(slettet)"]
        assert session.get(Profile, kept.author_id).display_name == "Slettet bruker"  # type: ignore[union-attr]
        bodies = {p.body: p for p in session.scalars(sa.select(Post))}
        assert set(bodies) == {f"Hilsen {B['name']}", f"Svar fra {B['name']}"}
        assert bodies[f"Svar fra {B['name']}"].thread_id == kept.id and bodies[f"Svar fra {B['name']}"].parent_id is None


def test_after_erasure_the_lrs_answers_nothing_about_the_learner(app: Flask, seeded: dict[str, Any]) -> None:
    with session_scope(app.extensions["smeb.sessions"]) as session:
        privacy_erasure.erase_learner(session, _ref(app, A), erased_by="ops")
    client, auth = app.test_client(), seeded["auth"]["header"]
    for who in ("A", "B"):
        actor = json.dumps(seeded[who]["actor"])
        response = client.get("/lrs/smeb/xapi/statements", query_string={"agent": actor, "related_agents": "true"},
                              headers={"Authorization": auth, **XAPI})
        profile = client.get("/lrs/smeb/xapi/agents/profile", query_string={"agent": actor, "profileId": "prefs"},
                             headers={"Authorization": auth, **XAPI})
        if who == "A":
            assert response.get_json()["statements"] == [] and profile.status_code == 404
        else:
            assert len(response.get_json()["statements"]) == len(seeded["B"]["statements"]) + 1 and profile.status_code == 200  # + cmi5 launched
    one = seeded["A"]["statements"][0]["id"]
    assert client.get("/lrs/smeb/xapi/statements", query_string={"statementId": one}, headers={"Authorization": auth, **XAPI}).status_code == 404


def _post_with_attachment(app: Flask, auth: str, actor: dict[str, Any], data: bytes) -> str:
    from tests.smeb_lti.lrs.test_attachments import (
        BOUNDARY,
        attachment,
        multipart,
        part_headers,
    )

    statement = {"id": str(uuid.uuid4()), "actor": actor, "verb": {"id": "http://adlnet.gov/expapi/verbs/attempted"},
                 "object": {"id": "https://smeb.no/courses/test-all-blocks/a1"}, "attachments": [attachment(data)]}
    response = app.test_client().post("/lrs/smeb/xapi/statements", data=multipart(statement, [(data, part_headers(data))]),
                                      content_type=f'multipart/mixed; boundary="{BOUNDARY}"', headers={"Authorization": auth, **XAPI})
    assert response.status_code == 200, response.get_data(as_text=True)
    return statement["id"]


def test_erasure_removes_the_learners_attachments_but_keeps_one_another_statement_still_uses(app: Flask, seeded: dict[str, Any]) -> None:
    from smeb_lti.lrs import tables

    auth = seeded["auth"]["header"]
    _post_with_attachment(app, auth, seeded["A"]["actor"], b"A's own action plan")
    _post_with_attachment(app, auth, seeded["A"]["actor"], b"the shared template")
    _post_with_attachment(app, auth, seeded["B"]["actor"], b"the shared template")
    with session_scope(app.extensions["smeb.sessions"]) as session:
        privacy_erasure.erase_learner(session, _ref(app, A), erased_by="ops")
    with app.extensions["smeb.engine"].connect() as conn:
        kept = {bytes(c) for c in conn.execute(sa.select(tables.attachments.c.content)).scalars()}
    assert kept == {b"the shared template"}


def test_erasure_revokes_the_certificate_and_strips_its_personal_data(app: Flask, seeded: dict[str, Any]) -> None:
    with app.extensions["smeb.sessions"]() as session:
        [cert_id] = certificates_privacy.certificate_ids(session, _ref(app, A))
    client = app.test_client()
    assert client.get(f"/verify/{cert_id}/status.json").get_json()["status"] == "valid"
    with session_scope(app.extensions["smeb.sessions"]) as session:
        privacy_erasure.erase_learner(session, _ref(app, A), erased_by="ops")
    status = client.get(f"/verify/{cert_id}/status.json").get_json()
    assert status["status"] == "revoked" and status["reason"] == "erased-on-request" and A["name"] not in json.dumps(status)


def test_erasure_sends_voiding_statements_only_for_what_may_have_reached_the_customers_lrs(app: Flask, seeded: dict[str, Any]) -> None:
    with session_scope(app.extensions["smeb.sessions"]) as session:
        privacy_erasure.erase_learner(session, _ref(app, A), erased_by="ops")
    with app.extensions["smeb.engine"].connect() as conn:
        payloads = [json.loads(p) for p in conn.execute(
            sa.select(outbox.outbox_table.c.payload).where(outbox.outbox_table.c.kind == "lrs")).scalars()]
    voids = [p for p in payloads if p["verb"]["id"] == "http://adlnet.gov/expapi/verbs/voided"]
    delivered = {s["id"] for s in seeded["A"]["statements"][: len(seeded["A"]["statements"]) // 2]}
    assert {v["object"]["id"] for v in voids} == delivered
    assert all(v["actor"] == privacy_outbox.ERASURE_AGENT and v["id"] == privacy_outbox.void_statement_id(v["object"]["id"]) for v in voids)


def test_erasure_is_all_or_nothing_when_one_store_fails(app: Flask, seeded: dict[str, Any]) -> None:
    from xapi import statements as builders

    ref = _ref(app, A)
    target = seeded["A"]["statements"][0]["id"]  # delivered: the eraser will queue its voiding statement
    with session_scope(app.extensions["smeb.sessions"]) as session:
        # Someone voided it already under the id the eraser uses: the outbox's unique (destination, item) refuses the second row.
        outbox.enqueue(session, builders.voided(privacy_outbox.ERASURE_AGENT, str(uuid.uuid4()), statement_id=privacy_outbox.void_statement_id(target)),
                       ["bht-lrs"])
    before = _export(app, ref)
    with pytest.raises(privacy_errors.ErasureFailed, match="outbox"), session_scope(app.extensions["smeb.sessions"]) as session:
        privacy_erasure.erase_learner(session, ref, erased_by="ops")
    assert _export(app, ref) == before  # the stores erased before the outbox (LRS, launches, progress, forum...) are back
    with app.extensions["smeb.sessions"]() as session:
        assert privacy_erasure.list_receipts(session) == []


def test_keeping_certificates_at_the_learners_wish_leaves_them_verifiable(app: Flask, seeded: dict[str, Any]) -> None:
    with session_scope(app.extensions["smeb.sessions"]) as session:
        receipt = privacy_erasure.erase_learner(session, _ref(app, A), erased_by="ops", keep_certificates=True)
    assert receipt.certificates_kept and "certificates" not in receipt.counts
    assert set(_tables_holding(app, _needles(A, seeded["A"]))) == {"cert_certificates"}


def test_an_unknown_issuer_is_refused_with_where_to_look(app: Flask) -> None:
    with app.extensions["smeb.sessions"]() as session, pytest.raises(privacy_errors.UnknownLearner, match="smeb platform list"):
        privacy_learners.resolve_subject(session, "https://nowhere.example", "x", privacy_learners.keys_from_app(app))


# -- the CLI -------------------------------------------------------------------------------------


def _env(app: Flask) -> dict[str, str]:
    return {"SMEB_DATABASE_URL": app.config["SMEB_DATABASE_URL"], "SMEB_DATA_DIR": app.config["SMEB_DATA_DIR"],
            "SMEB_XAPI_ACTOR_KEY": app.config["SMEB_XAPI_ACTOR_KEY"], "SMEB_ENV": "development"}


def test_the_cli_exports_to_a_file_and_erases_only_with_yes(app: Flask, seeded: dict[str, Any], tmp_path: Path) -> None:
    from smeb_lti.cli import main

    runner = CliRunner()
    out = tmp_path / "export" / "a.json"
    result = runner.invoke(main, ["learner", "export", "--issuer", COMPANY_A.issuer, "--subject", A["sub"], "--out", str(out)], env=_env(app))
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["learner"]["subject"] == A["sub"] and (out.stat().st_mode & 0o077) == 0
    refused = runner.invoke(main, ["learner", "erase", "--issuer", COMPANY_A.issuer, "--subject", A["sub"]], env=_env(app))
    assert refused.exit_code != 0 and "--yes" in refused.output
    assert _tables_holding(app, [A["sub"]])
    done = runner.invoke(main, ["learner", "erase", "--issuer", COMPANY_A.issuer, "--subject", A["sub"], "--yes", "--by", "ops"], env=_env(app))
    assert done.exit_code == 0, done.output
    assert _tables_holding(app, _needles(A, seeded["A"])) == {}
    listed = runner.invoke(main, ["learner", "receipts"], env=_env(app))
    assert "by ops" in listed.output and A["sub"] not in listed.output


def test_launches_purge_deletes_expired_launches_and_store_entries_only(app: Flask) -> None:
    from smeb_lti.cli import main
    from smeb_lti.lti.storage import KvEntry

    fresh, old = _launch(app, A), _launch(app, B)
    past = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    with session_scope(app.extensions["smeb.sessions"]) as session:
        session.get(launches.Launch, old).expires_at = past  # type: ignore[union-attr]
        session.add(KvEntry(key="state-old", value="{}", expires_at=past))
        session.add(KvEntry(key="state-new", value="{}", expires_at=past + dt.timedelta(hours=2)))
    result = CliRunner().invoke(main, ["launches", "purge"], env=_env(app))
    assert result.exit_code == 0, result.output
    assert "purged 1 expired launch(es) and 1 expired" in result.output
    with app.extensions["smeb.sessions"]() as session:
        assert session.get(launches.Launch, fresh) is not None and session.get(launches.Launch, old) is None
        assert session.get(KvEntry, "state-new") is not None and session.get(KvEntry, "state-old") is None
