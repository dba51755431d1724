"""Where "Open in a new window" leads: Moodle's own launch page when the hint names the course module, else the login again."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest

from smeb_lti.lti.relaunch import moodle_module_id, new_window_url, platform_launch_url

MOODLE = "https://moodle.example.no"
LOGIN = {"iss": MOODLE, "login_hint": "5", "target_link_uri": "https://kurs.example/lti/launch", "client_id": "c1"}


def _hint(**fields: object) -> str:
    return json.dumps(fields)


@pytest.mark.parametrize(
    ("hint", "expected"),
    [
        (_hint(cmid=7, launchid="ltilaunch3_1"), "7"),
        (_hint(cmid="rl-abc_1", launchid="x"), "rl-abc_1"),
        (_hint(launchid="ltilaunch_ContentItemSelectionRequest1"), None),  # deep linking: no module
        (_hint(cmid=7), None),  # not Moodle's shape
        (_hint(cmid=True, launchid="x"), None),
        (_hint(cmid="../../admin", launchid="x"), None),
        (_hint(cmid="7&id=8", launchid="x"), None),
        ("[7]", None),
        ("{not json", None),
        ("opaque-hint", None),
        (None, None),
    ],
)
def test_only_a_moodle_shaped_hint_names_a_course_module(hint: str | None, expected: str | None) -> None:
    assert moodle_module_id(hint) == expected


def test_moodles_launch_page_is_built_on_its_issuer() -> None:
    url = platform_launch_url({**LOGIN, "iss": MOODLE + "/", "lti_message_hint": _hint(cmid=42, launchid="l")}, MOODLE)
    assert url == MOODLE + "/mod/lti/launch.php?id=42&triggerview=0"


def test_a_moodle_in_a_subdirectory_keeps_its_path() -> None:
    url = platform_launch_url({**LOGIN, "iss": MOODLE + "/moodle", "lti_message_hint": _hint(cmid=3, launchid="l")}, MOODLE)
    assert url == MOODLE + "/moodle/mod/lti/launch.php?id=3&triggerview=0"


def test_an_issuer_that_is_not_the_platforms_web_address_gets_no_launch_page() -> None:
    params = {**LOGIN, "lti_message_hint": _hint(cmid=42, launchid="l")}
    assert platform_launch_url(params, "https://auth.elsewhere.example") is None
    assert platform_launch_url({**params, "iss": "urn:moodle"}, "urn:") is None


def test_other_platforms_get_their_login_initiation_again() -> None:
    params = {**LOGIN, "lti_message_hint": "opaque"}
    url = new_window_url("https://kurs.example", params, MOODLE)
    assert urlsplit(url).path == "/lti/login" and url.startswith("https://kurs.example/")
    assert {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()} == params
