"""Statement builders and pseudonymous actors: valid output, byte-stable ids/times, named rule errors."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from xapi import statements as b
from xapi.actors import opaque_account_name, pseudonymous_actor
from xapi.constants import MINTED_IRIS, SMEB_BASE, Cmi5, Video
from xapi.errors import ActorError, StatementValidationError
from xapi.profile import match_templates
from xapi.validation import validate_statement

KEY = b"test-key-0123456789abcdef"
ISSUER = "https://lti.smeb.no/platform/1"
REG = "0b5c2e1a-9d8f-4c3b-8a7e-6f5d4c3b2a10"
SID = "7d9c1f3e-2b4a-4c6d-8e0f-1a2b3c4d5e6f"
TS = "2026-11-21T10:15:30.123Z"
COURSE = "https://smeb.no/courses/hms"
LEARNER = pseudonymous_actor(ISSUER, "lti-sub-42", key=KEY)
ADMIN = {"objectType": "Agent", "account": {"homePage": "https://smeb.no", "name": "certificate-service"}}
CTX = b.StatementContext(
    registration=REG,
    course_id=COURSE,
    parent_id=f"{COURSE}/module-1",
    parent_type="http://adlnet.gov/expapi/activities/module",
    session_id=SID,
    language="nb",
)
LESSON = b.Activity(f"{COURSE}/module-1/lesson-1", {"nb": "Leksjon 1", "en": "Lesson 1"})
CHOICES = [b.Choice("a", {"nb": "Ja"}), b.Choice("b", {"nb": "Nei"}), b.Choice("c", {"nb": "Vet ikke"})]
VIDEO = b.Activity(f"{COURSE}/video/intro", {"nb": "Intro"})
T = "https://smeb.no/xapi/templates/"

# builder name -> (call, template that must match)
BUILDS: dict[str, tuple[Callable[[], dict[str, Any]], str]] = {
    "launched course": (lambda: b.launched(LEARNER, "course", b.Activity(COURSE, {"nb": "HMS"}), CTX), T + "launched"),
    "initialized module": (
        lambda: b.initialized(LEARNER, "module", b.Activity(f"{COURSE}/module-1"), CTX),
        T + "initialized",
    ),
    "progressed lesson": (lambda: b.progressed(LEARNER, "lesson", LESSON, 40, CTX), T + "progressed"),
    "completed block": (
        lambda: b.completed(LEARNER, "block", b.Activity(f"{LESSON.id}/block-3"), CTX, duration="PT2M"),
        T + "completed",
    ),
    "passed course": (
        lambda: b.passed(LEARNER, "course", b.Activity(COURSE), b.Score(scaled=0.8, raw=8, min=0, max=10), CTX),
        T + "passed",
    ),
    "failed lesson": (lambda: b.failed(LEARNER, "lesson", LESSON, b.Score(scaled=0.3), CTX), T + "failed"),
    "quiz choice": (
        lambda: b.quiz_answer(
            LEARNER,
            b.Activity(f"{LESSON.id}/quiz/q1", description={"nb": "Hva gjør du?"}),
            f"{LESSON.id}/quiz",
            interaction_type="choice",
            response=["a"],
            correct_responses=[["a"]],
            choices=CHOICES,
            success=True,
            score=b.Score(scaled=1.0),
            ctx=CTX,
        ),
        T + "quiz-answered",
    ),
    "quiz true-false": (
        lambda: b.quiz_answer(
            LEARNER,
            b.Activity(f"{LESSON.id}/quiz/q2"),
            f"{LESSON.id}/quiz",
            interaction_type="true-false",
            response=False,
            correct_responses=True,
            success=False,
            ctx=CTX,
        ),
        T + "quiz-answered",
    ),
    "scenario decision": (
        lambda: b.scenario_decision(
            LEARNER,
            b.Activity(f"{LESSON.id}/case/d1"),
            b.Activity(f"{LESSON.id}/case", {"nb": "Saken"}),
            choices=CHOICES,
            chosen="b",
            recommended=["a"],
            ctx=CTX,
        ),
        T + "scenario-decision",
    ),
    "survey likert": (
        lambda: b.survey_answer(
            LEARNER,
            b.Activity(f"{COURSE}/survey/q1"),
            f"{COURSE}/survey",
            kind="likert",
            response="c",
            scale=CHOICES,
            ctx=CTX,
        ),
        T + "survey-answered",
    ),
    "survey numeric": (
        lambda: b.survey_answer(
            LEARNER, b.Activity(f"{COURSE}/survey/q2"), f"{COURSE}/survey", kind="numeric", response=7, ctx=CTX
        ),
        T + "survey-answered",
    ),
    "survey fill-in": (
        lambda: b.survey_answer(
            LEARNER, b.Activity(f"{COURSE}/survey/q3"), f"{COURSE}/survey", kind="fill-in", response="Bra", ctx=CTX
        ),
        T + "survey-answered",
    ),
    "survey long-fill-in": (
        lambda: b.survey_answer(
            LEARNER,
            b.Activity(f"{COURSE}/survey/q4"),
            f"{COURSE}/survey",
            kind="long-fill-in",
            response="Lang tekst " * 30,
            ctx=CTX,
        ),
        T + "survey-answered",
    ),
    "reflection": (
        lambda: b.reflection_written(LEARNER, b.Activity(f"{LESSON.id}/reflection"), CTX, duration="PT5M"),
        T + "reflection-written",
    ),
    "video played": (lambda: b.video_played(LEARNER, VIDEO, time=0, length=120.5, ctx=CTX), T + "video-played"),
    "video paused": (
        lambda: b.video_paused(
            LEARNER, VIDEO, time=30.2, length=120.5, progress=0.25, played_segments="0[.]30.2", ctx=CTX
        ),
        T + "video-paused",
    ),
    "video seeked": (lambda: b.video_seeked(LEARNER, VIDEO, time_from=30.2, time_to=60, ctx=CTX), T + "video-seeked"),
    "video completed": (
        lambda: b.video_completed(
            LEARNER,
            VIDEO,
            time=120.5,
            length=120.5,
            progress=1,
            played_segments="0[.]120.5",
            duration="PT2M0.5S",
            completion_threshold=0.9,
            ctx=CTX,
        ),
        T + "video-completed",
    ),
    "workshop attended": (
        lambda: b.workshop_attended(
            LEARNER, b.Activity(f"{COURSE}/workshop/oslo-2026-11"), CTX, duration="PT3H", instructor=ADMIN
        ),
        T + "workshop-attended",
    ),
    "assignment submitted": (
        lambda: b.assignment_submitted(LEARNER, b.Activity(f"{COURSE}/action-plan"), CTX),
        T + "assignment-submitted",
    ),
    "certificate earned": (
        lambda: b.certificate_earned(
            LEARNER, b.Activity(f"{COURSE}/certificates/2026-000123"), CTX, certificate_number="2026-000123"
        ),
        T + "certificate-earned",
    ),
    "certificate revoked": (
        lambda: b.certificate_revoked(
            ADMIN,
            b.Activity(f"{COURSE}/certificates/2026-000123"),
            "issued-in-error",
            CTX,
            earned_statement_id="3f1c9a0e-6a47-4a0b-9b51-0c2f6b7e8d10",
        ),
        T + "certificate-revoked",
    ),
    "forum commented": (
        lambda: b.forum_commented(LEARNER, b.Activity(f"{COURSE}/forum/t/17"), CTX),
        T + "forum-commented",
    ),
    "forum responded": (
        lambda: b.forum_responded(
            LEARNER,
            b.Activity(f"{COURSE}/forum/p/99"),
            CTX,
            thread_id=f"{COURSE}/forum/t/17",
            in_reply_to="3f1c9a0e-6a47-4a0b-9b51-0c2f6b7e8d10",
        ),
        T + "forum-responded",
    ),
    "voided": (lambda: b.voided(ADMIN, "3f1c9a0e-6a47-4a0b-9b51-0c2f6b7e8d10"), T + "voided"),
}


@pytest.mark.parametrize("name", list(BUILDS))
def test_every_builder_makes_a_valid_statement_matching_its_template(name: str) -> None:
    build, template = BUILDS[name]
    statement = build()
    validate_statement(statement)
    matched = match_templates(statement)
    assert matched == [template], f"{name} matched {matched}"
    json.dumps(statement, allow_nan=False)  # plain JSON data only


def test_every_profile_template_is_produced_by_some_builder() -> None:
    """SMEB's own statements come from the builders; the cmi5 templates describe what a cmi5 AU and the LMS
    (the embedded LRS, smeb_lti/lrs/cmi5.py) send, so no builder makes them (test_profile_xapi checks them)."""
    from xapi.profile import load_profile

    templates = {t["id"] for t in load_profile()["templates"]}
    assert {t for t in templates if not t.startswith(T + "cmi5-")} == {template for _, template in BUILDS.values()}


def test_given_id_timestamp_and_duration_are_kept_byte_for_byte() -> None:
    odd_but_valid = "2026-11-21T11:15:30.1+01:00"
    statement = b.completed(
        LEARNER,
        "lesson",
        LESSON,
        CTX,
        duration="PT0004M",
        statement_id="3F1C9A0E-6A47-4A0B-9B51-0C2F6B7E8D10",
        timestamp=odd_but_valid,
    )
    assert (statement["id"], statement["timestamp"], statement["result"]["duration"]) == (
        "3F1C9A0E-6A47-4A0B-9B51-0C2F6B7E8D10",
        odd_but_valid,
        "PT0004M",
    )
    again = b.completed(
        LEARNER,
        "lesson",
        LESSON,
        CTX,
        duration="PT0004M",
        statement_id="3F1C9A0E-6A47-4A0B-9B51-0C2F6B7E8D10",
        timestamp=odd_but_valid,
    )
    assert json.dumps(again) == json.dumps(statement)


def test_generated_id_is_uuid4_and_timestamp_is_utc_milliseconds() -> None:
    statement = b.initialized(LEARNER, "course", b.Activity(COURSE))
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", statement["id"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", statement["timestamp"])


def test_utc_timestamp_converts_zones_and_keeps_milliseconds() -> None:
    oslo = dt.timezone(dt.timedelta(hours=1))
    assert b.utc_timestamp(dt.datetime(2026, 11, 21, 11, 15, 30, 123999, tzinfo=oslo)) == TS


@pytest.mark.parametrize(
    ("seconds", "expected"), [(0, "PT0S"), (59.999, "PT1M"), (3725.5, "PT1H2M5.5S"), (0.014, "PT0.01S"), (7200, "PT2H")]
)
def test_format_duration(seconds: float, expected: str) -> None:
    assert b.format_duration(seconds) == expected


def test_course_level_statement_does_not_list_the_course_as_its_own_grouping() -> None:
    statement = b.completed(
        LEARNER, "course", b.Activity(COURSE), b.StatementContext(registration=REG, course_id=COURSE)
    )
    assert "grouping" not in statement["context"]["contextActivities"]


def test_reflection_and_forum_never_carry_text() -> None:
    for name in ("reflection", "forum commented", "forum responded", "assignment submitted"):
        assert "response" not in (BUILDS[name][0]().get("result") or {})


def test_video_statements_use_the_profile_category_and_session_extension() -> None:
    statement = BUILDS["video paused"][0]()
    assert {"id": Video.PROFILE}.items() <= statement["context"]["contextActivities"]["category"][1].items()
    assert statement["context"]["extensions"][Video.SESSION_ID] == SID
    assert statement["context"]["extensions"][Video.LENGTH] == 120.5


@pytest.mark.parametrize(
    ("build", "rule", "path"),
    [
        (
            lambda: b.progressed(LEARNER, "lesson", LESSON, 140, CTX),
            "smeb-progress-percent",
            f"$.result.extensions['{Cmi5.RESULT_PROGRESS}']",
        ),
        (
            lambda: b.passed(LEARNER, "course", b.Activity(COURSE), b.Score(scaled=1.5), CTX),
            "xapi-score-scaled-range",
            "$.result.score.scaled",
        ),
        (
            lambda: b.passed(LEARNER, "course", b.Activity(COURSE), b.Score(raw=11, min=0, max=10), CTX),
            "xapi-score-raw-range",
            "$.result.score.raw",
        ),
        (
            lambda: b.completed(LEARNER, "lesson", LESSON, CTX, duration="90 seconds"),
            "xapi-format-duration",
            "$.result.duration",
        ),
        (
            lambda: b.completed(LEARNER, "lesson", LESSON, CTX, timestamp="2026-11-21 10:15"),
            "xapi-format-timestamp",
            "$.timestamp",
        ),
        (lambda: b.completed(LEARNER, "lesson", LESSON, CTX, statement_id="42"), "xapi-format-uuid", "$.id"),
        (lambda: b.completed(LEARNER, "lesson", b.Activity("lesson-1"), CTX), "xapi-format-iri", "$.object.id"),
        (
            lambda: b.completed(LEARNER, "lesson", b.Activity(LESSON.id, {"nb_NO": "x"}), CTX),
            "xapi-language-map-key",
            "$.object.definition.name.nb_NO",
        ),
        (
            lambda: b.completed({"objectType": "Agent", "name": "Kari"}, "lesson", LESSON, CTX),
            "xapi-ifi-exactly-one",
            "$.actor",
        ),
        (
            lambda: b.completed(LEARNER, "lesson", LESSON, b.StatementContext(registration="reg-1")),
            "xapi-format-uuid",
            "$.context.registration",
        ),
        (
            lambda: b.quiz_answer(
                LEARNER, LESSON, COURSE, interaction_type="choice", response=["z"], choices=CHOICES, success=False
            ),
            "smeb-response-unknown-choice",
            "$.result.response",
        ),
        (
            lambda: b.quiz_answer(
                LEARNER,
                LESSON,
                COURSE,
                interaction_type="choice",
                response=["a"],
                choices=[b.Choice("a"), b.Choice("a")],
                success=True,
            ),
            "xapi-interaction-component-id-unique",
            "$.object.definition.choices[1].id",
        ),
        (
            lambda: b.survey_answer(LEARNER, LESSON, COURSE, kind="numeric", response=11),
            "smeb-numeric-range",
            "$.result.response",
        ),
        (
            lambda: b.survey_answer(LEARNER, LESSON, COURSE, kind="likert", response="x", scale=CHOICES),
            "smeb-response-unknown-choice",
            "$.result.response",
        ),
        (
            lambda: b.video_paused(LEARNER, VIDEO, time=1, length=2, progress=1.5, played_segments="0[.]1", ctx=CTX),
            "video-progress-range",
            f"$.result.extensions['{Video.PROGRESS}']",
        ),
    ],
    ids=lambda value: value if isinstance(value, str) and value.startswith(("smeb", "xapi", "cmi5", "video")) else None,
)
def test_builder_rejects_invalid_input_naming_the_rule(
    build: Callable[[], dict[str, Any]], rule: str, path: str
) -> None:
    with pytest.raises(StatementValidationError) as caught:
        build()
    assert (rule, path) in {(issue.rule, issue.path) for issue in caught.value.issues}, str(caught.value)


def test_unknown_level_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="level must be one of"):
        b.launched(LEARNER, "chapter", LESSON)  # type: ignore[arg-type]  # a wrong level on purpose: refused at run time


# --------------------------------------------------------------------------- actors
def test_pseudonymous_actor_is_an_opaque_stable_account() -> None:
    actor = pseudonymous_actor(ISSUER, "lti-sub-42", key=KEY)
    assert actor == {"objectType": "Agent", "account": {"homePage": ISSUER, "name": actor["account"]["name"]}}
    assert re.fullmatch(r"[0-9a-f]{32}", actor["account"]["name"])
    assert "lti-sub-42" not in json.dumps(actor)
    assert pseudonymous_actor(ISSUER, "lti-sub-42", key=KEY) == actor


def test_account_name_depends_on_key_issuer_and_learner() -> None:
    base = opaque_account_name(KEY, ISSUER, "u1")
    assert base != opaque_account_name(KEY + b"x", ISSUER, "u1")
    assert base != opaque_account_name(KEY, "https://other.example", "u1")
    assert base != opaque_account_name(KEY, ISSUER, "u2")
    # issuer/learner concatenation is unambiguous
    assert opaque_account_name(KEY, "https://a.no/x", "y") != opaque_account_name(KEY, "https://a.no/", "xy")


def test_name_is_sent_only_when_opted_in() -> None:
    assert "name" not in pseudonymous_actor(ISSUER, "u1", "Kari Nordmann", key=KEY)
    assert pseudonymous_actor(ISSUER, "u1", "Kari Nordmann", include_name=True, key=KEY)["name"] == "Kari Nordmann"


@pytest.mark.parametrize(
    ("issuer", "learner", "key", "message"),
    [
        (ISSUER, "kari@example.com", KEY, "e-mail"),
        (ISSUER, "", KEY, "must not be empty"),
        (ISSUER, "u1", b"short", "at least 16 bytes"),
        ("lti.smeb.no", "u1", KEY, "not an IRI"),
    ],
)
def test_actor_input_errors(issuer: str, learner: str, key: bytes, message: str) -> None:
    with pytest.raises(ActorError, match=message):
        pseudonymous_actor(issuer, learner, key=key)


def test_minted_iris_share_one_base() -> None:
    assert MINTED_IRIS and all(iri.startswith(SMEB_BASE) for iri in MINTED_IRIS)


def test_pure_core_imports_no_framework_database_http_or_sibling_package() -> None:
    blocked = ["flask", "sqlalchemy", "httpx", "psycopg", "pylti1p3", "content", "scorm_export", "smeb_lti"]
    code = (
        "import sys\n"
        f"for name in {blocked!r}: sys.modules[name] = None\n"
        "import xapi.constants, xapi.errors, xapi.validation, xapi.actors, xapi.customers, xapi.jsonlimits, xapi.statements, xapi.profile\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[2])
