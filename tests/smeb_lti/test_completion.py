"""Completing a course issues the certificate once, in the transaction that records the completion,
on SQLite and PostgreSQL; the player's config and the learner's certificate page lead to it."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

from flask import Flask
from sqlalchemy import select

from content import load_course
from content.export import course_to_dict
from content.model import Course
from smeb_lti.certificates.issue import list_certificates
from smeb_lti.certificates.model import Tenant
from smeb_lti.certificates.signing import create_key
from smeb_lti.courses import catalogue
from smeb_lti.db import session_scope
from smeb_lti.play.completion import rule_met
from smeb_lti.play.store import Progress
from tests.smeb_lti.dashboard.helpers import (
    COMPANY_A,
    COMPANY_B,
    COURSE_IRI,
    INSTRUCTOR,
    complete,
    event,
    launch,
    open_player,
)
from tests.support.paths import COURSE_FIXTURES
from xapi.delivery import outbox
from xapi.delivery.destinations import Destination, save_destination

COURSE = COURSE_FIXTURES / "all-blocks"
TENANT_A = Tenant(COMPANY_A.issuer, COMPANY_A.deployment_id, COMPANY_A.context_id)


def _certificates(app: Flask, tenant: Tenant = TENANT_A, subject: str | None = None) -> list:
    with app.extensions["smeb.sessions"]() as session:
        return list_certificates(session, tenant, learner_subject=subject)


def _progress(app: Flask, subject: str) -> Progress | None:
    with app.extensions["smeb.sessions"]() as session:
        return session.scalars(select(Progress).where(Progress.subject == subject)).first()


# -- the rule (pure) ---------------------------------------------------------------------------


def _course(passing_score: float, *, points: bool = True) -> Course:
    """The all-blocks course (5 quiz points) with this pass mark; with no modules (so no points) unless ``points``."""
    course = load_course(COURSE)
    return replace(course, passing_score=passing_score, modules=course.modules if points else ())


def test_the_rule_needs_completion_and_a_pass_when_a_passing_score_applies() -> None:
    graded = _course(0.5)
    ungraded = _course(0.7, points=False)
    assert graded.max_points == 5 and ungraded.max_points == 0
    assert graded.passing_applies and not ungraded.passing_applies and not _course(0).passing_applies
    assert rule_met(graded, True, True) and not rule_met(graded, True, False) and not rule_met(graded, True, None)
    assert not rule_met(graded, False, True)
    assert rule_met(ungraded, True, None) and not rule_met(ungraded, False, None)


# -- issuing through the player host -----------------------------------------------------------


def test_completing_and_passing_the_course_issues_one_certificate_with_the_signed_claims(app: Flask) -> None:
    with app.extensions["smeb.engine"].begin() as conn:
        save_destination(conn, Destination(name="bht-lrs", endpoint="https://lrs.example.no/xapi/"))
    launch_id = launch(app, COMPANY_A, "learner-1", name="Kari Nordmann")
    assert complete(app, launch_id)["completed"] is True
    [cert] = _certificates(app)
    assert cert.claims.learner_name == "Kari Nordmann" and cert.claims.course_id == COURSE_IRI
    assert cert.claims.course_title == "Testkurs med alle blokktyper" and cert.claims.competences == ("Psykologisk trygghet",)
    assert cert.claims.duration_minutes == 20 and cert.verification_url == f"/verify/{cert.id}#{cert.token}"
    # the "earned" statement was queued with it (same transaction as the completion)
    with app.extensions["smeb.engine"].connect() as conn:
        payloads = [json.loads(p) for p in conn.execute(select(outbox.outbox_table.c.payload).where(outbox.outbox_table.c.kind == "lrs")).scalars()]
    assert [s["id"] for s in payloads if s["verb"]["id"].endswith("/earned")] == [cert.earned_statement_id]
    # a second outcome (another tab, a resumed session) does not issue another one
    client = app.test_client()
    config = open_player(client, launch_id)
    assert event(client, config, "outcome", {"completed": True, "passed": True, "progress": 1}).status_code == 200
    assert [c.id for c in _certificates(app)] == [cert.id]


def test_completing_without_passing_issues_nothing_until_a_retake_passes(app: Flask) -> None:
    launch_id = launch(app, COMPANY_A, "learner-2")
    complete(app, launch_id, wrong=("q-single", "q-multi"))  # 1 of 5 points, 50 % needed
    row = _progress(app, "learner-2")
    assert row is not None and row.completed and row.passed is False
    assert _certificates(app) == []
    complete(app, launch_id)  # the retake: every answer right
    assert len(_certificates(app, subject="learner-2")) == 1


def test_a_module_link_completes_the_module_but_earns_no_course_certificate(app: Flask) -> None:
    launch_id = launch(app, COMPANY_A, "learner-3", custom={"course": "all-blocks", "module": "m1"})
    complete(app, launch_id)
    row = _progress(app, "learner-3")
    assert row is not None and row.completed and row.course_key == "all-blocks/m1"
    assert _certificates(app) == []
    assert "certificateUrl" not in open_player(app.test_client(), launch_id)


def test_a_course_without_the_certificate_flag_issues_nothing(app: Flask, tmp_path: Path) -> None:
    copy = tmp_path / "variant" / "all-blocks"  # the same slug: installing it updates the course
    shutil.copytree(COURSE, copy)
    source = (copy / "course.yaml").read_text(encoding="utf-8")
    assert "certificate: true" in source
    (copy / "course.yaml").write_text(source.replace("certificate: true", "certificate: false"), encoding="utf-8")
    with session_scope(app.extensions["smeb.sessions"]) as session:
        catalogue.install(session, load_course(copy))
    assert course_to_dict(load_course(copy))["certificate"] is False
    launch_id = launch(app, COMPANY_A, "learner-4")
    complete(app, launch_id)
    assert _certificates(app) == [] and "certificateUrl" not in open_player(app.test_client(), launch_id)


def test_a_launch_without_the_learners_name_completes_but_gets_no_certificate(app: Flask) -> None:
    complete(app, launch(app, COMPANY_A, "learner-5", name=None))
    row = _progress(app, "learner-5")
    assert row is not None and row.completed and _certificates(app) == []


def test_when_issuing_fails_the_completion_is_rolled_back_with_it(app: Flask) -> None:
    with session_scope(app.extensions["smeb.sessions"]) as session:
        create_key(session, "a-key-only-the-operator-has")  # encrypted; this app has no SMEB_KEY_ENCRYPTION_KEY
    launch_id = launch(app, COMPANY_A, "learner-6")
    client = app.test_client()
    config = open_player(client, launch_id)
    for quiz, right in (("q-single", ["a"]), ("q-multi", ["tidspress", "hierarki"]), ("q-tf", ["true"])):
        assert event(client, config, "answered", {"blockId": quiz, "response": right}).status_code == 200
    failed = event(client, config, "outcome", {"completed": True, "passed": True, "progress": 1})
    assert failed.status_code >= 400 and failed.get_json()["error"] == "key-encryption"
    row = _progress(app, "learner-6")
    assert row is not None and not row.completed and row.completed_at is None  # nothing half-done
    assert _certificates(app) == []


def test_the_certificates_of_one_company_are_not_issued_again_in_another(app: Flask) -> None:
    complete(app, launch(app, COMPANY_A, "learner-7"))
    complete(app, launch(app, COMPANY_B, "learner-7"))  # the same person, also in company B's course context
    tenant_b = Tenant(COMPANY_B.issuer, COMPANY_B.deployment_id, COMPANY_B.context_id)
    assert len(_certificates(app, subject="learner-7")) == 1 and len(_certificates(app, tenant_b, "learner-7")) == 1


# -- the learner's way to the certificate --------------------------------------------------------


def test_the_player_config_names_the_certificate_page_and_it_lists_pdf_verification_and_linkedin(app: Flask) -> None:
    launch_id = launch(app, COMPANY_A, "learner-8", name="Ola Nordmann", locale="en-GB")
    client = app.test_client()
    config = open_player(client, launch_id)
    assert config["certificateUrl"] == f"/app/{launch_id}/certificate"
    before = client.get(config["certificateUrl"])
    assert before.status_code == 200 and 'id="no-certificate"' in before.get_data(as_text=True)
    complete(app, launch_id)
    [cert] = _certificates(app, subject="learner-8")
    page = client.get(config["certificateUrl"])
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and '<html lang="en">' in html and "Your certificate" in html
    assert f'href="/certificates/{launch_id}/{cert.id}.pdf"' in html
    assert f'href="https://kurs.smeb.example/verify/{cert.id}#{cert.token}"' in html
    assert 'id="certificate-linkedin" href="https://www.linkedin.com/profile/add?' in html and f"certId={cert.id}" in html
    assert "script-src 'none'" in page.headers["Content-Security-Policy"] and page.headers["Cache-Control"] == "no-store"
    pdf = client.get(f"/certificates/{launch_id}/{cert.id}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF-")


def test_another_learner_of_the_same_company_does_not_see_my_certificate(app: Flask) -> None:
    complete(app, launch(app, COMPANY_A, "learner-9"))
    [cert] = _certificates(app, subject="learner-9")
    other = launch(app, COMPANY_A, "learner-10")
    page = app.test_client().get(f"/app/{other}/certificate").get_data(as_text=True)
    assert cert.id not in page and cert.id.upper() not in page and 'id="no-certificate"' in page
    assert app.test_client().get(f"/certificates/{other}/{cert.id}.pdf").status_code == 404


def test_an_instructor_who_completes_the_course_earns_the_certificate_like_anyone(app: Flask) -> None:
    staff = launch(app, COMPANY_A, "teacher-1", roles=(INSTRUCTOR,))
    complete(app, staff)  # a foreman who takes the course has taken it: the rule does not look at roles
    assert len(_certificates(app, subject="teacher-1")) == 1
