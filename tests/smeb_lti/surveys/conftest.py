"""An app on SQLite and PostgreSQL with the all-blocks course and launches of several companies."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from smeb_lti.db import session_scope
from smeb_lti.lti import claims as c
from smeb_lti.lti import launches, registrations
from tests.support.app import COURSE_SETTINGS, dispose, make_app, register_platform

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "courses" / "valid"
ISSUER = "https://lms.example.no"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"


@pytest.fixture
def app(migrated_db_url: str, tmp_path: Path) -> Iterator[Flask]:
    app = make_app(migrated_db_url, tmp_path / "data", courses=["all-blocks"], **COURSE_SETTINGS, SMEB_TODAY="2026-11-02")
    register_platform(app, ISSUER)
    yield app
    dispose(app)


def launch(app: Flask, *, sub: str = "learner-1", staff: bool = False, context: str = "firma-a", title: str | None = None,
           locale: str = "nb-NO", course: str = "all-blocks") -> str:
    """A stored launch, as the LTI layer leaves it after validating an id_token."""
    claims: dict[str, Any] = {
        "iss": ISSUER, "sub": sub, "aud": "client-1", "name": f"Navn {sub}",
        c.MESSAGE_TYPE: c.RESOURCE_LINK_REQUEST, c.VERSION: "1.3.0", c.DEPLOYMENT_ID: "dep-1",
        c.TARGET_LINK_URI: "https://tool.example/lti/launch", c.RESOURCE_LINK: {"id": "rl-1"},
        c.ROLES: [INSTRUCTOR if staff else LEARNER], c.CUSTOM: {"course": course},
        c.CONTEXT: {"id": context, "title": title or f"Elektro {context}"}, c.LAUNCH_PRESENTATION: {"locale": locale},
    }
    with session_scope(app.extensions["smeb.sessions"]) as session:
        registration = registrations.find(session, ISSUER, "client-1")
        assert registration is not None
        return launches.save_launch(session, launches.new_launch_id(), registration.id, "client-1", claims, 3600).launch_id


def staff_client(app: Flask, *launch_ids: str) -> FlaskClient:
    """The browser that did these launches: it holds each one's launch cookie, as the HTTP launch sets it.

    Launches here are stored directly, without the HTTP launch that sets the cookie (smeb_lti.lti.binding);
    a staff launch's pages refuse any other browser (tests/smeb_lti/test_staff_binding_more.py).
    """
    from smeb_lti.lti import binding

    client = app.test_client()
    for launch_id in launch_ids:
        for path in binding.staff_paths(launch_id):
            client.set_cookie(binding.COOKIE, binding.proof(str(app.config["SECRET_KEY"]), launch_id), path=path)
    return client


def csrf_of(client: FlaskClient, url: str) -> str:
    page = client.get(url).get_data(as_text=True)
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
    assert found, page[:2000]
    return found.group(1)


def token_for(app: Flask, launch_id: str) -> str:
    """This launch's CSRF token, for posts from pages that render no form (what a forger would need)."""
    from smeb_lti.surveys.pages import csrf_token

    with app.test_request_context():
        return csrf_token(launch_id)
