"""Moodle made and read through its own PHP API (a CLI script as the site admin): users, courses,
enrolments, LTI and SCORM activities, grades and SCORM tracks.

Each function is one short PHP snippet run by :meth:`Moodle.php`; Moodle's own data generator
(``lib/testing/generator``, the one its PHPUnit and Behat tests use) does the creating, so what
is made is what the admin pages would make. Names are made unique by the callers (``unique()``)
because one Moodle serves the whole test session.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.e2e.moodle.harness import USER_PASSWORD, Moodle

# mod/lti/locallib.php
LAUNCH_EMBED = 2  # LTI_LAUNCH_CONTAINER_EMBED
LAUNCH_EMBED_NO_BLOCKS = 3  # LTI_LAUNCH_CONTAINER_EMBED_NO_BLOCKS
LAUNCH_WINDOW = 4  # LTI_LAUNCH_CONTAINER_WINDOW
COURSEVISIBLE_NO = 0
COURSEVISIBLE_PRECONFIGURED = 1
COURSEVISIBLE_ACTIVITYCHOOSER = 2
TOOL_STATE_CONFIGURED = 1
TOOL_STATE_PENDING = 2

_GENERATOR = "require_once($CFG->libdir . '/testing/generator/lib.php');\n$gen = new testing_data_generator();\n"


def unique(prefix: str) -> str:
    """A name no other test in the session uses (lower case letters and digits: a valid Moodle username)."""
    return f"{prefix}{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class User:
    id: int
    username: str
    password: str
    firstname: str
    lastname: str
    email: str

    @property
    def fullname(self) -> str:
        return f"{self.firstname} {self.lastname}"


@dataclass(frozen=True)
class Course:
    id: int
    shortname: str
    fullname: str


@dataclass(frozen=True)
class Activity:
    cmid: int  # course module id: /mod/<modname>/view.php?id=<cmid>
    instance: int  # id in mdl_lti / mdl_scorm
    name: str
    modname: str

    def view_path(self) -> str:
        return f"/mod/{self.modname}/view.php?id={self.cmid}"


def create_user(moodle: Moodle, username: str | None = None, firstname: str = "Kari", lastname: str = "Nordmann",
                password: str = USER_PASSWORD) -> User:
    """A manual-auth user who can log in with ``password``."""
    username = username or unique("user")
    email = f"{username}@example.com"
    uid = moodle.php(
        _GENERATOR + "return (int) $gen->create_user($ARGS)->id;",
        {"username": username, "password": password, "firstname": firstname, "lastname": lastname, "email": email,
         "auth": "manual", "confirmed": 1},
    )
    return User(int(uid), username, password, firstname, lastname, email)


def create_course(moodle: Moodle, shortname: str | None = None, fullname: str | None = None) -> Course:
    """A course in the default category, topics format, completion tracking on."""
    shortname = shortname or unique("course")
    fullname = fullname or f"Kurs {shortname}"
    cid = moodle.php(
        _GENERATOR + "return (int) $gen->create_course($ARGS)->id;",
        {"shortname": shortname, "fullname": fullname, "format": "topics", "numsections": 1, "enablecompletion": 1},
    )
    return Course(int(cid), shortname, fullname)


def enrol(moodle: Moodle, user: User, course: Course, role: str = "student") -> None:
    """Manual enrolment with a role shortname: ``student``, ``editingteacher``, ``teacher`` (non-editing)."""
    moodle.php(
        _GENERATOR + "if (!$gen->enrol_user($ARGS['user'], $ARGS['course'], $ARGS['role'], 'manual')) {"
        " throw new coding_exception('enrolment failed'); } return true;",
        {"user": user.id, "course": course.id, "role": role},
    )


def add_lti_activity(moodle: Moodle, course: Course, type_id: int, name: str | None = None, course_slug: str | None = None,
                     launch_container: int = LAUNCH_EMBED, grade: int = 100, section: int = 1, **fields: Any) -> Activity:
    """An External tool activity of the tool type ``type_id`` (e.g. from ``registered_tool``).

    ``course_slug`` becomes the custom parameter ``course=<slug>`` that picks the SMEB course;
    ``launch_container`` is :data:`LAUNCH_EMBED` or :data:`LAUNCH_WINDOW`; ``fields`` go to mdl_lti as they are.
    """
    name = name or unique("SMEB ")
    record: dict[str, Any] = {"course": course.id, "typeid": type_id, "name": name, "launchcontainer": launch_container,
                              "grade": grade, "section": section, "toolurl": "", "resourcekey": "", "password": "",
                              "instructorcustomparameters": f"course={course_slug}" if course_slug else "", **fields}
    made = moodle.php(
        _GENERATOR + "$m = $gen->create_module('lti', $ARGS); return ['cmid' => (int) $m->cmid, 'id' => (int) $m->id];", record,
    )
    return Activity(int(made["cmid"]), int(made["id"]), name, "lti")


def add_scorm_activity(moodle: Moodle, course: Course, package: Path, name: str | None = None, section: int = 1,
                       **fields: Any) -> Activity:
    """A SCORM package activity from a zip on disk; ``fields`` go to mdl_scorm (``grademethod``, ``maxgrade``,
    ``popup``, ``hidebrowse``, ``forcenewattempt``, ``displayattemptstatus``, ...)."""
    name = name or unique("SCORM ")
    # Moodle's generator puts $CFG->dirroot in front of any path that does not start with it: relative to the tree.
    relative = os.path.relpath(Path(package).resolve(), moodle.dirroot.resolve())
    record = {"course": course.id, "name": name, "section": section, "packagefilepath": relative, **fields}
    made = moodle.php(
        _GENERATOR + "$m = $gen->create_module('scorm', $ARGS); return ['cmid' => (int) $m->cmid, 'id' => (int) $m->id];",
        record,
    )
    return Activity(int(made["cmid"]), int(made["id"]), name, "scorm")


def grades(moodle: Moodle, course: Course, activity: Activity, user_ids: list[int]) -> dict[int, dict[str, Any]]:
    """``{user id: {"grade": float|None, "str_grade": str, "grademax": float, "dategraded": int|None}}`` from
    Moodle's gradebook API (``grade_get_grades``), as the grader report shows them."""
    found = moodle.php(
        "require_once($CFG->libdir . '/gradelib.php');\n"
        "$g = grade_get_grades($ARGS['course'], 'mod', $ARGS['modname'], $ARGS['instance'], $ARGS['users']);\n"
        "$out = [];\n"
        "if (empty($g->items)) { return ['items' => 0, 'grades' => []]; }\n"
        "$item = reset($g->items);\n"
        "foreach ($item->grades as $uid => $grade) {\n"
        "    $out[(string) $uid] = ['grade' => $grade->grade === null ? null : (float) $grade->grade, 'str_grade' => $grade->str_grade,\n"
        "        'grademax' => (float) $item->grademax, 'dategraded' => $grade->dategraded];\n"
        "}\n"
        "return ['items' => count($g->items), 'grades' => $out];",
        {"course": course.id, "modname": activity.modname, "instance": activity.instance, "users": user_ids},
    )
    return {int(uid): row for uid, row in (found["grades"] or {}).items()}


def grade_rows(moodle: Moodle, activity: Activity) -> list[dict[str, Any]]:
    """The activity's rows in mdl_grade_grades (every grade item of the module, e.g. several LTI line items)."""
    return moodle.sql(
        "SELECT gi.id AS itemid, gi.itemnumber, gi.itemname, gi.grademax, gg.userid, gg.rawgrade, gg.finalgrade, gg.feedback, "
        "gg.timemodified FROM mdl_grade_items gi LEFT JOIN mdl_grade_grades gg ON gg.itemid = gi.id "
        "WHERE gi.itemtype = 'mod' AND gi.itemmodule = %s AND gi.iteminstance = %s ORDER BY gi.itemnumber, gg.userid",
        (activity.modname, activity.instance),
    )


def scorm_tracks(moodle: Moodle, activity: Activity, user: User) -> dict[int, dict[str, str]]:
    """``{attempt: {element: value}}`` of a learner's SCORM tracks (Moodle 4.3+ tables scorm_attempt/_scoes_value)."""
    rows = moodle.sql(
        "SELECT a.attempt, e.element, v.value FROM mdl_scorm_attempt a JOIN mdl_scorm_scoes_value v ON v.attemptid = a.id "
        "JOIN mdl_scorm_element e ON e.id = v.elementid WHERE a.scormid = %s AND a.userid = %s ORDER BY a.attempt, v.id",
        (activity.instance, user.id),
    )
    out: dict[int, dict[str, str]] = {}
    for row in rows:
        out.setdefault(int(row["attempt"]), {})[row["element"]] = row["value"]
    return out


def lti_type(moodle: Moodle, type_id: int) -> dict[str, Any]:
    """The tool type's row in mdl_lti_types plus its config (``lti_get_type_config``: ``coursevisible``, ``clientid``...)."""
    rows = moodle.sql("SELECT * FROM mdl_lti_types WHERE id = %s", (type_id,))
    assert rows, f"no LTI tool type {type_id} in Moodle"
    config = moodle.sql("SELECT name, value FROM mdl_lti_types_config WHERE typeid = %s", (type_id,))
    return {**rows[0], "config": {r["name"]: r["value"] for r in config}}


def set_config(moodle: Moodle, name: str, value: str, plugin: str | None = None) -> None:
    moodle.php("set_config($ARGS['name'], $ARGS['value'], $ARGS['plugin']); return true;",
               {"name": name, "value": value, "plugin": plugin})
