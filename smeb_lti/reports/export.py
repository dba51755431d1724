"""Report exports: CSV and Excel, safe to open in a spreadsheet.

* CSV: cells of *text* columns starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return
  get a leading ``'`` (OWASP "CSV Injection"), so a learner named ``=HYPERLINK(...)`` stays
  text in Excel/LibreOffice. Numbers and dates are written plainly. UTF-8 with BOM and ``;``
  as separator: what Norwegian Excel opens without an import dialog.
* XLSX (xlsxwriter): ``strings_to_formulas``/``strings_to_urls``/``strings_to_numbers`` off,
  text written with ``write_string``, dates as real dates (UTC, format dd.mm.yyyy hh:mm),
  scores as numbers with a percent format; header row frozen, autofilter on.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from smeb_lti.reports.aggregate import STATUS_NB, CompetenceRow, CompletionRow

Kind = Literal["text", "datetime", "number", "percent"]
DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Column:
    header: str
    kind: Kind
    value: Callable[[Any], Any]


COMPLETION_COLUMNS: tuple[Column, ...] = (
    Column("Deltaker-ID", "text", lambda r: r.learner),
    Column("Navn", "text", lambda r: r.learner_name or ""),
    Column("Kurs-ID", "text", lambda r: r.course_id),
    Column("Kurs", "text", lambda r: r.course_name or ""),
    Column("Status", "text", lambda r: STATUS_NB[r.status]),
    Column("Startet (UTC)", "datetime", lambda r: r.started_at),
    Column("Fullført (UTC)", "datetime", lambda r: r.completed_at),
    Column("Poengsum", "percent", lambda r: r.score),
    Column("Antall hendelser", "number", lambda r: r.statements),
)

COMPETENCE_COLUMNS: tuple[Column, ...] = (
    Column("Kompetanse", "text", lambda r: r.competence),
    Column("Deltaker-ID", "text", lambda r: r.learner),
    Column("Navn", "text", lambda r: r.learner_name or ""),
    Column("Kurs-ID", "text", lambda r: r.course_id),
    Column("Oppnådd (UTC)", "datetime", lambda r: r.achieved_at),
    # The header states the rule (COMPETENCE_RULE_NB); each row says which side of it earned the competence.
    Column("Grunnlag (bestått der kurset har prøver, ellers fullført)", "text", lambda r: STATUS_NB[r.basis]),
)


def columns_for(rows: Sequence[Any]) -> tuple[Column, ...]:
    if rows and isinstance(rows[0], CompetenceRow):
        return COMPETENCE_COLUMNS
    return COMPLETION_COLUMNS


def safe_csv_text(value: str) -> str:
    """OWASP CSV injection defence: prefix a quote to cells a spreadsheet would read as a formula."""
    return "'" + value if value.startswith(DANGEROUS_PREFIXES) else value


def _utc_naive(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC).replace(tzinfo=None) if value.tzinfo else value


def _csv_cell(column: Column, value: Any) -> str:
    if value is None:
        return ""
    if column.kind == "datetime":
        return _utc_naive(value).strftime("%Y-%m-%d %H:%M:%S")
    if column.kind == "percent":
        return f"{float(value) * 100:.1f}".replace(".", ",")
    if column.kind == "number":
        return str(value)
    return safe_csv_text(str(value))


def to_csv(rows: Sequence[CompletionRow] | Sequence[CompetenceRow], columns: Sequence[Column] | None = None) -> str:
    """The report as CSV text (``;``-separated, CRLF lines, no BOM: :func:`write_csv` adds it)."""
    columns = tuple(columns or columns_for(rows))
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow([c.header + (" (%)" if c.kind == "percent" else "") for c in columns])
    for row in rows:
        writer.writerow([_csv_cell(c, c.value(row)) for c in columns])
    return out.getvalue()


def to_xlsx(rows: Sequence[CompletionRow] | Sequence[CompetenceRow], sheet: str = "Rapport", columns: Sequence[Column] | None = None,
            *, page_header: str | None = None) -> bytes:
    """The report as an .xlsx workbook (bytes); ``page_header`` goes into the printed page header."""
    import xlsxwriter

    columns = tuple(columns or columns_for(rows))
    out = io.BytesIO()
    options = {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
    workbook = xlsxwriter.Workbook(out, options)
    try:
        ws = workbook.add_worksheet(sheet[:31])
        bold = workbook.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
        formats = {
            "datetime": workbook.add_format({"num_format": "dd.mm.yyyy hh:mm"}),
            "percent": workbook.add_format({"num_format": "0.0%"}),
            "number": workbook.add_format({"num_format": "0"}),
        }
        widths = [len(c.header) + 2 for c in columns]
        for x, column in enumerate(columns):
            ws.write_string(0, x, column.header, bold)
        for y, row in enumerate(rows, start=1):
            for x, column in enumerate(columns):
                value = column.value(row)
                if value is None:
                    ws.write_blank(y, x, None)
                elif column.kind == "datetime":
                    ws.write_datetime(y, x, _utc_naive(value), formats["datetime"])
                    widths[x] = max(widths[x], 17)
                elif column.kind in ("number", "percent"):
                    ws.write_number(y, x, float(value) if column.kind == "percent" else value, formats[column.kind])
                else:
                    text = str(value)
                    ws.write_string(y, x, text)
                    widths[x] = min(max(widths[x], len(text) + 2), 60)
        for x, width in enumerate(widths):
            ws.set_column(x, x, width)
        if page_header:
            ws.set_header("&L" + page_header.replace("&", "&&"))
        ws.freeze_panes(1, 0)
        ws.autofilter(0, 0, max(len(rows), 1), len(columns) - 1)
    finally:
        workbook.close()
    return out.getvalue()


def to_table(rows: Sequence[CompletionRow] | Sequence[CompetenceRow], columns: Sequence[Column] | None = None) -> str:
    """A plain text table for the terminal."""
    columns = tuple(columns or columns_for(rows))
    cells = [[c.header for c in columns]]
    for row in rows:
        line = []
        for c in columns:
            value = c.value(row)
            if value is None:
                line.append("")
            elif c.kind == "datetime":
                line.append(_utc_naive(value).strftime("%Y-%m-%d %H:%M"))
            elif c.kind == "percent":
                line.append(f"{float(value) * 100:.0f} %")
            else:
                line.append(str(value))
        cells.append(line)
    widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]
    return "\n".join("  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip() for r in cells)


def write_csv(path: Any, text: str) -> None:
    """Write CSV with a UTF-8 BOM (Excel otherwise reads æøå as mojibake)."""
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        handle.write(text)


