"""Companies, launches and learners for the dashboard, completion and tenant-isolation tests.

Launches are stored with :func:`smeb_lti.lti.launches.save_launch` (what the LTI layer does after it
validated an id_token; the HTTP launch itself is covered end to end in tests/e2e). Learner events go
through the real player host endpoints, so completion and certificates happen the way they do in use.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from smeb_lti.db import session_scope
from smeb_lti.lti import claims as c
from smeb_lti.lti import launches, registrations

COURSE_IRI = "https://smeb.no/courses/test-all-blocks"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
ADMIN = "http://purl.imsglobal.org/vocab/lis/v2/membership#Administrator"
RIGHT = {"q-single": ["a"], "q-multi": ["tidspress", "hierarki"], "q-tf": ["true"]}  # 2 + 2 + 1 points; passing 50 %
WRONG = {"q-single": ["b"], "q-multi": ["kaffe"], "q-tf": ["false"]}


@dataclass(frozen=True)
class Company:
    """One tenant: a platform registration (issuer + client id), a deployment and an LMS course context."""

    issuer: str
    client_id: str
    deployment_id: str
    context_id: str
    title: str = "Elektro Nord AS"


COMPANY_A = Company("https://lms.example.no", "client-a", "dep-a", "ctx-a", "Elektro Nord AS")
COMPANY_B = Company("https://lms.example.no", "client-a", "dep-a", "ctx-b", "Kraftverk Sør AS")  # same LMS, another course context
# Canvas cloud: one issuer for every school; another registration (client id) with its own deployment.
COMPANY_C = Company("https://canvas.instructure.com", "client-c1", "dep-c1", "ctx-a", "Canvas kunde 1")
COMPANY_D = Company("https://canvas.instructure.com", "client-c2", "dep-c2", "ctx-a", "Canvas kunde 2")


def register(app: Flask, company: Company) -> None:
    """Register the company's platform (once per issuer + client id; extra deployments are added)."""
    with session_scope(app.extensions["smeb.sessions"]) as session:
        found = registrations.find(session, company.issuer, company.client_id)
        if found is None:
            registrations.add(session, registrations.RegistrationInput(
                issuer=company.issuer, client_id=company.client_id, auth_login_url=company.issuer + "/auth",
                auth_token_url=company.issuer + "/token", key_set_url=company.issuer + "/jwks", deployment_ids=(company.deployment_id,)))


def launch(app: Flask, company: Company, sub: str, *, name: str | None = "Ola Nordmann", roles: tuple[str, ...] = (LEARNER,),
           custom: dict[str, str] | None = None, locale: str = "nb-NO", lis_section: str | None = None) -> str:
    """Store a validated resource-link launch of ``sub`` in ``company`` and return its launch id."""
    register(app, company)
    claims: dict[str, Any] = {
        "iss": company.issuer, "sub": sub, "aud": company.client_id,
        c.MESSAGE_TYPE: c.RESOURCE_LINK_REQUEST, c.VERSION: "1.3.0", c.DEPLOYMENT_ID: company.deployment_id,
        c.TARGET_LINK_URI: "https://tool.example/lti/launch", c.RESOURCE_LINK: {"id": "rl-1"}, c.ROLES: list(roles),
        c.CUSTOM: custom if custom is not None else {"course": "all-blocks"},
        c.CONTEXT: {"id": company.context_id, "title": company.title},
        c.LAUNCH_PRESENTATION: {"locale": locale},
    }
    if name is not None:
        claims["name"] = name
    if lis_section is not None:
        claims["https://purl.imsglobal.org/spec/lti/claim/lis"] = {"course_section_sourcedid": lis_section}
    with session_scope(app.extensions["smeb.sessions"]) as session:
        registration = registrations.find(session, company.issuer, company.client_id)
        assert registration is not None
        return launches.save_launch(session, launches.new_launch_id(), registration.id, company.client_id, claims, 3600).launch_id


def open_player(client: FlaskClient, launch_id: str) -> dict[str, Any]:
    """What the browser does first: the player page (which records the learner for the dashboard), then its config."""
    assert client.get(f"/play/{launch_id}").status_code == 200
    response = client.get(f"/play/{launch_id}/smeb-config.json")
    assert response.status_code == 200
    return response.get_json()  # type: ignore[no-any-return]


def event(client: FlaskClient, config: dict[str, Any], type_: str, data: dict[str, Any]) -> Any:
    # The learner's clock says "now": the dashboard's period filters are about today.
    time = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    body = {"id": str(uuid.uuid4()), "type": type_, "time": time, "courseId": config["courseId"], "data": data}
    return client.post(config["eventsUrl"], json=body, headers={config["tokenHeader"]: config["token"]})


def complete(app: Flask, launch_id: str, *, wrong: tuple[str, ...] = ()) -> dict[str, Any]:
    """Open the player, answer every quiz (right unless named in ``wrong``) and report the outcome."""
    client = app.test_client()
    config = open_player(client, launch_id)
    for quiz, right in RIGHT.items():
        response = WRONG[quiz] if quiz in wrong else right
        assert event(client, config, "answered", {"blockId": quiz, "response": response}).status_code == 200
    done = event(client, config, "outcome", {"completed": True, "passed": not wrong, "progress": 1})
    assert done.status_code == 200, done.get_data(as_text=True)
    return done.get_json()  # type: ignore[no-any-return]


def staff_client(app: Flask, *launch_ids: str) -> FlaskClient:
    """A browser holding the launch cookie of these launches, as the launch response sets it (smeb_lti.lti.binding).

    Launches here are stored directly, without the HTTP launch that would set the cookie; staff pages
    refuse a browser without it (tests/smeb_lti/lti/test_staff_binding.py covers the HTTP launch).
    """
    from smeb_lti.lti import binding

    client = app.test_client()
    for launch_id in launch_ids:
        for path in binding.staff_paths(launch_id):
            client.set_cookie(binding.COOKIE, binding.proof(str(app.config["SECRET_KEY"]), launch_id), path=path)
    return client
