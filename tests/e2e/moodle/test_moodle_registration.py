"""Issue 11 item 1: dynamic registration in a real Moodle works on the first try with the procedure of
docs/moodle.md (``smeb platform register-url --allow-private`` for this Moodle on 127.0.0.1, "Tool URL",
"Add LTI Advantage", "Activate", "Tool configuration usage"), and the tool is in the teachers' activity chooser.
A URL without the operator's token is refused with a page that says what to do."""

from __future__ import annotations

import pytest

from tests.e2e.moodle import api
from tests.e2e.moodle.conftest import RegisteredTool, screenshot_dir, shrink_screenshots
from tests.e2e.moodle.harness import Moodle, SmebTool, run_driver, start_tool


def test_the_documented_registration_leaves_an_active_tool_in_the_activity_chooser(
    moodle: Moodle, registered_tool: RegisteredTool, tmp_path_factory: pytest.TempPathFactory
) -> None:
    row = api.lti_type(moodle, registered_tool.type_id)
    assert row["name"] == "SMEB kurs" and int(row["state"]) == api.TOOL_STATE_CONFIGURED
    assert int(row["coursevisible"]) == api.COURSEVISIBLE_ACTIVITYCHOOSER
    assert int(row["ltiversion"] == "1.3.0") and row["clientid"]
    config = row["config"]
    assert config["initiatelogin"] == registered_tool.tool.url + "/lti/login"
    assert config["contentitem"] == "1"  # deep linking offered
    assert config["ltiservice_gradesynchronization"] == "2" and config["ltiservice_memberships"] == "1"
    # The tool's side: the platform is stored with Moodle's client id and the deployment (the type id).
    listed = registered_tool.tool.smeb("platform", "list").stdout
    assert moodle.url in listed and registered_tool.client_id in listed

    teacher = api.create_user(moodle, api.unique("teacher"), "Tora", "Lærer")
    course = api.create_course(moodle)
    api.enrol(moodle, teacher, course, "editingteacher")
    shots = screenshot_dir(tmp_path_factory, "chooser-1-activity-chooser")
    seen = run_driver("drive-chooser.js", {
        "moodle": moodle.url, "user": {"username": teacher.username, "password": teacher.password}, "courseId": course.id,
        "toolName": "SMEB kurs", "shots": str(shots), "debugDir": str(tmp_path_factory.mktemp("chooser-debug")),
    })
    shrink_screenshots(shots)
    assert seen["found"], f"SMEB kurs is not in the activity chooser; it offers {seen['names']}"


def test_a_url_without_the_operators_token_or_without_allow_private_is_refused_with_what_to_do(
    moodle: Moodle, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # A tool of its own: Moodle offers an "update" page instead of registering when a tool of that address exists.
    # (The operator's URL made with --allow-private registering this Moodle is the `registered_tool` fixture.)
    tool: SmebTool = start_tool(tmp_path_factory.mktemp("smeb-tool-refusal"))
    try:
        # What an admin may paste: the bare address (what the docs said before), the operator's URL without --allow-private.
        urls = [tool.url + "/lti/register", tool.register_url()]
        shots = screenshot_dir(tmp_path_factory, "register-refused")
        result = run_driver("drive-register.js", {
            "moodle": moodle.url, "admin": {"username": moodle.admin_user, "password": moodle.admin_password},
            "registerUrls": urls, "chooser": False, "shots": str(shots), "onlyShots": ["register-refused"],
            "debugDir": str(tmp_path_factory.mktemp("refusal-debug")),
        })
        shrink_screenshots(shots)
        bare, public_only = result["attempts"]
        refused = str(bare["refused"])
        assert "smeb platform register-url" in refused and "--allow-private" in refused, refused
        assert "SMEB_DYNREG_ALLOWED_ORIGINS" in refused
        # This Moodle is on 127.0.0.1: the operator's plain URL is refused with a page that names the option.
        assert "register-url --allow-private" in str(public_only["refused"]), public_only
        # Nothing half-registered on either side.
        assert moodle.sql("SELECT id FROM mdl_lti_types WHERE tooldomain = %s", (tool.url.split("//", 1)[1],)) == []
        assert moodle.url not in tool.smeb("platform", "list").stdout
    finally:
        tool.stop()
