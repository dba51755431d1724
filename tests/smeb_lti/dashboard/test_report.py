"""The pure parts of the dashboard: rows, filters, months, skills and the SVG charts."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import pytest

from smeb_lti.dashboard import charts, report
from smeb_lti.dashboard.errors import FilterInvalid, TeamInvalid
from smeb_lti.dashboard.store import clean_team

UTC = dt.UTC
COURSE = report.CourseInfo("kurs", "https://smeb.no/courses/kurs", "Kurs <b>&</b>", "Course", (("ps", "Psykologisk trygghet", "Psychological safety"),), True)


def _row(subject: str, status: str, completed: dt.datetime | None, started: dt.datetime | None = None, course_key: str = "kurs") -> report.Row:
    return report.Row(subject, subject.title(), None, course_key, COURSE, status, 1.0 if completed else 0.2, None,
                      started or dt.datetime(2026, 1, 5, tzinfo=UTC), completed, None)


def test_the_status_follows_completion_and_the_verdict() -> None:
    base = {"progress": 1.0, "points": 0, "max_points": 0, "started_at": dt.datetime(2026, 1, 1, tzinfo=UTC), "completed_at": None}
    assert report.status_of(None) == "in_progress"
    assert report.status_of(report.ProgressInfo(completed=False, passed=True, **base)) == "in_progress"  # type: ignore[arg-type]
    assert report.status_of(report.ProgressInfo(completed=True, passed=None, **base)) == "completed"  # type: ignore[arg-type]
    assert report.status_of(report.ProgressInfo(completed=True, passed=False, **base)) == "failed"  # type: ignore[arg-type]
    assert report.status_of(report.ProgressInfo(completed=True, passed=True, **base)) == "passed"  # type: ignore[arg-type]


def test_completions_per_month_include_the_empty_months_between() -> None:
    rows = [_row("a", "passed", dt.datetime(2026, 1, 31, 23, tzinfo=UTC)), _row("b", "completed", dt.datetime(2026, 4, 1, tzinfo=UTC)),
            _row("c", "failed", dt.datetime(2026, 2, 1, tzinfo=UTC)), _row("d", "in_progress", None)]
    assert report.completions_by_month(rows) == [("2026-01", 1), ("2026-02", 0), ("2026-03", 0), ("2026-04", 1)]
    assert report.completions_by_month(rows, report.Filters(since=dt.date(2026, 2, 1))) == [("2026-04", 1)]
    assert report.completions_by_month([]) == []


def test_skills_come_only_from_completed_whole_courses() -> None:
    rows = [_row("ada", "passed", dt.datetime(2026, 1, 2, tzinfo=UTC)), _row("bo", "failed", dt.datetime(2026, 1, 2, tzinfo=UTC)),
            _row("cy", "completed", dt.datetime(2026, 1, 2, tzinfo=UTC), course_key="kurs/m1")]
    [skill] = report.skills(rows, "en")
    assert skill.title == "Psychological safety" and skill.holders == ("Ada",)


def test_the_period_keeps_rows_active_in_it() -> None:
    early = _row("a", "passed", dt.datetime(2026, 1, 10, tzinfo=UTC), started=dt.datetime(2026, 1, 1, tzinfo=UTC))
    open_ = _row("b", "in_progress", None, started=dt.datetime(2026, 1, 1, tzinfo=UTC))
    late = _row("c", "in_progress", None, started=dt.datetime(2026, 3, 1, tzinfo=UTC))
    feb = report.Filters(since=dt.date(2026, 2, 1), until=dt.date(2026, 2, 28))
    assert [r.subject for r in report.apply_filters([early, open_, late], feb)] == ["b"]


@pytest.mark.parametrize("args, message", [
    ({"since": "31.01.2026"}, "since must be a date"),
    ({"until": "x"}, "until must be a date"),
    ({"course": "Kurs Med Mellomrom"}, "course must be a course slug"),
    ({"since": "2026-03-01", "until": "2026-02-01"}, "since must not be after until"),
])
def test_malformed_filters_are_refused_with_the_field_named(args: dict[str, str], message: str) -> None:
    with pytest.raises(FilterInvalid, match=message):
        report.parse_filters(args)


def test_filters_round_trip_through_the_query_string() -> None:
    filters = report.parse_filters({"course": "kurs", "since": "2026-01-01", "team": "-"})
    assert filters.team == "" and report.parse_filters(filters.query()) == filters


def test_team_names_are_plain_single_spaced_text() -> None:
    assert clean_team("  Montasje \t Nord ") == "Montasje Nord"
    for bad in ("", "   ", "x" * 101):
        with pytest.raises(TeamInvalid):
            clean_team(bad)


def test_charts_are_well_formed_svg_with_escaped_titles_and_the_numbers_in_words() -> None:
    totals = report.per_course([_row("a", "passed", dt.datetime(2026, 1, 2, tzinfo=UTC)), _row("b", "in_progress", None)], "nb")
    svg = charts.per_course_svg(totals, "nb")
    tree = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    assert tree.get("role") == "img" and tree.find(f"{ns}title").text == "Fullføring per kurs"  # type: ignore[union-attr]
    assert "Kurs <b>&</b>: 1 av 2 fullført" in (tree.find(f"{ns}desc").text or "")  # type: ignore[union-attr]
    assert "<b>" not in svg
    months = charts.over_time_svg([("2026-01", 2), ("2026-02", 0)], "en")
    assert "Completions per month: 2026-01: 2, 2026-02: 0." in months and ET.fromstring(months) is not None
    assert "No completions yet" in charts.over_time_svg([], "en")
