"""Pure report aggregations: statements (dicts) in, rows out. No database, no HTTP.

Completion, per (learner, course):

* a statement belongs to a course when its object *is* the course (activity type ADL/cmi5
  course, or an id in ``ReportParameters.courses``) or names it in ``contextActivities``
  (``grouping``/``parent``), which is how our builders and cmi5 content file statements;
* status: ``passed`` beats ``completed`` beats ``failed`` beats ``in_progress``;
  ``completed``/``passed`` count only on the course itself, not on a lesson inside it;
* cmi5 courses: the AUs report on themselves and the LMS records ``satisfied`` on the course
  object when every AU met its moveOn (cmi5 9.3.9). A satisfied course is ``passed`` when an AU of
  it was passed (a cmi5 defined ``passed`` grouped under that course), otherwise ``completed``;
* the learner is the actor's inverse functional identifier (account homePage+name, mbox,
  mbox_sha1sum or openid): the same key however the name is spelled.

Voided statements must already be gone (both sources take care of it).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
PASSED = "http://adlnet.gov/expapi/verbs/passed"
FAILED = "http://adlnet.gov/expapi/verbs/failed"
SATISFIED = "https://w3id.org/xapi/adl/verbs/satisfied"  # cmi5 9.3.9: the LMS's verdict on a block or course
CMI5_CATEGORY = "https://w3id.org/xapi/cmi5/context/categories/cmi5"
COURSE_TYPES = frozenset(
    {"http://adlnet.gov/expapi/activities/course", "https://w3id.org/xapi/cmi5/activitytype/course"}
)
STATUSES = ("passed", "completed", "failed", "in_progress")
_RANK = {status: rank for rank, status in enumerate(reversed(STATUSES))}
STATUS_NB = {"passed": "Bestått", "completed": "Fullført", "failed": "Ikke bestått", "in_progress": "Påbegynt"}


class ReportParameterError(ValueError):
    """A report parameter is invalid; the message names it and what is expected."""


_IRI = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:\S+$")


@dataclass(frozen=True)
class ReportParameters:
    """What to report on: ``courses`` (IRIs; empty = every course seen), a time window on ``timestamp``."""

    courses: tuple[str, ...] = ()
    since: dt.datetime | None = None
    until: dt.datetime | None = None

    def __post_init__(self) -> None:
        for course in self.courses:
            if not isinstance(course, str) or not _IRI.match(course):
                raise ReportParameterError(f"course {course!r} is not an IRI (e.g. https://smeb.no/courses/<slug>)")
        for name in ("since", "until"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, dt.datetime) or value.tzinfo is None):
                raise ReportParameterError(f"{name} must be a timezone-aware datetime (e.g. 2026-01-01T00:00:00Z)")
        if self.since and self.until and self.since >= self.until:
            raise ReportParameterError("since must be before until")


@dataclass(frozen=True)
class CompletionRow:
    learner: str  # actor IFI, e.g. "account:https://lms.example|1234"
    learner_name: str | None
    course_id: str
    course_name: str | None
    status: str  # one of STATUSES
    started_at: dt.datetime | None
    completed_at: dt.datetime | None
    score: float | None  # best result.score.scaled on the course, 0..1
    statements: int

    @property
    def status_nb(self) -> str:
        return STATUS_NB[self.status]


@dataclass(frozen=True)
class CompetenceRow:
    competence: str
    learner: str
    learner_name: str | None
    course_id: str
    achieved_at: dt.datetime | None
    basis: str = "completed"  # "passed" or "completed" (a course without tests): what earned it


# The rule of the competence report, stated in its header (docs/certificates.md, "Reports").
COMPETENCE_RULE_NB = "Kompetanse = bestått kurs der kurset har prøver, ellers fullført kurs"
COMPETENCE_RULE_EN = "Competence = a passed course where the course has tests, otherwise a completed course"


def actor_key(actor: Any) -> str | None:
    """The inverse functional identifier of an agent as one string, or None for groups without one."""
    if not isinstance(actor, Mapping):
        return None
    account = actor.get("account")
    if isinstance(account, Mapping) and account.get("homePage") and account.get("name"):
        return f"account:{account['homePage']}|{account['name']}"
    for ifi in ("mbox", "mbox_sha1sum", "openid"):
        if actor.get(ifi):
            return f"{ifi}:{actor[ifi]}"
    return None


def parse_time(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _name(definition: Any) -> str | None:
    names = definition.get("name") if isinstance(definition, Mapping) else None
    if not isinstance(names, Mapping) or not names:
        return None
    for lang in ("nb", "nb-NO", "no", "nn", "en", "en-GB", "en-US"):
        if names.get(lang):
            return str(names[lang])
    return str(next(iter(names.values())))


def _course_of(statement: Mapping[str, Any], known: frozenset[str]) -> tuple[str | None, str | None, bool]:
    """``(course id, course name, object is the course)``."""
    obj = statement.get("object") or {}
    if isinstance(obj, Mapping) and obj.get("objectType", "Activity") == "Activity":
        definition = obj.get("definition") or {}
        if obj.get("id") in known or (isinstance(definition, Mapping) and definition.get("type") in COURSE_TYPES):
            return str(obj["id"]), _name(definition), True
    activities = ((statement.get("context") or {}).get("contextActivities")) or {}
    for group in ("grouping", "parent"):
        items = activities.get(group) or []
        for item in items if isinstance(items, list) else [items]:
            if not isinstance(item, Mapping):
                continue
            definition = item.get("definition") or {}
            if item.get("id") in known or (isinstance(definition, Mapping) and definition.get("type") in COURSE_TYPES):
                return str(item["id"]), _name(definition), False
    return None, None, False


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass
class _Acc:
    learner_name: str | None = None
    course_name: str | None = None
    status: str = "in_progress"
    started_at: dt.datetime | None = None
    completed_at: dt.datetime | None = None
    score: float | None = None
    statements: int = 0
    # Names come from the newest statement that has one (ties: the larger string), so the
    # result does not depend on the order the LRS returned statements in.
    learner_name_key: tuple[dt.datetime, str] | None = None
    course_name_key: tuple[dt.datetime, str] | None = None
    # cmi5: when the course was first satisfied, and whether an AU of it was passed (resolved after the loop).
    satisfied_at: dt.datetime | None = None
    au_passed: bool = False


def _is_cmi5_defined(statement: Mapping[str, Any]) -> bool:
    categories = (((statement.get("context") or {}).get("contextActivities")) or {}).get("category") or []
    return any(isinstance(c, Mapping) and c.get("id") == CMI5_CATEGORY for c in (categories if isinstance(categories, list) else [categories]))


def completion_report(statements: Iterable[Mapping[str, Any]], params: ReportParameters | None = None) -> list[CompletionRow]:
    """One row per (learner, course), sorted by course then learner."""
    params = params or ReportParameters()
    known = frozenset(params.courses)
    acc: dict[tuple[str, str], _Acc] = {}
    for statement in statements:
        moment = parse_time(statement.get("timestamp")) or parse_time(statement.get("stored"))
        if params.since and (moment is None or moment < params.since):
            continue
        if params.until and (moment is None or moment >= params.until):
            continue
        course, course_name, on_course = _course_of(statement, known)
        if course is None or (known and course not in known):
            continue
        learner = actor_key(statement.get("actor"))
        if learner is None:
            continue
        row = acc.get((learner, course))
        if row is None:
            row = acc[(learner, course)] = _Acc()
        row.statements += 1
        when = moment or _EPOCH
        actor_name = (statement.get("actor") or {}).get("name")
        if actor_name and (row.learner_name_key is None or (when, str(actor_name)) > row.learner_name_key):
            row.learner_name_key = (when, str(actor_name))
            row.learner_name = str(actor_name)
        if course_name and (row.course_name_key is None or (when, course_name) > row.course_name_key):
            row.course_name_key = (when, course_name)
            row.course_name = course_name
        if moment and (row.started_at is None or moment < row.started_at):
            row.started_at = moment
        verb = (statement.get("verb") or {}).get("id")
        if not on_course:
            if verb == PASSED and _is_cmi5_defined(statement):
                row.au_passed = True  # an AU of a cmi5 course was passed (the AU is not the course)
            continue
        if verb == SATISFIED:
            if row.satisfied_at is None or (moment or _EPOCH) < row.satisfied_at:
                row.satisfied_at = moment or _EPOCH
            continue
        status = {COMPLETED: "completed", PASSED: "passed", FAILED: "failed"}.get(str(verb))
        if status is None:
            continue
        if _RANK[status] > _RANK[row.status]:
            row.status = status
        if status in ("completed", "passed") and moment and (row.completed_at is None or moment < row.completed_at):
            row.completed_at = moment
        scaled = (((statement.get("result") or {}).get("score")) or {}).get("scaled")
        if isinstance(scaled, (int, float)) and not isinstance(scaled, bool):
            row.score = float(scaled) if row.score is None else max(row.score, float(scaled))
    for a in acc.values():
        if a.satisfied_at is not None:  # every statement is seen now: whether an AU passed no longer depends on order
            status = "passed" if a.au_passed else "completed"
            if _RANK[status] > _RANK[a.status]:
                a.status = status
            if a.completed_at is None or a.satisfied_at < a.completed_at:
                a.completed_at = a.satisfied_at
    rows = [
        CompletionRow(learner, a.learner_name, course, a.course_name, a.status, a.started_at, a.completed_at, a.score, a.statements)
        for (learner, course), a in acc.items()
    ]
    rows.sort(key=lambda r: (r.course_id, r.learner))
    return rows


def competence_report(
    rows: Iterable[CompletionRow], course_competences: Mapping[str, Iterable[str]], tested: Iterable[str] = ()
) -> list[CompetenceRow]:
    """Skills inventory: each competence a learner holds through a course carrying it.

    The rule (:data:`COMPETENCE_RULE_EN`): a course in ``tested`` (it has tests: quiz points and a
    passing score) gives its competences only when *passed*; completing it, even with 0 % on every
    quiz, gives none. A course without tests gives them when completed. One row per (competence,
    learner), with the earliest such course and when it was achieved.
    """
    needs_pass = frozenset(tested)
    best: dict[tuple[str, str], CompetenceRow] = {}
    for row in rows:
        if row.status not in (("passed",) if row.course_id in needs_pass else ("completed", "passed")):
            continue
        for tag in course_competences.get(row.course_id, ()):
            current = best.get((tag, row.learner))
            if current is None or (row.completed_at and (current.achieved_at is None or row.completed_at < current.achieved_at)):
                best[(tag, row.learner)] = CompetenceRow(tag, row.learner, row.learner_name, row.course_id, row.completed_at, row.status)
    return sorted(best.values(), key=lambda r: (r.competence, r.learner))


def competence_summary(rows: Iterable[CompetenceRow]) -> dict[str, int]:
    """How many learners hold each competence."""
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.competence] = counts.get(row.competence, 0) + 1
    return dict(sorted(counts.items()))
