"""No per-process state: a launch may land on any worker; tenants sharing an issuer never cross."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from flask import Flask

from smeb_lti.lti.launches import get_launch
from smeb_lti.lti.services import lti_services
from tests.smeb_lti.lti.conftest import (
    Lms,
    launch_id_of,
    register,
    stored_launches,
)
from tests.support.app import make_app
from tests.support.lti_platform import PlatformSim

AGS_SCOPES = [
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
]


@pytest.fixture
def second_worker(tool_config: dict[str, Any], app: Flask) -> Iterator[Flask]:
    """Another app instance on the same database: what a second gunicorn worker is."""
    other = make_app(**tool_config)
    yield other
    other.extensions["smeb.engine"].dispose()


def test_a_login_on_one_worker_and_its_launch_on_another_succeeds(app: Flask, second_worker: Flask, lms: Lms) -> None:
    login = lms.login(app.test_client())
    browser_on_worker_2 = second_worker.test_client()
    browser_on_worker_2.set_cookie("lti_state_" + login.state, login.state, path="/lti/")
    launch_id = launch_id_of(lms.post_launch(browser_on_worker_2, login.state, lms.id_token(login.nonce)))
    with app.extensions["smeb.sessions"]() as session:  # and worker 1 serves the player
        assert get_launch(session, launch_id).subject == "user-123"


def test_a_replay_on_another_worker_is_refused(app: Flask, second_worker: Flask, lms: Lms) -> None:
    client = app.test_client()
    login = lms.login(client)
    token = lms.id_token(login.nonce)
    launch_id_of(lms.post_launch(client, login.state, token))
    replay = second_worker.test_client()
    replay.set_cookie("lti_state_" + login.state, login.state, path="/lti/")
    response = lms.post_launch(replay, login.state, token)
    assert response.status_code == 401 and "already used" in response.get_data(as_text=True)
    assert stored_launches(app) == 1


def test_the_same_id_token_posted_to_two_workers_at_once_is_accepted_exactly_once(app: Flask, second_worker: Flask, lms: Lms) -> None:
    login = lms.login(app.test_client())
    token = lms.id_token(login.nonce)
    statuses: list[int] = []
    barrier = threading.Barrier(2)

    def post(worker: Flask) -> None:
        client = worker.test_client()
        client.set_cookie("lti_state_" + login.state, login.state, path="/lti/")
        barrier.wait()
        statuses.append(lms.post_launch(client, login.state, token).status_code)

    threads = [threading.Thread(target=post, args=(w,)) for w in (app, second_worker)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(statuses) == [303, 401]
    assert stored_launches(app) == 1


def test_the_nonce_store_hands_out_a_nonce_exactly_once_across_workers(app: Flask, second_worker: Flask) -> None:
    first, second = lti_services(app).store, lti_services(second_worker).store
    first.put("nonce-test", {"n": 1}, 60)
    assert second.consume("nonce-test") == {"n": 1}
    assert first.consume("nonce-test") is None and second.consume("nonce-test") is None


def test_two_registrations_on_one_issuer_get_their_own_launches_and_access_tokens(app: Flask, platform: PlatformSim, lms: Lms) -> None:
    register(app, platform, client_id="client-b", deployments=("dep-b",))
    lms_b = Lms(app, platform, client_id="client-b", deployment_id="dep-b")
    scope = {"scope": AGS_SCOPES, "lineitems": platform.issuer + "/lineitems"}
    ags = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
    launch_a = launch_id_of(lms.launch(app.test_client(), **{ags: scope}))
    launch_b = launch_id_of(lms_b.launch(app.test_client(), **{ags: scope}))
    with app.extensions["smeb.sessions"]() as session:
        a, b = get_launch(session, launch_a), get_launch(session, launch_b)
    assert (a.client_id, b.client_id) == ("client-a", "client-b") and a.registration_id != b.registration_id

    # a client id from one tenant with the deployment of the other is refused
    response = lms_b.launch(app.test_client(), **{"https://purl.imsglobal.org/spec/lti/claim/deployment_id": "dep-1"})
    assert response.status_code == 400

    def lineitems(launch_id: str) -> None:
        with app.test_request_context("/"):
            list(lti_services(app).restore(launch_id).get_ags().get_lineitems())

    lineitems(launch_a)
    lineitems(launch_b)
    lineitems(launch_a)
    lineitems(launch_b)
    issued = {t["client_id"]: t["token"] for t in platform.tokens_issued}
    assert sorted(issued) == ["client-a", "client-b"] and len(platform.tokens_issued) == 2  # cached per client
    used = [auth for path, auth in platform.requests if path == "/lineitems"]
    assert used == [f"Bearer {issued['client-a']}", f"Bearer {issued['client-b']}"] * 2

    # the client assertion is signed with the key the tool publishes
    tool_keys = app.test_client().get("/.well-known/jwks.json").get_json()["keys"]
    assertion = platform.tokens_issued[0]["assertion"]
    kid = jwt.get_unverified_header(assertion)["kid"]
    key = jwt.PyJWK(next(k for k in tool_keys if k["kid"] == kid))
    claims = jwt.decode(assertion, key, algorithms=["RS256"], audience=platform.token_url)
    assert claims["iss"] == claims["sub"] == "client-a"


def test_access_tokens_are_shared_by_workers(app: Flask, second_worker: Flask, platform: PlatformSim, lms: Lms) -> None:
    ags = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
    launch_id = launch_id_of(lms.launch(app.test_client(), **{ags: {"scope": AGS_SCOPES, "lineitems": platform.issuer + "/lineitems"}}))
    for worker in (app, second_worker):
        with worker.test_request_context("/"):
            list(lti_services(worker).restore(launch_id).get_ags().get_lineitems())
    assert len(platform.tokens_issued) == 1


def test_restoring_an_unknown_launch_is_a_404(app: Flask) -> None:
    from smeb_lti.lti.errors import LaunchNotFound

    with app.test_request_context("/"), pytest.raises(LaunchNotFound):
        lti_services(app).restore("no-such-launch")
