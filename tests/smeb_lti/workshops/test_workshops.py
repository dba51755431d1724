"""Workshop series: join codes, run-sheet, attendance with statements and progress, hand-ins, evaluations, isolation."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from flask import Flask
from sqlalchemy import func, select

from content.model import AgendaItem, Text, WorkshopBlock
from smeb_lti.db import session_scope
from smeb_lti.play.store import Progress
from smeb_lti.settings import update_settings
from smeb_lti.surveys.store import SurveyAnswer
from smeb_lti.workshops import store
from smeb_lti.workshops.runsheet import now_and_next, run_sheet
from tests.smeb_lti.surveys.conftest import csrf_of, launch, staff_client, token_for
from xapi.delivery import outbox
from xapi.delivery.destinations import Destination, save_destination
from xapi.validation import validate_statement

EVALUATION = {"q-usefulness": "9", "q-reasons-1": "o1", "q-reasons-2": "o2", "q-reasons-3": "o3", "q-length": "o2",
              "q-frequency": "o1", "q-recommend": "o1"}


def _post(app: Flask, launch_id: str, url: str, data: dict[str, object], *, page: str | None = None) -> object:
    client = staff_client(app, launch_id)  # the browser that did the launch
    token = csrf_of(client, page) if page else token_for(app, launch_id)
    return client.post(url, data={"csrf": token, **data})


def _series(app: Flask, facilitator: str, title: str = "Kundeverksted høst") -> tuple[int, str]:
    response = _post(app, facilitator, f"/app/{facilitator}/workshops", {"action": "create", "title": title}, page=f"/app/{facilitator}/workshops")
    assert response.status_code == 303, response.get_data(as_text=True)
    series_id = int(response.headers["Location"].rsplit("/", 1)[1])
    page = staff_client(app, facilitator).get(f"/app/{facilitator}/workshops/{series_id}").get_data(as_text=True)
    code = re.search(r'id="join-code">([A-Z0-9]+)<', page)
    assert code
    return series_id, code.group(1)


def _join(app: Flask, launch_id: str, code: str) -> int:
    response = _post(app, launch_id, f"/app/{launch_id}/workshops", {"action": "join", "code": code.lower()}, page=f"/app/{launch_id}/workshops")
    assert response.status_code == 303, response.get_data(as_text=True)
    return int(response.headers["Location"].rsplit("/", 1)[1])


def _session(app: Flask, facilitator: str, series_id: int, starts: str = "2026-11-02T10:00") -> int:
    url = f"/app/{facilitator}/workshops/{series_id}/sessions"
    response = _post(app, facilitator, url, {"block": "samling-1", "starts_at": starts, "place": "Verkstedet", "assignment": "plan"},
                     page=f"/app/{facilitator}/workshops/{series_id}")
    assert response.status_code == 303
    with app.extensions["smeb.sessions"]() as session:
        return max(s.id for s in store.sessions_of(session, series_id))


def _participants(app: Flask, series_id: int) -> dict[str, int]:
    with app.extensions["smeb.sessions"]() as session:
        return {p.subject: p.id for p in session.scalars(select(store.Participant).where(store.Participant.series_id == series_id))}


def _outbox(app: Flask) -> list[dict[str, object]]:
    with app.extensions["smeb.engine"].connect() as conn:
        return [json.loads(r.payload) for r in conn.execute(select(outbox.outbox_table).order_by(outbox.outbox_table.c.id))]


def _with_lrs(app: Flask) -> None:
    with app.extensions["smeb.engine"].begin() as conn:
        save_destination(conn, Destination(name="bht-lrs", endpoint="https://lrs.example.no/xapi/"))


@pytest.fixture
def setup(app: Flask) -> dict[str, object]:
    facilitator = launch(app, sub="bht-kari", staff=True, context="bht")
    series_id, code = _series(app, facilitator)
    learners = {ctx: [launch(app, sub=f"{ctx}-{i}", context=ctx, title=f"Firma {ctx.upper()}") for i in range(2)] for ctx in ("a", "b")}
    for launches in learners.values():
        for learner in launches:
            assert _join(app, learner, code) == series_id
    ws = _session(app, facilitator, series_id)
    return {"facilitator": facilitator, "series": series_id, "code": code, "learners": learners, "session": ws}


# -- pure ------------------------------------------------------------------------------------------------


def test_the_run_sheet_gives_each_agenda_item_its_clock_time_and_knows_what_comes_next() -> None:
    block = WorkshopBlock("w1", Text("Samling", "Workshop"), "in-person", (
        AgendaItem(10, Text("Velkommen", "Welcome")),
        AgendaItem(30, Text("Fem ord", "Five words"), notes=Text("Lapper", "Notes"))))
    start = dt.datetime(2026, 11, 2, 10, 0)
    items = run_sheet(block, start, "en")
    assert [(i.starts.strftime("%H:%M"), i.ends.strftime("%H:%M"), i.title) for i in items] == [
        ("10:00", "10:10", "Welcome"), ("10:10", "10:40", "Five words")]
    assert items[1].notes == "Notes"
    assert now_and_next(items, start - dt.timedelta(minutes=5)) == (None, items[0])
    assert now_and_next(items, start + dt.timedelta(minutes=12)) == (items[1], None)
    assert now_and_next(items, start + dt.timedelta(hours=2)) == (None, None)


# -- the series ------------------------------------------------------------------------------------------


def test_companies_join_with_the_code_and_their_learners_become_participants(app: Flask, setup: dict) -> None:
    assert set(_participants(app, setup["series"])) == {"a-0", "a-1", "b-0", "b-1"}
    page = staff_client(app, setup["facilitator"]).get(f"/app/{setup['facilitator']}/workshops/{setup['series']}").get_data(as_text=True)
    assert "Firma A" in page and "Firma B" in page
    learner = setup["learners"]["a"][0]
    mine = app.test_client().get(f"/app/{learner}/workshops/{setup['series']}").get_data(as_text=True)
    assert 'id="next-session"' in mine and "Samling 1" in mine and "Verkstedet" in mine and "Lag en tiltaksplan." in mine


def test_a_wrong_code_or_the_facilitators_own_course_cannot_join(app: Flask, setup: dict) -> None:
    stranger = launch(app, sub="x", context="c")
    response = _post(app, stranger, f"/app/{stranger}/workshops", {"action": "join", "code": "AAAAAAAAAA"}, page=f"/app/{stranger}/workshops")
    assert response.status_code == 400 and "no series has this join code" in response.get_data(as_text=True)
    own = launch(app, sub="bht-ola", context="bht")
    response = _post(app, own, f"/app/{own}/workshops", {"action": "join", "code": setup["code"]}, page=f"/app/{own}/workshops")
    assert response.status_code == 400 and "own course; participants join from" in response.get_data(as_text=True)


def test_the_run_sheet_page_lists_the_agenda_with_times_and_loads_its_clock_from_a_file(app: Flask, setup: dict) -> None:
    url = f"/app/{setup['facilitator']}/workshops/{setup['series']}/sessions/{setup['session']}/runsheet"
    response = staff_client(app, setup["facilitator"]).get(url)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "10:00–10:10" in page and "10:10–10:40" in page and "Skriv på lapper." in page
    assert '<script src="/app/static/workshops/runsheet.js" defer></script>' in page and "<script>" not in page
    with app.test_client().get("/app/static/workshops/runsheet.js") as script:  # file responses hold the file until closed
        assert script.status_code == 200 and b"aria-current" in script.data


def test_attendance_sends_attended_statements_and_marks_the_block_done_in_the_learners_progress(app: Flask, setup: dict) -> None:
    _with_lrs(app)
    people = _participants(app, setup["series"])
    url = f"/app/{setup['facilitator']}/workshops/{setup['series']}/sessions/{setup['session']}/attendance"
    for _ in range(2):  # saving twice records once
        assert _post(app, setup["facilitator"], url, {"present": [people["a-0"], people["b-1"]]}, page=url).status_code == 303
    statements = _outbox(app)
    assert len(statements) == 2 and {s["verb"]["id"] for s in statements} == {"http://adlnet.gov/expapi/verbs/attended"}
    for statement in statements:
        validate_statement(statement)
        assert statement["object"]["id"] == "https://smeb.no/courses/test-all-blocks/samling-1"
    with app.test_request_context(), session_scope(app.extensions["smeb.sessions"]) as session:
        from smeb_lti.identity import actor_for
        from smeb_lti.lti.launches import get_launch

        # The same per-customer pseudonym as the learner's own launch (player, journal, forum) in their company.
        expected = actor_for(get_launch(session, setup["learners"]["a"][0]))
    assert expected in [s["actor"] for s in statements]
    with app.extensions["smeb.sessions"]() as session:
        rows = {p.subject: p for p in session.scalars(select(Progress))}
    assert set(rows) == {"a-0", "b-1"} and json.loads(rows["a-0"].answers) == {"workshop:samling-1": ["attended"]}
    assert {s["context"]["registration"] for s in statements} == {rows["a-0"].attempt, rows["b-1"].attempt}
    page = staff_client(app, setup["facilitator"]).get(f"/app/{setup['facilitator']}/workshops/{setup['series']}").get_data(as_text=True)
    assert re.findall(r'class="attended">(\d)<', page) == ["1", "1"]


def test_a_participant_hands_in_the_assignment_and_the_facilitator_sees_which_companies_did(app: Flask, setup: dict) -> None:
    _with_lrs(app)
    learner = setup["learners"]["b"][0]
    url = f"/app/{learner}/workshops/{setup['series']}/sessions/{setup['session']}/handed-in"
    assert _post(app, learner, url, {}, page=f"/app/{learner}/workshops/{setup['series']}").status_code == 303
    assert "Du har levert oppgaven." in app.test_client().get(f"/app/{learner}/workshops/{setup['series']}").get_data(as_text=True)
    statements = _outbox(app)
    assert [s["verb"]["id"] for s in statements] == ["http://activitystrea.ms/schema/1.0/submit"]
    assert statements[0]["object"]["id"] == "https://smeb.no/courses/test-all-blocks/plan"
    page = staff_client(app, setup["facilitator"]).get(f"/app/{setup['facilitator']}/workshops/{setup['series']}").get_data(as_text=True)
    assert re.findall(r'class="handed-in">(\d)<', page) == ["0", "1"]  # Firma A, Firma B


def test_shared_experiences_are_markdown_rendered_by_the_one_sanitizer(app: Flask, setup: dict) -> None:
    url = f"/app/{setup['facilitator']}/workshops/{setup['series']}/notes"
    notes = "**Sjekkliste** før tavla lukkes <script>alert(1)</script>"
    assert _post(app, setup["facilitator"], url, {"notes": notes}, page=f"/app/{setup['facilitator']}/workshops/{setup['series']}").status_code == 303
    page = app.test_client().get(f"/app/{setup['learners']['a'][1]}/workshops/{setup['series']}").get_data(as_text=True)
    assert "<strong>Sjekkliste</strong>" in page and "<script>alert" not in page and "&lt;script&gt;" in page


# -- evaluation after a session ----------------------------------------------------------------------------------


@pytest.mark.parametrize("per_company, shown", [((5, 5), {"total", "a", "b"}), ((6, 4), {"total"})])
def test_the_session_evaluation_is_aggregated_per_company_without_groups_under_five(
    app: Flask, setup: dict, per_company: tuple[int, int], shown: set[str]
) -> None:
    fac, series_id = setup["facilitator"], setup["series"]
    url = f"/app/{fac}/workshops/{series_id}/sessions/{setup['session']}/evaluation"
    assert _post(app, fac, url, {}, page=f"/app/{fac}/workshops/{series_id}").status_code == 303
    with app.extensions["smeb.sessions"]() as session:
        survey_id = session.get(store.WorkshopSession, setup["session"]).survey_id
    assert survey_id
    for ctx, n in zip(("a", "b"), per_company):
        for i in range(n):
            learner = launch(app, sub=f"{ctx}-eval-{i}", context=ctx, title=f"Firma {ctx.upper()}")
            link = f'href="/app/{learner}/surveys/{survey_id}"'
            assert link in app.test_client().get(f"/app/{learner}/workshops/{series_id}").get_data(as_text=True)
            answer_url = f"/app/{learner}/surveys/{survey_id}"
            assert _post(app, learner, answer_url, {**EVALUATION, "q-higher": f"Svar fra {ctx} {i}"}, page=answer_url).status_code == 303
    update_settings(app, {"SMEB_TODAY": "2026-11-20"})
    page = staff_client(app, fac).get(f"/app/{fac}/surveys/{survey_id}/results").get_data(as_text=True)
    sections = re.findall(r'<section class="company" data-group="company".*?<h3[^>]*>(Firma [AB])</h3>(.*?)</section>', page, re.DOTALL)
    visible = {name[-1].lower() for name, body in sections if 'data-suppressed="1"' not in body}
    assert visible == shown - {"total"}
    assert f'data-n="{sum(per_company)}"' in page
    assert "Svar fra b 0" in page  # in the total of ten: the text is one of ten people's
    assert all("Svar fra" not in body for name, body in sections if 'data-suppressed="1"' in body)
    # A company admin sees the totals and their own company, never the other one.
    admin_a = launch(app, sub="leder-a", staff=True, context="a", title="Firma A")
    mine = staff_client(app, admin_a).get(f"/app/{admin_a}/surveys/{survey_id}/results")
    assert mine.status_code == 200 and "Firma B" not in mine.get_data(as_text=True) and "Svar fra b" not in mine.get_data(as_text=True)
    assert ("Svar fra a 0" in mine.get_data(as_text=True)) is ("a" in shown)


# -- isolation and CSRF ----------------------------------------------------------------------------------------------


def test_a_facilitator_of_another_series_and_companies_outside_it_see_nothing(app: Flask, setup: dict) -> None:
    other_fac = launch(app, sub="bht-per", staff=True, context="bht-2")
    other_series, _ = _series(app, other_fac, "Annen serie")
    sid, ws = setup["series"], setup["session"]
    client = staff_client(app, other_fac)
    for path in (f"{sid}", f"{sid}/sessions/{ws}/runsheet", f"{sid}/sessions/{ws}/attendance"):
        assert client.get(f"/app/{other_fac}/workshops/{path}").status_code == 404, path
    outsider = launch(app, sub="x", context="c")
    own_learner = launch(app, sub="bht-ola", context="bht")
    for who in (outsider, own_learner):
        assert client.get(f"/app/{who}/workshops/{sid}").status_code == 404
    # a participant cannot act as facilitator, and participants of series A cannot be ticked in series B
    learner = setup["learners"]["a"][0]
    assert client.get(f"/app/{learner}/workshops/{sid}/sessions/{ws}/attendance").status_code == 403
    other_ws = _session(app, other_fac, other_series)
    people = _participants(app, sid)
    url = f"/app/{other_fac}/workshops/{other_series}/sessions/{other_ws}/attendance"
    assert _post(app, other_fac, url, {"present": [people["a-0"]]}).status_code == 404
    with app.extensions["smeb.sessions"]() as session:
        assert session.scalar(select(func.count()).select_from(store.Attendance)) == 0
    assert "Kundeverksted høst" not in client.get(f"/app/{other_fac}/workshops").get_data(as_text=True)


def test_every_workshop_form_needs_this_launchs_csrf_token(app: Flask, setup: dict) -> None:
    fac, sid, ws = setup["facilitator"], setup["series"], setup["session"]
    learner = setup["learners"]["a"][0]
    client = staff_client(app, fac, learner)  # the CSRF token is checked also in the browser that did the launch
    cases = [
        (fac, f"/app/{fac}/workshops", {"action": "create", "title": "X"}),
        (learner, f"/app/{learner}/workshops", {"action": "join", "code": setup["code"]}),
        (fac, f"/app/{fac}/workshops/{sid}/sessions", {"block": "samling-1", "starts_at": "2026-11-09T10:00"}),
        (fac, f"/app/{fac}/workshops/{sid}/notes", {"notes": "hei"}),
        (fac, f"/app/{fac}/workshops/{sid}/sessions/{ws}/attendance", {"present": _participants(app, sid)["a-0"]}),
        (fac, f"/app/{fac}/workshops/{sid}/sessions/{ws}/evaluation", {}),
        (learner, f"/app/{learner}/workshops/{sid}/sessions/{ws}/handed-in", {}),
    ]
    for _who, url, data in cases:
        assert client.post(url, data=data).status_code == 403, url
        assert client.post(url, data={**data, "csrf": token_for(app, setup["learners"]["b"][1])}).status_code == 403, url
    with app.extensions["smeb.sessions"]() as session:
        assert session.scalar(select(func.count()).select_from(store.Series)) == 1
        assert session.scalar(select(func.count()).select_from(store.WorkshopSession)) == 1
        assert session.scalar(select(func.count()).select_from(store.Attendance)) == 0
        assert session.scalar(select(func.count()).select_from(store.Submission)) == 0
        assert session.get(store.Series, sid).notes == ""


def test_the_facilitator_schedules_a_pulse_for_the_whole_series_and_each_company_answers_it(app: Flask, setup: dict) -> None:
    fac, series_id = setup["facilitator"], setup["series"]
    url = f"/app/{fac}/workshops/{series_id}/surveys"
    data = {"template": "psych-safety-pulse", "frequency": "monthly", "starts_on": "2026-11-01", "ends_on": "2027-01-31"}
    assert _post(app, fac, url, {**data, "ends_on": "2026-10-01"}, page=f"/app/{fac}/workshops/{series_id}").status_code == 400
    assert _post(app, fac, url, data, page=f"/app/{fac}/workshops/{series_id}").status_code == 303
    learner = setup["learners"]["b"][0]
    assert _post(app, learner, url.replace(fac, learner), data).status_code == 403  # participants cannot schedule
    listing = app.test_client().get(f"/app/{learner}/surveys").get_data(as_text=True)
    survey_id = re.findall(r'data-survey="([0-9a-f]+)"', listing)
    assert len(survey_id) == 1
    answer_url = f"/app/{learner}/surveys/{survey_id[0]}"
    pulse = {"q-unsure": "4", "q-mistakes": "4", "q-speak-up": "4", "q-stop-work": "4", "q-learn": "4"}
    assert _post(app, learner, answer_url, pulse, page=answer_url).status_code == 303
    with app.extensions["smeb.sessions"]() as session:
        company = session.scalars(select(store.SeriesCompany).where(store.SeriesCompany.context_id == "b")).one()
        assert [a.group_key for a in session.scalars(select(SurveyAnswer))] == [store.company_key(company)]
    outsider = launch(app, sub="x", context="c")
    assert survey_id[0] not in app.test_client().get(f"/app/{outsider}/surveys").get_data(as_text=True)
