"""The public endpoints: status.json, keys.json, the verification page's CSP; the owner's PDF by function."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from flask import Flask

from smeb_lti.certificates import claims as signed
from smeb_lti.certificates.issue import issue_certificate, owned_by
from smeb_lti.certificates.revocation import revoke_certificate
from smeb_lti.certificates.signing import keyring_from_jwks
from smeb_lti.db import session_scope
from tests.smeb_lti.certificates.conftest import BASE, TENANT
from tests.smeb_lti.certificates.test_issue_and_revoke import ADMIN, request
from tests.support.app import dispose, make_app


@pytest.fixture
def app(migrated_db_url: str) -> Iterator[Flask]:
    app = make_app(migrated_db_url, SMEB_PUBLIC_URL=BASE)
    yield app
    dispose(app)


def test_status_says_valid_then_revoked_and_unknown_for_other_ids(app: Flask) -> None:
    with session_scope(app.extensions["smeb.sessions"]) as session:
        issued = issue_certificate(session, request(), base_url=BASE)
    client = app.test_client()
    answer = client.get(f"/verify/{issued.id}/status.json")
    assert answer.status_code == 200 and answer.json == {"id": issued.id, "status": "valid"}
    assert answer.headers["Cache-Control"] == "no-store"
    with session_scope(app.extensions["smeb.sessions"]) as session:
        revoke_certificate(session, TENANT, issued.id, "issued-in-error", revoked_by=ADMIN, base_url=BASE)
    answer = client.get(f"/verify/{issued.id}/status.json")
    assert answer.json["status"] == "revoked" and answer.json["reason"] == "issued-in-error"
    assert "learner" not in json.dumps(answer.json)  # no personal data on a public endpoint
    unknown = client.get(f"/verify/{'a' * 16}/status.json")
    assert unknown.status_code == 404 and unknown.json == {"id": "a" * 16, "status": "unknown"}


def test_keys_json_publishes_public_keys_that_verify_issued_claims(app: Flask) -> None:
    with session_scope(app.extensions["smeb.sessions"]) as session:
        issued = issue_certificate(session, request(), base_url=BASE)
    document = app.test_client().get("/certificates/keys.json").json
    assert all("d" not in key for key in document["keys"])
    assert signed.verify(issued.token, keyring_from_jwks(document)) == issued.claims


def test_the_verification_page_has_a_strict_csp_and_no_third_party_script(app: Flask) -> None:
    with session_scope(app.extensions["smeb.sessions"]) as session:
        issued = issue_certificate(session, request(), base_url=BASE)
    page = app.test_client().get(f"/verify/{issued.id}")
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
    body = page.get_data(as_text=True)
    assert '<script src="/certificates/verify.js" defer></script>' in body
    assert "http://" not in body.replace("http://www.w3.org", "") and "cdn" not in body
    assert page.headers["Referrer-Policy"] == "no-referrer"
    js = app.test_client().get("/certificates/verify.js")
    assert js.status_code == 200 and js.mimetype == "text/javascript" and "crypto.subtle.verify" in js.get_data(as_text=True)


def test_a_hostile_id_in_the_page_url_is_escaped(app: Flask) -> None:
    page = app.test_client().get("/verify/%3Cscript%3Ealert(1)%3C%2Fscript%3E")
    assert "<script>alert(1)</script>" not in page.get_data(as_text=True)


def test_only_the_owner_gets_the_certificate_for_download(app: Flask) -> None:
    with session_scope(app.extensions["smeb.sessions"]) as session:
        issued = issue_certificate(session, request(), base_url=BASE)
    with app.extensions["smeb.sessions"]() as session:
        assert owned_by(session, issued.id, TENANT.platform_issuer, "user-1") is not None
        assert owned_by(session, issued.id, TENANT.platform_issuer, "user-2") is None
        assert owned_by(session, issued.id, "https://other-platform.example", "user-1") is None


def test_downloading_with_an_unknown_launch_is_refused(app: Flask) -> None:
    answer = app.test_client().get(f"/certificates/no-such-launch/{'a' * 16}.pdf")
    assert answer.status_code in (401, 403, 404)


def test_the_learner_downloads_their_own_pdf_through_their_launch_and_nobody_elses(app: Flask) -> None:
    from smeb_lti.certificates.signing import keyring
    from smeb_lti.certificates.verify import verify_pdf
    from smeb_lti.lti import claims as c
    from smeb_lti.lti import launches, registrations

    sessions = app.extensions["smeb.sessions"]
    with session_scope(sessions) as session:
        platform = registrations.add(session, registrations.RegistrationInput(
            issuer=TENANT.platform_issuer, client_id="client-1", auth_login_url="https://canvas.example.org/auth",
            auth_token_url="https://canvas.example.org/token", key_set_url="https://canvas.example.org/jwks",
            deployment_ids=(TENANT.deployment_id,)))
        mine = issue_certificate(session, request(subject="user-1"), base_url=BASE)
        theirs = issue_certificate(session, request(subject="user-2", name="Per"), base_url=BASE)
        body = {"iss": TENANT.platform_issuer, "sub": "user-1", c.DEPLOYMENT_ID: TENANT.deployment_id,
                c.MESSAGE_TYPE: c.RESOURCE_LINK_REQUEST, c.CONTEXT: {"id": TENANT.context_id}}
        launch = launches.save_launch(session, launches.new_launch_id(), platform.id, "client-1", body, ttl=600)
        keys = keyring(session)
    client = app.test_client()
    answer = client.get(f"/certificates/{launch.launch_id}/{mine.id}.pdf")
    assert answer.status_code == 200 and answer.mimetype == "application/pdf"
    assert f'filename="kursbevis-{mine.id}.pdf"' in answer.headers["Content-Disposition"]
    assert answer.headers["Cache-Control"] == "private, no-store"
    assert verify_pdf(answer.data, keys).claims == mine.claims
    assert client.get(f"/certificates/{launch.launch_id}/{theirs.id}.pdf").status_code == 404
