"""Issue 11 item 2: an embedded launch in a real Moodle with third-party cookies blocked ends in the player.

Moodle (``http://127.0.0.1:<port>``) and the tool must be different *sites* for the tool's cookie to be a
third-party cookie inside Moodle's page, so this test starts its own tool (gunicorn on 127.0.0.1, reached as
``http://localhost:<port>``) and registers it manually (docs/lti.md, "Moodle: manual registration"): the Moodle
tool type's login, redirection and keyset URLs use ``localhost``, the tool gets the platform with
``smeb platform add``. Its own tool keeps the session's ``smeb_tool`` (one registration per issuer) untouched.
The activity uses launch container **Embed**.

In chromium with "Block third-party cookies" on, the learner opens the activity: inside Moodle's iframe the
tool cannot prove the launch is this browser's and offers "Open in a new window"; the learner clicks it. Before
the fix the link re-sent Moodle's ``lti_message_hint``, which ``mod/lti/auth.php`` forgets after its first use,
so the new window showed Moodle's "Invalid request". Now it opens Moodle's launch page for the activity and the
new window ends in the SMEB player.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.e2e.moodle import api
from tests.e2e.moodle.conftest import _record
from tests.e2e.moodle.harness import Moodle, SmebTool, run_driver, start_tool

COURSE = "guttastemning-2-0"

# What an administrator enters in "Configure a tool manually" (docs/lti.md), through Moodle's own lti_add_type.
_ADD_TYPE = r"""
require_once($CFG->dirroot . '/mod/lti/locallib.php');
$tool = $ARGS['tool'];
$type = new stdClass();
$type->state = LTI_TOOL_STATE_CONFIGURED;
$config = new stdClass();
$config->lti_typename = $ARGS['name'];
$config->lti_toolurl = $tool . '/lti/launch';
$config->lti_ltiversion = LTI_VERSION_1P3;
$config->lti_keytype = LTI_JWK_KEYSET;
$config->lti_publickeyset = $tool . '/.well-known/jwks.json';
$config->lti_initiatelogin = $tool . '/lti/login';
$config->lti_redirectionuris = $tool . '/lti/launch';
$config->lti_customparameters = '';
$config->lti_coursevisible = LTI_COURSEVISIBLE_PRECONFIGURED;
$config->lti_launchcontainer = LTI_LAUNCH_CONTAINER_EMBED;
$config->lti_contentitem = 0;
$config->lti_sendname = LTI_SETTING_ALWAYS;
$config->lti_sendemailaddr = LTI_SETTING_ALWAYS;
$config->lti_acceptgrades = LTI_SETTING_ALWAYS;
$config->lti_forcessl = 0;
$id = lti_add_type($type, $config);
return ['id' => (int) $id, 'clientid' => $DB->get_field('lti_types', 'clientid', ['id' => $id])];
"""


def _register_cross_site(moodle: Moodle, tool: SmebTool) -> tuple[int, str]:
    """The tool registered under ``localhost`` (another site than Moodle's 127.0.0.1); (Moodle type id, tool URL)."""
    cross_site = tool.url.replace("://127.0.0.1:", "://localhost:")
    assert cross_site != tool.url, tool.url
    made = moodle.php(_ADD_TYPE, {"tool": cross_site, "name": api.unique("SMEB cross-site ")})
    tool.smeb(
        "platform", "add", "--issuer", moodle.url, "--client-id", str(made["clientid"]), "--deployment", str(made["id"]),
        "--auth-login-url", moodle.url + "/mod/lti/auth.php", "--token-url", moodle.url + "/mod/lti/token.php",
        "--jwks-url", moodle.url + "/mod/lti/certs.php",
    )
    return int(made["id"]), cross_site


@pytest.fixture
def cross_site_tool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmebTool]:
    started = time.monotonic()
    tool = start_tool(tmp_path_factory.mktemp("smeb-tool-cross-site"))
    _record(**{"cross-site tool start": round(time.monotonic() - started, 1)})
    try:
        yield tool
    finally:
        tool.stop()


def test_an_embedded_launch_with_third_party_cookies_blocked_ends_in_the_player(
    moodle: Moodle, cross_site_tool: SmebTool, tmp_path_factory: pytest.TempPathFactory
) -> None:
    type_id, tool_url = _register_cross_site(moodle, cross_site_tool)
    course = api.create_course(moodle)
    learner = api.create_user(moodle)
    api.enrol(moodle, learner, course)
    activity = api.add_lti_activity(moodle, course, type_id, course_slug=COURSE, launch_container=api.LAUNCH_EMBED)

    started = time.monotonic()
    result = run_driver("cookieless-launch.js", {
        "moodle": moodle.url, "user": {"username": learner.username, "password": learner.password}, "cmid": activity.cmid,
        "userDataDir": str(tmp_path_factory.mktemp("cookieless-profile")), "debugDir": str(tmp_path_factory.mktemp("cookieless-debug")),
    })
    _record(**{"cookieless embedded launch in chromium": round(time.monotonic() - started, 1)})
    trail = "\n".join(result.get("navigations") or [])
    assert result.get("thirdPartyCookiesBlocked") is True, result
    # inside Moodle's page: the tool's cookie is third-party and blocked, so it offers a new window ...
    fallback = result.get("fallback") or {}
    assert "Open in a new window" in str(fallback.get("text")), f"{result.get('error')}\n{trail}"
    # ... and the new window ends in the player (not in Moodle's "Invalid request")
    player = result.get("player") or {}
    assert player.get("status") == 200 and str(player.get("url")).startswith(tool_url + "/play/"), f"{result.get('error')}\n{trail}"
    # through Moodle's own launch page for the activity, which issued a fresh login initiation
    assert fallback.get("href") == f"{moodle.url}/mod/lti/launch.php?id={activity.cmid}&triggerview=0", trail
    assert f"new window: GET {moodle.url}/mod/lti/launch.php?id={activity.cmid}&triggerview=0 200" in trail, trail
