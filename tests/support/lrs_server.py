"""A real HTTP server running the tool's embedded LRS, for tests (ours and other engineers' browser tests).

Usage in a test module::

    # the `lrs_server` fixture is registered for every test by tests/conftest.py

    def test_something(lrs_server):
        lrs_server.endpoint        # http://127.0.0.1:PORT/lrs/acme/xapi/
        lrs_server.auth_header     # "Basic ..." for a credential with scope "all"
        url = lrs_server.create_cmi5_launch(actor, publisher_id, lrs_server.serve_folder(path) + "index.html")

The server is werkzeug's ``make_server`` in a daemon thread on 127.0.0.1 and a free port;
it stops when the fixture ends. Folders served with :meth:`LrsServer.serve_folder` share
the LRS origin, so content needs no CORS.
"""

from __future__ import annotations

import base64
import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.middleware.shared_data import SharedDataMiddleware
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.test import TestResponse


@dataclass
class LrsServer:
    app: Flask
    server: BaseWSGIServer
    thread: threading.Thread
    tenant: str
    key: str
    secret: str
    static: dict[str, str] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    @property
    def endpoint(self) -> str:
        """The xAPI base endpoint (ends with a slash)."""
        return f"{self.base_url}/lrs/{self.tenant}/xapi/"

    @property
    def auth_header(self) -> str:
        return "Basic " + base64.b64encode(f"{self.key}:{self.secret}".encode()).decode()

    def serve_folder(self, folder: Path, prefix: str | None = None) -> str:
        """Serve ``folder`` at ``/packages/<prefix>/`` on this server; returns its URL (with slash)."""
        prefix = prefix or f"p{len(self.static)}"
        self.static[f"/packages/{prefix}"] = str(folder)
        self.server.app = SharedDataMiddleware(self.app, dict(self.static))
        return f"{self.base_url}/packages/{prefix}/"

    def add_credential(self, *scopes: str) -> tuple[str, str]:
        from smeb_lti.db import session_scope
        from smeb_lti.lrs import auth, store

        with session_scope(self.app.extensions["smeb.sessions"]) as session:
            tenant = store.tenant_by_slug(session, self.tenant)
            assert tenant is not None
            issued = auth.add_credential(session, tenant, list(scopes))
        return issued.key, issued.secret

    def create_cmi5_launch(self, actor: dict[str, Any], publisher_id: str, package_url: str, **options: Any) -> str:
        """A cmi5 launch URL for the AU at ``package_url`` (see docs/lrs.md for the options)."""
        from smeb_lti.lrs.cmi5_launch import create_launch_for_app

        return create_launch_for_app(self.app, self.tenant, actor, publisher_id, package_url, self.base_url, **options).url

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)
        self.app.extensions["smeb.engine"].dispose()


def start_lrs_server(migrated_db_url: str, tenant: str = "acme", scopes: tuple[str, ...] = ("all",), config: dict[str, Any] | None = None) -> LrsServer:
    """Create the app on a migrated database, a tenant and a credential, and serve it."""
    # Imported here: this module is a plugin of the whole suite, whose pure packages' tests must not import the tool.
    from smeb_lti.db import session_scope
    from smeb_lti.lrs import auth, store
    from tests.support.app import make_app

    app = make_app(migrated_db_url, **(config or {}))
    with session_scope(app.extensions["smeb.sessions"]) as session:
        created = store.tenant_by_slug(session, tenant) or store.add_tenant(session, tenant)
        issued = auth.add_credential(session, created, list(scopes), label="test server")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="lrs-server", daemon=True)
    thread.start()
    return LrsServer(app, server, thread, tenant, issued.key, issued.secret)


@pytest.fixture
def lrs_server(migrated_db_url: str) -> Iterator[LrsServer]:
    """The LRS over real HTTP on 127.0.0.1 (SQLite and PostgreSQL, via ``migrated_db_url``)."""
    server = start_lrs_server(migrated_db_url)
    try:
        yield server
    finally:
        server.stop()


# --------------------------------------------------------------------------- helpers for in-process tests
VERSION = {"X-Experience-API-Version": "1.0.3"}


def basic(key: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()


@dataclass
class Lrs:
    """A test client bound to one tenant with an ``all`` credential; ``as_(...)`` switches credentials."""

    app: Flask
    client: FlaskClient
    tenant: str
    auth: str

    @property
    def base(self) -> str:
        return f"/lrs/{self.tenant}/xapi"

    def headers(self, extra: dict[str, str] | None = None, auth: str | None = None, version: str | None = "1.0.3") -> dict[str, str]:
        headers = {"Authorization": auth or self.auth}
        if version is not None:
            headers["X-Experience-API-Version"] = version
        headers.update(extra or {})
        return headers

    def request(self, method: str, path: str, *, params: dict[str, Any] | None = None, json_body: Any = None,
                data: bytes | str | None = None, headers: dict[str, str] | None = None, auth: str | None = None,
                version: str | None = "1.0.3", content_type: str | None = None) -> TestResponse:
        all_headers = self.headers(headers, auth, version)
        if json_body is not None:
            data = json.dumps(json_body)
            content_type = content_type or "application/json"
        if content_type:
            all_headers["Content-Type"] = content_type
        return self.client.open(self.base + path, method=method, query_string=params, data=data, headers=all_headers)

    def post_statements(self, statements: Any, **kwargs: Any) -> TestResponse:
        return self.request("POST", "/statements", json_body=statements, **kwargs)

    def get_statements(self, **params: Any) -> TestResponse:
        headers = params.pop("headers", None)
        auth = params.pop("auth", None)
        return self.request("GET", "/statements", params=params, headers=headers, auth=auth)

    def credential(self, *scopes: str, tenant: str | None = None) -> str:
        from smeb_lti.db import session_scope
        from smeb_lti.lrs import auth, store

        with session_scope(self.app.extensions["smeb.sessions"]) as session:
            t = store.tenant_by_slug(session, tenant or self.tenant)
            assert t is not None
            issued = auth.add_credential(session, t, list(scopes))
        return basic(issued.key, issued.secret)


def statement(verb: str = "http://adlnet.gov/expapi/verbs/experienced", activity: str = "https://smeb.no/xapi/course/a",
              actor: str = "mailto:ola@example.com", **extra: Any) -> dict[str, Any]:
    """A minimal valid statement; ``extra`` overrides top-level properties."""
    body: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "actor": {"objectType": "Agent", "mbox": actor, "name": "Ola"},
        "verb": {"id": verb, "display": {"en-US": verb.rsplit("/", 1)[-1]}},
        "object": {"objectType": "Activity", "id": activity},
    }
    body.update(extra)
    return body
