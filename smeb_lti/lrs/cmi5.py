"""cmi5 launcher, the LMS side (cmi5 spec "Quartz"): launch, fetch, LMS statements, AU rules.

:func:`create_cmi5_launch` creates (or continues) a registration and a new session, writes
``LMS.LaunchData`` and ``cmi5LearnerPreferences``, records ``launched`` and returns the launch
URL. The fetch URL hands out the session's auth token once (8.2). Statements posted with that
token go through :func:`enforce`, which rejects (403) anything breaking the AU rules and
names the requirement (section of the cmi5 spec, e.g. "9.3.8-1"), and evaluates moveOn to
record ``satisfied``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa
from flask import Blueprint, Flask, Response, current_app, request
from sqlalchemy.orm import Session

from smeb_lti.db import session_scope
from smeb_lti.lrs import auth, store
from smeb_lti.lrs import statements as st
from smeb_lti.lrs.errors import Forbidden, LrsError, NotFound

# Verb and extension IRIs: cmi5 spec section 9.
VERB_LAUNCHED = "http://adlnet.gov/expapi/verbs/launched"
VERB_INITIALIZED = "http://adlnet.gov/expapi/verbs/initialized"
VERB_COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
VERB_PASSED = "http://adlnet.gov/expapi/verbs/passed"
VERB_FAILED = "http://adlnet.gov/expapi/verbs/failed"
VERB_TERMINATED = "http://adlnet.gov/expapi/verbs/terminated"
VERB_ABANDONED = "https://w3id.org/xapi/adl/verbs/abandoned"
VERB_WAIVED = "https://w3id.org/xapi/adl/verbs/waived"
VERB_SATISFIED = "https://w3id.org/xapi/adl/verbs/satisfied"
AU_VERBS = {VERB_INITIALIZED, VERB_COMPLETED, VERB_PASSED, VERB_FAILED, VERB_TERMINATED}
LMS_VERBS = {VERB_LAUNCHED, VERB_ABANDONED, VERB_WAIVED, VERB_SATISFIED}
CATEGORY_CMI5 = "https://w3id.org/xapi/cmi5/context/categories/cmi5"
CATEGORY_MOVEON = "https://w3id.org/xapi/cmi5/context/categories/moveon"
EXT_SESSION = "https://w3id.org/xapi/cmi5/context/extensions/sessionid"
EXT_MASTERY = "https://w3id.org/xapi/cmi5/context/extensions/masteryscore"
EXT_LAUNCH_MODE = "https://w3id.org/xapi/cmi5/context/extensions/launchmode"
EXT_LAUNCH_URL = "https://w3id.org/xapi/cmi5/context/extensions/launchurl"
EXT_MOVE_ON = "https://w3id.org/xapi/cmi5/context/extensions/moveon"
EXT_LAUNCH_PARAMETERS = "https://w3id.org/xapi/cmi5/context/extensions/launchparameters"
EXT_REASON = "https://w3id.org/xapi/cmi5/result/extensions/reason"
TYPE_COURSE = "https://w3id.org/xapi/cmi5/activitytype/course"
LAUNCH_MODES = ("Normal", "Browse", "Review")
MOVE_ON = ("Passed", "Completed", "CompletedAndPassed", "CompletedOrPassed", "NotApplicable")

cmi5_bp = Blueprint("lrs_cmi5", __name__, url_prefix="/lrs/<tenant>/cmi5")


class Cmi5Violation(Forbidden):
    """403: a statement breaks a cmi5 AU rule; the message starts with the requirement id."""

    def __init__(self, requirement: str, message: str) -> None:
        super().__init__(f"cmi5 {requirement}: {message}", requirement=requirement)


@dataclass(frozen=True)
class Launch:
    url: str
    registration: str
    session_id: str
    activity_id: str
    fetch_url: str


def _lms_authority(tenant: store.Tenant) -> dict[str, Any]:
    return {"objectType": "Agent", "name": "SMEB LMS", "account": {"homePage": f"urn:smeb:lrs:{tenant.slug}", "name": "lms"}}


def au_activity_id(tenant: str, publisher_id: str) -> str:
    """The LMS-generated AU activity id: stable per tenant and AU, never the publisher's id (8.1.5)."""
    return f"urn:smeb:cmi5:{tenant}:au:{uuid.uuid5(uuid.NAMESPACE_URL, publisher_id)}"


def course_activity_id(tenant: str, course_publisher_id: str) -> str:
    """The LMS-generated course object id for ``satisfied`` (9.4)."""
    return f"urn:smeb:cmi5:{tenant}:course:{uuid.uuid5(uuid.NAMESPACE_URL, course_publisher_id)}"


def _lms_statement(
    tenant: store.Tenant, session_row: Any, actor: dict[str, Any], verb: str, display: str, object_: dict[str, Any],
    extensions: dict[str, Any] | None = None, result: dict[str, Any] | None = None, moveon: bool = False,
) -> store.Prepared:
    now = store.now_us()
    categories = [{"id": CATEGORY_CMI5, "objectType": "Activity"}]
    if moveon:
        categories.append({"id": CATEGORY_MOVEON, "objectType": "Activity"})
    statement: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "actor": actor,
        "verb": {"id": verb, "display": {"en-US": display}},
        "object": object_,
        "context": {
            "registration": session_row["registration"],
            "contextActivities": {"category": categories, "grouping": [{"id": session_row["publisher_id"], "objectType": "Activity"}]},
            "extensions": {EXT_SESSION: session_row["session_id"], **(extensions or {})},
        },
        "timestamp": st.format_timestamp(now),
        "stored": st.format_timestamp(now),
        "authority": _lms_authority(tenant),
        "version": "1.0.0",
    }
    if result:
        statement["result"] = result
    return store.Prepared(statement, now, st.links(statement))


def create_cmi5_launch(
    session: Session,
    tenant_slug: str,
    actor: dict[str, Any],
    publisher_id: str,
    package_url: str,
    base_url: str,
    *,
    course_publisher_id: str | None = None,
    registration: str | None = None,
    launch_mode: str = "Normal",
    mastery_score: float | None = None,
    move_on: str = "CompletedOrPassed",
    launch_parameters: str | None = None,
    return_url: str | None = None,
) -> Launch:
    """Prepare one AU launch and return its URL (cmi5 8.1, 10.0, 11.0, 9.3.1).

    Args:
        actor: the learner, an Agent with an ``account`` (9.2).
        publisher_id: the AU's id from cmi5.xml; the launch uses a generated activity id instead.
        package_url: URL of the AU's start page (e.g. where a package folder is served).
        base_url: the tool's origin as the AU sees it, e.g. ``http://127.0.0.1:5000``.
    """
    tenant = store.require_tenant(session, tenant_slug)
    if st.agent_ifi(actor) is None or "account" not in actor:
        raise ValueError("cmi5 9.2: the actor must be an Agent with an account (homePage, name)")
    if launch_mode not in LAUNCH_MODES:
        raise ValueError(f"launch_mode must be one of {LAUNCH_MODES}")
    if move_on not in MOVE_ON:
        raise ValueError(f"move_on must be one of {MOVE_ON}")
    if mastery_score is not None and not 0 <= mastery_score <= 1:
        raise ValueError("mastery_score is a decimal between 0 and 1 (10.2.4)")
    actor = {"objectType": "Agent", **actor}
    registration = (registration or str(uuid.uuid4())).lower()
    activity_id = au_activity_id(tenant.slug, publisher_id)
    course_id = course_activity_id(tenant.slug, course_publisher_id or publisher_id + "#course")
    session_id = str(uuid.uuid4())
    fetch_secret = secrets.token_urlsafe(24)
    reg = session.execute(
        sa.select(store.cmi5_registrations).where(
            store.cmi5_registrations.c.tenant_id == tenant.id, store.cmi5_registrations.c.registration == registration
        )
    ).first()
    if reg is None:
        session.execute(
            sa.insert(store.cmi5_registrations).values(
                tenant_id=tenant.id, registration=registration, activity_id=activity_id, completed=False, passed=False, failed=False, satisfied=False
            )
        )
    new_statements: list[store.Prepared] = []
    # 9.3.6: a new launch abandons any active session of this registration.
    for old in session.execute(
        sa.select(store.cmi5_sessions).where(
            store.cmi5_sessions.c.tenant_id == tenant.id,
            store.cmi5_sessions.c.registration == registration,
            store.cmi5_sessions.c.terminated.is_(False),
        )
    ).mappings().all():
        # 9.5.4.2: without better knowledge, the session time since launch.
        seconds = max(0, (store.now_us() - old["created_us"]) // 1_000_000)
        new_statements.append(
            _lms_statement(
                tenant, old, json.loads(old["actor_json"]), VERB_ABANDONED, "abandoned",
                {"id": old["activity_id"], "objectType": "Activity"}, result={"duration": f"PT{seconds}S"},
            )
        )
        session.execute(sa.update(store.cmi5_sessions).where(store.cmi5_sessions.c.session_id == old["session_id"]).values(terminated=True))
    row = {
        "session_id": session_id,
        "tenant_id": tenant.id,
        "registration": registration,
        "actor_json": json.dumps(actor),
        "activity_id": activity_id,
        "publisher_id": publisher_id,
        "course_id": course_id,
        "launch_mode": launch_mode,
        "mastery_score": mastery_score,
        "move_on": move_on,
        "fetch_hash": hashlib.sha256(fetch_secret.encode()).hexdigest(),
        "fetched": False,
        "initialized": False,
        "terminated": False,
        "created_us": store.now_us(),
    }
    session.execute(sa.insert(store.cmi5_sessions).values(**row))
    launch_data: dict[str, Any] = {
        "contextTemplate": {
            "contextActivities": {"grouping": [{"id": publisher_id, "objectType": "Activity"}]},
            "extensions": {EXT_SESSION: session_id},
        },
        "launchMode": launch_mode,
        "moveOn": move_on,
    }
    if launch_parameters is not None:
        launch_data["launchParameters"] = launch_parameters
    if mastery_score is not None:
        launch_data["masteryScore"] = mastery_score
    if return_url is not None:
        launch_data["returnURL"] = return_url
    ifi = st.agent_ifi(actor)
    store.put_document(
        session, tenant.id, store.DocumentScope("state", activity_id, ifi, registration), "LMS.LaunchData",
        json.dumps(launch_data).encode(), "application/json",
    )
    preferences_scope = store.DocumentScope("agent", agent_ifi=ifi)
    if store.get_document(session, tenant.id, preferences_scope, "cmi5LearnerPreferences") is None:
        store.put_document(
            session, tenant.id, preferences_scope, "cmi5LearnerPreferences",
            json.dumps({"languagePreference": "nb-NO,nn-NO,en-GB", "audioPreference": "on"}).encode(), "application/json",
        )
    extensions: dict[str, Any] = {EXT_LAUNCH_MODE: launch_mode, EXT_LAUNCH_URL: package_url, EXT_MOVE_ON: move_on}
    if mastery_score is not None:
        extensions[EXT_MASTERY] = mastery_score
    if launch_parameters is not None:
        extensions[EXT_LAUNCH_PARAMETERS] = launch_parameters
    new_statements.append(_lms_statement(tenant, row, actor, VERB_LAUNCHED, "launched", {"id": activity_id, "objectType": "Activity"}, extensions))
    if move_on == "NotApplicable" and not (reg and reg.satisfied):
        new_statements.append(_satisfied(tenant, row, actor))
        session.execute(
            sa.update(store.cmi5_registrations)
            .where(store.cmi5_registrations.c.tenant_id == tenant.id, store.cmi5_registrations.c.registration == registration)
            .values(satisfied=True)
        )
    store.insert_statements(session, tenant.id, new_statements, {}, update_definitions=False)
    base = base_url.rstrip("/")
    fetch_url = f"{base}/lrs/{tenant.slug}/cmi5/fetch/{session_id}?" + urlencode({"k": fetch_secret})
    query = urlencode(
        {
            "endpoint": f"{base}/lrs/{tenant.slug}/xapi/",
            "fetch": fetch_url,
            "actor": json.dumps(actor, separators=(",", ":")),
            "registration": registration,
            "activityId": activity_id,
        }
    )
    separator = "&" if "?" in package_url else "?"
    return Launch(package_url + separator + query, registration, session_id, activity_id, fetch_url)


def _satisfied(tenant: store.Tenant, row: Any, actor: dict[str, Any]) -> store.Prepared:
    course = {"id": row["course_id"], "objectType": "Activity", "definition": {"type": TYPE_COURSE}}
    return _lms_statement(tenant, row, actor, VERB_SATISFIED, "satisfied", course)


def waive(session: Session, tenant_slug: str, registration: str, reason: str = "Administrative") -> None:
    """Record ``waived`` for a registration's AU in a fresh session (9.3.7), then ``satisfied``."""
    tenant = store.require_tenant(session, tenant_slug)
    last = session.execute(
        sa.select(store.cmi5_sessions)
        .where(store.cmi5_sessions.c.tenant_id == tenant.id, store.cmi5_sessions.c.registration == registration)
        .order_by(store.cmi5_sessions.c.created_us.desc())
    ).mappings().first()
    if last is None:
        raise NotFound(f"no cmi5 registration {registration}")
    reg = _registration(session, tenant.id, registration)
    if reg["satisfied"]:
        raise Cmi5Violation("9.3.7-1", "the AU is already satisfied in this registration; waived is issued at most once")
    row = dict(last, session_id=str(uuid.uuid4()))
    actor = json.loads(last["actor_json"])
    waived = _lms_statement(
        tenant, row, actor, VERB_WAIVED, "waived", {"id": last["activity_id"], "objectType": "Activity"},
        result={"success": True, "completion": True, "extensions": {EXT_REASON: reason}}, moveon=True,
    )
    _set_registration(session, tenant.id, registration, satisfied=True)
    store.insert_statements(session, tenant.id, [waived, _satisfied(tenant, row, actor)], {}, update_definitions=False)


def _registration(session: Session, tenant_id: int, registration: str) -> dict[str, Any]:
    row = session.execute(
        sa.select(store.cmi5_registrations).where(
            store.cmi5_registrations.c.tenant_id == tenant_id, store.cmi5_registrations.c.registration == registration
        )
    ).mappings().first()
    if row is None:
        raise Cmi5Violation("9.6.1-1", f"registration {registration} was not created by a launch")
    return dict(row)


def _set_registration(session: Session, tenant_id: int, registration: str, **values: bool) -> None:
    session.execute(
        sa.update(store.cmi5_registrations)
        .where(store.cmi5_registrations.c.tenant_id == tenant_id, store.cmi5_registrations.c.registration == registration)
        .values(**values)
    )


def _categories(statement: dict[str, Any]) -> set[str]:
    groups = ((statement.get("context") or {}).get("contextActivities") or {})
    return {str(a.get("id")) for a in groups.get("category") or [] if isinstance(a, dict)}


def _move_on_met(move_on: str, reg: dict[str, Any]) -> bool:
    return {
        "Passed": reg["passed"],
        "Completed": reg["completed"],
        "CompletedAndPassed": reg["completed"] and reg["passed"],
        "CompletedOrPassed": reg["completed"] or reg["passed"],
        "NotApplicable": True,
    }[move_on]


def enforce(session: Session, principal: auth.Principal, new: list[store.Prepared], stored_us: int) -> list[store.Prepared]:
    """Apply the AU statement rules to statements posted with a session's token.

    Returns the LMS statements to store with them (``satisfied`` when moveOn is met).
    Raises :class:`Cmi5Violation` (403) naming the requirement on the first violation;
    the whole batch is then rejected.
    """
    row = session.execute(sa.select(store.cmi5_sessions).where(store.cmi5_sessions.c.session_id == principal.session_id)).mappings().first()
    if row is None:
        raise Cmi5Violation("8.2-1", "the launch session of this token does not exist")
    sess = dict(row)
    reg = _registration(session, principal.tenant.id, sess["registration"])
    extra: list[store.Prepared] = []
    mastery = sess["mastery_score"]
    ordered = sorted(new, key=lambda p: st.parse_timestamp(p.statement.get("timestamp", st.format_timestamp(stored_us))))
    for p in ordered:
        statement = p.statement
        verb = statement["verb"]["id"]
        context = statement.get("context") or {}
        if sess["terminated"]:
            raise Cmi5Violation("9.3.8-1", "no statement may follow 'terminated' (or an abandoned session) in a cmi5 session")
        if verb == st.VOIDED:
            raise Cmi5Violation("6.3-1", "an AU may not void statements")
        if verb in LMS_VERBS:
            raise Cmi5Violation("9.3-7", f"verb {verb} is issued only by the LMS")
        if (context.get("extensions") or {}).get(EXT_SESSION) != sess["session_id"]:
            raise Cmi5Violation("9.6.3.1-1", f"context.extensions[{EXT_SESSION}] must be the session id {sess['session_id']}")
        if not sess["initialized"] and verb != VERB_INITIALIZED:
            raise Cmi5Violation("9.3.2-1", "the first statement of a cmi5 session must be 'initialized' (7.1.1)")
        # "cmi5 defined" statements carry the cmi5 category or are about the AU itself; the same verbs
        # about anything else (a video "completed", say) are "cmi5 allowed" and follow only the session
        # rules above (cmi5 spec, "Statement Types").
        about_au = (statement.get("object") or {}).get("id") == sess["activity_id"]
        defined = verb in AU_VERBS and (CATEGORY_CMI5 in _categories(statement) or about_au)
        if defined:
            if CATEGORY_CMI5 not in _categories(statement):
                raise Cmi5Violation("9.6.2.1-1", f"a cmi5 defined statement ({verb}) needs the category activity {CATEGORY_CMI5}")
            if not about_au:
                raise Cmi5Violation("9.4-1", f"the object of a cmi5 defined statement must be the launch activityId {sess['activity_id']}")
        result = statement.get("result") or {}
        if defined and ("success" in result or "completion" in result) and CATEGORY_MOVEON not in _categories(statement):
            raise Cmi5Violation("9.6.2.2-1", f"a cmi5 statement with result.success or result.completion needs the category {CATEGORY_MOVEON}")
        if not defined:
            verb = ""  # an allowed statement changes no session or registration state
        if verb == VERB_INITIALIZED:
            if sess["initialized"]:
                raise Cmi5Violation("9.3.2-2", "'initialized' may be sent only once per session")
            sess["initialized"] = True
        elif verb in (VERB_COMPLETED, VERB_PASSED, VERB_FAILED):
            if sess["launch_mode"] != "Normal":
                raise Cmi5Violation("10.2.2-1", f"in {sess['launch_mode']} mode an AU must not send {verb.rsplit('/', 1)[-1]}")
            scaled = (result.get("score") or {}).get("scaled")
            if verb == VERB_COMPLETED:
                if reg["completed"]:
                    raise Cmi5Violation("9.3.3-1", "'completed' may be sent only once per registration")
                reg["completed"] = True
            elif verb == VERB_PASSED:
                if reg["passed"]:
                    raise Cmi5Violation("9.3.4-2", "'passed' may be sent only once per registration")
                if mastery is not None and scaled is not None and scaled < mastery:
                    raise Cmi5Violation("9.3.4-1", f"'passed' with score.scaled {scaled} below masteryScore {mastery}")
                reg["passed"] = True
            else:
                if reg["passed"]:
                    raise Cmi5Violation("9.3-6", "'failed' must not follow 'passed' in a registration")
                if mastery is not None and scaled is not None and scaled >= mastery:
                    raise Cmi5Violation("9.3.5-1", f"'failed' with score.scaled {scaled} at or above masteryScore {mastery}")
                reg["failed"] = True
        elif verb == VERB_TERMINATED:
            sess["terminated"] = True
        if not reg["satisfied"] and _move_on_met(sess["move_on"], reg):
            reg["satisfied"] = True
            extra.append(_satisfied(principal.tenant, sess, json.loads(sess["actor_json"])))
    session.execute(
        sa.update(store.cmi5_sessions)
        .where(store.cmi5_sessions.c.session_id == sess["session_id"])
        .values(initialized=sess["initialized"], terminated=sess["terminated"])
    )
    _set_registration(
        session, principal.tenant.id, sess["registration"],
        completed=reg["completed"], passed=reg["passed"], failed=reg["failed"], satisfied=reg["satisfied"],
    )
    return extra


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

    with session_scope(current_app.extensions["smeb.sessions"]) as session:
        t = store.tenant_by_slug(session, tenant)
        row = session.execute(sa.select(store.cmi5_sessions).where(store.cmi5_sessions.c.session_id == session_id)).mappings().first()
        given = hashlib.sha256(request.args.get("k", "").encode()).hexdigest()
        if t is None or row is None or row["tenant_id"] != t.id or not hmac.compare_digest(given, row["fetch_hash"]):
            return error("2", "unknown fetch URL: relaunch the course from the tool")
        if row["fetched"] or row["terminated"]:
            return error("1", "The authorization token has already been returned.")
        result = session.execute(
            sa.update(store.cmi5_sessions)
            .where(store.cmi5_sessions.c.session_id == session_id, store.cmi5_sessions.c.fetched.is_(False))
            .values(fetched=True)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]  # a concurrent fetch won the race
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
        with session_scope(current_app.extensions["smeb.sessions"]) as session:
            t = store.require_tenant(session, tenant)
            principal = auth.authenticate(session, t, request.headers.get("Authorization"), auth.token_secret(session))
            principal.require("all")
            launch = create_cmi5_launch(
                session, tenant, body["actor"], body["publisherId"], body["packageUrl"], body.get("baseUrl") or request.host_url,
                course_publisher_id=body.get("coursePublisherId"), registration=body.get("registration"),
                launch_mode=body.get("launchMode", "Normal"), mastery_score=body.get("masteryScore"),
                move_on=body.get("moveOn", "CompletedOrPassed"), launch_parameters=body.get("launchParameters"),
                return_url=body.get("returnURL"),
            )
    except LrsError as error:
        return Response(json.dumps(error.to_json()), status=error.status, mimetype="application/json")
    except (KeyError, TypeError, ValueError) as error:
        return Response(json.dumps({"error": 400, "message": f"bad launch request: {error}"}), status=400, mimetype="application/json")
    return Response(
        json.dumps({"url": launch.url, "registration": launch.registration, "sessionId": launch.session_id, "activityId": launch.activity_id}),
        status=201,
        mimetype="application/json",
    )


def create_launch_for_app(app: Flask, tenant: str, actor: dict[str, Any], publisher_id: str, package_url: str, base_url: str, **options: Any) -> Launch:
    """Convenience for tests and scripts: one transaction on the app's database."""
    with session_scope(app.extensions["smeb.sessions"]) as session:
        return create_cmi5_launch(session, tenant, actor, publisher_id, package_url, base_url, **options)
