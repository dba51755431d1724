"""Where a learner goes when an embedded launch cannot prove it came from this browser.

In an LMS iframe with third-party cookies blocked (Safari, Firefox strict, Chromium with
the setting on) the state cookie the login set never comes back, and without platform
storage (``lti_storage_target``) the tool cannot tell the learner's own launch from a
forged one (login CSRF). The way out is a *new window*: there the tool is the top-level
site, its cookie is first-party, and a complete OIDC login runs with every check in place.

A new window must start a *fresh* login at the platform. Re-sending the first login's
parameters only works where the platform accepts its ``lti_message_hint`` more than once;
Moodle forgets it after the first use (``mod/lti/auth.php`` unsets ``$SESSION->$launchid``)
and answers "Invalid request". So for Moodle the new window opens Moodle's own launch page
for the activity, ``<wwwroot>/mod/lti/launch.php?id=<cmid>``, which issues a new login
initiation. Moodle names the course module in the hint it sends with the login:
``{"cmid": 7, "launchid": "ltilaunch3_123"}`` (``lti_build_login_request`` in
``mod/lti/locallib.php``); its issuer is its ``wwwroot``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from urllib.parse import urlencode, urlsplit

# A course-module id: Moodle's are integers; the demo LMS, which copies Moodle here, uses "rl-…" ids.
_MODULE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def moodle_module_id(message_hint: str | None) -> str | None:
    """The course-module id in a Moodle-shaped ``lti_message_hint``; ``None`` for any other hint."""
    if not message_hint or not message_hint.startswith("{"):
        return None
    try:
        hint = json.loads(message_hint)
    except ValueError:
        return None
    if not isinstance(hint, dict) or not isinstance(hint.get("launchid"), str):
        return None
    cmid = hint.get("cmid")
    if isinstance(cmid, bool) or not isinstance(cmid, (int, str)):
        return None
    cmid = str(cmid)
    return cmid if _MODULE_ID.fullmatch(cmid) else None


def platform_launch_url(login_params: Mapping[str, str], platform_origin: str | None) -> str | None:
    """The platform's own page that launches this activity again, or ``None`` if the tool cannot know it.

    Only for a Moodle-shaped hint whose issuer is served from the same origin as the platform's
    authorization endpoint (Moodle's issuer is its ``wwwroot``), so the link never leads off the
    registered platform. ``triggerview=0``: the embedded page already logged the view.
    """
    issuer = login_params.get("iss") or ""
    cmid = moodle_module_id(login_params.get("lti_message_hint"))
    if cmid is None or urlsplit(issuer).scheme not in ("http", "https") or _origin(issuer) != platform_origin:
        return None
    return issuer.rstrip("/") + "/mod/lti/launch.php?" + urlencode({"id": cmid, "triggerview": "0"})


def new_window_url(tool_base: str, login_params: Mapping[str, str], platform_origin: str | None) -> str:
    """What "Open in a new window" opens: the platform's launch page where known, else the login again.

    The second is right for platforms whose message hint may be used again within its lifetime;
    for others the learner sees the platform's error and must start the activity from the LMS
    (docs/lti.md, "Cookies: launches in an iframe").
    """
    return platform_launch_url(login_params, platform_origin) or tool_base + "/lti/login?" + urlencode(dict(login_params))
