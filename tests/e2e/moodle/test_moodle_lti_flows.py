"""LTI flows in a real Moodle 5.0.6+, in chromium, with the tool registered as docs/moodle.md says
(``registered_tool``): a learner's launch in a new window, a teacher adding an activity by deep linking
(activity chooser, "Select content", our catalogue, back in Moodle), and the roster (NRPS) as instructor.
Grades (AGS) are tests/e2e/moodle/test_moodle_grades.py; the embedded launch without cookies
test_moodle_cookieless.py; SCORM packages test_moodle_scorm.py."""

from __future__ import annotations

import time

import pytest

from tests.e2e.moodle import api
from tests.e2e.moodle.conftest import RegisteredTool, record_timing, screenshot_dir, shrink_screenshots
from tests.e2e.moodle.harness import Moodle, run_driver

SLUG = "fra-stille-feil-til-smart-kvalitet"


def _drive(moodle: Moodle, user: api.User, mode: str, tmp_path_factory: pytest.TempPathFactory, shots: tuple[str, ...],
           **options: object) -> dict[str, object]:
    folder = screenshot_dir(tmp_path_factory, *shots)
    started = time.monotonic()
    result = run_driver("drive-lti.js", {
        "moodle": moodle.url, "user": {"username": user.username, "password": user.password}, "mode": mode,
        "shots": str(folder), "debugDir": str(tmp_path_factory.mktemp(f"lti-{mode}-debug")), **options,
    })
    record_timing(**{f"LTI {mode} in chromium": round(time.monotonic() - started, 1)})
    shrink_screenshots(folder)
    return result


def test_a_learner_opens_an_activity_in_a_new_window_and_reaches_the_player(
    moodle: Moodle, registered_tool: RegisteredTool, tmp_path_factory: pytest.TempPathFactory
) -> None:
    learner = api.create_user(moodle, api.unique("learner"), "Ola", "Elev")
    course = api.create_course(moodle)
    api.enrol(moodle, learner, course, "student")
    activity = api.add_lti_activity(moodle, course, registered_tool.type_id, "Fra stille feil til smart kvalitet", SLUG,
                                    launch_container=api.LAUNCH_WINDOW)
    seen = _drive(moodle, learner, "window", tmp_path_factory, ("launch-1-new-window", "launch-2-player"), cmid=activity.cmid)
    assert str(seen["playerUrl"]).startswith(registered_tool.tool.url + "/play/")
    assert f"/mod/lti/view.php?id={activity.cmid}" in str(seen["viewUrl"])


def test_a_teacher_adds_an_activity_by_deep_linking_from_the_activity_chooser(
    moodle: Moodle, registered_tool: RegisteredTool, tmp_path_factory: pytest.TempPathFactory
) -> None:
    teacher = api.create_user(moodle, api.unique("teacher"), "Tora", "Lærer")
    course = api.create_course(moodle)
    api.enrol(moodle, teacher, course, "editingteacher")
    shots = ("deeplink-1-add-activity", "deeplink-2-catalogue", "deeplink-3-selected", "deeplink-4-in-course")
    seen = _drive(moodle, teacher, "deeplink", tmp_path_factory, shots, courseId=course.id, toolName="SMEB kurs", slug=SLUG)
    rows = moodle.sql("SELECT id, name, typeid, instructorcustomparameters, instructorchoiceacceptgrades, grade "
                      "FROM mdl_lti WHERE course = %s", (course.id,))
    assert len(rows) == 1, rows
    (lti,) = rows
    assert lti["name"] == seen["name"] and int(lti["typeid"]) == registered_tool.type_id
    assert f"course={SLUG}" in lti["instructorcustomparameters"]
    # The deep-linking item carried a line item: Moodle accepts grades and made the gradebook column.
    assert int(lti["instructorchoiceacceptgrades"]) == 1
    items = moodle.sql("SELECT itemname, grademax FROM mdl_grade_items WHERE itemtype = 'mod' AND itemmodule = 'lti' "
                       "AND iteminstance = %s", (lti["id"],))
    assert items and float(items[0]["grademax"]) > 0, items


def test_a_learner_completes_a_module_in_the_player_and_the_grade_reaches_moodles_gradebook(
    moodle: Moodle, registered_tool: RegisteredTool, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from content import load_course, shipped_courses_dir
    from content.export import course_to_dict

    source = course_to_dict(load_course(shipped_courses_dir() / SLUG))  # with the answers: the player has none
    (module,) = [m for m in source["modules"] if m["id"] == "tre-barrierer"]
    teacher = api.create_user(moodle, api.unique("teacher"), "Tora", "Lærer")
    learner = api.create_user(moodle, api.unique("learner"), "Ola", "Elev")
    course = api.create_course(moodle)
    api.enrol(moodle, teacher, course, "editingteacher")
    api.enrol(moodle, learner, course, "student")
    # What deep linking makes for one module (custom course= and module=), accepting grades.
    activity = api.add_lti_activity(moodle, course, registered_tool.type_id, "Tre barrierer", SLUG,
                                    instructorcustomparameters=f"course={SLUG}\nmodule=tre-barrierer",
                                    instructorchoiceacceptgrades=1)
    played = _drive(moodle, learner, "complete", tmp_path_factory, ("grades-0-player-summary",), cmid=activity.cmid,
                    course={**source, "modules": [module]})
    assert played["status"] in ("statusPassed", "statusCompleted") and played["outcome"]["points"] == 3, played  # type: ignore[index]
    started = time.monotonic()
    deadline = started + 120
    while True:
        summary = registered_tool.tool.run_ags()
        found = api.grades(moodle, course, activity, [learner.id])[learner.id]
        if found["grade"] is not None or time.monotonic() > deadline:
            break
        time.sleep(1)
    record_timing(**{"AGS delivery to Moodle": round(time.monotonic() - started, 1)})
    assert found["grade"] == pytest.approx(found["grademax"]), (found, summary)  # every answer right: full marks
    book = _drive(moodle, teacher, "gradebook", tmp_path_factory, ("grades-1-gradebook",), courseId=course.id)
    assert learner.fullname in str(book["text"]) or "Ola" in str(book["text"]), book


def test_the_instructor_reads_the_roster_through_moodles_membership_service(
    moodle: Moodle, registered_tool: RegisteredTool, tmp_path_factory: pytest.TempPathFactory
) -> None:
    teacher = api.create_user(moodle, api.unique("teacher"), "Tora", "Lærer")
    learners = [api.create_user(moodle, api.unique("learner"), name, "Elev") for name in ("Ola", "Kari", "Per")]
    course = api.create_course(moodle)
    api.enrol(moodle, teacher, course, "editingteacher")
    for learner in learners:
        api.enrol(moodle, learner, course, "student")
    activity = api.add_lti_activity(moodle, course, registered_tool.type_id, "Guttastemning 2.0", "guttastemning-2-0")
    seen = _drive(moodle, teacher, "roster", tmp_path_factory, ("roster-1-members",), cmid=activity.cmid)
    texts = "\n".join(str(m["text"]) for m in seen["members"])  # type: ignore[attr-defined]
    for person in (teacher, *learners):
        assert person.fullname in texts and person.email in texts, texts
    assert len(seen["members"]) == 4  # type: ignore[arg-type]
