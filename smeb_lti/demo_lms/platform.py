"""The demo LMS's per-app state and request plumbing: its database, its signing key, page rendering, the service log."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from flask import Response, current_app, g, render_template, request

from smeb_lti.demo_lms import crypto, store
from smeb_lti.demo_lms.i18n import STRINGS

EXTENSION = "demo_lms"


@dataclass
class PlatformState:
    base_url: str
    db_path: Path
    page_size: int
    tool_keys: crypto.ToolKeys
    _key: tuple[str, Any, dict[str, Any]] | None = field(default=None)

    @property
    def token_url(self) -> str:
        return self.base_url + "/token"

    @property
    def auth_url(self) -> str:
        return self.base_url + "/auth"

    @property
    def jwks_url(self) -> str:
        return self.base_url + "/.well-known/jwks.json"

    def lineitems_url(self, context_id: str) -> str:
        return f"{self.base_url}/api/contexts/{context_id}/lineitems"

    def memberships_url(self, context_id: str) -> str:
        return f"{self.base_url}/api/contexts/{context_id}/memberships"


def state() -> PlatformState:
    return cast(PlatformState, current_app.extensions[EXTENSION])


def db() -> sqlite3.Connection:
    if "demo_db" not in g:
        g.demo_db = store.connect(state().db_path)
    return cast(sqlite3.Connection, g.demo_db)


def close_db(_error: BaseException | None) -> None:
    conn = g.pop("demo_db", None)
    if conn is not None:
        conn.close()


def platform_key() -> tuple[str, Any, dict[str, Any]]:
    """``(kid, private key object, public JWK)``, loaded once per process."""
    current = state()
    if current._key is None:
        with store.transaction(db()) as conn:
            kid, private_pem, jwk = crypto.ensure_key(conn)
        current._key = (kid, crypto.load_private(private_pem), jwk)
    return current._key


def lang() -> str:
    wanted = request.args.get("lang") or request.cookies.get("demo_lang") or "nb"
    return wanted if wanted in STRINGS else "nb"


def page(template: str, status: int = 200, **values: Any) -> Response:
    chosen = lang()
    response = Response(render_template(template, t=STRINGS[chosen], lang=chosen, **values), status=status, mimetype="text/html")
    if request.args.get("lang") in STRINGS:
        response.set_cookie("demo_lang", chosen, samesite="Lax", httponly=True)
    response.headers["Cache-Control"] = "no-store"
    return response


def autopost(action: str, fields: Mapping[str, str], title: str, status: int = 200) -> Response:
    return page("demo_lms/autopost.html", status=status, action=action, fields=fields, title=title)


def log_call(status: int, detail: str) -> None:
    service = "NRPS" if "/memberships" in request.path else "AGS"
    with store.transaction(db()) as conn:
        store.log(conn, g.get("client_id"), service, request.method, request.full_path.rstrip("?"), status, detail)
