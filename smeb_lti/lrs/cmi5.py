"""cmi5 launcher, the LMS side (cmi5 spec "Quartz"): launch, fetch, LMS statements, AU rules.

:func:`create_cmi5_launch` creates (or continues) a registration and a new session, writes
``LMS.LaunchData`` and ``cmi5LearnerPreferences``, records ``launched`` and returns the launch
URL. The fetch URL hands out the session's auth token once (8.2). Statements posted with that
token go through :func:`enforce`, which rejects (403) anything breaking the AU rules and
names the requirement (section of the cmi5 spec, e.g. "9.3.8-1"), and evaluates moveOn to
record ``satisfied``.

The once-only rules ("completed", "passed", "waived") hold per registration *and AU* (9.3). The
course structure (:func:`import_course_structure`, else the launched AU alone) decides when a block
or the course is satisfied (9.3.9): when the moveOn criteria of every AU in it are met. Every
statement of a launch, the AU's and the LMS's, is queued for the upstream LRSs of the launch's
customer in the same transaction (:func:`smeb_lti.routing.queue_statement`), like every other
statement SMEB records.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
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
from smeb_lti.lrs.cmi5_course import CourseStructure, single_au_course
from smeb_lti.lrs.errors import Forbidden, LrsError, NotFound
from xapi.customers import CustomerScope
from xapi.errors import XapiError

log = logging.getLogger(__name__)

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
TYPE_BLOCK = "https://w3id.org/xapi/cmi5/activitytype/block"
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


def block_activity_id(tenant: str, course_publisher_id: str, block_publisher_id: str) -> str:
    """The LMS-generated block object id for ``satisfied`` (9.4): never the publisher's block id."""
    return f"urn:smeb:cmi5:{tenant}:block:{uuid.uuid5(uuid.NAMESPACE_URL, course_publisher_id + ' ' + block_publisher_id)}"


def _course_object(course_id: str, structure: CourseStructure) -> dict[str, Any]:
    """The course object (9.4); the same everywhere it appears, so reports find the course by its type."""
    definition: dict[str, Any] = {"type": TYPE_COURSE}
    if structure.title:
        definition["name"] = dict(structure.title)
    return {"id": course_id, "objectType": "Activity", "definition": definition}


def _grouping(session_row: Any, structure: CourseStructure) -> list[dict[str, Any]]:
    """The AU's publisher id (9.6.2.3) and the course object: statements of an AU are grouped under its course."""
    return [{"id": session_row["publisher_id"], "objectType": "Activity"}, _course_object(session_row["course_id"], structure)]


def _lms_statement(
    tenant: store.Tenant, session_row: Any, actor: dict[str, Any], verb: str, display: str, object_: dict[str, Any],
    extensions: dict[str, Any] | None = None, result: dict[str, Any] | None = None, moveon: bool = False,
    *, grouping: list[dict[str, Any]],
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
            "contextActivities": {"category": categories, "grouping": grouping},
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


def import_course_structure(session: Session, tenant_slug: str, structure: CourseStructure) -> str:
    """Import (or replace) a course structure (6.1, 13); returns the generated course object id.

    Launches name the course with ``course_publisher_id``; its AUs then take moveOn and
    masteryScore from here (10.2.4, 10.2.5), and its blocks and the course are satisfied from here.
    """
    tenant = store.require_tenant(session, tenant_slug)
    course_id = course_activity_id(tenant.slug, structure.publisher_id)
    table = store.cmi5_courses
    session.execute(sa.delete(table).where(table.c.tenant_id == tenant.id, table.c.activity_id == course_id))
    session.execute(sa.insert(table).values(
        tenant_id=tenant.id, activity_id=course_id, publisher_id=structure.publisher_id,
        structure_json=structure.to_json(), imported_us=store.now_us(),
    ))
    return course_id


def _imported(session: Session, tenant_id: int, course_id: str) -> CourseStructure | None:
    table = store.cmi5_courses
    text = session.scalar(sa.select(table.c.structure_json).where(table.c.tenant_id == tenant_id, table.c.activity_id == course_id))
    return CourseStructure.from_json(text) if text else None


def _structure_of(session: Session, tenant_id: int, session_row: Any) -> CourseStructure:
    """The imported structure of the session's course, else the course that is its AU alone."""
    imported = _imported(session, tenant_id, session_row["course_id"])
    if imported is not None:
        return imported
    return single_au_course(session_row["course_publisher_id"] or session_row["publisher_id"] + "#course", session_row["publisher_id"],
                            session_row["move_on"], session_row["mastery_score"])


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
    move_on: str | None = None,
    launch_parameters: str | None = None,
    return_url: str | None = None,
    customer: CustomerScope | None = None,
) -> Launch:
    """Prepare one AU launch and return its URL (cmi5 8.1, 10.0, 11.0, 9.3.1).

    Args:
        actor: the learner, an Agent with an ``account`` (9.2).
        publisher_id: the AU's id from cmi5.xml; the launch uses a generated activity id instead.
        package_url: URL of the AU's start page (e.g. where a package folder is served).
        base_url: the tool's origin as the AU sees it, e.g. ``http://127.0.0.1:5000``.
        course_publisher_id: the course's id from cmi5.xml. When that course was imported
            (:func:`import_course_structure`) the AU must be in it and moveOn/masteryScore come from
            it; otherwise the course is this AU alone (moveOn default ``CompletedOrPassed``).
        registration: reuse to launch another AU of the course, or to relaunch.
        customer: whose learner this is; decides which upstream LRSs receive the statements.
    """
    tenant = store.require_tenant(session, tenant_slug)
    if st.agent_ifi(actor) is None or "account" not in actor:
        raise ValueError("cmi5 9.2: the actor must be an Agent with an account (homePage, name)")
    if launch_mode not in LAUNCH_MODES:
        raise ValueError(f"launch_mode must be one of {LAUNCH_MODES}")
    if move_on is not None and move_on not in MOVE_ON:
        raise ValueError(f"move_on must be one of {MOVE_ON}")
    if mastery_score is not None and not 0 <= mastery_score <= 1:
        raise ValueError("mastery_score is a decimal between 0 and 1 (10.2.4)")
    actor = {"objectType": "Agent", **actor}
    registration = (registration or str(uuid.uuid4())).lower()
    activity_id = au_activity_id(tenant.slug, publisher_id)
    course_publisher = course_publisher_id or publisher_id + "#course"
    course_id = course_activity_id(tenant.slug, course_publisher)
    structure = _imported(session, tenant.id, course_id)
    if structure is not None:
        au = structure.find_au(publisher_id)
        if au is None:
            raise ValueError(f"AU {publisher_id} is not in the imported course {course_publisher}")
        for name, given, wanted in (("move_on", move_on, au.move_on), ("mastery_score", mastery_score, au.mastery_score)):
            if given is not None and given != wanted:
                raise ValueError(f"{name} {given!r} differs from the course structure's {wanted!r} for AU {publisher_id} (10.2)")
        move_on, mastery_score = au.move_on, au.mastery_score
    move_on = move_on or "CompletedOrPassed"
    if structure is None:
        structure = single_au_course(course_publisher, publisher_id, move_on, mastery_score)
    session_id = str(uuid.uuid4())
    fetch_secret = secrets.token_urlsafe(24)
    other_course = session.scalar(sa.select(store.cmi5_sessions.c.course_id).where(
        store.cmi5_sessions.c.tenant_id == tenant.id, store.cmi5_sessions.c.registration == registration,
        store.cmi5_sessions.c.course_id != course_id).limit(1))
    if other_course is not None:
        raise ValueError(f"registration {registration} belongs to another course ({other_course}); a registration is one learner in one course")
    rows = _registration_rows(session, tenant.id, registration)
    if activity_id not in rows:
        rows[activity_id] = _new_row(activity_id)
        session.execute(sa.insert(store.cmi5_registrations).values(tenant_id=tenant.id, registration=registration, **rows[activity_id]))
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
                grouping=_grouping(old, _structure_of(session, tenant.id, old)),
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
        "customer_json": json.dumps(customer.__dict__, sort_keys=True) if customer is not None else None,
        "course_publisher_id": course_publisher,
    }
    session.execute(sa.insert(store.cmi5_sessions).values(**row))
    launch_data: dict[str, Any] = {
        "contextTemplate": {
            "contextActivities": {"grouping": _grouping(row, structure)},
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
    new_statements.append(_lms_statement(tenant, row, actor, VERB_LAUNCHED, "launched", {"id": activity_id, "objectType": "Activity"},
                                         extensions, grouping=_grouping(row, structure)))
    # 9.6.1: moveOn is evaluated at registration: AUs that are NotApplicable may satisfy blocks or the course now.
    new_statements.extend(_satisfy(tenant, row, actor, structure, rows))
    _save_rows(session, tenant.id, registration, rows)
    store.insert_statements(session, tenant.id, new_statements, {}, update_definitions=False)
    _forward(session, row, new_statements)
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


def _new_row(activity_id: str) -> dict[str, Any]:
    return {"activity_id": activity_id, "completed": False, "passed": False, "failed": False, "waived": False, "satisfied": False}


def _registration_rows(session: Session, tenant_id: int, registration: str, *, lock: bool = False) -> dict[str, dict[str, Any]]:
    """The registration's rows by node id (AU activity id, block or course object id).

    ``lock``: on PostgreSQL the rows are locked for the transaction, so two AU sessions of one
    registration posting at once are judged one after the other (SQLite serialises writers anyway).
    """
    table = store.cmi5_registrations
    query = sa.select(table).where(table.c.tenant_id == tenant_id, table.c.registration == registration)
    if lock:
        query = query.with_for_update()
    return {
        row["activity_id"]: {k: row[k] for k in ("activity_id", "completed", "passed", "failed", "waived", "satisfied")}
        for row in session.execute(query).mappings()
    }


def _save_rows(session: Session, tenant_id: int, registration: str, rows: dict[str, dict[str, Any]]) -> None:
    table = store.cmi5_registrations
    stored = _registration_rows(session, tenant_id, registration)
    for node_id, values in rows.items():
        if node_id not in stored:
            session.execute(sa.insert(table).values(tenant_id=tenant_id, registration=registration, **values))
        elif stored[node_id] != values:
            session.execute(
                sa.update(table)
                .where(table.c.tenant_id == tenant_id, table.c.registration == registration, table.c.activity_id == node_id)
                .values(**{k: v for k, v in values.items() if k != "activity_id"})
            )


def _satisfy(
    tenant: store.Tenant, session_row: Any, actor: dict[str, Any], structure: CourseStructure, rows: dict[str, dict[str, Any]]
) -> list[store.Prepared]:
    """``satisfied`` for each block, then the course, whose AUs all meet their moveOn (9.3.9), once each.

    An AU meets its moveOn when its row says so (judged when its statements arrive), it was waived
    (9.3.7), or its moveOn is NotApplicable (9.6.1). Updates ``rows``; returns the new statements, which
    carry the session id of the launch that triggered them (9.3.9) and the block's or course's
    publisher id as grouping (9.6.2.3).
    """

    def met(publisher_id: str, move_on: str) -> bool:
        row = rows.get(au_activity_id(tenant.slug, publisher_id))
        return move_on == "NotApplicable" or bool(row and (row["satisfied"] or row["waived"]))

    out: list[store.Prepared] = []
    for node in [*structure.blocks(), structure]:
        if node is structure:
            node_id, object_ = session_row["course_id"], _course_object(session_row["course_id"], structure)
        else:
            node_id = block_activity_id(tenant.slug, structure.publisher_id, node.publisher_id)
            definition: dict[str, Any] = {"type": TYPE_BLOCK}
            if node.title:
                definition["name"] = dict(node.title)
            object_ = {"id": node_id, "objectType": "Activity", "definition": definition}
        if rows.get(node_id, {}).get("satisfied"):
            continue  # 9.3.9: not twice for the same block or course in a registration
        if all(met(au.publisher_id, au.move_on) for au in node.aus()):
            rows[node_id] = dict(_new_row(node_id), satisfied=True)
            out.append(_lms_statement(tenant, session_row, actor, VERB_SATISFIED, "satisfied", object_,
                                      grouping=[{"id": node.publisher_id, "objectType": "Activity"}]))
    return out


def _forward(session: Session, session_row: Any, new: list[store.Prepared]) -> None:
    """Queue the statements for the upstream LRSs of the launch's customer, like every statement SMEB records.

    As stored minus ``stored`` and ``authority`` (the upstream LRS sets its own). A statement with an
    attachment sent as a multipart part cannot travel through the outbox (it holds JSON only): it is
    logged and stays in the embedded LRS.
    """
    from smeb_lti.routing import queue_statement

    text = session_row["customer_json"]
    scope = CustomerScope(**json.loads(text)) if text else None
    for p in new:
        statement = {k: v for k, v in p.statement.items() if k not in ("stored", "authority")}
        if any(not a.get("fileUrl") for a in statement.get("attachments") or [] if isinstance(a, dict)):
            log.warning("cmi5 statement %s has an attachment without fileUrl: kept in the embedded LRS, not forwarded", p.id)
            continue
        try:
            queue_statement(session, statement, scope)
        except XapiError as error:
            # The embedded LRS accepted it; an upstream's stricter check must not refuse the AU its record.
            log.error("cmi5 statement %s not forwarded upstream: %s", p.id, error)


def waive(session: Session, tenant_slug: str, registration: str, reason: str = "Administrative", *, publisher_id: str | None = None) -> None:
    """Record ``waived`` for one AU of a registration in a fresh session (9.3.7), then any ``satisfied`` it brings.

    ``publisher_id``: the AU (its cmi5.xml id); default the AU of the registration's latest launch.
    """
    tenant = store.require_tenant(session, tenant_slug)
    last = session.execute(
        sa.select(store.cmi5_sessions)
        .where(store.cmi5_sessions.c.tenant_id == tenant.id, store.cmi5_sessions.c.registration == registration)
        .order_by(store.cmi5_sessions.c.created_us.desc())
    ).mappings().first()
    if last is None:
        raise NotFound(f"no cmi5 registration {registration}")
    structure = _structure_of(session, tenant.id, last)
    publisher_id = publisher_id or last["publisher_id"]
    au = structure.find_au(publisher_id)
    if au is None:
        raise NotFound(f"AU {publisher_id} is not in the course of registration {registration}")
    activity_id = au_activity_id(tenant.slug, publisher_id)
    rows = _registration_rows(session, tenant.id, registration, lock=True)
    au_row = rows.setdefault(activity_id, _new_row(activity_id))
    if au_row["waived"]:
        raise Cmi5Violation("9.3.7-1", f"AU {publisher_id} was already waived in this registration; waived is issued once per registration and AU")
    if au_row["satisfied"]:
        raise Cmi5Violation("9.3.7-2", f"AU {publisher_id} already met its moveOn criteria in this registration; there is nothing to waive")
    # 9.3.7: a unique session id; only "satisfied" may share it.
    row = dict(last, session_id=str(uuid.uuid4()), publisher_id=publisher_id, activity_id=activity_id,
               move_on=au.move_on, mastery_score=au.mastery_score)
    actor = json.loads(last["actor_json"])
    waived = _lms_statement(
        tenant, row, actor, VERB_WAIVED, "waived", {"id": activity_id, "objectType": "Activity"},
        result={"success": True, "completion": True, "extensions": {EXT_REASON: reason}}, moveon=True,
        grouping=_grouping(row, structure),
    )
    au_row["waived"] = au_row["satisfied"] = True
    new = [waived, *_satisfy(tenant, row, actor, structure, rows)]
    _save_rows(session, tenant.id, registration, rows)
    store.insert_statements(session, tenant.id, new, {}, update_definitions=False)
    _forward(session, row, new)


def _categories(statement: dict[str, Any]) -> set[str]:
    groups = ((statement.get("context") or {}).get("contextActivities") or {})
    return {str(a.get("id")) for a in groups.get("category") or [] if isinstance(a, dict)}


def _move_on_met(move_on: str, au: dict[str, Any]) -> bool:
    return {
        "Passed": au["passed"],
        "Completed": au["completed"],
        "CompletedAndPassed": au["completed"] and au["passed"],
        "CompletedOrPassed": au["completed"] or au["passed"],
        "NotApplicable": True,
    }[move_on]


def enforce(session: Session, principal: auth.Principal, new: list[store.Prepared], stored_us: int) -> list[store.Prepared]:
    """Apply the AU statement rules to statements posted with a session's token.

    The once-only rules hold per registration and AU (9.3). Returns the LMS statements to store
    with them (``satisfied`` for blocks and the course whose moveOn is met) and queues all of them,
    the AU's and these, for the customer's upstream LRSs. Raises :class:`Cmi5Violation` (403) naming
    the requirement on the first violation; the whole batch is then rejected.
    """
    row = session.execute(sa.select(store.cmi5_sessions).where(store.cmi5_sessions.c.session_id == principal.session_id)).mappings().first()
    if row is None:
        raise Cmi5Violation("8.2-1", "the launch session of this token does not exist")
    sess = dict(row)
    rows = _registration_rows(session, principal.tenant.id, sess["registration"], lock=True)
    if sess["activity_id"] not in rows:
        raise Cmi5Violation("9.6.1-1", f"registration {sess['registration']} has no launch of AU {sess['publisher_id']}")
    au = rows[sess["activity_id"]]
    structure = _structure_of(session, principal.tenant.id, sess)
    actor = json.loads(sess["actor_json"])
    extra: list[store.Prepared] = []
    mastery = sess["mastery_score"]
    def when(p: store.Prepared) -> int:
        # The validator accepts ISO 8601 forms parse_timestamp does not (no seconds, "+01"): those sort as stored.
        try:
            return st.parse_timestamp(str(p.statement.get("timestamp") or st.format_timestamp(stored_us)))
        except ValueError:
            return stored_us

    ordered = sorted(new, key=when)
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
                if au["completed"]:
                    raise Cmi5Violation("9.3.3-1", "'completed' may be sent only once per registration and AU")
                au["completed"] = True
            elif verb == VERB_PASSED:
                if au["passed"]:
                    raise Cmi5Violation("9.3.4-2", "'passed' may be sent only once per registration and AU")
                if mastery is not None and scaled is not None and scaled < mastery:
                    raise Cmi5Violation("9.3.4-1", f"'passed' with score.scaled {scaled} below masteryScore {mastery}")
                au["passed"] = True
            else:
                if au["passed"]:
                    raise Cmi5Violation("9.3-6", "'failed' must not follow 'passed' in a registration (for the same AU)")
                if mastery is not None and scaled is not None and scaled >= mastery:
                    raise Cmi5Violation("9.3.5-1", f"'failed' with score.scaled {scaled} at or above masteryScore {mastery}")
                au["failed"] = True
        elif verb == VERB_TERMINATED:
            sess["terminated"] = True
        if not au["satisfied"] and _move_on_met(sess["move_on"], au):
            au["satisfied"] = True  # the AU's moveOn is met: blocks and the course may now be satisfied
            extra.extend(_satisfy(principal.tenant, sess, actor, structure, rows))
    session.execute(
        sa.update(store.cmi5_sessions)
        .where(store.cmi5_sessions.c.session_id == sess["session_id"])
        .values(initialized=sess["initialized"], terminated=sess["terminated"])
    )
    _save_rows(session, principal.tenant.id, sess["registration"], rows)
    _forward(session, sess, [*new, *extra])
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


def create_launch_for_app(app: Flask, tenant: str, actor: dict[str, Any], publisher_id: str, package_url: str, base_url: str, **options: Any) -> Launch:
    """Convenience for tests and scripts: one transaction on the app's database."""
    with session_scope(app.extensions["smeb.sessions"]) as session:
        return create_cmi5_launch(session, tenant, actor, publisher_id, package_url, base_url, **options)
