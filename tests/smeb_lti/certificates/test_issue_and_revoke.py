"""Issuing and revoking on SQLite and PostgreSQL: one transaction with the xAPI statement, scoped by company."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from smeb_lti.certificates.errors import (
    AlreadyRevoked,
    CertificateNotFound,
    InvalidCertificateInput,
)
from smeb_lti.certificates.issue import (
    IssueRequest,
    get_certificate,
    issue_certificate,
    list_certificates,
    public_status,
    request_from_course,
)
from smeb_lti.certificates.model import Tenant
from smeb_lti.certificates.revocation import revocation_reason, revoke_certificate
from smeb_lti.certificates.signing import keyring
from smeb_lti.certificates.verify import verify_pdf
from smeb_lti.db import session_scope
from tests.smeb_lti.certificates.conftest import ACTOR, BASE, OTHER_TENANT, TENANT
from tests.support.paths import FIXTURES
from xapi.delivery.destinations import Destination, save_destination
from xapi.delivery.outbox import outbox_table

ADMIN = {"objectType": "Agent", "account": {"homePage": BASE, "name": "smeb-certificates"}}


def request(tenant: Tenant = TENANT, name: str = "Kari Nordmann", subject: str = "user-1", **extra: object) -> IssueRequest:
    return IssueRequest(
        tenant=tenant,
        learner_subject=subject,
        learner_name=name,
        course_id="https://smeb.no/courses/guttastemning-2-0",
        course_title="Guttastemning 2.0",
        actor=ACTOR,
        competences=("Psykologisk trygghet",),
        duration_minutes=45,
        organization="Elektro AS",
        **extra,  # type: ignore[arg-type]
    )


def outbox_rows(factory: sessionmaker[Session]) -> list[dict]:
    with factory() as session:
        return [dict(r) for r in session.execute(sa.select(outbox_table)).mappings()]


@pytest.fixture
def with_destination(factory: sessionmaker[Session]) -> sessionmaker[Session]:
    with session_scope(factory) as session:
        save_destination(session.connection(), Destination(name="bht-lrs", endpoint="https://lrs.example.org/xapi/"))
    return factory


def test_issuing_writes_the_certificate_and_queues_earned_in_one_transaction(with_destination) -> None:
    factory = with_destination
    with session_scope(factory) as session:
        issued = issue_certificate(session, request(), base_url=BASE)
    rows = outbox_rows(factory)
    assert [(r["destination"], r["item_id"]) for r in rows] == [("bht-lrs", issued.earned_statement_id)]
    statement = json.loads(rows[0]["payload"])
    assert statement["verb"]["id"] == "http://id.tincanapi.com/verb/earned"
    # By default the number (which the PDF, QR and `smeb cert list` tie to the name) stays out of the LRS.
    assert statement["object"]["id"] == f"{issued.claims.course_id}/certificate"
    assert issued.id not in rows[0]["payload"]
    with factory() as session:
        assert get_certificate(session, TENANT, issued.id).claims == issued.claims


def test_the_operator_may_put_the_certificate_number_in_the_statement(with_destination) -> None:
    factory = with_destination
    with session_scope(factory) as session:
        issued = issue_certificate(session, request(), base_url=BASE, number_in_statement=True)
    statement = json.loads(outbox_rows(factory)[0]["payload"])
    assert statement["object"]["id"] == f"{BASE}/verify/{issued.id}"
    assert statement["result"]["extensions"]["https://smeb.no/xapi/extensions/certificate-number"] == issued.id


@pytest.mark.parametrize(("value", "expected"), [(None, False), ("", False), ("false", False), ("TRUE", True), ("1", True), (True, True)])
def test_the_certificate_number_setting_is_a_yes_no_word(value: object, expected: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    from smeb_lti.certificates.issue import number_in_statements
    from smeb_lti.settings import Settings, SettingsError

    monkeypatch.delenv("SMEB_CERT_NUMBER_IN_STATEMENTS", raising=False)
    assert Settings.from_env({}, {"SMEB_CERT_NUMBER_IN_STATEMENTS": value}).cert_number_in_statements is expected
    monkeypatch.setenv("SMEB_CERT_NUMBER_IN_STATEMENTS", "yes")
    assert number_in_statements() is True
    with pytest.raises(SettingsError, match="SMEB_CERT_NUMBER_IN_STATEMENTS='maybe': expected true or false"):
        Settings.from_env({"SMEB_CERT_NUMBER_IN_STATEMENTS": "maybe"})


def test_a_failed_issue_leaves_neither_certificate_nor_statement(with_destination) -> None:
    factory = with_destination
    with pytest.raises(RuntimeError), session_scope(factory) as session:
        issue_certificate(session, request(), base_url=BASE)
        raise RuntimeError("the learner event failed")
    assert outbox_rows(factory) == []
    with factory() as session:
        assert list_certificates(session, TENANT) == []


def test_revoking_marks_the_row_and_queues_revoked_pointing_at_earned(with_destination) -> None:
    factory = with_destination
    with session_scope(factory) as session:
        issued = issue_certificate(session, request(), base_url=BASE)
    with session_scope(factory) as session:
        revoked = revoke_certificate(session, TENANT, issued.id, "issued-in-error", revoked_by=ADMIN, base_url=BASE, note="feil person")
    assert revoked.revoked and revoked.revocation_reason == "issued-in-error: feil person"
    statements = [json.loads(r["payload"]) for r in outbox_rows(factory)]
    revoke = next(s for s in statements if s["verb"]["id"] == "https://smeb.no/xapi/verbs/revoked")
    assert revoke["context"]["statement"]["id"] == issued.earned_statement_id
    assert revoke["result"]["extensions"]["https://smeb.no/xapi/extensions/revocation-reason"] == "issued-in-error"
    with factory() as session:
        assert revocation_reason(session, issued.id) == "issued-in-error: feil person"
        with pytest.raises(AlreadyRevoked):
            revoke_certificate(session, TENANT, issued.id, "fraud", revoked_by=ADMIN, base_url=BASE)


def test_revocation_reasons_are_short_codes(factory) -> None:
    with session_scope(factory) as session:
        issued = issue_certificate(session, request(), base_url=BASE)
        with pytest.raises(InvalidCertificateInput, match="short code"):
            revoke_certificate(session, TENANT, issued.id, "Because I said so", revoked_by=ADMIN, base_url=BASE)


def test_every_query_is_scoped_to_the_company(factory) -> None:
    with session_scope(factory) as session:
        mine = issue_certificate(session, request(TENANT, "Kari"), base_url=BASE)
        theirs = issue_certificate(session, request(OTHER_TENANT, "Per", "user-2"), base_url=BASE)
    with factory() as session:
        assert [c.id for c in list_certificates(session, TENANT)] == [mine.id]
        assert [c.id for c in list_certificates(session, OTHER_TENANT)] == [theirs.id]
        with pytest.raises(CertificateNotFound):
            get_certificate(session, TENANT, theirs.id)
    with pytest.raises(CertificateNotFound), session_scope(factory) as session:
        revoke_certificate(session, TENANT, theirs.id, "fraud", revoked_by=ADMIN, base_url=BASE)
    with factory() as session:
        assert not public_status(session, theirs.id).revoked  # type: ignore[union-attr]
        # Same platform and context, but another deployment is another company too.
        assert list_certificates(session, Tenant(TENANT.platform_issuer, "deploy-2", TENANT.context_id)) == []


def test_list_filters_by_learner_and_course(factory) -> None:
    with session_scope(factory) as session:
        a = issue_certificate(session, request(subject="user-1"), base_url=BASE)
        issue_certificate(session, request(subject="user-2", name="Per"), base_url=BASE)
    with factory() as session:
        assert [c.id for c in list_certificates(session, TENANT, learner_subject="user-1")] == [a.id]
        assert len(list_certificates(session, TENANT, course_id="https://smeb.no/courses/guttastemning-2-0")) == 2
        assert list_certificates(session, TENANT, course_id="https://smeb.no/courses/other") == []


def test_invalid_input_names_every_problem(factory) -> None:
    bad = IssueRequest(TENANT, "", " ", "guttastemning", "Guttastemning", {}, ("",), -1)
    with session_scope(factory) as session, pytest.raises(InvalidCertificateInput) as caught:
        issue_certificate(session, bad, base_url=BASE)
    message = str(caught.value)
    for part in ("learner_subject", "learner_name", "course IRI", "competences", "duration_minutes", "actor"):
        assert part in message


def test_a_course_from_the_course_model_gives_title_duration_and_competences(factory) -> None:
    from content import load_course

    course = load_course(FIXTURES / "courses" / "valid" / "all-blocks")
    with session_scope(factory) as session:
        issued = issue_certificate(session, request_from_course(course, TENANT, "user-9", "Åse Ødegård", ACTOR), base_url=BASE)
        keys = keyring(session)
    assert issued.claims.course_title == course.title.nb
    assert issued.claims.duration_minutes == 20
    assert issued.claims.competences == ("Psykologisk trygghet",)
    from smeb_lti.certificates.pdf import render_pdf

    pdf = render_pdf(issued.claims, issued.token, issued.verification_url, issued.credential_jwt)
    assert verify_pdf(pdf, keys).claims.learner_name == "Åse Ødegård"


def test_unknown_ids_have_no_public_status(factory) -> None:
    with factory() as session:
        assert public_status(session, "a" * 16) is None
        assert public_status(session, "../../etc/passwd") is None
        with pytest.raises(CertificateNotFound):
            revocation_reason(session, "a" * 16)


def test_the_tenant_of_an_lti_launch_is_platform_deployment_and_context() -> None:
    from smeb_lti.lti import claims as c
    from smeb_lti.lti.context import context_from_claims

    body = {
        "iss": "https://canvas.example.org",
        "sub": "user-1",
        c.DEPLOYMENT_ID: "deploy-1",
        c.MESSAGE_TYPE: c.RESOURCE_LINK_REQUEST,
        c.CONTEXT: {"id": "ctx-elektro-as", "title": "Elektro AS – HMS"},
    }
    launch = context_from_claims("launch-1", 1, "client-1", body)
    assert Tenant.from_launch(launch) == TENANT
    without_context = context_from_claims("launch-2", 1, "client-1", {**body, c.CONTEXT: None})
    with pytest.raises(ValueError, match="no context"):
        Tenant.from_launch(without_context)
    with pytest.raises(ValueError, match="context_id"):
        Tenant("https://canvas.example.org", "deploy-1", "")
