"""Launches arriving together right after the platform rotated its key all succeed (issue 13 item 7).

Two app instances on one database are two gunicorn workers; each takes four launches on its own
thread, all released at once by a barrier. The platform's JWKS is served over real HTTP on
127.0.0.1 and answers slowly (0.3 s), as a busy LMS does, so the re-fetch races really overlap.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.smeb_lti.lti.conftest import CLIENT_ID, Lms, stored_launches
from tests.support.app import make_app
from tests.support.lti_platform import PlatformKey, PlatformSim

LAUNCHES = 8


@pytest.fixture
def second_worker(tool_config: dict[str, Any], app: Flask) -> Iterator[Flask]:
    other = make_app(**tool_config)
    yield other
    other.extensions["smeb.engine"].dispose()


def _prepared(lms: Lms, workers: list[Flask], key: PlatformKey | None) -> list[tuple[FlaskClient, str, str]]:
    """``LAUNCHES`` browsers that each completed the login on one worker: (browser, state, id_token signed with ``key``)."""
    out = []
    for n in range(LAUNCHES):
        browser = workers[n % len(workers)].test_client()
        login = lms.login(browser)
        claims = lms.platform.claims(client_id=CLIENT_ID, deployment_id="dep-1", nonce=login.nonce)
        out.append((browser, login.state, lms.platform.mint(claims, key=key or PlatformKey.generate("forged-" + uuid.uuid4().hex[:8]))))
    return out


def _post_together(lms: Lms, prepared: list[tuple[FlaskClient, str, str]]) -> list[tuple[int, str]]:
    results: list[tuple[int, str]] = []
    barrier = threading.Barrier(len(prepared))
    lock = threading.Lock()

    def post(browser: FlaskClient, state: str, token: str) -> None:
        barrier.wait()
        response = lms.post_launch(browser, state, token)
        with lock:
            results.append((response.status_code, response.get_data(as_text=True)))

    threads = [threading.Thread(target=post, args=item) for item in prepared]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_concurrent_launches_right_after_a_key_rotation_all_succeed_with_one_refetch(
    app: Flask, second_worker: Flask, lms: Lms, platform: PlatformSim
) -> None:
    assert lms.launch(app.test_client()).status_code == 303  # the old key set is cached now
    assert platform.count("/jwks") == 1
    rotated = PlatformKey.generate("kid-rotated")
    platform.keys = [rotated]  # the platform rotated: only the new key is published
    platform.jwks_delay = 0.3
    prepared = _prepared(lms, [app, second_worker], rotated)

    results = _post_together(lms, prepared)

    assert [status for status, _ in results] == [303] * LAUNCHES, [r for r in results if r[0] != 303]
    assert platform.count("/jwks") == 2  # one single-flight re-fetch for all eight
    assert stored_launches(app) == 1 + LAUNCHES


def test_tokens_with_made_up_kids_cannot_make_the_tool_hammer_the_platform(
    app: Flask, second_worker: Flask, lms: Lms, platform: PlatformSim
) -> None:
    assert lms.launch(app.test_client()).status_code == 303
    prepared = _prepared(lms, [app, second_worker], None)  # each token names another random kid

    results = _post_together(lms, prepared)
    results += _post_together(lms, _prepared(lms, [app, second_worker], None))  # and a second wave

    assert all(status == 401 and "no key with kid" in text for status, text in results), results
    assert platform.count("/jwks") == 2  # at most one re-fetch per SMEB_LTI_JWKS_REFETCH_INTERVAL (10 s)
    assert stored_launches(app) == 1
