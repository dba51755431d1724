"""Login initiations are rate-limited; oversized and long-lived id_tokens are refused (issue 13 item 10).

Each refusal on its own: a 4xx in the form the client expects, the setting named in the message,
nothing stored for the refused request.
"""

from __future__ import annotations

import html
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from smeb_lti.lti.storage import KvEntry
from smeb_lti.settings import Settings, SettingsError
from tests.smeb_lti.lti.conftest import CLIENT_ID, Lms, launch_id_of, register, stored_launches
from tests.support.app import make_app
from tests.support.lti_platform import PlatformSim


def _kv_keys(app: Flask, prefix: str = "") -> list[str]:
    with app.extensions["smeb.sessions"]() as session:
        return [k for k in session.scalars(select(KvEntry.key)) if k.startswith(prefix)]


def _login(client: FlaskClient, platform: PlatformSim, address: str = "192.0.2.10", **extra: str) -> TestResponse:
    query = {"iss": platform.issuer, "login_hint": "u-1", "target_link_uri": "http://localhost/lti/launch", "client_id": CLIENT_ID, **extra}
    return client.get("/lti/login", query_string=query, environ_base={"REMOTE_ADDR": address})


def _text(response: TestResponse) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def limited(tool_config: dict[str, Any], platform: PlatformSim) -> Iterator[tuple[Flask, Flask]]:
    """Two workers on one database with small limits: 3 logins a minute per address, 5 per issuer."""
    config = {**tool_config, "SMEB_LOGIN_RATE_PER_ADDRESS": 3, "SMEB_LOGIN_RATE_PER_ISSUER": 5}
    one, two = make_app(**config), make_app(**config)
    register(one, platform)
    yield one, two
    for app in (one, two):
        app.extensions["smeb.engine"].dispose()


def _at_start_of_a_minute() -> None:
    """The windows are whole minutes: keep a test's logins inside one of them."""
    if time.time() % 60 > 50:
        time.sleep(61 - time.time() % 60)


def test_logins_from_one_address_are_limited_across_workers_with_429_and_retry_after(limited: tuple[Flask, Flask], platform: PlatformSim) -> None:
    one, two = limited
    _at_start_of_a_minute()
    assert [_login(w.test_client(), platform).status_code for w in (one, two, one)] == [302, 302, 302]
    states = len(_kv_keys(one, "state:"))

    refused = _login(two.test_client(), platform)

    assert refused.status_code == 429
    assert "SMEB_LOGIN_RATE_PER_ADDRESS" in _text(refused) and "3 a minute" in _text(refused)
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert len(_kv_keys(one, "state:")) == states == 3  # the refused login stored no state
    assert not [c for c in refused.headers.getlist("Set-Cookie") if c.startswith("lti_state_")]
    # another address is not affected
    assert _login(one.test_client(), platform, address="198.51.100.7").status_code == 302


def test_a_refused_login_answers_json_to_a_client_that_asks_for_it(limited: tuple[Flask, Flask], platform: PlatformSim) -> None:
    one, _ = limited
    _at_start_of_a_minute()
    for _ in range(3):
        _login(one.test_client(), platform)
    query = {"iss": platform.issuer, "login_hint": "u-1", "target_link_uri": "http://localhost/lti/launch", "client_id": CLIENT_ID}
    refused = one.test_client().get("/lti/login", query_string=query, environ_base={"REMOTE_ADDR": "192.0.2.10"}, headers={"Accept": "application/json"})
    assert refused.status_code == 429 and refused.get_json()["error"] == "RateLimited" and "Retry-After" in refused.headers


def test_ipv6_addresses_of_one_64_block_share_a_counter(limited: tuple[Flask, Flask], platform: PlatformSim) -> None:
    one, _ = limited
    _at_start_of_a_minute()
    statuses = [_login(one.test_client(), platform, address=f"2001:db8:1:2::{n}").status_code for n in range(1, 5)]
    assert statuses == [302, 302, 302, 429]


def test_logins_for_one_issuer_are_limited_whatever_the_address(limited: tuple[Flask, Flask], platform: PlatformSim) -> None:
    one, two = limited
    _at_start_of_a_minute()
    statuses = [_login((one, two)[n % 2].test_client(), platform, address=f"203.0.113.{n}").status_code for n in range(6)]
    assert statuses == [302] * 5 + [429]
    refused = _login(one.test_client(), platform, address="203.0.113.99")
    assert refused.status_code == 429 and "SMEB_LOGIN_RATE_PER_ISSUER" in _text(refused)


def test_a_login_for_an_unregistered_issuer_writes_nothing(limited: tuple[Flask, Flask]) -> None:
    one, _ = limited
    for n in range(10):  # more than the limit: an unknown issuer is refused from a read, never counted or stored
        query = {"iss": f"https://forged-{n}.example", "login_hint": "x", "target_link_uri": "http://localhost/lti/launch"}
        assert one.test_client().get("/lti/login", query_string=query).status_code == 400
    assert _kv_keys(one) == []


def test_a_login_writes_one_state_row_and_no_nonce_row(app: Flask, lms: Lms, platform: PlatformSim) -> None:
    _at_start_of_a_minute()
    for _ in range(3):
        lms.login(app.test_client())
    keys = _kv_keys(app)
    assert len([k for k in keys if k.startswith("state:")]) == 3
    assert len([k for k in keys if k.startswith("rate:")]) == 2  # one counter per address and per issuer, per minute
    assert not [k for k in keys if not k.startswith(("state:", "rate:"))], keys


# -- the id_token ------------------------------------------------------------------------------


def test_a_200_kb_id_token_is_refused_before_parsing_with_413(app: Flask, lms: Lms) -> None:
    client = app.test_client()
    login = lms.login(client)
    token = lms.id_token(login.nonce, padding="x" * 200_000)  # validly signed, 200 KB
    response = lms.post_launch(client, login.state, token)
    assert response.status_code == 413, _text(response)
    assert "SMEB_MAX_ID_TOKEN_BYTES" in _text(response) and "65536 bytes" in _text(response)
    assert stored_launches(app) == 0
    # the refusal used nothing up: this browser's state is still there for a proper launch
    launch_id_of(lms.post_launch(client, login.state, lms.id_token(login.nonce)))


def test_the_id_token_limit_is_a_setting_and_holds_for_a_small_body_too(tool_config: dict[str, Any], platform: PlatformSim) -> None:
    small = make_app(**{**tool_config, "SMEB_MAX_ID_TOKEN_BYTES": 4096})
    try:
        register(small, platform)
        lms = Lms(small, platform)
        client = small.test_client()
        login = lms.login(client)
        token = lms.id_token(login.nonce, padding="y" * 3000)  # about 5 KB: under the body check, over the token check
        assert 4096 < len(token) < 4096 + 8192
        response = lms.post_launch(client, login.state, token)
        assert response.status_code == 413 and "4096 bytes" in _text(response)
        assert stored_launches(small) == 0
        launch_id_of(lms.post_launch(client, login.state, lms.id_token(login.nonce)))
    finally:
        small.extensions["smeb.engine"].dispose()


def test_an_id_token_with_exp_ten_years_ahead_is_refused(app: Flask, lms: Lms) -> None:
    client = app.test_client()
    login = lms.login(client)
    now = int(time.time())
    response = lms.post_launch(client, login.state, lms.id_token(login.nonce, iat=now, exp=now + 10 * 365 * 86400))
    assert response.status_code == 401
    assert "'exp' is" in _text(response) and "SMEB_MAX_TOKEN_LIFETIME" in _text(response)
    assert stored_launches(app) == 0


def test_an_id_token_with_exp_within_the_lifetime_is_accepted(app: Flask, lms: Lms) -> None:
    client = app.test_client()
    login = lms.login(client)
    now = int(time.time())
    launch_id_of(lms.post_launch(client, login.state, lms.id_token(login.nonce, iat=now, exp=now + 3000)))


def test_an_id_token_issued_in_the_future_is_refused(app: Flask, lms: Lms) -> None:
    client = app.test_client()
    login = lms.login(client)
    now = int(time.time())
    response = lms.post_launch(client, login.state, lms.id_token(login.nonce, iat=now + 600, exp=now + 900))
    assert response.status_code == 401 and "not valid yet" in _text(response) and "iat" in _text(response)
    assert stored_launches(app) == 0


# -- settings ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value", "phrase"),
    [
        ("SMEB_LOGIN_RATE_PER_ADDRESS", "many", "logins per minute"),
        ("SMEB_LOGIN_RATE_PER_ISSUER", "0", "greater than 0"),
        ("SMEB_MAX_ID_TOKEN_BYTES", "10", "1024 to 1048576 bytes"),
        ("SMEB_MAX_TOKEN_LIFETIME", "-5", "greater than 0"),
        ("SMEB_LTI_JWKS_REFETCH_INTERVAL", "soon", "number of seconds"),
        ("SMEB_STAFF_TICKET_TTL", "1.5", "whole number"),
    ],
)
def test_a_bad_limit_setting_is_named_in_the_error(tmp_path: Path, name: str, value: str, phrase: str) -> None:
    with pytest.raises(SettingsError, match=name) as raised:
        Settings.from_env({"SMEB_DATA_DIR": str(tmp_path)}, {name: value}).with_development_secrets()
    assert phrase in str(raised.value)


def test_the_limits_have_safe_defaults(tmp_path: Path) -> None:
    settings = Settings.from_env({"SMEB_DATA_DIR": str(tmp_path)}, {}).with_development_secrets()
    assert (settings.login_rate_per_address, settings.login_rate_per_issuer) == (60, 1200)
    assert (settings.max_id_token_bytes, settings.max_token_lifetime) == (65536, 3600)
    assert (settings.jwks_refetch_interval, settings.staff_ticket_ttl) == (10, 600)


def test_with_redis_the_login_limit_is_counted_in_redis_across_workers(tool_config: dict[str, Any], platform: PlatformSim, redis_url: str) -> None:
    config = {**tool_config, "SMEB_REDIS_URL": redis_url, "SMEB_LOGIN_RATE_PER_ADDRESS": 2, "SMEB_LOGIN_RATE_PER_ISSUER": 100}
    one, two = make_app(**config), make_app(**config)
    try:
        register(one, platform)
        _at_start_of_a_minute()
        address = f"192.0.2.{int(time.time()) % 200 + 1}"  # Redis outlives the test: a fresh address for this run
        statuses = [_login(w.test_client(), platform, address=address).status_code for w in (one, two, one)]
        assert statuses == [302, 302, 429]
        assert _kv_keys(one) == []  # nothing of it in the database
    finally:
        for app in (one, two):
            app.extensions["smeb.engine"].dispose()
