"""cmi5 over HTTP: the one-time fetch URL (cmi5 8.2) and the launch resource for LMS-side integrations."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import sqlalchemy as sa
from flask import Blueprint, Response, request

from smeb_lti.lrs import auth, store, tables
from smeb_lti.lrs import statements as st
from smeb_lti.lrs.cmi5_launch import create_cmi5_launch
from smeb_lti.lrs.errors import LrsError
from smeb_lti.web.sessions import transaction
from xapi.customers import CustomerScope
from xapi.errors import XapiError

cmi5_bp = Blueprint("lrs_cmi5", __name__, url_prefix="/lrs/<tenant>/cmi5")


@cmi5_bp.route("/fetch/<session_id>", methods=["POST", "OPTIONS"], provide_automatic_options=False)
def fetch(tenant: str, session_id: str) -> Response:
    """The one-time fetch URL (8.2): the first POST gets the auth-token, later ones an error (8.2.3)."""
    if request.method == "OPTIONS":
        response = Response(status=204)
        response.headers["Access-Control-Allow-Methods"] = "POST, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = request.headers.get("Access-Control-Request-Headers") or "Content-Type"
        return _cors(response)

    def error(code: str, text: str) -> Response:
        return _cors(Response(json.dumps({"error-code": code, "error-text": text}), status=200, mimetype="application/json"))

    with transaction() as session:
        t = store.tenant_by_slug(session, tenant)
        row = session.execute(sa.select(tables.cmi5_sessions).where(tables.cmi5_sessions.c.session_id == session_id)).mappings().first()
        given = hashlib.sha256(request.args.get("k", "").encode()).hexdigest()
        if t is None or row is None or row["tenant_id"] != t.id or not hmac.compare_digest(given, row["fetch_hash"]):
            return error("2", "unknown fetch URL: relaunch the course from the tool")
        if row["fetched"] or row["terminated"]:
            return error("1", "The authorization token has already been returned.")
        result = session.execute(
            sa.update(tables.cmi5_sessions)
            .where(tables.cmi5_sessions.c.session_id == session_id, tables.cmi5_sessions.c.fetched.is_(False))
            .values(fetched=True)
        )
        if store.rowcount(result) != 1:  # a concurrent fetch won the race
            return error("1", "The authorization token has already been returned.")
        actor = json.loads(row["actor_json"])
        token = auth.issue_token(
            auth.token_secret(session), tenant, st.agent_ifi(actor) or "", row["registration"], session_id=session_id
        )
    auth_token = base64.b64encode(f"{token}:".encode()).decode()
    response = Response(json.dumps({"auth-token": auth_token}), status=200, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return _cors(response)


def _cors(response: Response) -> Response:
    response.headers["Access-Control-Allow-Origin"] = request.headers.get("Origin") or "*"
    return response


@cmi5_bp.route("/launches", methods=["POST"])
def launches(tenant: str) -> Response:
    """Create a launch over HTTP (for an LMS-side admin/integration with an ``all`` credential)."""
    try:
        body = request.get_json(force=True)
        with transaction() as session:
            t = store.require_tenant(session, tenant)
            principal = auth.authenticate(session, t, request.headers.get("Authorization"), auth.token_secret(session))
            principal.require("all")
            launch = create_cmi5_launch(
                session, tenant, body["actor"], body["publisherId"], body["packageUrl"], body.get("baseUrl") or request.host_url,
                course_publisher_id=body.get("coursePublisherId"), registration=body.get("registration"),
                launch_mode=body.get("launchMode", "Normal"), mastery_score=body.get("masteryScore"),
                move_on=body.get("moveOn"), launch_parameters=body.get("launchParameters"),
                return_url=body.get("returnURL"),
                customer=CustomerScope(**body["customer"]) if body.get("customer") is not None else None,
            )
    except LrsError as error:
        return Response(json.dumps(error.to_json()), status=error.status, mimetype="application/json")
    except (KeyError, TypeError, ValueError, XapiError) as error:
        return Response(json.dumps({"error": 400, "message": f"bad launch request: {error}"}), status=400, mimetype="application/json")
    return Response(
        json.dumps({"url": launch.url, "registration": launch.registration, "sessionId": launch.session_id, "activityId": launch.activity_id}),
        status=201,
        mimetype="application/json",
    )
