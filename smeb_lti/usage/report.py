"""Usage per company and calendar month, for billing: counts only, never a name or a learner id.

Derived from what the tool already keeps (docs/usage.md):

* **company** — a tenant as the certificates define it: platform issuer + deployment + LMS course
  context; its learners are the dashboard's members (``dashboard_members``: who launched which course
  there).
* **active user** — a member who sent at least one learner event to the player host in the month
  (``play_events.received_at``, UTC). The player reports ``initialized`` every time the course opens,
  so "launched at least once" is what is counted — the same person and month the LRS sees as an
  ``initialized`` statement from that company's pseudonymous actor (the test proves the counts agree).
* **new user** — an active user whose first event in this company falls in the month.
* **courses started / completed** — the members' progress rows (``play_progress``) whose
  ``started_at`` / ``completed_at`` lie in the month (a course or a module launched on its own).
* **certificates issued** — certificates of the company (``cert_certificates``) with ``issued_on``
  in the month, revoked ones included (they were issued).
* **billing** — a month is free while any day of it lies in the company's pilot (``pilot_end``
  inclusive); otherwise ``billable users = active users`` and
  ``amount = billable × price × (100 − discount) / 100``, in øre, rounded half up.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smeb_lti.certificates.model import certificates
from smeb_lti.dashboard.store import Member
from smeb_lti.db import as_utc as _utc
from smeb_lti.lti.registrations import PlatformRegistration
from smeb_lti.play.store import AppliedEvent, Progress
from smeb_lti.reports.export import Column, safe_csv_text
from smeb_lti.reports.export import to_xlsx as write
from smeb_lti.usage.store import Company, CompanyTerms, Terms, parse_month, terms_of

FORMATS = ("csv", "xlsx", "json")


@dataclass(frozen=True)
class UsageRow:
    """One company in one month. Counts and money only (the billing export)."""

    month: str
    company_id: str
    company_name: str
    platform_issuer: str
    deployment_id: str
    context_id: str
    active_users: int
    new_users: int
    courses_started: int
    courses_completed: int
    certificates_issued: int
    in_pilot: bool
    pilot_end: str
    billable_users: int
    price_ore: int
    discount_percent: int
    amount_ore: int


def month_bounds(first: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(first, dt.time.min, dt.UTC)
    following = dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return start, dt.datetime.combine(following, dt.time.min, dt.UTC)



def in_pilot(first: dt.date, terms: Terms) -> bool:
    """Free when any day of the month lies on or before the pilot's last day."""
    return terms.pilot_end is not None and first <= terms.pilot_end


def amount_ore(billable: int, terms: Terms) -> int:
    return (billable * terms.price_ore * (100 - terms.discount_percent) + 50) // 100


def usage_for_month(session: Session, month: str) -> list[UsageRow]:
    """Every known company (members, certificates or terms) in ``month`` (``YYYY-MM``), sorted by name and id."""
    first = parse_month(month)
    start, end = month_bounds(first)
    terms = terms_of(session)

    # Members: (registration, subject, course key) → the companies that learner launched that course in.
    companies: dict[str, Company] = {}
    owners: dict[tuple[int, str, str], set[str]] = defaultdict(set)
    rows = session.execute(select(Member.registration_id, Member.deployment_id, Member.context_id, Member.subject,
                                  Member.course_key, PlatformRegistration.issuer)
                           .join(PlatformRegistration, PlatformRegistration.id == Member.registration_id))
    for reg, deployment, context, subject, course_key, issuer in rows:
        company = Company(issuer, deployment, context)
        companies[company.company_id] = company
        owners[(reg, subject, course_key)].add(company.company_id)

    registrations = sorted({key[0] for key in owners})
    # learner = (company, registration, subject): one person of one company (subjects are per registration)
    first_event: dict[tuple[str, int, str], dt.datetime] = {}
    active: dict[str, set[tuple[int, str]]] = defaultdict(set)
    started: dict[str, int] = defaultdict(int)
    completed: dict[str, int] = defaultdict(int)
    if registrations:
        progress_rows = session.execute(select(Progress.id, Progress.registration_id, Progress.subject, Progress.course_key,
                                               Progress.started_at, Progress.completed_at)
                                        .where(Progress.registration_id.in_(registrations)))
        by_id: dict[int, tuple[int, str, set[str]]] = {}
        for pid, reg, subject, course_key, started_at, completed_at in progress_rows:
            owned = owners.get((reg, subject, course_key))
            if not owned:
                continue  # a staff try-out or a launch not recorded as a member: not a company's user
            by_id[pid] = (reg, subject, owned)
            s, c = _utc(started_at), _utc(completed_at)
            for company_id in owned:
                if s is not None and start <= s < end:
                    started[company_id] += 1
                if c is not None and start <= c < end:
                    completed[company_id] += 1
        ids = sorted(by_id)
        for offset in range(0, len(ids), 500):
            chunk = ids[offset:offset + 500]
            earliest = session.execute(select(AppliedEvent.progress_id, func.min(AppliedEvent.received_at))
                                       .where(AppliedEvent.progress_id.in_(chunk)).group_by(AppliedEvent.progress_id))
            for pid, when in earliest:
                reg, subject, owned = by_id[pid]
                moment = _utc(when)
                assert moment is not None
                for company_id in owned:
                    key = (company_id, reg, subject)
                    if key not in first_event or moment < first_event[key]:
                        first_event[key] = moment
            in_month = session.execute(select(AppliedEvent.progress_id).distinct()
                                       .where(AppliedEvent.progress_id.in_(chunk), AppliedEvent.received_at >= start,
                                              AppliedEvent.received_at < end))
            for (pid,) in in_month:
                reg, subject, owned = by_id[pid]
                for company_id in owned:
                    active[company_id].add((reg, subject))

    issued: dict[str, int] = defaultdict(int)
    cert_rows = session.execute(select(certificates.c.platform_issuer, certificates.c.deployment_id, certificates.c.context_id,
                                       func.count()).where(certificates.c.issued_on >= first, certificates.c.issued_on < end.date())
                                .group_by(certificates.c.platform_issuer, certificates.c.deployment_id, certificates.c.context_id))
    for issuer, deployment, context, count in cert_rows:
        company = Company(issuer, deployment, context)
        companies.setdefault(company.company_id, company)
        issued[company.company_id] += int(count)
    for row in session.scalars(select(CompanyTerms)):
        companies.setdefault(row.company_id, Company(row.platform_issuer, row.deployment_id, row.context_id))

    out = []
    for company_id, company in companies.items():
        company_terms = terms.get(company_id, Terms())
        users = active.get(company_id, set())
        new = sum(1 for reg, subject in users if start <= first_event[(company_id, reg, subject)] < end)
        free = in_pilot(first, company_terms)
        billable = 0 if free else len(users)
        out.append(UsageRow(
            month=first.strftime("%Y-%m"), company_id=company_id, company_name=company_terms.name or "",
            platform_issuer=company.platform_issuer, deployment_id=company.deployment_id, context_id=company.context_id,
            active_users=len(users), new_users=new, courses_started=started.get(company_id, 0),
            courses_completed=completed.get(company_id, 0), certificates_issued=issued.get(company_id, 0), in_pilot=free,
            pilot_end=company_terms.pilot_end.isoformat() if company_terms.pilot_end else "", billable_users=billable,
            price_ore=company_terms.price_ore, discount_percent=company_terms.discount_percent,
            amount_ore=amount_ore(billable, company_terms)))
    out.sort(key=lambda r: (r.company_name.casefold() or "\uffff", r.context_id, r.company_id))
    return out


def kroner(ore: int) -> str:
    return f"{ore // 100}.{ore % 100:02d}"


COLUMNS: tuple[Column, ...] = (
    Column("Måned", "text", lambda r: r.month),
    Column("Bedrift-ID", "text", lambda r: r.company_id),
    Column("Bedrift", "text", lambda r: r.company_name),
    Column("LMS (issuer)", "text", lambda r: r.platform_issuer),
    Column("Deployment", "text", lambda r: r.deployment_id),
    Column("LMS-kontekst", "text", lambda r: r.context_id),
    Column("Aktive brukere", "number", lambda r: r.active_users),
    Column("Nye brukere", "number", lambda r: r.new_users),
    Column("Kurs startet", "number", lambda r: r.courses_started),
    Column("Kurs fullført", "number", lambda r: r.courses_completed),
    Column("Kursbevis utstedt", "number", lambda r: r.certificates_issued),
    Column("Pilot", "text", lambda r: "ja" if r.in_pilot else "nei"),
    Column("Pilot slutter", "text", lambda r: r.pilot_end),
    Column("Fakturerbare brukere", "number", lambda r: r.billable_users),
    Column("Pris per bruker (øre)", "number", lambda r: r.price_ore),
    Column("Rabatt (%)", "number", lambda r: r.discount_percent),
    Column("Beløp (øre)", "number", lambda r: r.amount_ore),
)


def to_json(rows: Sequence[UsageRow]) -> str:
    return json.dumps({"rows": [asdict(r) for r in rows]}, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def to_csv(rows: Sequence[UsageRow]) -> str:
    """``;``-separated, CRLF, no BOM (callers writing files add it); text cells guarded against formulas."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([c.header for c in COLUMNS])
    for row in rows:
        writer.writerow([str(c.value(row)) if c.kind == "number" else safe_csv_text(str(c.value(row))) for c in COLUMNS])
    return out.getvalue()


def to_xlsx(rows: Sequence[UsageRow], month: str) -> bytes:
    return write(rows, f"Bruk {month}", COLUMNS, page_header=f"SMEB bruk {month}")  # type: ignore[arg-type]  # the shared xlsx writer takes any dataclass rows; it is typed for the report's


def render(rows: Sequence[UsageRow], fmt: str, month: str) -> bytes:
    """The report in ``fmt`` (csv with a UTF-8 BOM for Norwegian Excel, xlsx, json)."""
    if fmt == "csv":
        return ("\ufeff" + to_csv(rows)).encode("utf-8")
    if fmt == "xlsx":
        return to_xlsx(rows, month)
    if fmt == "json":
        return to_json(rows).encode("utf-8")
    raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")


__all__ = ["COLUMNS", "FORMATS", "UsageRow", "amount_ore", "in_pilot", "kroner", "month_bounds", "render", "usage_for_month"]
