"""cmi5 with a course of several AUs and a block (tests/fixtures/cmi5/block-course/cmi5.xml), against the cmi5 spec.

Requirement ids are "<section of the cmi5 spec>-<n>" as the LRS reports them (docs/lrs.md); the
tests name the spec section they check. The course: block 1 = {theory: Completed, test:
CompletedAndPassed, masteryScore 0.7}, then extra: NotApplicable (the default moveOn).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from smeb_lti.db import session_scope
from smeb_lti.lrs import cmi5, cmi5_launch
from smeb_lti.lrs.cmi5_course import Cmi5CourseError, parse_course_structure
from smeb_lti.lrs.errors import Cmi5Violation
from tests.smeb_lti.lrs.test_cmi5 import Au, rejected

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "cmi5" / "block-course" / "cmi5.xml"
COURSE = "https://smeb.no/cmi5/test-block-course"
BLOCK = COURSE + "/block/1"
THEORY, TEST, EXTRA = (COURSE + "/au/" + name for name in ("theory", "test", "extra"))


@pytest.fixture
def course(lrs):
    with session_scope(lrs.app.extensions["smeb.sessions"]) as session:
        return cmi5_launch.import_course_structure(session, "acme", parse_course_structure(FIXTURE.read_bytes()))


def launch(lrs, publisher: str, registration: str | None = None, **options) -> Au:
    au = Au(lrs, publisher, course_publisher_id=COURSE, registration=registration, **options)
    au.login()
    assert au.send(au.statement(cmi5.VERB_INITIALIZED)).status_code == 200
    return au


def complete(au: Au) -> int:
    return au.send(au.statement(cmi5.VERB_COMPLETED, {"completion": True, "duration": "PT1M"}, moveon=True)).status_code


def passed(au: Au, scaled: float = 0.9) -> int:
    body = au.statement(cmi5.VERB_PASSED, {"success": True, "score": {"scaled": scaled}, "duration": "PT2M"}, moveon=True)
    return au.send(body).status_code


def statements(lrs, registration: str) -> list[dict]:
    return lrs.get_statements(registration=registration, ascending="true", limit="50").get_json()["statements"]


def satisfied(lrs, registration: str) -> list[dict]:
    return [s for s in statements(lrs, registration) if s["verb"]["id"] == cmi5.VERB_SATISFIED]


def test_13_the_course_structure_is_read_with_its_block_and_defaults() -> None:
    structure = parse_course_structure(FIXTURE.read_bytes())
    assert structure.publisher_id == COURSE
    assert [(au.publisher_id, au.move_on, au.mastery_score) for au in structure.aus()] == [
        (THEORY, "Completed", None), (TEST, "CompletedAndPassed", 0.7), (EXTRA, "NotApplicable", None)]
    assert [b.publisher_id for b in structure.blocks()] == [BLOCK]


@pytest.mark.parametrize("xml, message", [
    (b"<x/>", "root must be <courseStructure"),
    (FIXTURE.read_bytes().replace(b'moveOn="Completed"', b'moveOn="Done"'), "moveOn 'Done'"),
    (FIXTURE.read_bytes().replace(THEORY.encode(), TEST.encode()), "used twice"),
    (FIXTURE.read_bytes().replace(b'masteryScore="0.7"', b'masteryScore="7"'), "masteryScore 7.0"),
])
def test_13_1_a_bad_course_structure_is_refused_naming_what_is_wrong(xml: bytes, message: str) -> None:
    with pytest.raises(Cmi5CourseError, match=message):
        parse_course_structure(xml)


def test_9_3_completed_and_passed_are_once_per_registration_and_au_not_per_registration(lrs, course) -> None:
    """9.3 "AU Verb Ordering Rules within a registration (per AU)": the second AU of a registration may
    complete and pass too; the same AU may not again (9.3.3-1, 9.3.4-2)."""
    theory = launch(lrs, THEORY)
    assert complete(theory) == 200
    test = launch(lrs, TEST, theory.launch.registration)
    assert complete(test) == 200, "the second AU's completed was refused"
    assert passed(test) == 200, "the second AU's passed was refused"
    assert rejected(test.send(test.statement(cmi5.VERB_COMPLETED, {"completion": True}, moveon=True)), "9.3.3-1")
    assert rejected(test.send(test.statement(cmi5.VERB_PASSED, {"success": True}, moveon=True)), "9.3.4-2")
    again = launch(lrs, THEORY, theory.launch.registration)  # a new session of the first AU: still completed
    assert rejected(again.send(again.statement(cmi5.VERB_COMPLETED, {"completion": True}, moveon=True)), "9.3.3-1")


def test_9_3_4_1_the_second_au_keeps_its_own_mastery_score(lrs, course) -> None:
    """10.2.4: masteryScore comes from the course structure, per AU."""
    test = launch(lrs, TEST)
    assert test.launch_data()["masteryScore"] == 0.7 and test.launch_data()["moveOn"] == "CompletedAndPassed"
    assert rejected(test.send(test.statement(cmi5.VERB_PASSED, {"success": True, "score": {"scaled": 0.6}}, moveon=True)), "9.3.4-1")
    assert launch(lrs, THEORY).launch_data()["moveOn"] == "Completed"


def test_9_3_9_the_course_is_not_satisfied_by_its_first_au_alone(lrs, course) -> None:
    """9.3.9: "satisfied" only when the moveOn criteria of ALL AUs in the block / course are met."""
    theory = launch(lrs, THEORY)
    assert complete(theory) == 200
    assert satisfied(lrs, theory.launch.registration) == []
    test = launch(lrs, TEST, theory.launch.registration)
    assert complete(test) == 200
    assert satisfied(lrs, theory.launch.registration) == []  # CompletedAndPassed: completed alone is not enough
    assert passed(test) == 200
    objects = [s["object"]["definition"]["type"] for s in satisfied(lrs, theory.launch.registration)]
    assert objects == [cmi5.TYPE_BLOCK, cmi5.TYPE_COURSE]  # the block, then the course (extra is NotApplicable)


def test_9_3_9_and_9_4_satisfied_is_about_the_block_or_course_object_with_its_context(lrs, course) -> None:
    """9.4: generated block/course ids (never the publisher's) with the cmi5 activity types; 9.6.2.3: the
    block's/course's publisher id as grouping (not the AU's); 9.3.9: the session id of the triggering
    launch; 9.6.1: the registration; 9.6.2.1: the cmi5 category and no moveOn category (no result)."""
    theory = launch(lrs, THEORY)
    complete(theory)
    test = launch(lrs, TEST, theory.launch.registration)
    complete(test)
    passed(test)
    block, course_ = satisfied(lrs, theory.launch.registration)
    for statement, publisher, type_ in ((block, BLOCK, cmi5.TYPE_BLOCK), (course_, COURSE, cmi5.TYPE_COURSE)):
        assert statement["object"]["id"] != publisher and statement["object"]["id"].startswith("urn:smeb:cmi5:acme:")
        assert statement["object"]["definition"]["type"] == type_
        context = statement["context"]
        assert context["contextActivities"]["grouping"] == [{"id": publisher, "objectType": "Activity"}]
        assert context["registration"] == theory.launch.registration
        assert context["extensions"][cmi5.EXT_SESSION] == test.launch.session_id
        assert [c["id"] for c in context["contextActivities"]["category"]] == [cmi5.CATEGORY_CMI5]
        assert "result" not in statement
    assert course_["object"]["id"] == course  # the same course object as imported (9.3.9: same object every time)
    # ... and never twice in a registration (9.3.9 SHOULD NOT): a relaunch and more statements add none
    again = launch(lrs, EXTRA, theory.launch.registration)
    again.send(again.statement(cmi5.VERB_TERMINATED, {"duration": "PT1S"}))
    assert len(satisfied(lrs, theory.launch.registration)) == 2


def test_9_3_7_waived_is_once_per_registration_and_au_and_counts_as_move_on_met(lrs, course) -> None:
    theory = launch(lrs, THEORY)
    complete(theory)
    with session_scope(lrs.app.extensions["smeb.sessions"]) as session:
        cmi5_launch.waive(session, "acme", theory.launch.registration, "Tested Out", publisher_id=TEST)
    verbs = [s["verb"]["id"].rsplit("/", 1)[-1] for s in statements(lrs, theory.launch.registration)]
    assert verbs[-3:] == ["waived", "satisfied", "satisfied"]
    with session_scope(lrs.app.extensions["smeb.sessions"]) as session, pytest.raises(Cmi5Violation, match=r"9\.3\.7-1"):
        cmi5_launch.waive(session, "acme", theory.launch.registration, publisher_id=TEST)
    with session_scope(lrs.app.extensions["smeb.sessions"]) as session, pytest.raises(Cmi5Violation, match=r"9\.3\.7-2"):
        cmi5_launch.waive(session, "acme", theory.launch.registration, publisher_id=THEORY)  # its moveOn is already met


def test_9_6_1_a_course_of_not_applicable_aus_is_satisfied_at_registration(lrs) -> None:
    xml = FIXTURE.read_bytes().replace(b' moveOn="Completed"', b"").replace(b' moveOn="CompletedAndPassed" masteryScore="0.7"', b"")
    with session_scope(lrs.app.extensions["smeb.sessions"]) as session:
        cmi5_launch.import_course_structure(session, "acme", parse_course_structure(xml))
    au = Au(lrs, EXTRA, course_publisher_id=COURSE)
    assert [s["object"]["definition"]["type"] for s in satisfied(lrs, au.launch.registration)] == [cmi5.TYPE_BLOCK, cmi5.TYPE_COURSE]


def test_an_au_outside_the_imported_course_cannot_be_launched_in_it(lrs, course) -> None:
    with pytest.raises(ValueError, match="not in the imported course"):
        Au(lrs, COURSE + "/au/unknown", course_publisher_id=COURSE)
    with pytest.raises(ValueError, match="differs from the course structure"):
        Au(lrs, TEST, course_publisher_id=COURSE, mastery_score=0.5)


def test_the_report_counts_the_satisfied_course_as_passed(lrs, course) -> None:
    """Issue 18: completed, passed (0.9 against 0.7) and satisfied is "Bestått", not "Påbegynt"."""
    from smeb_lti.reports.aggregate import completion_report
    from smeb_lti.reports.sources import store_statements

    theory = launch(lrs, THEORY)
    complete(theory)
    test = launch(lrs, TEST, theory.launch.registration)
    assert complete(test) == 200 and passed(test, 0.9) == 200
    # a second learner: the test AU waived, the theory completed: satisfied, nothing passed -> completed
    other = {"objectType": "Agent", "account": {"homePage": "https://smeb.no", "name": "kari-2"}}
    kari = Au(lrs, THEORY, actor=other, course_publisher_id=COURSE)
    kari.login()
    kari.send(kari.statement(cmi5.VERB_INITIALIZED))
    complete(kari)
    with session_scope(lrs.app.extensions["smeb.sessions"]) as session:
        cmi5_launch.waive(session, "acme", kari.launch.registration, publisher_id=TEST)
    with lrs.app.extensions["smeb.sessions"]() as session:
        rows = completion_report(store_statements(session, "acme"))
    assert [(r.learner.rsplit("|", 1)[-1], r.course_id, r.status, r.status_nb, r.course_name) for r in rows] == [
        ("kari-2", course, "completed", "Fullført", "Testkurs med blokk"),
        ("ola-1", course, "passed", "Bestått", "Testkurs med blokk"),
    ]
    assert all(r.completed_at is not None for r in rows)


def test_cmi5_statements_are_forwarded_to_the_customers_lrs_only(lrs, course) -> None:
    """Issue 18: the AU's statements and the LMS's (launched, satisfied, waived, abandoned) are queued like
    every other statement, for the upstream LRSs bound to the launch's customer and no other."""
    from xapi.customers import CustomerMatch, CustomerScope
    from xapi.delivery.destinations import Destination, save_destination
    from xapi.delivery.outbox import outbox_table

    engine = lrs.app.extensions["smeb.engine"]
    with engine.begin() as conn:
        save_destination(conn, Destination("bht-a", "http://127.0.0.1:9/xapi/", customers=(CustomerMatch("https://lms.a.example"),)))
        save_destination(conn, Destination("bht-b", "http://127.0.0.1:9/xapi/", customers=(CustomerMatch("https://lms.b.example"),)))
    customer = CustomerScope("https://lms.a.example", "client-1", "1", "course-7")
    theory = launch(lrs, THEORY, customer=customer)
    complete(theory)
    test = launch(lrs, TEST, theory.launch.registration, customer=customer)  # abandons the theory session
    complete(test)
    passed(test)
    stored = {s["id"]: s["verb"]["id"].rsplit("/", 1)[-1] for s in statements(lrs, theory.launch.registration)}
    with engine.connect() as conn:
        queued = conn.execute(sa.select(outbox_table.c.destination, outbox_table.c.item_id, outbox_table.c.payload)).all()
    assert {d for d, _, _ in queued} == {"bht-a"}
    assert sorted(stored[i] for _, i, _ in queued) == sorted(stored.values())
    assert sorted(set(stored.values())) == ["abandoned", "completed", "initialized", "launched", "passed", "satisfied"]
    assert all('"authority"' not in payload and '"stored"' not in payload for _, _, payload in queued)


def test_lrs_0003_turns_a_registration_row_into_its_au_row_and_its_course(migrated_db_url) -> None:
    """The migration keeps what was recorded: the registration's flags become its AU's, a satisfied one its course's."""
    from alembic import command

    from smeb_lti.db import alembic_config, make_engine
    from smeb_lti.lrs import tables

    command.downgrade(alembic_config(migrated_db_url), "lrs_0002")
    engine = make_engine(migrated_db_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO lrs_cmi5_registrations (tenant_id, registration, activity_id, completed, passed, failed, satisfied) "
                "VALUES (1, 'r1', 'urn:au', :t, :t, :f, :t)"), {"t": True, "f": False})
            conn.execute(sa.text(
                "INSERT INTO lrs_cmi5_sessions (session_id, tenant_id, registration, actor_json, activity_id, publisher_id, course_id, "
                "launch_mode, mastery_score, move_on, fetch_hash, fetched, initialized, terminated, created_us) VALUES "
                "('s1', 1, 'r1', '{}', 'urn:au', 'https://p/au', 'urn:course', 'Normal', NULL, 'Passed', 'x', :f, :f, :f, 1)"), {"f": False})
        command.upgrade(alembic_config(migrated_db_url), "heads")
        with engine.connect() as conn:
            rows = conn.execute(sa.select(tables.cmi5_registrations).order_by(tables.cmi5_registrations.c.activity_id)).mappings().all()
        assert [(r["activity_id"], r["completed"], r["passed"], r["waived"], r["satisfied"]) for r in rows] == [
            ("urn:au", True, True, False, True), ("urn:course", False, False, False, True)]
    finally:
        with engine.begin() as conn:
            conn.execute(sa.delete(tables.cmi5_registrations))
            conn.execute(sa.delete(tables.cmi5_sessions))
        engine.dispose()


def test_9_6_2_3_satisfied_groups_under_the_course_not_the_au_without_an_imported_structure(lrs) -> None:
    """A launch of a course never imported: the course is that AU alone, and "satisfied" still names the course."""
    au = Au(lrs, course_publisher_id="https://smeb.no/cmi5/one-au-course", move_on="Completed")
    au.login()
    au.send(au.statement(cmi5.VERB_INITIALIZED))
    assert complete(au) == 200
    (statement,) = satisfied(lrs, au.launch.registration)
    assert statement["context"]["contextActivities"]["grouping"] == [{"id": "https://smeb.no/cmi5/one-au-course", "objectType": "Activity"}]
    assert statement["object"]["id"] == cmi5.course_activity_id("acme", "https://smeb.no/cmi5/one-au-course")


def test_the_http_launch_names_the_course_and_the_customer(lrs, course) -> None:
    from smeb_lti.lrs import tables
    from tests.smeb_lti.lrs.test_cmi5 import ACTOR

    body = {"actor": ACTOR, "publisherId": TEST, "packageUrl": "http://localhost/p/index.html", "coursePublisherId": COURSE,
            "customer": {"issuer": "https://lms.a.example", "deployment_id": "1", "context_id": "7"}}
    made = lrs.client.post("/lrs/acme/cmi5/launches", json=body, headers={"Authorization": lrs.auth})
    assert made.status_code == 201, made.get_json()
    with lrs.app.extensions["smeb.sessions"]() as session:
        row = session.execute(sa.select(tables.cmi5_sessions).where(tables.cmi5_sessions.c.session_id == made.get_json()["sessionId"])).mappings().one()
    assert row["move_on"] == "CompletedAndPassed" and row["mastery_score"] == 0.7 and row["course_publisher_id"] == COURSE
    assert '"context_id": "7"' in row["customer_json"]
    wrong = lrs.client.post("/lrs/acme/cmi5/launches", json={**body, "customer": {"isuer": "x"}}, headers={"Authorization": lrs.auth})
    assert wrong.status_code == 400 and "bad launch request" in wrong.get_json()["message"]
