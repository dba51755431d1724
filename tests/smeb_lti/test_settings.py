"""The one settings object: every SMEB_* variable read once, test_config over the environment, bad values named."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from smeb_lti.settings import Settings, SettingsError, update_settings


def test_the_defaults_need_no_environment() -> None:
    settings = Settings.from_env({})
    assert settings.env == "development" and settings.data_dir == Path("var").absolute()
    assert settings.database_url == f"sqlite:///{Path('var').absolute() / 'smeb.db'}"
    assert (settings.roster_page_size, settings.lrs_max_body, settings.lrs_page_max, settings.lrs_max_json_depth) == (25, 10 * 1024 * 1024, 100, 32)
    assert (settings.secret_key, settings.key_encryption_key, settings.lrs_upstreams, settings.today) == (None, None, None, None)


def test_overrides_win_over_the_environment_and_none_leaves_the_environment() -> None:
    env = {"SMEB_ROSTER_PAGE_SIZE": "10", "SMEB_PUBLIC_URL": "https://kurs.example.no/", "OTHER": "x"}
    settings = Settings.from_env(env, {"SMEB_ROSTER_PAGE_SIZE": 40, "SMEB_PUBLIC_URL": None, "SECRET_KEY": "not ours"})
    assert settings.roster_page_size == 40 and settings.public_url == "https://kurs.example.no"


@pytest.mark.parametrize("value", ["many", "0", "1001", "2.5", "-3"])
def test_a_bad_roster_page_size_stops_the_start_naming_the_variable(value: str) -> None:
    with pytest.raises(SettingsError, match="SMEB_ROSTER_PAGE_SIZE") as raised:
        Settings.from_env({"SMEB_ROSTER_PAGE_SIZE": value})
    assert "members per roster page" in str(raised.value) and raised.value.status == 500


def test_a_bad_roster_page_size_refuses_create_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from smeb_lti.app import create_app

    monkeypatch.setenv("SMEB_ROSTER_PAGE_SIZE", "lots")
    with pytest.raises(SettingsError, match="SMEB_ROSTER_PAGE_SIZE='lots'"):
        create_app({"SMEB_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "SMEB_DATA_DIR": str(tmp_path)})


@pytest.mark.parametrize(("name", "value"), [
    ("SMEB_LRS_MAX_BODY", "10MB"), ("SMEB_LRS_PAGE_MAX", "0"), ("SMEB_FORUM_POSTS_PER_WINDOW", "five"),
    ("SMEB_MIN_GROUP_SIZE", "few"), ("SMEB_TODAY", "tomorrow"), ("SMEB_DATABASE_URL", "mysql://x"),
    ("SMEB_OPERATOR_TOKEN", "short"), ("SMEB_CERT_NUMBER_IN_STATEMENTS", "maybe"), ("SMEB_REDIS_URL", "http://x"),
])
def test_every_bad_value_is_named(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})


def test_values_are_typed() -> None:
    settings = Settings.from_env({
        "SMEB_COURSE_DIRS": os.pathsep.join(["/a", "", "/b"]), "SMEB_TODAY": "2026-11-09", "SMEB_LRS_TOKEN_SECRET": "t",
        "SMEB_DYNREG_ALLOWED_ORIGINS": "https://A.example/, https://b.example", "SMEB_DYNREG_ALLOW_PRIVATE": "yes",
        "SMEB_CERT_NUMBER_IN_STATEMENTS": "on", "SMEB_MAX_JSON_DEPTH": "20",
    })
    assert settings.course_dirs == (Path("/a"), Path("/b")) and settings.today == dt.date(2026, 11, 9)
    assert settings.lrs_token_secret == b"t" and settings.dynreg_allowed_origins == frozenset({"https://a.example", "https://b.example"})
    assert settings.dynreg_allow_private and settings.cert_number_in_statements
    assert settings.lrs_max_json_depth == 20  # the shared depth bounds the LRS too when its own is unset
    assert Settings.from_env({}, {"SMEB_COURSE_DIRS": ["/c"]}).course_dirs == (Path("/c"),)


def test_secrets_are_not_in_the_repr() -> None:
    key = Fernet.generate_key().decode()
    settings = Settings.from_env({"SMEB_SECRET_KEY": "s" * 40, "SMEB_KEY_ENCRYPTION_KEY": key, "SMEB_OPERATOR_TOKEN": "o" * 32})
    assert "s" * 40 not in repr(settings) and key not in repr(settings) and "o" * 32 not in repr(settings)
    assert settings.configured_key_encryption_key == key


def test_development_secrets_are_generated_once_and_not_counted_as_configured(tmp_path: Path) -> None:
    settings = Settings.from_env({"SMEB_DATA_DIR": str(tmp_path)}).with_development_secrets()
    assert settings.secret_key and settings.fernet_key() and settings.configured_key_encryption_key is None
    assert Settings.from_env({"SMEB_DATA_DIR": str(tmp_path)}).with_development_secrets() == settings


def test_create_app_stores_the_settings_and_test_config_overrides_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from smeb_lti.app import create_app
    from smeb_lti.settings import get_settings

    monkeypatch.setenv("SMEB_LRS_PAGE_MAX", "7")
    monkeypatch.setenv("SMEB_FORUM_POSTS_PER_WINDOW", "9")
    app = create_app({"SMEB_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "SMEB_DATA_DIR": str(tmp_path), "SMEB_LRS_PAGE_MAX": 3})
    try:
        settings = get_settings(app)
        assert (settings.lrs_page_max, settings.forum_posts_per_window) == (3, 9)
        assert app.config["SECRET_KEY"] == settings.secret_key
        changed = update_settings(app, {"SMEB_TODAY": "2026-11-10"})
        assert changed.today == dt.date(2026, 11, 10) and changed.lrs_page_max == 3 and changed.secret_key == settings.secret_key
        assert get_settings(app) is changed
        with pytest.raises(SettingsError, match="SMEB_TODAY"):
            update_settings(app, {"SMEB_TODAY": "someday"})
    finally:
        app.extensions["smeb.engine"].dispose()
