"""The company dashboard: progress, certificates, skills, survey aggregates, charts, filters, teams and exports,
on SQLite and PostgreSQL, through the real app and the real player host endpoints."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from typing import Any

import pytest
from flask import Flask

from smeb_lti.db import session_scope
from smeb_lti.lti import registrations
from tests.smeb_lti.dashboard.helpers import (
    ADMIN,
    COMPANY_A,
    INSTRUCTOR,
    complete,
    event,
    launch,
    open_player,
    staff_client,
)

HYPERLINK = '=HYPERLINK("http://x","y")'


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"SMEB_TODAY": "2026-11-21"}


def _staff(app: Flask, locale: str = "nb-NO") -> str:
    return launch(app, COMPANY_A, "boss", name="Anne Bakke", roles=(ADMIN,), locale=locale)


def _page(app: Flask, launch_id: str, query: str = "") -> str:
    response = staff_client(app, launch_id).get(f"/app/{launch_id}/dashboard{query}")
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


def _names(page: str) -> list[str]:
    return re.findall(r'<li data-subject-row="\d+" data-status="[a-z_]+">\s*<h3>([^<]*)</h3>', page)


def _company(app: Flask) -> dict[str, str]:
    """Three learners: one passed with a certificate, one still working (team from the LMS), one never answered."""
    ids = {
        "kari": launch(app, COMPANY_A, "kari", name="Kari Nordmann"),
        "per": launch(app, COMPANY_A, "per", name="Per Hansen", lis_section="Montasje Nord"),
        "lise": launch(app, COMPANY_A, "lise", name="Lise Berg"),
    }
    complete(app, ids["kari"])
    client = app.test_client()
    config = open_player(client, ids["per"])
    assert event(client, config, "answered", {"blockId": "q-single", "response": ["a"]}).status_code == 200
    assert event(client, config, "progressed", {"lesson": "l1", "progress": 0.4}).status_code == 200
    open_player(app.test_client(), ids["lise"])
    return ids


def test_instructors_see_who_started_and_completed_with_scores_and_certificates(app: Flask) -> None:
    from smeb_lti.certificates.issue import list_certificates
    from smeb_lti.certificates.model import Tenant

    _company(app)
    page = _page(app, launch(app, COMPANY_A, "teacher", roles=(INSTRUCTOR,)))
    assert _names(page) == ["Kari Nordmann", "Lise Berg", "Per Hansen"]
    kari = page.split("<h3>Kari Nordmann</h3>", 1)[1].split("</li>", 1)[0]
    with app.extensions["smeb.sessions"]() as session:
        [cert] = list_certificates(session, Tenant(COMPANY_A.issuer, COMPANY_A.deployment_id, COMPANY_A.context_id))
    assert "Bestått" in kari and "100 %" in kari and cert.id.upper() in kari and cert.claims.issued_on.strftime("%d.%m.%Y") in kari
    per = page.split("<h3>Per Hansen</h3>", 1)[1].split("</li>", 1)[0]
    assert "Påbegynt" in per and "40 %" in per and "Montasje Nord" in per
    assert 'id="summary">3 påmeldinger,\n  1 fullført,\n  1 kursbevis.' in page
    # staff launches are not learners of the company
    assert "boss" not in page and "teacher" not in page


def test_charts_are_inline_svg_with_a_text_alternative_and_a_data_table(app: Flask) -> None:
    _company(app)
    page = _page(app, _staff(app, "en-GB"))
    assert '<html lang="en">' in page
    for chart, table in (("chart-courses", "table-courses"), ("chart-time", "table-time")):
        svg = re.search(rf'<svg class="chart" id="{chart}" role="img" aria-labelledby="{chart}-t {chart}-d".*?</svg>', page, re.DOTALL)
        assert svg is not None and f'<title id="{chart}-t">' in svg.group(0) and f'<desc id="{chart}-d">' in svg.group(0)
        assert "<script" not in svg.group(0) and "style=" not in svg.group(0)
        assert f'<table id="{table}">' in page
    assert "Test course with every block type: 1 of 3 completed" in page
    month = dt.date.today().strftime("%Y-%m")
    assert f'<tr><th scope="row">{month}</th><td>1</td></tr>' in page


def test_the_skills_inventory_lists_competences_of_completed_courses_only(app: Flask) -> None:
    _company(app)
    skills = _page(app, _staff(app)).split('<table id="skills">', 1)[1].split("</table>", 1)[0]
    assert '<th scope="row">Psykologisk trygghet</th><td>1</td><td>Kari Nordmann</td>' in skills
    assert "Per Hansen" not in skills and "Lise Berg" not in skills


def test_filters_by_course_team_and_period(app: Flask) -> None:
    _company(app)
    staff = _staff(app)
    assert _names(_page(app, staff, "?team=Montasje+Nord")) == ["Per Hansen"]
    assert _names(_page(app, staff, "?team=-")) == ["Kari Nordmann", "Lise Berg"]
    assert _names(_page(app, staff, "?course=all-blocks")) == ["Kari Nordmann", "Lise Berg", "Per Hansen"]
    assert _names(_page(app, staff, "?course=guttastemning-2-0")) == []
    assert _names(_page(app, staff, "?until=2000-01-01")) == []  # nobody had started then
    today = dt.date.today().isoformat()
    assert len(_names(_page(app, staff, f"?since={today}&until={today}"))) == 3
    for bad in ("?since=yesterday", "?course=../../etc", "?since=2026-02-01&until=2026-01-01"):
        response = staff_client(app, staff).get(f"/app/{staff}/dashboard{bad}")
        assert response.status_code == 400, bad
    assert "since must be a date like 2026-01-31" in staff_client(app, staff).get(f"/app/{staff}/dashboard?since=yesterday").get_data(as_text=True)


def test_an_administrator_assigns_a_team_which_wins_over_the_lms_team_and_can_remove_it(app: Flask) -> None:
    from smeb_lti.dashboard.routes import csrf_token

    _company(app)
    staff = _staff(app)
    client = staff_client(app, staff)
    with app.test_request_context():
        token = csrf_token(staff)
    assert client.post(f"/app/{staff}/dashboard/team", data={"subject": "per", "team": "Service"}).status_code == 403  # no token
    done = client.post(f"/app/{staff}/dashboard/team", data={"csrf": token, "subject": "per", "team": "  Service   Vest ", "back": "?team=-"})
    assert done.status_code == 303 and done.headers["Location"].endswith(f"/app/{staff}/dashboard?team=-#teams")
    assert _names(_page(app, staff, "?team=Service+Vest")) == ["Per Hansen"]
    assert client.post(f"/app/{staff}/dashboard/team", data={"csrf": token, "subject": "per", "team": " "}).status_code == 400
    assert client.post(f"/app/{staff}/dashboard/team", data={"csrf": token, "subject": "per", "remove": "1"}).status_code == 303
    assert _names(_page(app, staff, "?team=Montasje+Nord")) == ["Per Hansen"]  # the LMS's team again


def test_exports_have_norwegian_headers_and_learner_text_never_becomes_a_formula_or_link(app: Flask) -> None:
    import openpyxl

    complete(app, launch(app, COMPANY_A, "hacker", name=HYPERLINK))
    staff = _staff(app)
    client = staff_client(app, staff)
    response = client.get(f"/app/{staff}/dashboard/export.csv")
    assert response.status_code == 200 and response.headers["Content-Disposition"].startswith("attachment;")
    text = response.data.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert rows[0][:5] == ["Navn", "Team", "Kurs", "Status", "Framdrift (%)"] and "Kursbevis-ID" in rows[0]
    assert rows[1][0] == "'" + HYPERLINK and rows[1][3] == "Bestått"
    book = openpyxl.load_workbook(io.BytesIO(client.get(f"/app/{staff}/dashboard/export.xlsx").data))
    sheet = book.active
    assert [c.value for c in sheet[1]][:4] == ["Navn", "Team", "Kurs", "Status"]
    cell = sheet["A2"]
    assert cell.value == HYPERLINK and cell.data_type == "s" and cell.hyperlink is None
    assert not any(str(c.value or "").startswith("=") and c.data_type == "f" for row in sheet.iter_rows() for c in row)


def test_learner_text_is_shown_as_text_in_the_page(app: Flask) -> None:
    complete(app, launch(app, COMPANY_A, "x", name='<script>alert(1)</script>'))
    page = _page(app, _staff(app))
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    staff = _staff(app)
    response = staff_client(app, staff).get(f"/app/{staff}/dashboard")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'none'" in csp and "default-src 'none'" in csp and "unsafe-inline" not in csp


def _survey(app: Flask, counts: list[int]) -> str:
    """A monthly psychological-safety pulse of company A with ``counts`` answers in its closed months (Aug, Sep, ...)."""
    from smeb_lti.surveys import store

    with session_scope(app.extensions["smeb.sessions"]) as session:
        registration = registrations.find(session, COMPANY_A.issuer, COMPANY_A.client_id)
        assert registration is not None
        survey = store.add_survey(session, registration_id=registration.id, deployment_id=COMPANY_A.deployment_id,
                                  context_id=COMPANY_A.context_id, template="psych-safety-pulse", frequency="monthly",
                                  starts_on=dt.date(2026, 8, 1), ends_on=dt.date(2026, 8 + len(counts) - 1, 28))
        for period, count in enumerate(counts):
            for n in range(count):
                store.save_answer(session, survey, period, "company", f"{survey.id}-{period}-{n}",
                                  {q: str(1 + (n % 5)) for q in ("unsure", "mistakes", "speak-up", "stop-work", "learn")})
        return survey.id


def _survey_table(page: str, survey_id: str) -> list[tuple[str, str]]:
    table = page.split(f'data-survey="{survey_id}">', 1)[1].split("</table>", 1)[0]
    return [(label, rest) for label, rest in re.findall(r'<tr><th scope="row">([^<]*)</th>\s*(.*?)</tr>', table, re.DOTALL)]


def test_survey_results_are_aggregates_of_at_least_five_with_complementary_suppression(app: Flask) -> None:
    staff = _staff(app)
    small = _survey(app, [6, 3])  # Sep has 3: hidden; then Aug (6) would reveal it from the total (9): hidden too
    safe = _survey(app, [5, 5])
    page = _page(app, staff)
    rows = dict(_survey_table(page, small))
    assert rows["Alle perioder"].startswith("<td>9</td>")
    assert "Skjult: for få svar" in rows["august 2026"] and "Skjult: for få svar" in rows["september 2026"]
    assert all(re.match(r"<td>5</td>", v) for k, v in _survey_table(page, safe) if k != "Alle perioder")
    # A period filter shows a part of the same publication; it never re-totals the chosen periods
    filtered = dict(_survey_table(_page(app, staff, "?since=2026-09-01"), small))
    assert set(filtered) == {"Alle perioder", "september 2026"} and filtered["Alle perioder"].startswith("<td>9</td>")
    assert "Skjult" in filtered["september 2026"]


def test_no_reflection_journal_or_forum_content_reaches_the_dashboard(app: Flask) -> None:
    launch_id = launch(app, COMPANY_A, "kari", name="Kari Nordmann")
    client = app.test_client()
    config = open_player(client, launch_id)
    refused = event(client, config, "answered", {"blockId": "r1", "response": ["PRIVAT: min sjef roper"]})
    assert refused.status_code == 400  # the player host never stores reflection text
    assert event(client, config, "answered", {"blockId": "r1"}).status_code == 200
    page = _page(app, _staff(app))
    assert "PRIVAT" not in page and "journal" not in page.lower() and "forum" not in page.lower()
