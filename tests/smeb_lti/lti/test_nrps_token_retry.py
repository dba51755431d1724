"""NRPS (roster) drops an access token the platform rejects, fetches a new one and retries once (issue 13 item 8)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from smeb_lti.lti.services import lti_services
from tests.smeb_lti.lti.conftest import Lms, launch_id_of, register
from tests.smeb_lti.lti.nrps_platform import NrpsPlatform
from tests.support.lti_platform import PlatformServer


@pytest.fixture
def nrps_platform() -> Iterator[NrpsPlatform]:
    with PlatformServer(NrpsPlatform()) as running:
        yield running  # type: ignore[misc]


@pytest.fixture
def staff(app: Flask, nrps_platform: NrpsPlatform) -> tuple[FlaskClient, str]:
    """An instructor's browser after a real launch (it holds whatever the launch set), and the launch id."""
    register(app, nrps_platform)
    lms = Lms(app, nrps_platform)
    browser = app.test_client()
    login = lms.login(browser)
    launch_id = launch_id_of(lms.post_launch(browser, login.state, lms.id_token(login.nonce, **nrps_platform.staff_claims())))
    return browser, launch_id


def test_a_cached_token_the_platform_revoked_is_dropped_and_the_roster_still_loads(staff: tuple[FlaskClient, str], nrps_platform: NrpsPlatform) -> None:
    browser, launch_id = staff
    first = browser.get(f"/roster/{launch_id}")
    assert first.status_code == 200 and "Kari Elektriker" in first.get_data(as_text=True)
    assert len(nrps_platform.tokens_issued) == 1
    nrps_platform.revoke_all_issued()  # the platform forgets the token long before its expires_in (3600 s)

    again = browser.get(f"/roster/{launch_id}")
    assert again.status_code == 200, again.get_data(as_text=True)
    assert "Kari Elektriker" in again.get_data(as_text=True)
    assert len(nrps_platform.tokens_issued) == 2  # exactly one new token
    old, new = nrps_platform.tokens_issued[0]["token"], nrps_platform.tokens_issued[1]["token"]
    assert nrps_platform.membership_calls == [old, old, new]

    browser.get(f"/roster/{launch_id}")  # and the new token is the cached one now
    assert nrps_platform.membership_calls[-1] == new and len(nrps_platform.tokens_issued) == 2


def test_the_nrps_service_of_a_restored_launch_retries_with_a_new_token_too(app: Flask, staff: tuple[FlaskClient, str], nrps_platform: NrpsPlatform) -> None:
    _, launch_id = staff
    with app.test_request_context("/"):
        assert len(lti_services(app).restore(launch_id).get_nrps().get_members()) == 2
        nrps_platform.revoke_all_issued()
        assert len(lti_services(app).restore(launch_id).get_nrps().get_members()) == 2
    assert len(nrps_platform.tokens_issued) == 2


def test_a_fresh_token_that_is_also_rejected_is_a_clear_502_after_one_retry(staff: tuple[FlaskClient, str], nrps_platform: NrpsPlatform) -> None:
    browser, launch_id = staff
    nrps_platform.reject_all = True
    response = browser.get(f"/roster/{launch_id}")
    text = response.get_data(as_text=True)
    assert response.status_code == 502 and "membership service refused" in text and "401" in text
    assert len(nrps_platform.tokens_issued) == 2 and len(nrps_platform.membership_calls) == 2  # one retry, no loop
