"""Unusual but legal launches work; roles and locale map to the LaunchContext as documented."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from smeb_lti.lti.context import is_staff, locale_of
from smeb_lti.lti.launches import get_launch
from tests.smeb_lti.lti.conftest import Lms, launch_id_of

MEMBERSHIP = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
INSTITUTION = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#"


def _launch(app: Flask, lms: Lms, **overrides: Any):  # type: ignore[no-untyped-def]
    launch_id = launch_id_of(lms.launch(app.test_client(), **overrides))
    with app.extensions["smeb.sessions"]() as session:
        return get_launch(session, launch_id)


@pytest.mark.parametrize(
    ("roles", "instructor"),
    [
        ([MEMBERSHIP + "Learner", MEMBERSHIP + "Instructor"], True),
        (["Instructor"], True),
        (["Learner"], False),
        (["http://example.com/roles#Wizard"], False),
        ([], False),
        ([MEMBERSHIP + "ContentDeveloper"], True),
        (["http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant"], True),
        ([INSTITUTION + "Administrator"], True),
        ([INSTITUTION + "Instructor", MEMBERSHIP + "Learner"], False),
        (["http://purl.imsglobal.org/vocab/lis/v2/system/person#Administrator"], False),
    ],
    ids=["learner-and-instructor", "short-instructor", "short-learner", "unknown-role", "no-roles", "content-developer",
         "teaching-assistant-sub-role", "institution-admin-without-context-role", "canvas-teacher-who-is-a-student-here", "system-admin-only"],
)
def test_roles_decide_instructor_rights(roles: list[str], instructor: bool) -> None:
    assert is_staff(tuple(roles)) is instructor


def test_a_launch_with_several_and_unknown_roles_works_and_keeps_the_roles_as_given(app: Flask, lms: Lms) -> None:
    roles = [MEMBERSHIP + "Learner", "Instructor", "http://example.com/roles#Wizard"]
    context = _launch(app, lms, roles=roles)
    assert context.roles == tuple(roles) and context.is_instructor


def test_a_launch_with_an_empty_roles_list_is_a_learner(app: Flask, lms: Lms) -> None:
    context = _launch(app, lms, roles=[])
    assert context.roles == () and context.is_instructor is False


def test_a_launch_without_personal_data_or_context_works(app: Flask, lms: Lms) -> None:
    context = _launch(app, lms, name=None, given_name=None, family_name=None, email=None, locale=None, context=None, custom=None,
                      **{"https://purl.imsglobal.org/spec/lti-ags/claim/endpoint": None})
    assert (context.name, context.given_name, context.family_name, context.email) == (None, None, None, None)
    assert (context.context_id, context.context_title, context.ags) == (None, None, None)
    assert dict(context.custom) == {} and context.locale == "en"


@pytest.mark.parametrize(("claims", "locale"), [
    ({"locale": "nb-NO"}, "nb"), ({"locale": "nn_NO"}, "nb"), ({"locale": "no"}, "nb"), ({"locale": "en-GB"}, "en"),
    ({"locale": "sv"}, "en"), ({}, "en"),
    ({"https://purl.imsglobal.org/spec/lti/claim/launch_presentation": {"locale": "nb"}, "locale": "en"}, "nb"),
])
def test_norwegian_locales_map_to_nb_and_everything_else_to_en(claims: dict[str, Any], locale: str) -> None:
    assert locale_of(claims) == locale


def test_custom_values_that_are_not_strings_arrive_as_text(app: Flask, lms: Lms) -> None:
    context = _launch(app, lms, custom={"course": "x", "attempts": 3})
    assert dict(context.custom) == {"course": "x", "attempts": "3"}
