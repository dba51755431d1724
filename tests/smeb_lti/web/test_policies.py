"""A part's own policy (smeb_lti.web.headers.policy / protect): set on every response of its blueprint, filled in
per request (frame-ancestors, nonce), and a view's own values kept."""

from __future__ import annotations

import re

from flask import Blueprint, Flask, Response, render_template_string

from smeb_lti.web import headers


def _app() -> Flask:
    app = Flask(__name__)
    bp = Blueprint("part", __name__)
    headers.policy(bp, f"default-src 'none'; script-src {headers.NONCE}", cache="no-store")

    @bp.get("/page")
    def page() -> str:
        return render_template_string('<script nonce="{{ csp_nonce() }}">1</script>')

    @bp.get("/cached")
    def cached() -> Response:
        response = Response("{}", mimetype="application/json")
        response.headers["Cache-Control"] = "public, max-age=300"
        return response

    @bp.get("/own")
    def own() -> Response:
        return headers.protect(Response("x"), "default-src 'self'", cache="private")

    app.register_blueprint(bp)
    app.jinja_env.globals["csp_nonce"] = headers.csp_nonce
    return app


def test_the_nonce_of_the_policy_is_the_one_the_page_used() -> None:
    response = _app().test_client().get("/page")
    nonce = re.search(r"nonce=\"([^\"]+)\"", response.get_data(as_text=True))
    assert nonce and f"script-src 'nonce-{nonce.group(1)}'" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "no-store"
    other = _app().test_client().get("/page").headers["Content-Security-Policy"]
    assert other != response.headers["Content-Security-Policy"]  # one nonce per response


def test_a_views_own_caching_and_policy_are_kept() -> None:
    client = _app().test_client()
    assert client.get("/cached").headers["Cache-Control"] == "public, max-age=300"
    own = client.get("/own")
    assert own.headers["Content-Security-Policy"] == "default-src 'self'" and own.headers["Cache-Control"] == "private"
