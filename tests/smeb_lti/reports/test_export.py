"""Exports open as they should: real dates and numbers in Excel, formulas stay text, CSV injection defused."""

from __future__ import annotations

import csv
import datetime as dt
import io

import openpyxl
import pytest

from smeb_lti.reports.aggregate import completion_report
from smeb_lti.reports.export import safe_csv_text, to_csv, to_table, to_xlsx, write_csv
from tests.smeb_lti.reports.conftest import START, course_statements
from xapi.delivery.query import exclude_voided

HOSTILE = '=HYPERLINK("http://x","y")'


@pytest.fixture(scope="module")
def rows():  # type: ignore[no-untyped-def]
    return completion_report(exclude_voided(course_statements()))


def test_the_xlsx_has_norwegian_headers_native_dates_numbers_and_no_formulas(rows, tmp_path) -> None:
    path = tmp_path / "r.xlsx"
    path.write_bytes(to_xlsx(rows, "Fullføring"))
    sheet = openpyxl.load_workbook(path)["Fullføring"]
    header = [c.value for c in sheet[1]]
    assert header == ["Deltaker-ID", "Navn", "Kurs-ID", "Kurs", "Status", "Startet (UTC)", "Fullført (UTC)", "Poengsum", "Antall hendelser"]
    data = [[c for c in row] for row in sheet.iter_rows(min_row=2)]
    assert len(data) == len(rows)
    by_name = {row[1].value: row for row in data}
    hostile = by_name[HOSTILE]
    assert hostile[1].data_type == "s", "a learner's name must never become a formula"
    passed = next(r for r in data if r[4].value == "Bestått")
    assert isinstance(passed[5].value, dt.datetime) and passed[5].value == START.replace(tzinfo=None)
    assert passed[5].number_format == "dd.mm.yyyy hh:mm"
    assert isinstance(passed[7].value, float) and passed[7].value == pytest.approx(0.9) and passed[7].number_format == "0.0%"
    assert isinstance(passed[8].value, int) and passed[8].value >= 3
    assert all(c.data_type != "f" for row in data for c in row)
    assert sheet.freeze_panes == "A2"


def test_csv_cells_that_would_be_formulas_are_prefixed_with_a_quote(rows, tmp_path) -> None:
    text = to_csv(rows)
    records = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert records[0][:2] == ["Deltaker-ID", "Navn"]
    names = [r[1] for r in records[1:]]
    assert "'" + HOSTILE in names and HOSTILE not in names
    path = tmp_path / "r.csv"
    write_csv(path, text)
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # BOM: Excel reads æøå right
    assert "Đorđe Šćepanović" in path.read_text("utf-8-sig")


@pytest.mark.parametrize("value", ["=1+1", "+47 99", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_every_owasp_trigger_character_is_defused(value: str) -> None:
    assert safe_csv_text(value) == "'" + value


@pytest.mark.parametrize("value", ["Kari", "", "Ærlig =ikke formel", "1"])
def test_harmless_text_is_left_alone(value: str) -> None:
    assert safe_csv_text(value) == value


def test_csv_numbers_and_dates_are_not_prefixed(rows) -> None:
    records = list(csv.reader(io.StringIO(to_csv(rows)), delimiter=";"))
    passed = next(r for r in records if r[4] == "Bestått")
    assert passed[5] == "2026-11-02 08:00:00" and passed[7] == "90,0"


def test_the_terminal_table_lists_every_row(rows) -> None:
    assert len(to_table(rows).splitlines()) == len(rows) + 1
