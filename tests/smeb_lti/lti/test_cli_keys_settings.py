"""`smeb platform` and `smeb keys`, key encryption and rotation, and start-up validation of the settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from smeb_lti.cli import main
from smeb_lti.db import make_engine, session_scope
from smeb_lti.lti import keys
from smeb_lti.lti.errors import ToolKeyError
from smeb_lti.settings import Settings, SettingsError


@pytest.fixture
def env(migrated_db_url: str, tmp_path: Path) -> dict[str, str]:
    return {"SMEB_DATABASE_URL": migrated_db_url, "SMEB_DATA_DIR": str(tmp_path / "data"), "SMEB_KEY_ENCRYPTION_KEY": Fernet.generate_key().decode()}


def run(env: dict[str, str], *args: str) -> Any:
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


PLATFORM = ["--issuer", "https://moodle.example.no", "--client-id", "abc123", "--auth-login-url", "https://moodle.example.no/mod/lti/auth.php",
            "--token-url", "https://moodle.example.no/mod/lti/token.php", "--jwks-url", "https://moodle.example.no/mod/lti/certs.php"]


def test_platform_add_list_and_remove(env: dict[str, str]) -> None:
    added = run(env, "platform", "add", *PLATFORM, "--deployment", "1", "--deployment", "2")
    assert added.exit_code == 0 and "registered  https://moodle.example.no client abc123: deployments 1, 2" in added.output
    again = run(env, "platform", "add", *PLATFORM, "--deployment", "3")  # adds a deployment, no duplicate row
    assert again.exit_code == 0 and "deployments 1, 2, 3" in again.output
    listed = run(env, "platform", "list")
    assert listed.output.count("client=abc123") == 1 and "deployments=1,2,3" in listed.output
    assert run(env, "platform", "remove", "--issuer", "https://moodle.example.no", "--client-id", "abc123").exit_code == 0
    assert "No platforms registered" in run(env, "platform", "list").output


def test_platform_add_refuses_a_url_that_is_not_a_url(env: dict[str, str]) -> None:
    args = [a if a != "https://moodle.example.no/mod/lti/certs.php" else "certs.php" for a in PLATFORM]
    result = run(env, "platform", "add", *args)
    assert result.exit_code == 1 and "JWKS URL must be an absolute" in result.output


def test_removing_an_unknown_platform_fails_with_a_message(env: dict[str, str]) -> None:
    result = run(env, "platform", "remove", "--issuer", "https://x.example", "--client-id", "nope")
    assert result.exit_code == 1 and "no registration for https://x.example client nope" in result.output


def test_keys_rotate_keeps_the_old_public_key_listed(env: dict[str, str]) -> None:
    first = run(env, "keys", "rotate").output.split()[-1]
    second = run(env, "keys", "rotate").output.split()[-1]
    listed = run(env, "keys", "list").output
    assert first != second and f"{second}  created" in listed and "active" in listed
    assert f"{first}  created" in listed and "retired, in JWKS until" in listed


@pytest.fixture
def sessions(migrated_db_url: str):  # type: ignore[no-untyped-def]
    engine = make_engine(migrated_db_url)
    yield sessionmaker(engine, expire_on_commit=False)
    engine.dispose()


def test_private_keys_are_stored_encrypted_and_need_the_right_encryption_key(sessions: sessionmaker[Session]) -> None:
    fernet = Fernet(Fernet.generate_key())
    with session_scope(sessions) as session:
        kid = keys.ensure_key(session, fernet)
    with sessions() as session:
        row = session.scalars(select(keys.ToolKey)).one()
        assert row.kid == kid and "PRIVATE KEY" not in row.private_encrypted
        assert "PRIVATE KEY" in keys.signing_key(session, fernet).private_pem
        with pytest.raises(ToolKeyError, match="SMEB_KEY_ENCRYPTION_KEY does not decrypt the tool key"):
            keys.signing_key(session, Fernet(Fernet.generate_key()))


def test_a_retired_key_stays_in_the_jwks_until_its_tokens_have_expired(sessions: sessionmaker[Session]) -> None:
    fernet = Fernet(Fernet.generate_key())
    t0 = datetime.now(UTC)
    with session_scope(sessions) as session:
        old_kid = keys.ensure_key(session, fernet)
        old = keys.signing_key(session, fernet)
        token = jwt.encode({"exp": int(t0.timestamp()) + 600}, old.private_pem, algorithm="RS256", headers={"kid": old.kid})
        new_kid = keys.rotate(session, fernet, now=t0)
    with sessions() as session:
        published = keys.jwks(session, now=t0 + timedelta(minutes=10))
        assert [k["kid"] for k in published["keys"]] == [new_kid, old_kid]
        # a token signed just before the rotation still verifies against the published set
        jwk = next(k for k in published["keys"] if k["kid"] == old_kid)
        jwt.decode(token, jwt.PyJWK(jwk), algorithms=["RS256"])
        assert keys.signing_key(session, fernet).kid == new_kid
        later = t0 + timedelta(seconds=keys.RETIRED_KEY_GRACE + 1)
        assert [k["kid"] for k in keys.jwks(session, now=later)["keys"]] == [new_kid]
    with session_scope(sessions) as session:
        keys.rotate(session, fernet, now=t0 + timedelta(seconds=keys.RETIRED_KEY_GRACE + 1))
    with sessions() as session:
        assert old_kid not in [k.kid for k in keys.list_keys(session)]  # deleted once past the grace period


def test_production_refuses_to_start_without_secrets(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="SMEB_ENV=production needs SMEB_SECRET_KEY and SMEB_KEY_ENCRYPTION_KEY"):
        Settings.from_env({"SMEB_DATA_DIR": str(tmp_path)}, {"SMEB_ENV": "production"}).with_development_secrets()
    assert not (tmp_path / "secrets").exists()


def test_production_refuses_a_key_encryption_key_that_is_not_a_fernet_key(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="SMEB_KEY_ENCRYPTION_KEY is not a Fernet key"):
        Settings.from_env({"SMEB_DATA_DIR": str(tmp_path)}, {"SMEB_ENV": "production", "SMEB_SECRET_KEY": "s" * 40, "SMEB_KEY_ENCRYPTION_KEY": "hunter2"}).with_development_secrets()


@pytest.mark.parametrize(("name", "value", "phrase"), [
    ("SMEB_ENV", "staging", "expected 'production' or 'development'"),
    ("SMEB_SECRET_KEY", "short", "shorter than 32 characters"),
    ("SMEB_REDIS_URL", "http://redis", "expected redis://"),
    ("SMEB_PUBLIC_URL", "kurs.smeb.no", "expected the tool's base URL"),
    ("SMEB_LTI_HTTP_TIMEOUT", "soon", "expected a number of seconds"),
    ("SMEB_LTI_JWKS_TTL", "0", "must be greater than 0"),
])
def test_a_bad_setting_is_named_in_the_error(tmp_path: Path, name: str, value: str, phrase: str) -> None:
    with pytest.raises(SettingsError, match=f"{name}.*{phrase}|{phrase}"):
        Settings.from_env({"SMEB_DATA_DIR": str(tmp_path)}, {name: value}).with_development_secrets()


def test_production_needs_https_for_the_public_url(tmp_path: Path) -> None:
    config = {"SMEB_ENV": "production", "SMEB_SECRET_KEY": "s" * 40, "SMEB_KEY_ENCRYPTION_KEY": Fernet.generate_key().decode(), "SMEB_PUBLIC_URL": "http://kurs.smeb.no"}
    with pytest.raises(SettingsError, match="production needs https"):
        Settings.from_env({"SMEB_DATA_DIR": str(tmp_path)}, config).with_development_secrets()


def test_development_generates_secrets_once_and_every_instance_reuses_them(tmp_path: Path) -> None:
    first, second = Settings.from_env({"SMEB_DATA_DIR": str(tmp_path)}, {}).with_development_secrets(), Settings.from_env({"SMEB_DATA_DIR": str(tmp_path)}, {}).with_development_secrets()
    assert first.secret_key == second.secret_key and first.key_encryption_key == second.key_encryption_key
    assert (tmp_path / "secrets" / "key_encryption_key").stat().st_mode & 0o077 == 0


def test_the_app_refuses_to_start_in_production_without_secrets(migrated_db_url: str, tmp_path: Path) -> None:
    from smeb_lti.app import create_app

    with pytest.raises(SettingsError, match="SMEB_SECRET_KEY"):
        create_app({"SMEB_DATABASE_URL": migrated_db_url, "SMEB_DATA_DIR": str(tmp_path), "SMEB_ENV": "production"})
