"""What the company dashboard shows, computed from plain data (no Flask, no SQL): rows, filters, totals.

Inputs are what :mod:`smeb_lti.dashboard` reads for ONE tenant: the company's members (who launched
which course there), the teams, each member's progress row and the company's certificates. Nothing
in here can reach another company's data because nothing of it is passed in.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from content.model import Course
from smeb_lti.dashboard.errors import FilterInvalid
from smeb_lti.db import as_utc as _utc
from smeb_lti.reports.export import Column

STATUS_TEXT = {
    "passed": ("Bestått", "Passed"),
    "completed": ("Fullført", "Completed"),
    "failed": ("Ikke bestått", "Not passed"),
    "in_progress": ("Påbegynt", "In progress"),
}
NO_TEAM = ""


@dataclass(frozen=True)
class MemberInfo:
    """One (learner, course) of the company, as recorded at launch."""

    subject: str
    course_key: str
    name: str | None
    team: str | None
    first_seen: dt.datetime


@dataclass(frozen=True)
class ProgressInfo:
    progress: float
    completed: bool
    passed: bool | None
    points: float
    max_points: float
    started_at: dt.datetime
    completed_at: dt.datetime | None


@dataclass(frozen=True)
class CertificateInfo:
    id: str
    subject: str
    course_id: str
    issued_on: dt.date
    revoked: bool


@dataclass(frozen=True)
class CourseInfo:
    slug: str
    iri: str
    title_nb: str
    title_en: str
    competences: tuple[tuple[str, str, str], ...]  # (tag id, nb, en)
    certificate: bool

    def title(self, locale: str) -> str:
        return self.title_nb if locale == "nb" else self.title_en


@dataclass(frozen=True)
class Row:
    """One learner in one course: what the table, the charts and the exports show."""

    subject: str
    name: str
    team: str | None
    course_key: str
    course: CourseInfo | None
    status: str  # passed | completed | failed | in_progress
    progress: float
    score: float | None  # 0..1 when the course has quiz points and the learner answered
    started_at: dt.datetime
    completed_at: dt.datetime | None
    certificate: CertificateInfo | None

    @property
    def done(self) -> bool:
        return self.status in ("passed", "completed")

    def status_text(self, locale: str) -> str:
        nb, en = STATUS_TEXT[self.status]
        return nb if locale == "nb" else en

    def course_title(self, locale: str) -> str:
        return self.course.title(locale) if self.course else self.course_key


@dataclass(frozen=True)
class Filters:
    course: str | None = None  # course slug
    since: dt.date | None = None  # inclusive, UTC dates
    until: dt.date | None = None  # inclusive
    team: str | None = None  # NO_TEAM ("") = people without a team

    def query(self) -> dict[str, str]:
        out = {}
        if self.course:
            out["course"] = self.course
        if self.since:
            out["since"] = self.since.isoformat()
        if self.until:
            out["until"] = self.until.isoformat()
        if self.team is not None:
            out["team"] = self.team if self.team else "-"
        return out


_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


def parse_filters(args: Mapping[str, str]) -> Filters:
    """Filters from the query string; malformed values are a :class:`FilterInvalid` naming the field."""

    def day(name: str) -> dt.date | None:
        raw = (args.get(name) or "").strip()
        if not raw:
            return None
        try:
            return dt.date.fromisoformat(raw)
        except ValueError:
            raise FilterInvalid(f"{name} must be a date like 2026-01-31, got {raw[:40]!r}") from None

    course = (args.get("course") or "").strip() or None
    if course is not None and not _SLUG.match(course):
        raise FilterInvalid(f"course must be a course slug like 'guttastemning-2-0', got {course[:70]!r}")
    since, until = day("since"), day("until")
    if since and until and since > until:
        raise FilterInvalid("since must not be after until")
    raw_team = args.get("team")
    team = None if raw_team is None or raw_team == "" else (NO_TEAM if raw_team == "-" else " ".join(raw_team.split())[:100])
    return Filters(course, since, until, team)



def status_of(progress: ProgressInfo | None) -> str:
    if progress is None or not progress.completed:
        return "in_progress"
    if progress.passed is True:
        return "passed"
    if progress.passed is False:
        return "failed"
    return "completed"


def build_rows(members: Iterable[MemberInfo], progress: Mapping[tuple[str, str], ProgressInfo],
               certificates: Iterable[CertificateInfo], courses: Mapping[str, CourseInfo], *, unnamed: str = "–") -> list[Row]:
    """One row per member; progress and certificate joined on (learner, course). Sorted by course, then name."""
    by_cert: dict[tuple[str, str], CertificateInfo] = {}
    for cert in certificates:
        current = by_cert.get((cert.subject, cert.course_id))
        # the valid one if there is one, else the newest
        if current is None or (current.revoked and not cert.revoked) or (current.revoked == cert.revoked and cert.issued_on > current.issued_on):
            by_cert[(cert.subject, cert.course_id)] = cert
    rows = []
    for member in members:
        course = courses.get(member.course_key.split("/", 1)[0])
        prog = progress.get((member.subject, member.course_key))
        score = None
        if prog is not None and prog.max_points:
            score = round(prog.points / prog.max_points, 4)
        held = by_cert.get((member.subject, course.iri)) if course and "/" not in member.course_key else None
        rows.append(Row(
            subject=member.subject,
            name=member.name or unnamed,
            team=member.team,
            course_key=member.course_key,
            course=course,
            status=status_of(prog),
            progress=prog.progress if prog else 0.0,
            score=score,
            started_at=_utc(prog.started_at) if prog else _utc(member.first_seen),
            completed_at=_utc(prog.completed_at) if prog and prog.completed else None,
            certificate=held,
        ))
    rows.sort(key=lambda r: (r.course_key, r.name.casefold(), r.subject))
    return rows


def apply_filters(rows: Sequence[Row], filters: Filters) -> list[Row]:
    """Rows matching course and team, active in the period (started before its end, not completed before its start)."""
    out = []
    start = dt.datetime.combine(filters.since, dt.time.min, dt.UTC) if filters.since else None
    end = dt.datetime.combine(filters.until + dt.timedelta(days=1), dt.time.min, dt.UTC) if filters.until else None
    for row in rows:
        if filters.course and row.course_key.split("/", 1)[0] != filters.course:
            continue
        if filters.team is not None and (row.team or NO_TEAM) != filters.team:
            continue
        if end and row.started_at >= end:
            continue
        if start and row.completed_at is not None and row.completed_at < start:
            continue
        out.append(row)
    return out


@dataclass(frozen=True)
class CourseTotal:
    key: str
    title: str
    started: int
    done: int  # completed or passed


def per_course(rows: Iterable[Row], locale: str) -> list[CourseTotal]:
    started: Counter[str] = Counter()
    done: Counter[str] = Counter()
    titles: dict[str, str] = {}
    for row in rows:
        started[row.course_key] += 1
        done[row.course_key] += row.done
        titles[row.course_key] = row.course_title(locale)
    return [CourseTotal(k, titles[k], started[k], done[k]) for k in sorted(started, key=lambda k: titles[k].casefold())]


def completions_by_month(rows: Iterable[Row], filters: Filters | None = None) -> list[tuple[str, int]]:
    """``[("2026-09", 3), ...]``: completions per calendar month (UTC), empty months included, within the period."""
    months: Counter[str] = Counter()
    since = filters.since if filters else None
    until = filters.until if filters else None
    for row in rows:
        if row.done and row.completed_at is not None:
            day = row.completed_at.date()
            if (since and day < since) or (until and day > until):
                continue
            months[f"{day.year:04d}-{day.month:02d}"] += 1
    if not months:
        return []
    first, last = min(months), max(months)
    out = []
    year, month = int(first[:4]), int(first[5:])
    while f"{year:04d}-{month:02d}" <= last:
        key = f"{year:04d}-{month:02d}"
        out.append((key, months.get(key, 0)))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


@dataclass(frozen=True)
class Skill:
    tag: str
    title: str
    holders: tuple[str, ...]  # names, sorted


def skills(rows: Iterable[Row], locale: str) -> list[Skill]:
    """Skills inventory: each competence tag and who holds it through a completed (and, where it applies, passed) course."""
    holders: dict[str, set[tuple[str, str]]] = {}
    titles: dict[str, str] = {}
    for row in rows:
        if not row.done or row.course is None or "/" in row.course_key:
            continue
        for tag, nb, en in row.course.competences:
            titles[tag] = nb if locale == "nb" else en
            holders.setdefault(tag, set()).add((row.name, row.subject))
    return sorted((Skill(tag, titles[tag], tuple(sorted((n for n, _s in people), key=str.casefold)))
                   for tag, people in holders.items()), key=lambda s: s.title.casefold())


def teams(rows: Iterable[Row]) -> list[str]:
    return sorted({row.team for row in rows if row.team}, key=str.casefold)


EXPORT_COLUMNS: tuple[Column, ...] = (
    Column("Navn", "text", lambda r: r.name),
    Column("Team", "text", lambda r: r.team or ""),
    Column("Kurs", "text", lambda r: r.course_title("nb")),
    Column("Status", "text", lambda r: r.status_text("nb")),
    Column("Framdrift", "percent", lambda r: r.progress),
    Column("Poengsum", "percent", lambda r: r.score),
    Column("Startet (UTC)", "datetime", lambda r: r.started_at),
    Column("Fullført (UTC)", "datetime", lambda r: r.completed_at),
    Column("Kursbevis-ID", "text", lambda r: r.certificate.id if r.certificate else ""),
    Column("Kursbevis utstedt", "text", lambda r: r.certificate.issued_on.isoformat() if r.certificate else ""),
    Column("Kursbevis trukket tilbake", "text", lambda r: ("ja" if r.certificate.revoked else "nei") if r.certificate else ""),
)


def course_info(slug: str, course: Course) -> CourseInfo:
    """What the dashboard shows of an installed course."""
    tags = tuple((t.id, t.title.nb, t.title.get("en")) for t in course.competence_tags)
    return CourseInfo(slug, course.id, course.title.nb, course.title.get("en"), tags, course.certificate)
