"""``SMEB_TRUSTED_PROXIES``: which client address the tool believes (the per-address login limit counts it)."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask, request

from smeb_lti.app import create_app
from smeb_lti.settings import SettingsError


def _app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, proxies: str | None) -> Flask:
    if proxies is None:
        monkeypatch.delenv("SMEB_TRUSTED_PROXIES", raising=False)
    else:
        monkeypatch.setenv("SMEB_TRUSTED_PROXIES", proxies)
    app = create_app({"SMEB_DATABASE_URL": f"sqlite:///{tmp_path / 'smeb.db'}", "SMEB_DATA_DIR": str(tmp_path), "TESTING": True})
    app.add_url_rule("/_seen", "seen", lambda: f"{request.remote_addr} {request.scheme}")
    return app


def test_by_default_a_forwarded_for_header_is_not_believed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    client = _app(tmp_path, monkeypatch, None).test_client()
    seen = client.get("/_seen", headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"},
                      environ_base={"REMOTE_ADDR": "10.0.0.2"})
    assert seen.text == "10.0.0.2 http"


def test_behind_one_trusted_proxy_the_client_address_and_scheme_come_from_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    client = _app(tmp_path, monkeypatch, "1").test_client()
    # A client-supplied entry before the proxy's own is ignored: only the last hop (the proxy's) is believed.
    seen = client.get("/_seen", headers={"X-Forwarded-For": "198.51.100.1, 203.0.113.9", "X-Forwarded-Proto": "https"},
                      environ_base={"REMOTE_ADDR": "10.0.0.2"})
    assert seen.text == "203.0.113.9 https"


@pytest.mark.parametrize("value", ["yes", "-1", "6", "1.5"])
def test_a_bad_value_refuses_to_start_naming_the_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    with pytest.raises(SettingsError, match="SMEB_TRUSTED_PROXIES"):
        _app(tmp_path, monkeypatch, value)
