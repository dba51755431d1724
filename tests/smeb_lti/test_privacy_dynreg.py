"""``/lti/register`` makes the server fetch a URL it is given: only an operator's one-time URL or an allowed
origin may use it, and loopback/private targets are refused unless explicitly allowed (real HTTP platform)."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from flask import Flask

from smeb_lti.lti import registrations
from smeb_lti.lti.dynamic_registration import _is_private
from smeb_lti.settings import update_settings
from tests.support.app import dispose, make_app
from tests.support.lti_platform import PlatformServer, PlatformSim


@pytest.fixture
def platform() -> Iterator[PlatformSim]:
    with PlatformServer(PlatformSim()) as running:
        yield running


@pytest.fixture
def config(migrated_db_url: str, tmp_path: Path) -> dict[str, Any]:
    return {"SMEB_DATABASE_URL": migrated_db_url, "SMEB_DATA_DIR": str(tmp_path / "data"), "SMEB_ENV": "development",
            "SMEB_LTI_HTTP_TIMEOUT": 5, "TESTING": True}


@pytest.fixture
def app(config: dict[str, Any]) -> Iterator[Flask]:
    app = make_app(**config)
    yield app
    dispose(app)


def _register(app: Flask, platform: PlatformSim, **extra: str) -> tuple[int, str]:
    query = {"openid_configuration": platform.issuer + "/openid-configuration", "registration_token": "reg-token-1", **extra}
    response = app.test_client().get("/lti/register", query_string=query, base_url="https://kurs.smeb.test")
    return response.status_code, html.unescape(response.get_data(as_text=True))


def _registered(app: Flask) -> int:
    with app.extensions["smeb.sessions"]() as session:
        return len(registrations.all_registrations(session))


def _operator_url(config: dict[str, Any], *options: str) -> str:
    from smeb_lti.cli import main

    env = {"SMEB_DATABASE_URL": config["SMEB_DATABASE_URL"], "SMEB_DATA_DIR": config["SMEB_DATA_DIR"], "SMEB_ENV": "development"}
    result = CliRunner().invoke(main, ["platform", "register-url", "--base-url", "https://kurs.smeb.test", "--hours", "24", *options],
                                env=env)
    assert result.exit_code == 0, result.output
    return result.output.splitlines()[0]


def test_registration_without_an_operator_url_or_an_allowed_origin_is_refused_before_any_fetch(app: Flask, platform: PlatformSim) -> None:
    status, page = _register(app, platform)
    assert status == 403 and "smeb platform register-url" in page and "SMEB_DYNREG_ALLOWED_ORIGINS" in page
    assert platform.requests == [] and _registered(app) == 0


def test_the_refusal_page_tells_the_lms_admin_the_documented_steps(app: Flask, platform: PlatformSim) -> None:
    status, page = _register(app, platform)
    assert status == 403 and 'role="alert"' in page and "SMEB kurs was not registered" in page and '<html lang="en">' in page
    assert "smeb platform register-url" in page and "--allow-private" in page and "Add LTI Advantage" in page
    assert "Manage tools" in page and "Activate" in page


def test_an_operator_url_with_allow_private_registers_an_lms_on_a_private_address(
    app: Flask, platform: PlatformSim, config: dict[str, Any]
) -> None:
    # The simulated LMS is on 127.0.0.1 and SMEB_DYNREG_ALLOW_PRIVATE is not set: the grant travels with the token.
    token = parse_qs(urlsplit(_operator_url(config, "--allow-private")).query)["smeb_token"][0]
    status, page = _register(app, platform, smeb_token=token)
    assert status == 200 and "org.imsglobal.lti.close" in page and _registered(app) == 1


def test_an_operator_url_without_allow_private_names_the_option_for_an_lms_on_a_private_address(
    app: Flask, platform: PlatformSim, config: dict[str, Any]
) -> None:
    token = parse_qs(urlsplit(_operator_url(config)).query)["smeb_token"][0]
    status, page = _register(app, platform, smeb_token=token)
    assert status == 403 and "smeb platform register-url --allow-private" in page and "SMEB_DYNREG_ALLOW_PRIVATE=1" in page
    assert platform.requests == [] and _registered(app) == 0
    # The refusal did not use the URL up: once the environment allows private addresses, it still works.
    update_settings(app, {"SMEB_DYNREG_ALLOW_PRIVATE": "1"})
    assert _register(app, platform, smeb_token=token)[0] == 200


def test_register_url_help_and_output_name_the_moodle_steps(config: dict[str, Any]) -> None:
    from smeb_lti.cli import main

    env = {"SMEB_DATABASE_URL": config["SMEB_DATABASE_URL"], "SMEB_DATA_DIR": config["SMEB_DATA_DIR"], "SMEB_ENV": "development"}
    helped = CliRunner().invoke(main, ["platform", "register-url", "--help"], env=env)
    assert helped.exit_code == 0 and "--allow-private" in helped.output and "Add LTI Advantage" in helped.output
    done = CliRunner().invoke(main, ["platform", "register-url", "--base-url", "https://kurs.smeb.test", "--allow-private"], env=env)
    assert done.exit_code == 0 and "Manage tools" in done.output and "private address" in done.output


def test_an_allowed_origin_on_loopback_is_still_refused_unless_private_targets_are_allowed(app: Flask, platform: PlatformSim) -> None:
    update_settings(app, {"SMEB_DYNREG_ALLOWED_ORIGINS": platform.issuer})
    status, page = _register(app, platform)
    assert status == 403 and "loopback or private address" in page and platform.requests == []
    update_settings(app, {"SMEB_DYNREG_ALLOW_PRIVATE": "1"})
    assert _register(app, platform)[0] == 200 and _registered(app) == 1


def test_the_operators_registration_url_works_once(app: Flask, platform: PlatformSim, config: dict[str, Any]) -> None:
    update_settings(app, {"SMEB_DYNREG_ALLOW_PRIVATE": "1"})
    url = _operator_url(config)
    assert url.startswith("https://kurs.smeb.test/lti/register?smeb_token=")
    token = parse_qs(urlsplit(url).query)["smeb_token"][0]
    with app.extensions["smeb.engine"].connect() as conn:  # the store keeps a hash, never the token
        assert token not in repr(conn.execute(sa.text("SELECT key, value FROM lti_kv")).all())
    status, page = _register(app, platform, smeb_token=token)
    assert status == 200 and "org.imsglobal.lti.close" in page and _registered(app) == 1
    status, page = _register(app, platform, smeb_token=token)
    assert status == 403 and "expired or was used already" in page


def test_a_made_up_or_expired_token_is_refused(app: Flask, platform: PlatformSim, config: dict[str, Any]) -> None:
    update_settings(app, {"SMEB_DYNREG_ALLOW_PRIVATE": "1"})
    assert _register(app, platform, smeb_token="guessed")[0] == 403
    token = parse_qs(urlsplit(_operator_url(config)).query)["smeb_token"][0]
    with app.extensions["smeb.engine"].begin() as conn:
        conn.execute(sa.text("UPDATE lti_kv SET expires_at = :past WHERE key LIKE 'dynreg-token:%'"),
                     {"past": dt.datetime(2000, 1, 1, tzinfo=dt.UTC)})
    assert _register(app, platform, smeb_token=token)[0] == 403 and platform.requests == [] and _registered(app) == 0


def test_a_failed_registration_does_not_use_up_the_operators_url(app: Flask, platform: PlatformSim, config: dict[str, Any]) -> None:
    update_settings(app, {"SMEB_DYNREG_ALLOW_PRIVATE": "1"})
    token = parse_qs(urlsplit(_operator_url(config)).query)["smeb_token"][0]
    assert _register(app, platform, smeb_token=token, registration_token="wrong")[0] == 502  # the LMS refused its own token
    assert _register(app, platform, smeb_token=token)[0] == 200


@pytest.mark.parametrize(("host", "private"), [
    ("127.0.0.1", True), ("localhost", True), ("10.1.2.3", True), ("192.168.0.10", True), ("169.254.169.254", True), ("::1", True),
    ("0.0.0.0", True), ("93.184.216.34", False), ("2a00:1450:4001::1", False),
])
def test_loopback_private_link_local_and_unspecified_addresses_count_as_private(host: str, private: bool) -> None:
    assert _is_private(host) is private
