"""Tenant isolation: every attempt to reach another company's learners, teams, exports or certificates is
refused, on SQLite and PostgreSQL.

Companies: A and B are two course contexts of one LMS (one registration, one deployment); C and D are
two Canvas-cloud customers — one issuer, two registrations (client ids) with their own deployments.
"""

from __future__ import annotations

import re

import pytest
from flask import Flask

from smeb_lti.certificates.issue import list_certificates
from smeb_lti.certificates.model import Tenant
from smeb_lti.dashboard.routes import csrf_token
from smeb_lti.dashboard.store import DashboardTenant, members
from tests.smeb_lti.dashboard.helpers import (
    ADMIN,
    COMPANY_A,
    COMPANY_B,
    COMPANY_C,
    COMPANY_D,
    Company,
    complete,
    launch,
    open_player,
    staff_client,
)


def _tenant(company: Company) -> Tenant:
    return Tenant(company.issuer, company.deployment_id, company.context_id)


def _cert_id(app: Flask, company: Company, subject: str) -> str:
    with app.extensions["smeb.sessions"]() as session:
        [cert] = list_certificates(session, _tenant(company), learner_subject=subject)
    return cert.id


def _admin(app: Flask, company: Company, sub: str = "admin") -> str:
    return launch(app, company, sub, name="Admin", roles=(ADMIN,))


@pytest.fixture
def two_companies(app: Flask) -> dict[str, str]:
    """A's learner Ada (team from the LMS "Team A"), B's learner Bjørn (team "Team B"), both completed with certificates."""
    complete(app, launch(app, COMPANY_A, "ada", name="Ada Andersen", lis_section="Team A"))
    complete(app, launch(app, COMPANY_B, "bjorn", name="Bjørn Berg", lis_section="Team B"))
    return {"a_cert": _cert_id(app, COMPANY_A, "ada"), "b_cert": _cert_id(app, COMPANY_B, "bjorn"),
            "a_admin": _admin(app, COMPANY_A), "b_admin": _admin(app, COMPANY_B)}


def test_each_admin_sees_only_their_own_company_whatever_the_filters_name(app: Flask, two_companies: dict[str, str]) -> None:
    client = staff_client(app, two_companies["a_admin"], two_companies["b_admin"])
    a_admin, b_cert = two_companies["a_admin"], two_companies["b_cert"]
    for query in ("", "?team=Team+B", "?course=all-blocks", "?team=-", "?team=Team+B&course=all-blocks", "?since=2000-01-01&until=2100-01-01"):
        for path in ("", "/export.csv"):
            response = client.get(f"/app/{a_admin}/dashboard{path}{query}")
            assert response.status_code in (200, 400), (path, query)
            body = response.data.decode("utf-8")
            assert "Bjørn" not in body and "bjorn" not in body and "Team B" not in body and b_cert not in body.lower(), (path, query)
    own = client.get(f"/app/{a_admin}/dashboard").get_data(as_text=True)
    assert "Ada Andersen" in own and two_companies["a_cert"].upper() in own
    xlsx = client.get(f"/app/{a_admin}/dashboard/export.xlsx?team=Team+B")
    import io

    import openpyxl

    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.data)).active
    assert sheet.max_row == 1  # the headers only
    assert "Ada Andersen" not in client.get(f"/app/{two_companies['b_admin']}/dashboard").get_data(as_text=True)


def test_an_admin_cannot_put_another_companys_learner_in_a_team(app: Flask, two_companies: dict[str, str]) -> None:
    a_admin = two_companies["a_admin"]
    with app.test_request_context():
        token = csrf_token(a_admin)
    client = staff_client(app, a_admin, two_companies["b_admin"])
    response = client.post(f"/app/{a_admin}/dashboard/team", data={"csrf": token, "subject": "bjorn", "team": "Kapret"})
    assert response.status_code == 404 and "no such learner in this company" in response.get_data(as_text=True)
    # B's token is not A's: a form made for one launch does not work with another
    with app.test_request_context():
        b_token = csrf_token(two_companies["b_admin"])
    assert client.post(f"/app/{a_admin}/dashboard/team", data={"csrf": b_token, "subject": "ada", "team": "X"}).status_code == 403
    assert "Kapret" not in client.get(f"/app/{two_companies['b_admin']}/dashboard").get_data(as_text=True)


def test_certificate_pdfs_of_another_company_or_learner_are_not_found(app: Flask, two_companies: dict[str, str]) -> None:
    client = app.test_client()
    b_cert, a_cert = two_companies["b_cert"], two_companies["a_cert"]
    assert client.get(f"/certificates/{two_companies['a_admin']}/{b_cert}.pdf").status_code == 404
    assert client.get(f"/certificates/{two_companies['a_admin']}/{a_cert}.pdf").status_code == 404  # staff are not the holder
    ada = launch(app, COMPANY_A, "ada", name="Ada Andersen")
    assert client.get(f"/certificates/{ada}/{b_cert}.pdf").status_code == 404
    assert client.get(f"/certificates/{ada}/{a_cert}.pdf").status_code == 200
    page = client.get(f"/app/{ada}/certificate").get_data(as_text=True)
    assert a_cert in page and b_cert not in page


def test_the_public_verification_page_shows_only_what_the_holder_shares_and_lists_nothing_else(
        app: Flask, two_companies: dict[str, str]) -> None:
    client = app.test_client()
    for cert_id in (two_companies["b_cert"], "aaaaaaaaaaaaaaaa"):
        page = client.get(f"/verify/{cert_id}").get_data(as_text=True)
        # the signed claims travel in the URL fragment, which never reaches the server: the page itself holds no claims
        assert "Bjørn" not in page and "Ada" not in page and "Testkurs" not in page
        others = set(re.findall(r"\b[a-z2-7]{16}\b", page)) - {cert_id}
        assert not others & {two_companies["a_cert"], two_companies["b_cert"]}
        status = client.get(f"/verify/{cert_id}/status.json").get_json()
        assert set(status) <= {"id", "status", "revoked_on", "reason"} and status["id"] == cert_id


def test_a_learner_launch_cannot_open_the_dashboard_its_exports_or_its_forms(app: Flask, two_companies: dict[str, str]) -> None:
    learner = launch(app, COMPANY_A, "ada", name="Ada Andersen")
    client = app.test_client()
    for path in ("dashboard", "dashboard/export.csv", "dashboard/export.xlsx", "dashboard?team=Team+A"):
        response = client.get(f"/app/{learner}/{path}")
        assert response.status_code == 403, path
        assert "Ada" not in response.get_data(as_text=True)
    with app.test_request_context():
        token = csrf_token(learner)
    assert client.post(f"/app/{learner}/dashboard/team", data={"csrf": token, "subject": "ada", "team": "X"}).status_code == 403
    assert client.get("/app/not-a-launch/dashboard").status_code == 404
    assert client.get(f"/app/{two_companies['a_admin']}x/dashboard").status_code == 404


def test_canvas_cloud_customers_sharing_an_issuer_stay_apart(app: Flask) -> None:
    # Same issuer, same course context id, even the same user id: only the registration and deployment differ.
    complete(app, launch(app, COMPANY_C, "canvas-user", name="Cecilie Carlsen", lis_section="Team C"))
    complete(app, launch(app, COMPANY_D, "canvas-other", name="Dag Dahl"))
    open_player(app.test_client(), launch(app, COMPANY_D, "canvas-user", name="Cecilie i D"))  # the same sub at D: opened, no answers
    c_admin, d_admin = _admin(app, COMPANY_C), _admin(app, COMPANY_D)
    client = staff_client(app, c_admin, d_admin)
    c_page = client.get(f"/app/{c_admin}/dashboard").get_data(as_text=True)
    d_page = client.get(f"/app/{d_admin}/dashboard").get_data(as_text=True)
    c_cert, d_cert = _cert_id(app, COMPANY_C, "canvas-user"), _cert_id(app, COMPANY_D, "canvas-other")
    assert "Cecilie Carlsen" in c_page and c_cert.upper() in c_page and "Dag Dahl" not in c_page and d_cert.upper() not in c_page
    assert "Dag Dahl" in d_page and "Cecilie Carlsen" not in d_page and c_cert.upper() not in d_page and "Team C" not in d_page
    assert client.get(f"/certificates/{d_admin}/{c_cert}.pdf").status_code == 404
    assert client.get(f"/certificates/{launch(app, COMPANY_D, 'canvas-other', name='Dag Dahl')}/{c_cert}.pdf").status_code == 404
    with app.extensions["smeb.sessions"]() as session:
        from smeb_lti.lti import registrations

        c_reg = registrations.find(session, COMPANY_C.issuer, COMPANY_C.client_id)
        d_reg = registrations.find(session, COMPANY_D.issuer, COMPANY_D.client_id)
        assert c_reg is not None and d_reg is not None and c_reg.id != d_reg.id
        in_d = members(session, DashboardTenant(d_reg.id, COMPANY_D.deployment_id, COMPANY_D.context_id))
        # "Cecilie i D" is D's member (she launched there) but her completion at C is not shown as D's
        assert {m.subject for m in in_d} == {"canvas-other", "canvas-user"}
    d_cecilie = d_page.split("<h3>Cecilie i D</h3>", 1)[1].split("</li>", 1)[0]
    assert "Påbegynt" in d_cecilie and "Bestått" not in d_cecilie
