""""Your company beside all companies" on the dashboard, and attacks on it through the page (SQLite and PostgreSQL).

Six companies on one LMS, activity in August 2026 (quarter 2026-Q3), the dashboard viewed on 2026-10-15:

    company  learners started  completed  wrong quizzes            pulse answers (5 statements, all the same value)
    1        5                 5          2 of them: q-single      5 × 4
    2        5                 3          -                        5 × 2
    3        5                 5          -                        5 × 5
    4        5                 5          -                        5 × 3
    5        5                 5          -                        (none)
    6        1                 1          -                        (none)

Completion, all companies: 24 / 26 people (rows) = 92 %, 6 companies; company 1: 100 %.
Score (completed rows, 5 points each; a wrong q-single costs 2): company 1 = (3 × 5 + 2 × 3) / 5 / 5 = 84 %;
all = (21 + 3·5 + 5·5 + 5·5 + 5·5 + 5) / 5 / 24 = 116 / 120 → 97 %.
Pulse: only 4 companies answered → "all companies" hidden; company 1's own 5 answers shown (4.0).
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from typing import Any

import pytest
from flask import Flask

from smeb_lti.db import session_scope
from tests.smeb_lti.dashboard.helpers import INSTRUCTOR, Company, launch, staff_client
from tests.smeb_lti.usage import fixture

AUG = dt.datetime(2026, 8, 11, 8, 0, tzinfo=dt.UTC)
COMPANIES = [Company("https://lms.example.no", "client-a", "dep-a", f"ctx-{i}", f"Bedrift {i}") for i in range(1, 8)]
PLAN = {1: (5, 5, 2, 4), 2: (5, 3, 0, 2), 3: (5, 5, 0, 5), 4: (5, 5, 0, 3), 5: (5, 5, 0, None), 6: (1, 1, 0, None)}


def _pulse(app: Flask, company: Company, value: int, answers: int = 5) -> None:
    from smeb_lti.lti import registrations
    from smeb_lti.surveys import forms
    from smeb_lti.surveys import store as survey_store

    with session_scope(app.extensions["smeb.sessions"]) as session:
        reg = registrations.find(session, company.issuer, company.client_id)
        assert reg is not None
        survey = survey_store.add_survey(session, registration_id=reg.id, deployment_id=company.deployment_id,
                                         context_id=company.context_id, template="psych-safety-pulse", frequency="monthly",
                                         starts_on=dt.date(2026, 8, 1), ends_on=dt.date(2026, 8, 31))
        period = survey.periods()[0].index
        for _ in range(answers):
            survey_store.save_answer(session, survey, period, "", secrets.token_hex(16),
                                     {q.id: value for q in forms.TEMPLATES["psych-safety-pulse"].questions})


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"SMEB_TODAY": "2026-10-15"}


@pytest.fixture
def app(app: Flask) -> Flask:
    """The suite's ``app`` with the six companies of PLAN active in August."""
    for number, (started, completed, wrong, pulse) in PLAN.items():
        company = COMPANIES[number - 1]
        for i in range(started):
            launch_id = fixture.learner(app, company, f"p{number}-{i}")
            fixture.session_events(app, launch_id, AUG, complete=i < completed, wrong=("q-single",) if i < wrong else ())
        if pulse is not None:
            _pulse(app, company, pulse)
    return app


SECTION = re.compile(r'<section aria-labelledby="compare-h" id="comparison">.*?</section>', re.S)


def _section(app: Flask, company: Company, query: str = "", locale: str = "nb-NO") -> str:
    launch_id = launch(app, company, f"leder-{company.context_id}", name="Leder", roles=(INSTRUCTOR,), locale=locale)
    response = staff_client(app, launch_id).get(f"/app/{launch_id}/dashboard{query}")
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    found = SECTION.search(response.get_data(as_text=True))
    assert found is not None
    return found.group(0)


def _row(section: str, quarter: str, metric: str) -> tuple[str, str]:
    table = re.search(rf'data-quarter="{quarter}">(.*?)</table>', section, re.S)
    assert table is not None
    row = re.search(rf'data-metric="{re.escape(metric)}">.*?<td class="yours">(.*?)</td>\s*<td class="everyone">(.*?)</td>', table.group(1), re.S)
    assert row is not None, metric
    return re.sub(r"<[^>]+>", "", row.group(1)).strip(), re.sub(r"<[^>]+>", "", row.group(2)).strip()


def test_a_manager_sees_the_company_beside_all_companies_when_5_companies_and_5_people_stand_behind(app: Flask) -> None:
    section = _section(app, COMPANIES[0])
    assert _row(section, "2026-Q3", "completion") == ("100 % (n = 5)", "92 % (6 bedrifter, n = 26)")
    assert _row(section, "2026-Q3", "score") == ("84 % (n = 5)", "97 % (6 bedrifter, n = 24)")
    yours, everyone = _row(section, "2026-Q3", "pulse:unsure")
    assert yours == "4.0 / 5 (n = 5)" and everyone.startswith("Skjult")  # 4 companies answered: fewer than 5
    # the open quarter is never shown; earlier quarters without data are hidden, not zero
    assert 'data-quarter="2026-Q4"' not in section
    assert _row(section, "2026-Q2", "completion")[1].startswith("Skjult")
    english = _section(app, COMPANIES[0], locale="en")
    assert _row(english, "2026-Q3", "completion") == ("100 % (n = 5)", "92 % (6 companies, n = 26)")


def test_attack_a_company_of_one_person_shows_nothing_of_its_own(app: Flask) -> None:
    section = _section(app, COMPANIES[5])
    yours, everyone = _row(section, "2026-Q3", "completion")
    assert yours.startswith("Skjult") and everyone == "92 % (6 bedrifter, n = 26)"
    assert _row(section, "2026-Q3", "score")[0].startswith("Skjult")


def test_attack_changing_the_filters_cannot_isolate_a_group(app: Flask) -> None:
    """Every filter the dashboard has, and some it does not, leave the comparison byte for byte the same."""
    baseline = _section(app, COMPANIES[0])
    for query in ("?course=all-blocks", "?team=-", "?team=Montasje", "?since=2026-08-11&until=2026-08-11",
                  "?since=2026-07-01&until=2026-07-02", "?until=2026-08-10", "?quarter=2026-Q4", "?period=2026-08",
                  "?company=ctx-6", "?min_size=1", "?comparison=ctx-2"):
        assert _section(app, COMPANIES[0], query) == baseline, query


def test_attack_waiting_for_late_data_or_a_new_company_does_not_change_a_published_quarter(app: Flask) -> None:
    """Differencing over time: the page before and after one more learner (or company) must be the same."""
    before = _section(app, COMPANIES[0])
    # a late completion reported in October about August, in the smallest company, and a seventh company
    late = fixture.learner(app, COMPANIES[5], "p6-late")
    fixture.session_events(app, late, dt.datetime(2026, 10, 14, 9, 0, tzinfo=dt.UTC), complete=True)
    with app.extensions["smeb.sessions"]() as session:
        from smeb_lti.play.store import Progress

        row = session.query(Progress).filter(Progress.subject == "p6-late").one()
        row_id = row.id
    with session_scope(app.extensions["smeb.sessions"]) as session:  # its clock said August
        found = session.get(Progress, row_id)
        assert found is not None
        found.started_at, found.completed_at = AUG, AUG + dt.timedelta(minutes=5)
    for i in range(5):
        fixture.session_events(app, fixture.learner(app, COMPANIES[6], f"p7-{i}"), AUG, complete=True)
    assert _section(app, COMPANIES[0]) == before
    # and the freeze is one publication for everyone: company 2 sees the same "all companies" figures
    assert _row(_section(app, COMPANIES[1]), "2026-Q3", "completion")[1] == "92 % (6 bedrifter, n = 26)"
