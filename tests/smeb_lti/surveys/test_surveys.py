"""Pulse surveys and course evaluations: scheduling, anonymous answers, privacy of results, bad input."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from flask import Flask
from sqlalchemy import func, select

from smeb_lti.settings import update_settings
from smeb_lti.surveys import forms
from smeb_lti.surveys.pages import csrf_token
from smeb_lti.surveys.periods import ScheduleInvalid, periods
from smeb_lti.surveys.store import Survey, SurveyAnswer
from tests.smeb_lti.surveys.conftest import csrf_of, launch, staff_client, token_for
from xapi.delivery import outbox
from xapi.delivery.destinations import Destination, save_destination

PULSE_ANSWER = {"q-unsure": "4", "q-mistakes": "3", "q-speak-up": "5", "q-stop-work": "4", "q-learn": "2"}
EVALUATION_ANSWER = {"q-usefulness": "8", "q-higher": "Flere eksempler fra tavlerom.", "q-reasons-1": "o1", "q-reasons-2": "o3",
                     "q-reasons-3": "o7", "q-length": "o2", "q-frequency": "o1", "q-recommend": "o1"}


# -- templates and periods (pure) ------------------------------------------------------------------


def test_the_pulse_has_five_likert_statements_in_both_languages() -> None:
    pulse = forms.PSYCHOLOGICAL_SAFETY
    assert [q.kind for q in pulse.questions] == ["likert"] * 5
    assert "trygt å si «jeg er usikker»" in pulse.questions[0].prompt["nb"]
    assert all(q.prompt["nb"] and q.prompt["en"] and q.prompt["nb"] != q.prompt["en"] for q in pulse.questions)


def test_the_course_evaluation_asks_usefulness_reasons_length_frequency_and_recommendation() -> None:
    kinds = {q.id: q.kind for q in forms.COURSE_EVALUATION.questions}
    assert kinds == {"usefulness": "scale", "higher": "text", "reasons": "rank", "length": "choice", "frequency": "choice",
                     "recommend": "choice"}
    parsed = forms.parse_answers(forms.COURSE_EVALUATION, EVALUATION_ANSWER)
    assert parsed["usefulness"] == 8 and parsed["reasons"] == ["o1", "o3", "o7"]


@pytest.mark.parametrize("field, value, named", [
    ("q-usefulness", "11", "q-usefulness"), ("q-usefulness", "", "q-usefulness"), ("q-reasons-2", "o1", "q-reasons-1"),
    ("q-reasons-3", "o99", "q-reasons-1"), ("q-length", "o9", "q-length"), ("q-higher", "x" * 2001, "q-higher"),
])
def test_a_bad_answer_names_its_question(field: str, value: str, named: str) -> None:
    with pytest.raises(forms.AnswerInvalid) as raised:
        forms.parse_answers(forms.COURSE_EVALUATION, {**EVALUATION_ANSWER, field: value})
    assert raised.value.field == named


def test_weekly_periods_are_iso_weeks_cut_to_the_schedule_and_monthly_are_calendar_months() -> None:
    weekly = periods("weekly", dt.date(2026, 11, 4), dt.date(2026, 11, 20))  # a Wednesday to a Friday
    assert [(p.first.isoformat(), p.last.isoformat()) for p in weekly] == [
        ("2026-11-04", "2026-11-08"), ("2026-11-09", "2026-11-15"), ("2026-11-16", "2026-11-20")]
    assert weekly[1].label("weekly", "nb") == "Uke 46 2026" and weekly[1].label("weekly", "en") == "Week 46 2026"
    monthly = periods("monthly", dt.date(2026, 11, 15), dt.date(2027, 1, 10))
    assert [p.first.isoformat() for p in monthly] == ["2026-11-15", "2026-12-01", "2027-01-01"]
    assert monthly[1].label("monthly", "nb") == "desember 2026"
    with pytest.raises(ScheduleInvalid, match="before it starts"):
        periods("weekly", dt.date(2026, 11, 4), dt.date(2026, 11, 1))
    with pytest.raises(ScheduleInvalid, match="frequency"):
        periods("daily", dt.date(2026, 11, 4), dt.date(2026, 11, 5))


# -- scheduling and answering ------------------------------------------------------------------------


def schedule(app: Flask, staff: str, template: str = "psych-safety-pulse", frequency: str = "weekly",
             starts: str = "2026-11-02", ends: str = "2026-11-29") -> str:
    client = staff_client(app, staff)
    response = client.post(f"/app/{staff}/surveys", data={"csrf": csrf_of(client, f"/app/{staff}/surveys"), "template": template,
                                                          "frequency": frequency, "starts_on": starts, "ends_on": ends})
    assert response.status_code == 303, response.get_data(as_text=True)
    page = client.get(f"/app/{staff}/surveys").get_data(as_text=True)
    return re.findall(r'data-survey="([0-9a-f]+)"', page)[-1]


def answer(app: Flask, learner: str, survey_id: str, data: dict[str, str]) -> int:
    client = app.test_client()
    url = f"/app/{learner}/surveys/{survey_id}"
    return client.post(url, data={"csrf": csrf_of(client, url), **data}).status_code


def count(app: Flask, model: type) -> int:
    with app.extensions["smeb.sessions"]() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_an_admin_schedules_a_pulse_and_a_learner_of_the_same_company_answers_it(app: Flask) -> None:
    staff = launch(app, sub="leder", staff=True)
    survey_id = schedule(app, staff)
    learner = launch(app, sub="ola")
    page = app.test_client().get(f"/app/{learner}/surveys").get_data(as_text=True)
    assert f'href="/app/{learner}/surveys/{survey_id}"' in page and "Svar på undersøkelsen" in page
    form = app.test_client().get(f"/app/{learner}/surveys/{survey_id}").get_data(as_text=True)
    assert "trygt å si «jeg er usikker»" in form and 'lang="nb"' in form
    assert answer(app, learner, survey_id, PULSE_ANSWER) == 303
    assert "Endre svaret ditt" in app.test_client().get(f"/app/{learner}/surveys").get_data(as_text=True)


def test_an_answer_is_stored_without_the_learners_identity_and_an_edit_replaces_it(app: Flask) -> None:
    survey_id = schedule(app, launch(app, sub="leder", staff=True))
    learner = launch(app, sub="ola-nordmann-123")
    assert answer(app, learner, survey_id, PULSE_ANSWER) == 303
    assert answer(app, launch(app, sub="ola-nordmann-123"), survey_id, {**PULSE_ANSWER, "q-learn": "5"}) == 303  # a new launch, same person
    with app.extensions["smeb.sessions"]() as session:
        rows = list(session.scalars(select(SurveyAnswer)))
    assert len(rows) == 1 and json.loads(rows[0].answers)["learn"] == 5
    stored = json.dumps([rows[0].id, rows[0].group_key, rows[0].token, rows[0].answers])
    assert "ola-nordmann-123" not in stored and "Navn" not in stored and "firma-a" not in stored
    prefilled = app.test_client().get(f"/app/{learner}/surveys/{survey_id}").get_data(as_text=True)
    assert re.search(r'name="q-learn" value="5" required checked', prefilled)


def test_each_learner_answers_once_per_period(app: Flask) -> None:
    survey_id = schedule(app, launch(app, sub="leder", staff=True))
    for sub in ("a", "b", "a", "a"):
        assert answer(app, launch(app, sub=sub), survey_id, PULSE_ANSWER) == 303
    assert count(app, SurveyAnswer) == 2
    update_settings(app, {"SMEB_TODAY": "2026-11-10"})  # the next week is a new period
    assert answer(app, launch(app, sub="a"), survey_id, PULSE_ANSWER) == 303
    assert count(app, SurveyAnswer) == 3


def test_a_survey_answer_sends_no_statement_to_the_lrs(app: Flask) -> None:
    with app.extensions["smeb.engine"].begin() as conn:
        save_destination(conn, Destination(name="bht-lrs", endpoint="https://lrs.example.no/xapi/"))
    survey_id = schedule(app, launch(app, sub="leder", staff=True), template="course-evaluation")
    assert answer(app, launch(app, sub="ola"), survey_id, EVALUATION_ANSWER) == 303
    with app.extensions["smeb.engine"].connect() as conn:
        assert conn.scalar(select(func.count()).select_from(outbox.outbox_table)) == 0


def test_a_closed_period_takes_no_answers_and_its_tokens_are_dropped(app: Flask) -> None:
    staff = launch(app, sub="leder", staff=True)
    survey_id = schedule(app, staff, ends="2026-11-08")
    learner = launch(app, sub="ola")
    assert answer(app, learner, survey_id, PULSE_ANSWER) == 303
    update_settings(app, {"SMEB_TODAY": "2026-11-09"})
    client = staff_client(app, staff)
    with app.test_request_context():
        token = csrf_token(learner)
    response = client.post(f"/app/{learner}/surveys/{survey_id}", data={"csrf": token, **PULSE_ANSWER})
    assert response.status_code == 409 and "not open" in response.get_data(as_text=True)
    assert client.get(f"/app/{staff}/surveys/{survey_id}/results").status_code == 200
    with app.extensions["smeb.sessions"]() as session:
        assert [r.token for r in session.scalars(select(SurveyAnswer))] == [None]


# -- bad input -----------------------------------------------------------------------------------------


def test_every_form_needs_this_launchs_csrf_token(app: Flask) -> None:
    staff = launch(app, sub="leder", staff=True)
    other = launch(app, sub="leder", staff=True)
    client = staff_client(app, staff, other)  # the CSRF token is checked also in the browser that did the launch
    data = {"template": "psych-safety-pulse", "frequency": "weekly", "starts_on": "2026-11-02", "ends_on": "2026-11-29"}
    assert client.post(f"/app/{staff}/surveys", data=data).status_code == 403
    assert client.post(f"/app/{staff}/surveys", data={**data, "csrf": csrf_of(client, f"/app/{other}/surveys")}).status_code == 403
    assert count(app, Survey) == 0
    survey_id = schedule(app, staff)
    learner = launch(app, sub="ola")
    assert client.post(f"/app/{learner}/surveys/{survey_id}", data=PULSE_ANSWER).status_code == 403
    assert count(app, SurveyAnswer) == 0


def test_learners_cannot_schedule_surveys_or_open_results(app: Flask) -> None:
    survey_id = schedule(app, launch(app, sub="leder", staff=True))
    learner = launch(app, sub="ola")
    client = app.test_client()
    data = {"csrf": token_for(app, learner), "template": "psych-safety-pulse", "frequency": "weekly",
            "starts_on": "2026-11-02", "ends_on": "2026-11-29"}
    assert client.post(f"/app/{learner}/surveys", data=data).status_code == 403
    assert client.get(f"/app/{learner}/surveys/{survey_id}/results").status_code == 403
    assert 'id="schedule"' not in client.get(f"/app/{learner}/surveys").get_data(as_text=True)


def test_another_company_cannot_see_answer_or_read_the_results_of_a_survey_even_with_its_id(app: Flask) -> None:
    survey_id = schedule(app, launch(app, sub="leder", staff=True, context="firma-a"))
    for sub in "abcdef":
        assert answer(app, launch(app, sub=sub, context="firma-a"), survey_id, PULSE_ANSWER) == 303
    update_settings(app, {"SMEB_TODAY": "2026-12-01"})
    other_admin = launch(app, sub="leder-b", staff=True, context="firma-b")
    other_learner = launch(app, sub="kari", context="firma-b")
    client = staff_client(app, other_admin)
    assert survey_id not in client.get(f"/app/{other_admin}/surveys").get_data(as_text=True)
    assert client.get(f"/app/{other_admin}/surveys/{survey_id}/results").status_code == 404
    assert client.get(f"/app/{other_learner}/surveys/{survey_id}").status_code == 404
    update_settings(app, {"SMEB_TODAY": "2026-11-03"})
    response = client.post(f"/app/{other_learner}/surveys/{survey_id}",
                           data={"csrf": token_for(app, other_learner), **PULSE_ANSWER})
    assert response.status_code == 404 and count(app, SurveyAnswer) == 6
    assert client.get("/app/not-a-launch/surveys").status_code == 404


def test_a_bad_schedule_and_a_bad_answer_come_back_with_a_message_and_store_nothing(app: Flask) -> None:
    staff = launch(app, sub="leder", staff=True)
    client = staff_client(app, staff)
    response = client.post(f"/app/{staff}/surveys", data={"csrf": csrf_of(client, f"/app/{staff}/surveys"), "template": "psych-safety-pulse",
                                                          "frequency": "weekly", "starts_on": "2026-11-20", "ends_on": "2026-11-01"})
    assert response.status_code == 400 and "before it starts" in response.get_data(as_text=True) and count(app, Survey) == 0
    survey_id = schedule(app, staff)
    learner = launch(app, sub="ola")
    url = f"/app/{learner}/surveys/{survey_id}"
    response = client.post(url, data={"csrf": csrf_of(client, url), **PULSE_ANSWER, "q-mistakes": "9"})
    assert response.status_code == 400 and 'href="#q-mistakes"' in response.get_data(as_text=True) and count(app, SurveyAnswer) == 0


# -- results under the privacy rules ------------------------------------------------------------------------


def _results(app: Flask, staff: str, survey_id: str) -> str:
    response = staff_client(app, staff).get(f"/app/{staff}/surveys/{survey_id}/results")
    assert response.status_code == 200
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    return response.get_data(as_text=True)


@pytest.mark.parametrize("respondents, shown", [(4, False), (5, True)])
def test_results_of_four_respondents_are_hidden_and_of_five_are_shown(app: Flask, respondents: int, shown: bool) -> None:
    staff = launch(app, sub="leder", staff=True)
    survey_id = schedule(app, staff, template="course-evaluation", frequency="once", ends="2026-11-08")
    for i in range(respondents):
        data = {**EVALUATION_ANSWER, "q-usefulness": str(6 + i % 3), "q-higher": f"Kommentar nummer {i}"}
        assert answer(app, launch(app, sub=f"l{i}"), survey_id, data) == 303
    assert "Kommentar" not in _results(app, staff, survey_id)  # the period is still open: nothing is shown
    update_settings(app, {"SMEB_TODAY": "2026-11-09"})
    page = _results(app, staff, survey_id)
    assert ("Kommentar nummer 0" in page) is shown and (f'data-n="{respondents}"' in page) is shown
    assert ('data-suppressed="1"' in page) is not shown
    if shown:
        assert 'data-question="usefulness">6.8<' in page  # 6,7,8,6,7


def test_a_small_period_is_hidden_and_so_is_the_one_that_would_let_you_subtract_it(app: Flask) -> None:
    staff = launch(app, sub="leder", staff=True)
    survey_id = schedule(app, staff, frequency="weekly", ends="2026-11-15")
    for i in range(6):
        assert answer(app, launch(app, sub=f"l{i}"), survey_id, PULSE_ANSWER) == 303
    update_settings(app, {"SMEB_TODAY": "2026-11-09"})
    for i in range(3):
        assert answer(app, launch(app, sub=f"l{i}"), survey_id, {**PULSE_ANSWER, "q-unsure": "1"}) == 303
    update_settings(app, {"SMEB_TODAY": "2026-11-16"})
    page = _results(app, staff, survey_id)
    # total 9 = week 45 (6) + week 46 (3): week 46 is hidden, and week 45 too (9 - 6 = 3 would reveal it)
    assert page.count('data-suppressed="1"') == 2 and 'data-n="9"' in page and 'data-n="6"' not in page
    assert "<th scope=\"row\">Uke 45 2026</th><td>skjult</td>" in page.replace("\n", "")
    assert "<svg" in page and 'role="img"' in page and "<table class=\"trend-table\"" in page


def test_smeb_surveys_unlink_closed_drops_the_tokens_of_closed_periods_only(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from smeb_lti.cli import main

    survey_id = schedule(app, launch(app, sub="leder", staff=True))  # weekly from 2026-11-02
    assert answer(app, launch(app, sub="a"), survey_id, PULSE_ANSWER) == 303
    update_settings(app, {"SMEB_TODAY": "2026-11-09"})
    assert answer(app, launch(app, sub="a"), survey_id, PULSE_ANSWER) == 303
    monkeypatch.setenv("SMEB_DATABASE_URL", app.config["SMEB_DATABASE_URL"])
    result = CliRunner().invoke(main, ["surveys", "unlink-closed", "--today", "2026-11-10"])
    assert result.exit_code == 0 and "unlinked 1 answers" in result.output, result.output
    with app.extensions["smeb.sessions"]() as session:
        tokens = {row.period: row.token for row in session.scalars(select(SurveyAnswer))}
    assert tokens[0] is None and tokens[1] is not None
