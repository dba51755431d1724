"""Staff pages of surveys, workshops and the player's staff links are bound to the launching browser (issue 13 item 9).

Every launch here is a real LTI launch over HTTP (a platform with JWKS and NRPS, tests/smeb_lti/lti/nrps_platform.py),
so the browser that launched holds exactly the cookie the launch set. A leaked staff URL opened by another
browser (a fresh test client without that cookie) gets the 403 "open it again from the LMS" page with no names
or e-mail addresses, and nothing is stored by its forms. A cookie-less staff browser in an LMS iframe (launch
proven through the platform's storage) reaches every staff page through single-use tickets on the links.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from smeb_lti.db import session_scope
from smeb_lti.lti import binding
from smeb_lti.settings import update_settings
from smeb_lti.surveys import store as survey_store
from smeb_lti.surveys.pages import csrf_token
from smeb_lti.workshops import store as ws_store
from tests.smeb_lti.lti.conftest import Lms, launch_id_of, register
from tests.smeb_lti.lti.nrps_platform import LEARNER, NrpsPlatform
from tests.smeb_lti.lti.test_staff_binding import HTTPS, _cookieless_staff_launch
from tests.support.app import COURSE_SETTINGS, dispose, make_app
from tests.support.lti_platform import LTI, PlatformServer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "courses" / "valid"
# What a leaked page must never show: the participants' names and e-mail addresses (the platform sends both).
PERSONAL = ("Kari Elektriker", "kari@example.no", "Per Montør", "per@example.no", "Nora Lærling", "nora@example.no")
PEOPLE = (("kari", "Kari Elektriker", "kari@example.no"), ("per", "Per Montør", "per@example.no"),
          ("nora", "Nora Lærling", "nora@example.no"))
PULSE = {"q-unsure": "4", "q-mistakes": "4", "q-speak-up": "4", "q-stop-work": "4", "q-learn": "4"}


@pytest.fixture
def app(migrated_db_url: str, tmp_path: Path) -> Iterator[Flask]:
    app = make_app(migrated_db_url, tmp_path / "data", courses=["all-blocks"], **COURSE_SETTINGS,
                   SMEB_TODAY="2026-11-02", SMEB_LTI_HTTP_TIMEOUT=5)
    yield app
    dispose(app)


@pytest.fixture
def lms(app: Flask) -> Iterator[Lms]:
    with PlatformServer(NrpsPlatform()) as platform:
        register(app, platform)
        yield Lms(app, platform)


def _launch(lms: Lms, browser: FlaskClient, *, sub: str, staff: bool, context: str, name: str = "Leder", email: str = "leder@example.no") -> str:
    """A real launch of ``sub`` in LMS course ``context`` by ``browser`` (which keeps the cookies it sets)."""
    platform: NrpsPlatform = lms.platform  # type: ignore[assignment]
    claims: dict[str, Any] = {**(platform.staff_claims() if staff else {}), "sub": sub, "name": name, "email": email}
    claims[LTI + "context"] = {"id": context, "title": f"Firma {context}"}
    login = lms.login(browser)
    return launch_id_of(lms.post_launch(browser, login.state, lms.id_token(login.nonce, **claims)))


def _text(response: TestResponse) -> str:
    return html.unescape(response.get_data(as_text=True))


def assert_not_bound(response: TestResponse) -> None:
    """The LTI layer's 403 page in Norwegian and English, with nothing of the launch on it."""
    text = _text(response)
    assert response.status_code == 403, text[:500]
    assert 'id="not-bound"' in text and "Open the activity again from your learning platform" in text
    for personal in PERSONAL:
        assert personal not in text
    assert response.headers["Cache-Control"] == "no-store"


def _count(app: Flask, model: type) -> int:
    with app.extensions["smeb.sessions"]() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def _token(app: Flask, launch_id: str) -> str:
    """The launch's CSRF token: assume the leaked page's HTML leaked too, so only the binding stands in the way."""
    with app.test_request_context():
        return csrf_token(launch_id)


@dataclass
class World:
    facilitator: str  # the BHT's instructor launch in its own LMS course "bht"
    fac_browser: FlaskClient
    admin: str  # a company admin (instructor launch) in firma-a, which joined the series
    admin_browser: FlaskClient
    learners: list[str]
    series: int
    code: str
    session: int
    survey: str  # firma-a's own pulse, scheduled by its admin


@pytest.fixture
def world(app: Flask, lms: Lms) -> World:
    fac_browser, admin_browser = app.test_client(), app.test_client()
    facilitator = _launch(lms, fac_browser, sub="bht-leder", staff=True, context="bht")
    admin = _launch(lms, admin_browser, sub="a-leder", staff=True, context="a")
    page = fac_browser.get(f"/app/{facilitator}/workshops")
    assert page.status_code == 200, _text(page)[:500]
    created = fac_browser.post(f"/app/{facilitator}/workshops", data={"csrf": _token(app, facilitator), "action": "create", "title": "Høstserien"})
    assert created.status_code == 303, _text(created)[:500]
    series = int(urlsplit(created.headers["Location"]).path.rsplit("/", 1)[1])
    code = re.search(r'id="join-code">([A-Z0-9]+)<', fac_browser.get(f"/app/{facilitator}/workshops/{series}").get_data(as_text=True))
    assert code
    joined = admin_browser.post(f"/app/{admin}/workshops", data={"csrf": _token(app, admin), "action": "join", "code": code.group(1)})
    assert joined.status_code == 303, _text(joined)[:500]
    learners = []
    for sub, name, email in PEOPLE:
        browser = app.test_client()
        learner = _launch(lms, browser, sub=sub, staff=False, context="a", name=name, email=email)
        assert browser.get(f"/app/{learner}/workshops/{series}").status_code == 200  # a participant from now on
        learners.append(learner)
    planned = fac_browser.post(f"/app/{facilitator}/workshops/{series}/sessions",
                               data={"csrf": _token(app, facilitator), "block": "samling-1", "starts_at": "2026-11-02T10:00", "assignment": "plan"})
    assert planned.status_code == 303, _text(planned)[:500]
    with app.extensions["smeb.sessions"]() as session:
        ws = max(s.id for s in ws_store.sessions_of(session, series))
    scheduled = admin_browser.post(f"/app/{admin}/surveys", data={"csrf": _token(app, admin), "template": "psych-safety-pulse",
                                                                 "frequency": "once", "starts_on": "2026-11-02", "ends_on": "2026-11-08"})
    assert scheduled.status_code == 303, _text(scheduled)[:500]
    with app.extensions["smeb.sessions"]() as session:
        survey = session.scalars(select(survey_store.Survey.id)).one()
    return World(facilitator, fac_browser, admin, admin_browser, learners, series, code.group(1), ws, survey)


def _leaked_and_own(own: FlaskClient, app: Flask, url: str, shown: str) -> None:
    """The launching browser sees ``shown`` at ``url``; the URL in another browser gets the 403 page."""
    mine = own.get(url)
    assert mine.status_code == 200 and shown in _text(mine), _text(mine)[:500]
    assert_not_bound(app.test_client().get(url))
    assert_not_bound(app.test_client().get(url, headers={"Accept": "text/html"}))


# -- surveys ------------------------------------------------------------------------------------------------


def test_a_leaked_staff_survey_list_gets_the_403_page_and_its_schedule_form_stores_nothing(app: Flask, world: World) -> None:
    url = f"/app/{world.admin}/surveys"
    _leaked_and_own(world.admin_browser, app, url, 'id="schedule"')
    data = {"csrf": _token(app, world.admin), "template": "course-evaluation", "frequency": "once",
            "starts_on": "2026-11-02", "ends_on": "2026-11-03"}
    assert_not_bound(app.test_client().post(url, data=data))
    assert _count(app, survey_store.Survey) == 1


def test_leaked_survey_results_get_the_403_page_and_no_answers(app: Flask, world: World) -> None:
    for i, learner in enumerate(world.learners + [_launch_more(app, world, i) for i in range(3)]):
        browser = app.test_client()
        answered = browser.post(f"/app/{learner}/surveys/{world.survey}", data={"csrf": _token(app, learner), **PULSE, "q-learn": str(1 + i % 5)})
        assert answered.status_code == 303, _text(answered)[:500]
    update_settings(app, {"SMEB_TODAY": "2026-11-09"})  # the period has closed: six answers are shown
    url = f"/app/{world.admin}/surveys/{world.survey}/results"
    _leaked_and_own(world.admin_browser, app, url, 'data-n="6"')
    leaked = _text(app.test_client().get(url))
    assert 'data-n="6"' not in leaked and "data-question" not in leaked
    # checked before the survey is looked up: a leaked URL does not even tell whether a survey id exists
    assert_not_bound(app.test_client().get(f"/app/{world.admin}/surveys/no-such-survey/results"))


def _launch_more(app: Flask, world: World, i: int) -> str:
    """One more learner of firma-a, stored as the LTI layer stores a validated launch (a learner needs no cookie)."""
    from smeb_lti.lti import claims as c
    from smeb_lti.lti import launches

    with session_scope(app.extensions["smeb.sessions"]) as session:
        first = launches.get_launch(session, world.learners[0])
        claims = {"iss": first.issuer, "sub": f"extra-{i}", c.MESSAGE_TYPE: c.RESOURCE_LINK_REQUEST, c.VERSION: "1.3.0",
                  c.DEPLOYMENT_ID: first.deployment_id, c.RESOURCE_LINK: {"id": "rl-1"}, c.ROLES: [LEARNER],
                  c.CUSTOM: {"course": "all-blocks"}, c.CONTEXT: {"id": "a", "title": "Firma a"}}
        return launches.save_launch(session, launches.new_launch_id(), first.registration_id, "client-a", claims, 3600).launch_id


def test_a_leaked_staff_answer_form_gets_the_403_page_and_stores_no_answer(app: Flask, world: World) -> None:
    url = f"/app/{world.admin}/surveys/{world.survey}"
    _leaked_and_own(world.admin_browser, app, url, 'id="answer-form"')
    assert_not_bound(app.test_client().post(url, data={"csrf": _token(app, world.admin), **PULSE}))
    assert _count(app, survey_store.SurveyAnswer) == 0


# -- workshops ----------------------------------------------------------------------------------------------


def test_a_leaked_facilitator_workshop_list_gets_the_403_page_and_creates_no_series(app: Flask, world: World) -> None:
    url = f"/app/{world.facilitator}/workshops"
    _leaked_and_own(world.fac_browser, app, url, "Høstserien")
    leaked = app.test_client()
    assert_not_bound(leaked.post(url, data={"csrf": _token(app, world.facilitator), "action": "create", "title": "Kapret"}))
    assert_not_bound(leaked.post(url, data={"csrf": _token(app, world.facilitator), "action": "join", "code": world.code}))
    assert _count(app, ws_store.Series) == 1


def test_a_leaked_facilitator_series_page_gets_the_403_page_without_join_code_or_companies(app: Flask, world: World) -> None:
    url = f"/app/{world.facilitator}/workshops/{world.series}"
    _leaked_and_own(world.fac_browser, app, url, world.code)
    leaked = _text(app.test_client().get(url))
    assert world.code not in leaked and "Firma a" not in leaked and "Høstserien" not in leaked


def test_leaked_attendance_gets_the_403_page_without_names_and_records_nothing(app: Flask, world: World) -> None:
    url = f"/app/{world.facilitator}/workshops/{world.series}/sessions/{world.session}/attendance"
    _leaked_and_own(world.fac_browser, app, url, "Kari Elektriker")
    with app.extensions["smeb.sessions"]() as session:
        ids = [p.id for p in session.scalars(select(ws_store.Participant))]
    assert_not_bound(app.test_client().post(url, data={"csrf": _token(app, world.facilitator), "present": ids}))
    assert _count(app, ws_store.Attendance) == 0


def test_a_leaked_run_sheet_gets_the_403_page(app: Flask, world: World) -> None:
    url = f"/app/{world.facilitator}/workshops/{world.series}/sessions/{world.session}/runsheet"
    _leaked_and_own(world.fac_browser, app, url, 'id="runsheet"')


def test_the_facilitators_forms_posted_from_another_browser_get_the_403_page_and_change_nothing(app: Flask, world: World) -> None:
    base = f"/app/{world.facilitator}/workshops/{world.series}"
    token = _token(app, world.facilitator)
    leaked = app.test_client()
    cases = [
        (f"{base}/sessions", {"block": "samling-1", "starts_at": "2026-11-09T10:00"}),
        (f"{base}/notes", {"notes": "Kapret"}),
        (f"{base}/sessions/{world.session}/evaluation", {}),
        (f"{base}/surveys", {"template": "psych-safety-pulse", "frequency": "monthly", "starts_on": "2026-11-01", "ends_on": "2027-01-31"}),
    ]
    for url, data in cases:
        assert_not_bound(leaked.post(url, data={"csrf": token, **data}))
    with app.extensions["smeb.sessions"]() as session:
        assert len(ws_store.sessions_of(session, world.series)) == 1
        series = session.get(ws_store.Series, world.series)
        assert series is not None and series.notes == ""
        assert session.get(ws_store.WorkshopSession, world.session).survey_id is None  # type: ignore[union-attr]
    assert _count(app, survey_store.Survey) == 1
    # the same forms from the facilitator's own browser work
    for url, data in cases:
        assert world.fac_browser.post(url, data={"csrf": token, **data}).status_code == 303, url


def test_a_company_admins_leaked_series_page_gets_the_403_page(app: Flask, world: World) -> None:
    url = f"/app/{world.admin}/workshops/{world.series}"
    _leaked_and_own(world.admin_browser, app, url, "Høstserien")
    _leaked_and_own(world.admin_browser, app, f"/app/{world.admin}/workshops", "Høstserien")


def test_a_learners_survey_and_workshop_pages_stay_plain_urls(app: Flask, world: World) -> None:
    """Learners' pages are bearer URLs on purpose (docs/lti.md, "Limits"): no cookie is needed, none is set."""
    learner = world.learners[0]
    for url in (f"/app/{learner}/surveys", f"/app/{learner}/surveys/{world.survey}", f"/app/{learner}/workshops",
                f"/app/{learner}/workshops/{world.series}"):
        assert app.test_client(use_cookies=False).get(url).status_code == 200, url


# -- the player's staff links, and a cookie-less staff browser ----------------------------------------------------


def _ticket_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)[binding.TICKET][0]


def _links(page: str) -> dict[str, str]:
    return {m.group(2): html.unescape(m.group(1)) for m in re.finditer(r'<a href="([^"]+)" id="(smeb-[a-z]+-link)">', page)}


def test_the_players_staff_links_work_in_the_launching_browser_and_not_in_another(app: Flask, lms: Lms) -> None:
    browser = app.test_client()
    launch_id = _launch(lms, browser, sub="leder", staff=True, context="ctx-1")
    links = _links(browser.get(f"/play/{launch_id}").get_data(as_text=True))
    assert {"smeb-roster-link", "smeb-dashboard-link", "smeb-surveys-link", "smeb-workshops-link"} <= set(links)
    for link_id in ("smeb-roster-link", "smeb-dashboard-link", "smeb-surveys-link", "smeb-workshops-link"):
        assert binding.TICKET not in links[link_id]  # the cookie is the proof: plain URLs
        assert browser.get(links[link_id]).status_code == 200, link_id
        assert_not_bound(app.test_client().get(links[link_id]))


def test_a_cookieless_staff_player_links_to_the_roster_dashboard_surveys_and_workshops_by_single_use_tickets(app: Flask, lms: Lms) -> None:
    browser, target = _cookieless_staff_launch(lms, app)
    player = browser.get(f"{urlsplit(target).path}?{urlsplit(target).query}", base_url=HTTPS)
    assert player.status_code == 200
    links = _links(player.get_data(as_text=True))
    for link_id in ("smeb-roster-link", "smeb-dashboard-link", "smeb-surveys-link", "smeb-workshops-link"):
        assert _ticket_of(links[link_id]) != _ticket_of(target), link_id  # a fresh ticket each
    roster = browser.get(links["smeb-roster-link"], base_url=HTTPS)
    assert roster.status_code == 200 and "Kari Elektriker" in _text(roster)  # the NRPS platform's member list
    for link_id in ("smeb-dashboard-link", "smeb-surveys-link", "smeb-workshops-link"):
        assert browser.get(links[link_id], base_url=HTTPS).status_code == 200, link_id
    # each link, once used, is worthless: leaked now (history, a screenshot, a pasted URL), it shows nothing
    for link_id in ("smeb-roster-link", "smeb-dashboard-link", "smeb-surveys-link", "smeb-workshops-link"):
        assert_not_bound(app.test_client().get(links[link_id], base_url=HTTPS))
        assert_not_bound(browser.get(links[link_id], base_url=HTTPS))
    # the launch's own ticket was used by the player page
    assert_not_bound(browser.get(f"/roster/{urlsplit(target).path.rsplit('/', 1)[1]}?{binding.TICKET}={_ticket_of(target)}", base_url=HTTPS))


def test_a_cookieless_facilitator_works_through_the_pages_links_forms_and_redirects(app: Flask, lms: Lms) -> None:
    browser, target = _cookieless_staff_launch(lms, app)
    launch_id = urlsplit(target).path.rsplit("/", 1)[1]
    workshops = _links(browser.get(f"{urlsplit(target).path}?{urlsplit(target).query}", base_url=HTTPS).get_data(as_text=True))["smeb-workshops-link"]
    page = browser.get(workshops, base_url=HTTPS).get_data(as_text=True)
    form = re.search(r'<form[^>]*id="create".*?</form>', page, re.S).group(0)  # type: ignore[union-attr]
    field = re.search(r'name="smeb_ticket" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
    created = browser.post(f"/app/{launch_id}/workshops", base_url=HTTPS,
                           data={"csrf": _token(app, launch_id), "action": "create", "title": "Serie", binding.TICKET: field})
    assert created.status_code == 303, _text(created)[:500]
    series_page = browser.get(created.headers["Location"], base_url=HTTPS)  # the redirect carries a fresh ticket
    assert series_page.status_code == 200 and 'id="join-code"' in series_page.get_data(as_text=True)
    text = series_page.get_data(as_text=True)
    add = re.search(r'<form[^>]*id="add-session".*?</form>', text, re.S).group(0)  # type: ignore[union-attr]
    field = re.search(r'name="smeb_ticket" value="([^"]+)"', add).group(1)  # type: ignore[union-attr]
    series = urlsplit(created.headers["Location"]).path.rsplit("/", 1)[1]
    planned = browser.post(f"/app/{launch_id}/workshops/{series}/sessions", base_url=HTTPS,
                           data={"csrf": _token(app, launch_id), "block": "samling-1", "starts_at": "2026-11-02T10:00", binding.TICKET: field})
    assert planned.status_code == 303
    after = browser.get(planned.headers["Location"].split("#")[0], base_url=HTTPS).get_data(as_text=True)
    attendance = html.unescape(re.search(r'href="([^"]+/attendance[^"]*)"', after).group(1))  # type: ignore[union-attr]
    assert browser.get(attendance, base_url=HTTPS).status_code == 200
    assert_not_bound(browser.get(attendance, base_url=HTTPS))  # once only
    # the same form posted again with its used ticket is refused, and stores nothing more
    again = browser.post(f"/app/{launch_id}/workshops/{series}/sessions", base_url=HTTPS,
                         data={"csrf": _token(app, launch_id), "block": "samling-1", "starts_at": "2026-11-03T10:00", binding.TICKET: field})
    assert_not_bound(again)
    with app.extensions["smeb.sessions"]() as session:
        assert len(ws_store.sessions_of(session, int(series))) == 1


def test_a_staff_launch_of_another_course_cannot_use_its_cookie_here(app: Flask, world: World) -> None:
    """The cookie is per launch: the facilitator's browser holds one, but not for the company admin's launch."""
    assert_not_bound(world.fac_browser.get(f"/app/{world.admin}/surveys"))
    assert_not_bound(world.admin_browser.get(f"/app/{world.facilitator}/workshops/{world.series}"))
    # nor does a cookie with the right name and a made-up value
    forger = app.test_client()
    forger.set_cookie(binding.COOKIE, "0" * 64, path=f"/app/{world.facilitator}/")
    assert_not_bound(forger.get(f"/app/{world.facilitator}/workshops/{world.series}/sessions/{world.session}/attendance"))
