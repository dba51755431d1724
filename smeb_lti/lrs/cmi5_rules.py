"""The cmi5 AU rules (cmi5 9.3, 9.6): registration state per AU, block and course, and ``satisfied``.

Statements posted with a session's token go through :func:`enforce`, which rejects (403) anything
breaking the AU rules and names the requirement (section of the cmi5 spec, e.g. "9.3.8-1"), and
evaluates moveOn to record ``satisfied``. The once-only rules ("completed", "passed", "waived") hold
per registration *and AU* (9.3). The course structure (:func:`cmi5_launch.import_course_structure`,
else the launched AU alone) decides when a block or the course is satisfied (9.3.9): when the moveOn
criteria of every AU in it are met.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from smeb_lti.lrs import auth, store, tables
from smeb_lti.lrs import statements as st
from smeb_lti.lrs.cmi5 import (
    AU_VERBS,
    CATEGORY_CMI5,
    CATEGORY_MOVEON,
    EXT_SESSION,
    LMS_VERBS,
    TYPE_BLOCK,
    VERB_COMPLETED,
    VERB_FAILED,
    VERB_INITIALIZED,
    VERB_PASSED,
    VERB_SATISFIED,
    VERB_TERMINATED,
    au_activity_id,
    block_activity_id,
    course_object,
    lms_statement,
)
from smeb_lti.lrs.cmi5_course import CourseStructure, single_au_course
from smeb_lti.lrs.errors import Cmi5Violation
from smeb_lti.lrs.forwarding import forward


def imported_structure(session: Session, tenant_id: int, course_id: str) -> CourseStructure | None:
    table = tables.cmi5_courses
    text = session.scalar(sa.select(table.c.structure_json).where(table.c.tenant_id == tenant_id, table.c.activity_id == course_id))
    return CourseStructure.from_json(text) if text else None


def structure_of(session: Session, tenant_id: int, session_row: Any) -> CourseStructure:
    """The imported structure of the session's course, else the course that is its AU alone."""
    imported = imported_structure(session, tenant_id, session_row["course_id"])
    if imported is not None:
        return imported
    return single_au_course(session_row["course_publisher_id"] or session_row["publisher_id"] + "#course", session_row["publisher_id"],
                            session_row["move_on"], session_row["mastery_score"])


def new_row(activity_id: str) -> dict[str, Any]:
    return {"activity_id": activity_id, "completed": False, "passed": False, "failed": False, "waived": False, "satisfied": False}


def registration_rows(session: Session, tenant_id: int, registration: str, *, lock: bool = False) -> dict[str, dict[str, Any]]:
    """The registration's rows by node id (AU activity id, block or course object id).

    ``lock``: on PostgreSQL the rows are locked for the transaction, so two AU sessions of one
    registration posting at once are judged one after the other (SQLite serialises writers anyway).
    """
    table = tables.cmi5_registrations
    query = sa.select(table).where(table.c.tenant_id == tenant_id, table.c.registration == registration)
    if lock:
        query = query.with_for_update()
    return {
        row["activity_id"]: {k: row[k] for k in ("activity_id", "completed", "passed", "failed", "waived", "satisfied")}
        for row in session.execute(query).mappings()
    }


def save_rows(session: Session, tenant_id: int, registration: str, rows: dict[str, dict[str, Any]]) -> None:
    table = tables.cmi5_registrations
    stored = registration_rows(session, tenant_id, registration)
    for node_id, values in rows.items():
        if node_id not in stored:
            session.execute(sa.insert(table).values(tenant_id=tenant_id, registration=registration, **values))
        elif stored[node_id] != values:
            session.execute(
                sa.update(table)
                .where(table.c.tenant_id == tenant_id, table.c.registration == registration, table.c.activity_id == node_id)
                .values(**{k: v for k, v in values.items() if k != "activity_id"})
            )


def satisfy(
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
            node_id, object_ = session_row["course_id"], course_object(session_row["course_id"], structure)
        else:
            node_id = block_activity_id(tenant.slug, structure.publisher_id, node.publisher_id)
            definition: dict[str, Any] = {"type": TYPE_BLOCK}
            if node.title:
                definition["name"] = dict(node.title)
            object_ = {"id": node_id, "objectType": "Activity", "definition": definition}
        if rows.get(node_id, {}).get("satisfied"):
            continue  # 9.3.9: not twice for the same block or course in a registration
        if all(met(au.publisher_id, au.move_on) for au in node.aus()):
            rows[node_id] = dict(new_row(node_id), satisfied=True)
            out.append(lms_statement(tenant, session_row, actor, VERB_SATISFIED, "satisfied", object_,
                                      grouping=[{"id": node.publisher_id, "objectType": "Activity"}]))
    return out


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
    row = session.execute(sa.select(tables.cmi5_sessions).where(tables.cmi5_sessions.c.session_id == principal.session_id)).mappings().first()
    if row is None:
        raise Cmi5Violation("8.2-1", "the launch session of this token does not exist")
    sess = dict(row)
    rows = registration_rows(session, principal.tenant.id, sess["registration"], lock=True)
    if sess["activity_id"] not in rows:
        raise Cmi5Violation("9.6.1-1", f"registration {sess['registration']} has no launch of AU {sess['publisher_id']}")
    au = rows[sess["activity_id"]]
    structure = structure_of(session, principal.tenant.id, sess)
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
            extra.extend(satisfy(principal.tenant, sess, actor, structure, rows))
    session.execute(
        sa.update(tables.cmi5_sessions)
        .where(tables.cmi5_sessions.c.session_id == sess["session_id"])
        .values(initialized=sess["initialized"], terminated=sess["terminated"])
    )
    save_rows(session, principal.tenant.id, sess["registration"], rows)
    forward(session, sess, [*new, *extra])
    return extra
