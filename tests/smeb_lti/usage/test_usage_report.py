"""Usage for billing over the 3 companies × 2 months fixture (tests/smeb_lti/usage/fixture.py), counted by hand.

Hand count (S = September 2026, O = October 2026; a learner is counted once per company and month):

    company A (ctx-a): a1 S session+completion, certificate S · a2 S session, O session+completion, certificate O
                       a3 O session · a4 two S sessions
        S: active a1 a2 a4 = 3, new 3, started 3 (a1 a2 a4), completed 1 (a1), certificates 1
        O: active a2 a3 = 2, new 1 (a3), started 1 (a3), completed 1 (a2), certificates 1
    company B (ctx-b, same LMS as A): b1 S session+completion (no name: no certificate) · b2 O session
                       + an instructor trying the course in O (staff are not users)
        S: active 1, new 1, started 1, completed 1, certificates 0
        O: active 1, new 1, started 1, completed 0, certificates 0
    company C (another LMS; its "a1" is another person than A's): a1 S and O sessions · c2 O completion, certificate O
        S: active 1, new 1, started 1, completed 0, certificates 0
        O: active 2, new 1 (c2), started 1, completed 1, certificates 1

Terms: A pilot until 2026-09-30 (S free, O 2 × 199 kr); B 199 kr − 20 % (159.20 kr per user);
C no terms (default 199 kr, no pilot).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner
from flask import Flask

from smeb_lti.db import session_scope
from smeb_lti.usage.report import usage_for_month
from smeb_lti.usage.store import Company, set_terms
from tests.smeb_lti.dashboard.helpers import COMPANY_A, COMPANY_B, COMPANY_C
from tests.smeb_lti.usage import fixture
from tests.support.app import course_app

A = Company(COMPANY_A.issuer, COMPANY_A.deployment_id, COMPANY_A.context_id).company_id
B = Company(COMPANY_B.issuer, COMPANY_B.deployment_id, COMPANY_B.context_id).company_id
C = Company(COMPANY_C.issuer, COMPANY_C.deployment_id, COMPANY_C.context_id).company_id

FIELDS = ("active_users", "new_users", "courses_started", "courses_completed", "certificates_issued", "in_pilot",
          "billable_users", "amount_ore")
HAND_COUNT: dict[str, dict[str, tuple[Any, ...]]] = {
    "2026-09": {A: (3, 3, 3, 1, 1, True, 0, 0), B: (1, 1, 1, 1, 0, False, 1, 15920), C: (1, 1, 1, 0, 0, False, 1, 19900)},
    "2026-10": {A: (2, 1, 1, 1, 1, False, 2, 39800), B: (1, 1, 1, 0, 0, False, 1, 15920), C: (2, 1, 1, 1, 1, False, 2, 39800)},
}
TOKEN = "operator-token-" + "x" * 40


def _terms(app: Flask) -> None:
    import datetime as dt

    with session_scope(app.extensions["smeb.sessions"]) as session:
        set_terms(session, Company(COMPANY_A.issuer, COMPANY_A.deployment_id, COMPANY_A.context_id), name="Elektro Nord AS",
                  pilot_end=dt.date(2026, 9, 30))
        set_terms(session, Company(COMPANY_B.issuer, COMPANY_B.deployment_id, COMPANY_B.context_id), name="Kraftverk Sør AS",
                  discount_percent=20)


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"SMEB_OPERATOR_TOKEN": TOKEN}


@pytest.fixture
def app(app: Flask) -> Flask:
    """The suite's ``app`` with the usage fixture's companies and their terms."""
    fixture.build(app)
    _terms(app)
    return app


def _counts(rows: list[Any]) -> dict[str, tuple[Any, ...]]:
    return {r.company_id: tuple(getattr(r, f) for f in FIELDS) for r in rows}


def test_the_usage_report_matches_the_hand_count_of_3_companies_over_2_months(app: Flask) -> None:
    with app.extensions["smeb.sessions"]() as session:
        for month, expected in HAND_COUNT.items():
            assert _counts(usage_for_month(session, month)) == expected, month
        # a month with nothing: every company listed, all zero (an invoice line of 0, not a missing company)
        assert {r.company_id: (r.active_users, r.amount_ore) for r in usage_for_month(session, "2026-11")} == {A: (0, 0), B: (0, 0), C: (0, 0)}


def test_the_report_and_its_exports_carry_counts_only_never_a_learner(app: Flask) -> None:
    from smeb_lti.usage.report import render

    with app.extensions["smeb.sessions"]() as session:
        rows = usage_for_month(session, "2026-10")
    for fmt in ("csv", "json", "xlsx"):
        body = render(rows, fmt, "2026-10")
        text = body.decode("utf-8", "replace") if fmt != "xlsx" else _xlsx_text(body)
        for secret in ("Deltaker", "a1", "a2", "c2", "b2", "teacher-b", "Lærer"):
            assert secret not in text.replace(A, "").replace(B, "").replace(C, ""), (fmt, secret)


def _xlsx_text(body: bytes) -> str:
    book = openpyxl.load_workbook(io.BytesIO(body))
    return "\n".join(str(c) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for c in row)


def _cli(app: Flask, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, *args: str) -> Any:
    from smeb_lti.cli import main

    monkeypatch.setenv("SMEB_DATABASE_URL", app.config["SMEB_DATABASE_URL"])
    monkeypatch.setenv("SMEB_DATA_DIR", str(tmp_path / "data"))
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_smeb_usage_report_in_every_format_reads_back_as_the_hand_count(app: Flask, monkeypatch: pytest.MonkeyPatch,
                                                                         tmp_path: Path) -> None:
    out = tmp_path / "bruk.xlsx"
    result = _cli(app, monkeypatch, tmp_path, "usage", "report", "--month", "2026-10", "--format", "xlsx", "--out", str(out))
    assert result.exit_code == 0, result.output
    sheet = openpyxl.load_workbook(out).active
    assert sheet is not None
    header, *lines = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert header[:2] == ["Måned", "Bedrift-ID"] and "Aktive brukere" in header and "Beløp (øre)" in header
    by_company = {line[1]: dict(zip(header, line)) for line in lines}
    for company, expected in HAND_COUNT["2026-10"].items():
        got = by_company[company]
        assert (got["Aktive brukere"], got["Nye brukere"], got["Kurs startet"], got["Kurs fullført"], got["Kursbevis utstedt"],
                got["Fakturerbare brukere"], got["Beløp (øre)"]) == expected[:5] + expected[6:]
    assert by_company[A]["Bedrift"] == "Elektro Nord AS" and by_company[B]["Rabatt (%)"] == 20

    result = _cli(app, monkeypatch, tmp_path, "usage", "report", "--month", "2026-09", "--format", "csv")
    assert result.exit_code == 0, result.output
    table = list(csv.DictReader(io.StringIO(result.output), delimiter=";"))
    assert {r["Bedrift-ID"]: (int(r["Aktive brukere"]), int(r["Beløp (øre)"])) for r in table} == {
        A: (3, 0), B: (1, 15920), C: (1, 19900)}

    result = _cli(app, monkeypatch, tmp_path, "usage", "report", "--month", "2026-09", "--format", "json")
    assert {r["company_id"]: r["new_users"] for r in json.loads(result.output)["rows"]} == {A: 3, B: 1, C: 1}


def test_the_operator_manages_terms_with_the_cli_and_bad_values_are_refused(app: Flask, monkeypatch: pytest.MonkeyPatch,
                                                                           tmp_path: Path) -> None:
    listed = _cli(app, monkeypatch, tmp_path, "usage", "companies")
    assert listed.exit_code == 0 and C in listed.output and "Elektro Nord AS" in listed.output
    done = _cli(app, monkeypatch, tmp_path, "usage", "company", "set", C, "--name", "Canvas kunde 1", "--price", "149,50",
                "--discount", "20", "--pilot-end", "2026-09-30")
    assert done.exit_code == 0, done.output
    assert "price=149.50 kr" in done.output and "discount=20 %" in done.output
    with app.extensions["smeb.sessions"]() as session:
        october = {r.company_id: r for r in usage_for_month(session, "2026-10")}
    assert october[C].amount_ore == 2 * 14950 * 80 // 100 and october[C].company_name == "Canvas kunde 1"
    refusals = {
        ("usage", "report", "--month", "2026-13"): "month must be YYYY-MM",
        ("usage", "report", "--month", "2026-10", "--format", "xlsx"): "--out",
        ("usage", "company", "set", C, "--discount", "120"): "--discount must be a percentage 0..100",
        ("usage", "company", "set", C, "--price", "ti kroner"): "--price must be kroner",
        ("usage", "company", "set", C, "--pilot-end", "snart"): "--pilot-end",
        ("usage", "company", "set", "0123456789abcdef", "--price", "1"): "no company 0123456789abcdef",
        ("usage", "company", "set", "ctx-a"): "16-character company id",
    }
    for args, message in refusals.items():
        result = _cli(app, monkeypatch, tmp_path, *args)
        assert result.exit_code != 0 and message in result.output, (args, result.output)
    with app.extensions["smeb.sessions"]() as session:  # nothing half-written by the refusals
        assert {r.company_id: r.discount_percent for r in usage_for_month(session, "2026-10")}[C] == 20


def _basic(password: str) -> dict[str, str]:
    import base64

    return {"Authorization": "Basic " + base64.b64encode(f"operator:{password}".encode()).decode()}


def test_the_operator_page_needs_the_operator_token_and_shows_counts_only(app: Flask) -> None:
    client = app.test_client()
    assert client.get("/operator/usage?month=2026-10").status_code == 401
    wrong = client.get("/operator/usage?month=2026-10", headers=_basic("guess"))
    assert wrong.status_code == 401 and "SMEB_OPERATOR_TOKEN" in wrong.get_data(as_text=True)
    assert wrong.headers["WWW-Authenticate"].startswith("Basic")
    page = client.get("/operator/usage?month=2026-10", headers=_basic(TOKEN))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Elektro Nord AS" in html and "398.00 kr" in html and "Deltaker" not in html and "teacher-b" not in html
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    english = client.get("/operator/usage?month=2026-10&lang=en", headers=_basic(TOKEN)).get_data(as_text=True)
    assert 'lang="en"' in english and "Active users" in english
    bad = client.get("/operator/usage?month=oktober", headers=_basic(TOKEN))
    assert bad.status_code == 400 and "month must be YYYY-MM" in bad.get_data(as_text=True)
    book = client.get("/operator/usage.xlsx?month=2026-09", headers=_basic(TOKEN))
    assert book.status_code == 200 and book.headers["Content-Disposition"].endswith('smeb-bruk-2026-09.xlsx"')
    sheet = openpyxl.load_workbook(io.BytesIO(book.data)).active
    assert sheet is not None and sheet.max_row == 4  # header + 3 companies
    assert client.get("/operator/usage.xlsx?month=2026-09").status_code == 401


def test_the_operator_page_does_not_exist_without_the_setting_and_a_short_token_stops_the_start(
        migrated_db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from smeb_lti.settings import SettingsError

    monkeypatch.delenv("SMEB_OPERATOR_TOKEN", raising=False)
    off = course_app(migrated_db_url, tmp_path)
    assert off.test_client().get("/operator/usage", headers=_basic("")).status_code == 404
    off.extensions["smeb.engine"].dispose()
    with pytest.raises(SettingsError, match="SMEB_OPERATOR_TOKEN must be at least 32 characters"):
        course_app(migrated_db_url, tmp_path, SMEB_OPERATOR_TOKEN="short")
