"""Test launches: an app on a migrated database with the all-blocks course and two platforms (two companies).

Launches are stored with :func:`smeb_lti.lti.launches.save_launch`, what the LTI layer does after it has
validated an id_token (the HTTP launch flow itself is tested in tests/smeb_lti/lti and tests/e2e).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

from smeb_lti.db import session_scope
from smeb_lti.lti import claims as c
from smeb_lti.lti import launches, registrations
from tests.support.app import COURSE_SETTINGS, make_app, register_platform

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "courses" / "valid"
ISSUER_A = "https://lms.elektro-a.no"
ISSUER_B = "https://lms.roer-b.no"
LEARNER = ("http://purl.imsglobal.org/vocab/lis/v2/membership#Learner",)
INSTRUCTOR = ("http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor",)
ADMIN = ("http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator",)


def make_journal_app(db_url: str, data_dir: Path, **config: Any) -> Flask:
    """The tool with the all-blocks course and the two companies' platforms registered."""
    app = make_app(db_url, data_dir, courses=["all-blocks"], **{**COURSE_SETTINGS, **config})
    for issuer in (ISSUER_A, ISSUER_B):
        register_platform(app, issuer)
    return app


def launch(app: Flask, *, issuer: str = ISSUER_A, sub: str = "learner-1", roles: tuple[str, ...] = LEARNER,
           locale: str = "nb-NO", course: str | None = "all-blocks", context_id: str = "c1", name: str = "Ola Nordmann") -> str:
    """A stored launch id for ``sub`` at ``issuer`` (one company per issuer in these tests)."""
    claims: dict[str, Any] = {
        "iss": issuer, "sub": sub, "aud": "client-1", "name": name,
        c.MESSAGE_TYPE: c.RESOURCE_LINK_REQUEST, c.VERSION: "1.3.0", c.DEPLOYMENT_ID: "dep-1",
        c.TARGET_LINK_URI: "https://tool.example/lti/launch", c.RESOURCE_LINK: {"id": "rl-1"}, c.ROLES: list(roles),
        c.CUSTOM: {"course": course} if course else {}, c.CONTEXT: {"id": context_id, "title": "Elektro"},
        c.LAUNCH_PRESENTATION: {"locale": locale},
    }
    with session_scope(app.extensions["smeb.sessions"]) as session:
        registration = registrations.find(session, issuer, "client-1")
        assert registration is not None
        return launches.save_launch(session, launches.new_launch_id(), registration.id, "client-1", claims, 3600).launch_id
