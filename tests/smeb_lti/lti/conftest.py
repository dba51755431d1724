"""Fixtures for the LTI tool tests: a real platform over HTTP, the tool on SQLite and PostgreSQL, an LMS driver."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.support.app import dispose, make_app
from tests.support.lti_platform import LTI, PlatformServer, PlatformSim

CLIENT_ID = "client-a"
DEPLOYMENT_ID = "dep-1"


@pytest.fixture
def platform() -> Iterator[PlatformSim]:
    with PlatformServer(PlatformSim()) as running:
        yield running


@pytest.fixture
def tool_config(migrated_db_url: str, tmp_path: Path) -> dict[str, Any]:
    return {
        "SMEB_DATABASE_URL": migrated_db_url,
        "SMEB_DATA_DIR": str(tmp_path / "data"),
        "SMEB_ENV": "development",
        "SMEB_LTI_HTTP_TIMEOUT": 5,
        "TESTING": True,
    }


@pytest.fixture
def app(tool_config: dict[str, Any]) -> Iterator[Flask]:
    app = make_app(**tool_config)
    yield app
    dispose(app)


def register(app: Flask, platform: PlatformSim, client_id: str = CLIENT_ID, deployments: tuple[str, ...] = (DEPLOYMENT_ID,)) -> int:
    from smeb_lti.db import session_scope
    from smeb_lti.lti import registrations

    with session_scope(app.extensions["smeb.sessions"]) as session:
        row = registrations.add(
            session,
            registrations.RegistrationInput(
                issuer=platform.issuer,
                client_id=client_id,
                auth_login_url=platform.auth_url,
                auth_token_url=platform.token_url,
                key_set_url=platform.jwks_url,
                deployment_ids=deployments,
            ),
        )
        return row.id


@dataclass
class Login:
    state: str
    nonce: str
    response: TestResponse


@dataclass
class Lms:
    """Drives the browser side of a launch the way a platform would, with a real id_token."""

    app: Flask
    platform: PlatformSim
    client_id: str = CLIENT_ID
    deployment_id: str = DEPLOYMENT_ID

    def login(self, client: FlaskClient, method: str = "GET", **params: str) -> Login:
        query = {"iss": self.platform.issuer, "login_hint": "u-123", "target_link_uri": "http://localhost/lti/launch", "client_id": self.client_id}
        query.update(params)
        if method == "GET":
            response = client.get("/lti/login", query_string=query)
        else:
            response = client.post("/lti/login", data=query)
        assert response.status_code == 302, response.get_data(as_text=True)
        auth = parse_qs(urlsplit(response.headers["Location"]).query)
        return Login(state=auth["state"][0], nonce=auth["nonce"][0], response=response)

    def id_token(self, issued_nonce: str, /, **overrides: Any) -> str:
        deployment_id = overrides.pop("deployment_id", self.deployment_id)
        nonce_value = overrides.pop("nonce", issued_nonce)
        body = self.platform.claims(client_id=self.client_id, deployment_id=deployment_id, nonce=nonce_value, **overrides)
        if deployment_id is None:
            del body[LTI + "deployment_id"]
        if nonce_value is None:
            del body["nonce"]
        return self.platform.mint(body)

    def post_launch(self, client: FlaskClient, state: str, id_token: str, follow_repost: bool = True, **extra: str) -> TestResponse:
        """The platform's form POST; like a browser, the tool's same-site repost page (plain HTTP, no cookie) is followed."""
        response = client.post("/lti/launch", data={"state": state, "id_token": id_token, **extra})
        if follow_repost and response.status_code == 200 and 'name="lti_repost"' in response.get_data(as_text=True):
            response = client.post("/lti/launch", data={"state": state, "id_token": id_token, "lti_repost": "1", **extra})
        return response

    def launch(self, client: FlaskClient, **overrides: Any) -> TestResponse:
        login = self.login(client)
        return self.post_launch(client, login.state, self.id_token(login.nonce, **overrides))


@pytest.fixture
def registration_id(app: Flask, platform: PlatformSim) -> int:
    return register(app, platform)


@pytest.fixture
def lms(app: Flask, platform: PlatformSim, registration_id: int) -> Lms:
    return Lms(app, platform)


def launch_id_of(response: TestResponse) -> str:
    assert response.status_code == 303, response.get_data(as_text=True)
    return response.headers["Location"].rsplit("/", 1)[1]


def stored_launches(app: Flask) -> int:
    from sqlalchemy import func, select

    from smeb_lti.lti.launches import Launch

    with app.extensions["smeb.sessions"]() as session:
        return session.scalar(select(func.count()).select_from(Launch)) or 0
