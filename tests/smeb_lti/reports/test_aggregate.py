"""Completion and competence aggregations: pure functions over statements."""

from __future__ import annotations

import datetime as dt

import pytest

from smeb_lti.reports.aggregate import (
    ReportParameterError,
    ReportParameters,
    actor_key,
    competence_report,
    competence_summary,
    completion_report,
)
from tests.smeb_lti.reports.conftest import COURSES, START, course_statements
from xapi.delivery.query import exclude_voided

C0, C1, C2 = list(COURSES)


def by_key(rows):  # type: ignore[no-untyped-def]
    return {(r.learner.rsplit("-", 1)[-1], r.course_id): r for r in rows}


@pytest.fixture(scope="module")
def rows():  # type: ignore[no-untyped-def]
    return by_key(completion_report(exclude_voided(course_statements())))


def test_status_is_passed_over_completed_over_failed_over_in_progress(rows) -> None:
    assert rows[("0", C0)].status == "passed"
    assert rows[("1", C0)].status == "completed" and rows[("1", C1)].status == "completed"
    assert rows[("2", C0)].status == "failed"


def test_the_best_score_and_the_first_completion_time_are_reported(rows) -> None:
    assert rows[("0", C0)].score == 0.9
    assert rows[("0", C0)].completed_at == START + dt.timedelta(minutes=30)
    assert rows[("0", C0)].started_at == START


def test_a_completed_lesson_is_not_a_completed_course(rows) -> None:
    assert rows[("4", C2)].status == "in_progress" and rows[("4", C2)].completed_at is None


def test_a_voided_completion_does_not_count(rows) -> None:
    assert rows[("3", C0)].status == "in_progress"


def test_names_come_from_the_statements_and_courses_from_activity_definitions(rows) -> None:
    assert rows[("1", C0)].learner_name == "Đorđe Šćepanović"
    assert rows[("1", C1)].course_name == "Guttastemning 2.0"
    assert rows[("4", C0)].learner_name is None


def test_the_result_does_not_depend_on_statement_order() -> None:
    statements = exclude_voided(course_statements())
    assert completion_report(statements) == completion_report(list(reversed(statements)))


def test_course_and_time_filters() -> None:
    statements = exclude_voided(course_statements())
    only = completion_report(statements, ReportParameters(courses=(C1,)))
    assert {r.course_id for r in only} == {C1}
    late = completion_report(statements, ReportParameters(since=START + dt.timedelta(minutes=45)))
    assert by_key(late)[("1", C1)].status == "completed"
    assert ("0", C0) not in by_key(late)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"courses": ("guttastemning",)}, "not an IRI"),
        ({"since": dt.datetime(2026, 1, 1)}, "timezone-aware"),
        ({"since": START, "until": START}, "before until"),
    ],
)
def test_report_parameters_are_validated(kwargs, message) -> None:
    with pytest.raises(ReportParameterError, match=message):
        ReportParameters(**kwargs)


def test_the_competence_report_lists_competences_held_through_completed_courses(rows) -> None:
    tags = {C0: ["Psykologisk trygghet", "Kvalitetssikring"], C1: ["Psykologisk trygghet", "Kollegastøtte"], C2: ["HMS"]}
    inventory = competence_report(rows.values(), tags)
    held = {(r.competence, r.learner.rsplit("-", 1)[-1]) for r in inventory}
    assert held == {
        ("Kvalitetssikring", "0"), ("Kvalitetssikring", "1"),
        ("Psykologisk trygghet", "0"), ("Psykologisk trygghet", "1"),
        ("Kollegastøtte", "1"),
    }
    first = next(r for r in inventory if r.competence == "Psykologisk trygghet" and r.learner.endswith("-1"))
    assert first.course_id == C0  # the earlier of the two courses carrying it
    assert competence_summary(inventory) == {"Kollegastøtte": 1, "Kvalitetssikring": 2, "Psykologisk trygghet": 2}


@pytest.mark.parametrize(
    "agent, key",
    [
        ({"mbox": "mailto:a@b.no", "name": "A"}, "mbox:mailto:a@b.no"),
        ({"account": {"homePage": "https://x", "name": "7"}}, "account:https://x|7"),
        ({"objectType": "Group", "member": []}, None),
    ],
)
def test_learners_are_keyed_by_their_inverse_functional_identifier(agent, key) -> None:
    assert actor_key(agent) == key


def test_competence_means_passed_where_the_course_has_tests(rows) -> None:
    """Issue 18 item 6: completing a course with tests (0 % on every quiz) gives none of its competences."""
    tags = {C0: ["Kvalitetssikring"], C1: ["Kollegastøtte"]}
    inventory = competence_report(rows.values(), tags, tested={C0})
    held = {(r.competence, r.learner.rsplit("-", 1)[-1], r.basis) for r in inventory}
    # C0 has tests: learner 0 passed it, learner 1 only completed it (no competence); C1 has none: completed is enough.
    assert held == {("Kvalitetssikring", "0", "passed"), ("Kollegastøtte", "1", "completed")}


def test_a_completed_course_with_zero_on_every_quiz_gives_no_competence() -> None:
    from tests.smeb_lti.reports.conftest import actor, ts
    from xapi import statements as builders

    course = builders.Activity(C0, name={"nb": "Kurs"})
    statements = [
        builders.completed(actor(9), "course", course, timestamp=ts(1)),
        builders.failed(actor(9), "course", course, builders.Score(scaled=0.0), timestamp=ts(2)),
    ]
    report = completion_report(statements)
    assert [r.status for r in report] == ["completed"]
    assert competence_report(report, {C0: ["Kvalitetssikring"]}, tested={C0}) == []
    assert [r.competence for r in competence_report(report, {C0: ["Kvalitetssikring"]})] == ["Kvalitetssikring"]  # no tests: completed


def test_the_competence_report_states_its_rule_in_its_header() -> None:
    from smeb_lti.reports import export
    from smeb_lti.reports.aggregate import COMPETENCE_RULE_NB

    header = export.to_csv([], export.COMPETENCE_COLUMNS).splitlines()[0]
    assert "bestått der kurset har prøver, ellers fullført" in header
    assert "bestått kurs der kurset har prøver" in COMPETENCE_RULE_NB


def test_the_competence_workbook_prints_the_rule_in_its_page_header() -> None:
    import io

    import openpyxl

    from smeb_lti.reports import export
    from smeb_lti.reports.aggregate import COMPETENCE_RULE_NB, CompetenceRow

    row = CompetenceRow("HMS", "account:x|1", None, "https://smeb.no/courses/x", START, "passed")
    book = openpyxl.load_workbook(io.BytesIO(export.to_xlsx([row], "Kompetanse", export.COMPETENCE_COLUMNS, page_header=COMPETENCE_RULE_NB)))
    sheet = book["Kompetanse"]
    assert sheet.oddHeader.left.text == COMPETENCE_RULE_NB
    assert sheet.cell(2, 6).value == "Bestått"
