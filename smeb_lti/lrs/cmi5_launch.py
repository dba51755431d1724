"""cmi5 launcher, the LMS side (cmi5 spec "Quartz"): import a course, launch an AU, waive an AU.

:func:`create_cmi5_launch` creates (or continues) a registration and a new session, writes
``LMS.LaunchData`` and ``cmi5LearnerPreferences``, records ``launched`` and returns the launch
URL; the fetch URL (:mod:`cmi5_routes`) hands out the session's auth token once (8.2). Every
statement of a launch, the AU's and the LMS's, is handed to the forwarding hooks in the same
transaction (:mod:`smeb_lti.lrs.forwarding`), like every other statement SMEB records.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session

from smeb_lti.lrs import clock, document_store, store, tables
from smeb_lti.lrs import statements as st
from smeb_lti.lrs.cmi5 import (
    EXT_LAUNCH_MODE,
    EXT_LAUNCH_PARAMETERS,
    EXT_LAUNCH_URL,
    EXT_MASTERY,
    EXT_MOVE_ON,
    EXT_REASON,
    EXT_SESSION,
    LAUNCH_MODES,
    MOVE_ON,
    VERB_ABANDONED,
    VERB_LAUNCHED,
    VERB_WAIVED,
    au_activity_id,
    course_activity_id,
    grouping_of,
    lms_statement,
)
from smeb_lti.lrs.cmi5_course import CourseStructure, single_au_course
from smeb_lti.lrs.cmi5_rules import imported_structure, new_row, registration_rows, satisfy, save_rows, structure_of
from smeb_lti.lrs.errors import Cmi5Violation, NotFound
from smeb_lti.lrs.forwarding import forward
from smeb_lti.web.sessions import transaction
from xapi.customers import CustomerScope


@dataclass(frozen=True)
class Launch:
    url: str
    registration: str
    session_id: str
    activity_id: str
    fetch_url: str


def import_course_structure(session: Session, tenant_slug: str, structure: CourseStructure) -> str:
    """Import (or replace) a course structure (6.1, 13); returns the generated course object id.

    Launches name the course with ``course_publisher_id``; its AUs then take moveOn and
    masteryScore from here (10.2.4, 10.2.5), and its blocks and the course are satisfied from here.
    """
    tenant = store.require_tenant(session, tenant_slug)
    course_id = course_activity_id(tenant.slug, structure.publisher_id)
    table = tables.cmi5_courses
    session.execute(sa.delete(table).where(table.c.tenant_id == tenant.id, table.c.activity_id == course_id))
    session.execute(sa.insert(table).values(
        tenant_id=tenant.id, activity_id=course_id, publisher_id=structure.publisher_id,
        structure_json=structure.to_json(), imported_us=clock.now_us(),
    ))
    return course_id


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
    structure = imported_structure(session, tenant.id, course_id)
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
    other_course = session.scalar(sa.select(tables.cmi5_sessions.c.course_id).where(
        tables.cmi5_sessions.c.tenant_id == tenant.id, tables.cmi5_sessions.c.registration == registration,
        tables.cmi5_sessions.c.course_id != course_id).limit(1))
    if other_course is not None:
        raise ValueError(f"registration {registration} belongs to another course ({other_course}); a registration is one learner in one course")
    rows = registration_rows(session, tenant.id, registration)
    if activity_id not in rows:
        rows[activity_id] = new_row(activity_id)
        session.execute(sa.insert(tables.cmi5_registrations).values(tenant_id=tenant.id, registration=registration, **rows[activity_id]))
    new_statements: list[store.Prepared] = []
    # 9.3.6: a new launch abandons any active session of this registration.
    for old in session.execute(
        sa.select(tables.cmi5_sessions).where(
            tables.cmi5_sessions.c.tenant_id == tenant.id,
            tables.cmi5_sessions.c.registration == registration,
            tables.cmi5_sessions.c.terminated.is_(False),
        )
    ).mappings().all():
        # 9.5.4.2: without better knowledge, the session time since launch.
        seconds = max(0, (clock.now_us() - old["created_us"]) // 1_000_000)
        new_statements.append(
            lms_statement(
                tenant, old, json.loads(old["actor_json"]), VERB_ABANDONED, "abandoned",
                {"id": old["activity_id"], "objectType": "Activity"}, result={"duration": f"PT{seconds}S"},
                grouping=grouping_of(old, structure_of(session, tenant.id, old)),
            )
        )
        session.execute(sa.update(tables.cmi5_sessions).where(tables.cmi5_sessions.c.session_id == old["session_id"]).values(terminated=True))
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
        "created_us": clock.now_us(),
        "customer_json": json.dumps(customer.__dict__, sort_keys=True) if customer is not None else None,
        "course_publisher_id": course_publisher,
    }
    session.execute(sa.insert(tables.cmi5_sessions).values(**row))
    launch_data: dict[str, Any] = {
        "contextTemplate": {
            "contextActivities": {"grouping": grouping_of(row, structure)},
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
    document_store.put_document(
        session, tenant.id, document_store.DocumentScope("state", activity_id, ifi, registration), "LMS.LaunchData",
        json.dumps(launch_data).encode(), "application/json",
    )
    preferences_scope = document_store.DocumentScope("agent", agent_ifi=ifi)
    if document_store.get_document(session, tenant.id, preferences_scope, "cmi5LearnerPreferences") is None:
        document_store.put_document(
            session, tenant.id, preferences_scope, "cmi5LearnerPreferences",
            json.dumps({"languagePreference": "nb-NO,nn-NO,en-GB", "audioPreference": "on"}).encode(), "application/json",
        )
    extensions: dict[str, Any] = {EXT_LAUNCH_MODE: launch_mode, EXT_LAUNCH_URL: package_url, EXT_MOVE_ON: move_on}
    if mastery_score is not None:
        extensions[EXT_MASTERY] = mastery_score
    if launch_parameters is not None:
        extensions[EXT_LAUNCH_PARAMETERS] = launch_parameters
    new_statements.append(lms_statement(tenant, row, actor, VERB_LAUNCHED, "launched", {"id": activity_id, "objectType": "Activity"},
                                         extensions, grouping=grouping_of(row, structure)))
    # 9.6.1: moveOn is evaluated at registration: AUs that are NotApplicable may satisfy blocks or the course now.
    new_statements.extend(satisfy(tenant, row, actor, structure, rows))
    save_rows(session, tenant.id, registration, rows)
    store.insert_statements(session, tenant.id, new_statements, {}, update_definitions=False)
    forward(session, row, new_statements)
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


def waive(session: Session, tenant_slug: str, registration: str, reason: str = "Administrative", *, publisher_id: str | None = None) -> None:
    """Record ``waived`` for one AU of a registration in a fresh session (9.3.7), then any ``satisfied`` it brings.

    ``publisher_id``: the AU (its cmi5.xml id); default the AU of the registration's latest launch.
    """
    tenant = store.require_tenant(session, tenant_slug)
    last = session.execute(
        sa.select(tables.cmi5_sessions)
        .where(tables.cmi5_sessions.c.tenant_id == tenant.id, tables.cmi5_sessions.c.registration == registration)
        .order_by(tables.cmi5_sessions.c.created_us.desc())
    ).mappings().first()
    if last is None:
        raise NotFound(f"no cmi5 registration {registration}")
    structure = structure_of(session, tenant.id, last)
    publisher_id = publisher_id or last["publisher_id"]
    au = structure.find_au(publisher_id)
    if au is None:
        raise NotFound(f"AU {publisher_id} is not in the course of registration {registration}")
    activity_id = au_activity_id(tenant.slug, publisher_id)
    rows = registration_rows(session, tenant.id, registration, lock=True)
    au_row = rows.setdefault(activity_id, new_row(activity_id))
    if au_row["waived"]:
        raise Cmi5Violation("9.3.7-1", f"AU {publisher_id} was already waived in this registration; waived is issued once per registration and AU")
    if au_row["satisfied"]:
        raise Cmi5Violation("9.3.7-2", f"AU {publisher_id} already met its moveOn criteria in this registration; there is nothing to waive")
    # 9.3.7: a unique session id; only "satisfied" may share it.
    row = dict(last, session_id=str(uuid.uuid4()), publisher_id=publisher_id, activity_id=activity_id,
               move_on=au.move_on, mastery_score=au.mastery_score)
    actor = json.loads(last["actor_json"])
    waived = lms_statement(
        tenant, row, actor, VERB_WAIVED, "waived", {"id": activity_id, "objectType": "Activity"},
        result={"success": True, "completion": True, "extensions": {EXT_REASON: reason}}, moveon=True,
        grouping=grouping_of(row, structure),
    )
    au_row["waived"] = au_row["satisfied"] = True
    new = [waived, *satisfy(tenant, row, actor, structure, rows)]
    save_rows(session, tenant.id, registration, rows)
    store.insert_statements(session, tenant.id, new, {}, update_definitions=False)
    forward(session, row, new)


def create_launch_for_app(app: Flask, tenant: str, actor: dict[str, Any], publisher_id: str, package_url: str, base_url: str, **options: Any) -> Launch:
    """Convenience for tests and scripts: one transaction on the app's database."""
    with transaction(app) as session:
        return create_cmi5_launch(session, tenant, actor, publisher_id, package_url, base_url, **options)
