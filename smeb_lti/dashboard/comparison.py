""""Your company beside all companies": completion rate, average score and pulse-survey scores.

Privacy rules (docs/dashboard.md, "Comparison"; the attack tests are tests/smeb_lti/dashboard/test_comparison*.py):

1. **Fixed, coarse periods; no filters.** Figures exist only per *closed calendar quarter* (UTC). The
   dashboard's course/team/date filters never reach this module and it reads nothing from the request:
   a viewer cannot choose a group, so cannot choose two groups whose difference is small.
2. **Frozen once.** A quarter's raw aggregates are computed the first time anyone asks after it closed,
   stored (``usage_comparison_snapshots``) and never recomputed, so late data (a completion reported
   after the quarter, a new company) cannot change a figure: comparing the page on two days reveals
   nothing. The open quarter is never shown.
3. **Your company** is shown when at least ``k`` people stand behind the figure
   (``k = smeb_lti.aggregates.min_group_size(SMEB_MIN_GROUP_SIZE)``, never below 5).
4. **All companies** is shown when at least :data:`MIN_COMPANIES` (5) companies contributed **and**,
   for every contributing company, the others together still have at least ``k`` people. A manager
   knows their own company's learners (the dashboard lists them), so "all minus mine" is computable;
   the rule keeps that remainder a group of ≥ k people from ≥ 4 companies, whichever company looks.
   The check uses the largest company, so it is the same for every viewer (the suppression itself
   does not depend on, or reveal, who looks).
5. Values are rounded (whole percent; one decimal on a 1–5 scale), people counts are shown only for
   published figures.

Not covered (documented): two or more companies pooling their own data to subtract it together.

Per quarter and company (a company = platform issuer + deployment + LMS context, as for certificates
and usage), over whole-course rows of the dashboard's members:

* completion rate — of the (learner, course) rows started in the quarter, the share completed by its end;
  people = distinct learners of those rows;
* average score — mean of points / max points of rows completed in the quarter (quiz courses);
* pulse — for each statement of the psychological-safety pulse, the mean of the answers of the
  company's pulse periods that ended in the quarter; people = answers (answers are anonymous).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from smeb_lti.aggregates import min_group_size
from smeb_lti.dashboard.store import Member
from smeb_lti.db import as_utc as _utc
from smeb_lti.lti.registrations import PlatformRegistration
from smeb_lti.play.store import Progress
from smeb_lti.surveys import forms
from smeb_lti.surveys import store as survey_store
from smeb_lti.usage.store import Company, ComparisonSnapshot

MIN_COMPANIES = 5
QUARTERS_SHOWN = 4
PULSE = "psych-safety-pulse"


@dataclass(frozen=True)
class Quarter:
    label: str  # 2026-Q3
    first: dt.date
    end: dt.date  # exclusive


def quarter_of(day: dt.date) -> Quarter:
    q = (day.month - 1) // 3
    first = dt.date(day.year, 3 * q + 1, 1)
    end = dt.date(day.year + 1, 1, 1) if q == 3 else dt.date(day.year, 3 * q + 4, 1)
    return Quarter(f"{day.year}-Q{q + 1}", first, end)


def closed_quarters(today: dt.date, count: int = QUARTERS_SHOWN) -> list[Quarter]:
    """The ``count`` most recent quarters that ended before ``today``, newest first."""
    out = []
    current = quarter_of(today)
    for _ in range(count):
        current = quarter_of(current.first - dt.timedelta(days=1))
        out.append(current)
    return out


@dataclass
class _Acc:
    people: set[Any]
    total: float = 0.0
    count: int = 0

    def add(self, who: Any, value: float) -> None:
        self.people.add(who)
        self.total += value
        self.count += 1



def raw_figures(session: Session, quarter: Quarter) -> dict[str, dict[str, dict[str, float | int]]]:
    """``{metric: {company_id: {"n": people, "value": mean}}}`` for one quarter (every company, no suppression)."""
    start = dt.datetime.combine(quarter.first, dt.time.min, dt.UTC)
    end = dt.datetime.combine(quarter.end, dt.time.min, dt.UTC)
    owners: dict[tuple[int, str, str], set[str]] = defaultdict(set)
    issuers = dict(session.execute(select(PlatformRegistration.id, PlatformRegistration.issuer)).all())
    for reg, deployment, context, subject, course_key in session.execute(
            select(Member.registration_id, Member.deployment_id, Member.context_id, Member.subject, Member.course_key)):
        if "/" in course_key:
            continue  # a module on its own is not a course: completion and score compare whole courses
        owners[(reg, subject, course_key)].add(Company(issuers[reg], deployment, context).company_id)
    acc: dict[str, dict[str, _Acc]] = defaultdict(lambda: defaultdict(lambda: _Acc(set())))
    registrations = sorted({key[0] for key in owners})
    if registrations:
        rows = session.execute(select(Progress.registration_id, Progress.subject, Progress.course_key, Progress.started_at,
                                      Progress.completed_at, Progress.points, Progress.max_points)
                               .where(Progress.registration_id.in_(registrations)))
        for reg, subject, course_key, started_at, completed_at, points, max_points in rows:
            s, c = _utc(started_at), _utc(completed_at)
            for company_id in owners.get((reg, subject, course_key), ()):
                if s is not None and start <= s < end:
                    acc["completion"][company_id].add((reg, subject), 1.0 if c is not None and c < end else 0.0)
                if c is not None and start <= c < end and max_points:
                    acc["score"][company_id].add((reg, subject), float(points) / float(max_points))
    template = forms.TEMPLATES[PULSE]
    likert = [q for q in template.questions if q.kind in ("scale", "likert")]
    for survey in session.scalars(select(survey_store.Survey).where(survey_store.Survey.template == PULSE,
                                                                    survey_store.Survey.series_id.is_(None))):
        company_id = Company(issuers[survey.registration_id], survey.deployment_id, survey.context_id).company_id
        periods = [p.index for p in survey.periods() if quarter.first <= p.last < quarter.end]
        for n, (_period, _group, answers) in enumerate(survey_store.answers_of(session, survey.id, periods)):
            for question in likert:
                if question.id in answers:
                    acc[f"pulse:{question.id}"][company_id].add((survey.id, _period, n), float(answers[question.id]))
    return {metric: {cid: {"n": len(a.people), "value": a.total / a.count} for cid, a in by_company.items() if a.count}
            for metric, by_company in acc.items()}


def snapshot(session: Session, quarter: Quarter, today: dt.date) -> dict[str, Any]:
    """The frozen raw figures of a closed quarter: stored the first time, read back ever after."""
    if today < quarter.end:
        raise ValueError(f"{quarter.label} is not closed on {today}: open quarters are never compared")
    row = session.get(ComparisonSnapshot, quarter.label)
    if row is not None:
        return json.loads(row.figures)
    figures = raw_figures(session, quarter)
    try:
        with session.begin_nested():
            session.add(ComparisonSnapshot(quarter=quarter.label, figures=json.dumps(figures, sort_keys=True),
                                           computed_at=dt.datetime.now(dt.UTC)))
            session.flush()
    except IntegrityError:  # another request froze it first: theirs is the publication
        stored = session.get(ComparisonSnapshot, quarter.label)
        assert stored is not None
        return json.loads(stored.figures)
    return figures


@dataclass(frozen=True)
class Figure:
    metric: str
    yours: float | None  # None: suppressed or no data
    yours_n: int | None
    everyone: float | None
    everyone_n: int | None
    companies: int | None


def publish(metric: str, by_company: Mapping[str, Mapping[str, float | int]], viewer: str, k: int,
            min_companies: int = MIN_COMPANIES) -> Figure:
    """What ``viewer`` may see of one metric in one quarter (pure; rules 3-5 of the module)."""
    k = min_group_size(k)
    min_companies = max(MIN_COMPANIES, min_companies)
    contributing = {cid: f for cid, f in by_company.items() if int(f["n"]) >= 1}
    mine = contributing.get(viewer)
    yours = yours_n = None
    if mine is not None and int(mine["n"]) >= k:
        yours, yours_n = _round(metric, float(mine["value"])), int(mine["n"])
    total_n = sum(int(f["n"]) for f in contributing.values())
    largest = max((int(f["n"]) for f in contributing.values()), default=0)
    if len(contributing) >= min_companies and total_n - largest >= k:
        # weighted by people (each company's mean × its people), the same figure for every viewer
        value = sum(float(f["value"]) * int(f["n"]) for f in contributing.values()) / total_n
        return Figure(metric, yours, yours_n, _round(metric, value), total_n, len(contributing))
    return Figure(metric, yours, yours_n, None, None, None)


def _round(metric: str, value: float) -> float:
    return round(value, 2) if metric in ("completion", "score") else round(value, 1)


def comparison(session: Session, company_id: str, today: dt.date, configured_k: int | None = None) -> list[tuple[Quarter, list[Figure]]]:
    """The viewer's comparison: the closed quarters, newest first, each with its published figures."""
    k = min_group_size(configured_k)

    metrics = ["completion", "score"] + [f"pulse:{q.id}" for q in forms.TEMPLATES[PULSE].questions if q.kind in ("scale", "likert")]
    out = []
    for quarter in closed_quarters(today):
        frozen = snapshot(session, quarter, today)
        out.append((quarter, [publish(m, frozen.get(m, {}), company_id, k) for m in metrics]))
    return out


def labels(locale: str) -> dict[str, str]:
    nb = locale == "nb"
    out = {"completion": "Fullføringsgrad" if nb else "Completion rate", "score": "Gjennomsnittlig poengsum" if nb else "Average score"}
    for q in forms.TEMPLATES[PULSE].questions:
        out[f"pulse:{q.id}"] = ("Puls: " if nb else "Pulse: ") + (q.prompt.get(locale) or q.prompt["nb"])
    return out


__all__ = ["MIN_COMPANIES", "Figure", "Quarter", "closed_quarters", "comparison", "labels", "publish", "quarter_of", "raw_figures",
           "snapshot"]
