"""cmi5 (spec "Quartz") for the LMS side: its vocabulary, the LMS-generated ids, and the statements the LMS records.

The launcher is :mod:`cmi5_launch`, the AU statement rules :mod:`cmi5_rules`, the fetch URL and the
HTTP launch :mod:`cmi5_routes`; the course structure (cmi5.xml) :mod:`cmi5_course`.
"""

from __future__ import annotations

import uuid
from typing import Any

from smeb_lti.lrs import clock, store
from smeb_lti.lrs import statements as st
from smeb_lti.lrs.cmi5_course import CourseStructure

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


def lms_authority(tenant: store.Tenant) -> dict[str, Any]:
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


def course_object(course_id: str, structure: CourseStructure) -> dict[str, Any]:
    """The course object (9.4); the same everywhere it appears, so reports find the course by its type."""
    definition: dict[str, Any] = {"type": TYPE_COURSE}
    if structure.title:
        definition["name"] = dict(structure.title)
    return {"id": course_id, "objectType": "Activity", "definition": definition}


def grouping_of(session_row: Any, structure: CourseStructure) -> list[dict[str, Any]]:
    """The AU's publisher id (9.6.2.3) and the course object: statements of an AU are grouped under its course."""
    return [{"id": session_row["publisher_id"], "objectType": "Activity"}, course_object(session_row["course_id"], structure)]


def lms_statement(
    tenant: store.Tenant, session_row: Any, actor: dict[str, Any], verb: str, display: str, object_: dict[str, Any],
    extensions: dict[str, Any] | None = None, result: dict[str, Any] | None = None, moveon: bool = False,
    *, grouping: list[dict[str, Any]],
) -> store.Prepared:
    """A statement the LMS records (launched, abandoned, waived, satisfied), stored as the LRS's own authority."""
    now = clock.now_us()
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
        "authority": lms_authority(tenant),
        "version": "1.0.0",
    }
    if result:
        statement["result"] = result
    return store.Prepared(statement, now, st.links(statement))
