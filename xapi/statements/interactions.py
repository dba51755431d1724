"""Statements about what a learner answers or writes: quiz answers, scenario decisions, surveys, reflections."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from xapi.constants import (
    AdlActivityTypes,
    AdlVerbs,
    SmebActivityTypes,
    SmebExtensions,
    SmebVerbs,
)
from xapi.statements.base import (
    Activity,
    Actor,
    Choice,
    Score,
    StatementContext,
    _activity,
    _check,
    _context,
    _result,
    _statement,
)
from xapi.validation import ValidationIssue


def _components(choices: Sequence[Choice]) -> list[dict[str, Any]]:
    return [
        {"id": choice.id, **({"description": dict(choice.description)} if choice.description else {})}
        for choice in choices
    ]


def _choice_issues(chosen: Sequence[str], choices: Sequence[Choice], path: str) -> list[ValidationIssue]:
    known = {choice.id for choice in choices}
    issues = [
        ValidationIssue(
            path, "smeb-response-unknown-choice", f"response id {item!r} is not among the choices {sorted(known)}"
        )
        for item in chosen
        if item not in known
    ]
    issues += [
        ValidationIssue(
            path, "smeb-choice-id-whitespace", f"choice id {c.id!r} contains whitespace (xAPI 1.0.3 Data 2.4.4.1)"
        )
        for c in choices
        if any(ch.isspace() for ch in c.id)
    ]
    return issues


def quiz_answer(
    actor: Actor,
    question: Activity,
    quiz_id: str,
    *,
    interaction_type: Literal["choice", "true-false"],
    response: bool | Sequence[str],
    success: bool,
    correct_responses: Sequence[Sequence[str]] | bool | None = None,
    choices: Sequence[Choice] = (),
    score: Score | None = None,
    duration: str | None = None,
    ctx: StatementContext | None = None,
    statement_id: str | None = None,
    timestamp: str | None = None,
) -> dict[str, Any]:
    """A learner answered a quiz question (cmi.interaction, Data 2.4.4.1), with the quiz as parent.

    For ``true-false`` pass ``response``/``correct_responses`` as booleans; for ``choice`` pass the
    chosen choice ids and a list of correct id combinations (each becomes one ``[,]`` pattern).
    """
    issues: list[ValidationIssue] = []
    if interaction_type == "true-false":
        issues += _check(
            isinstance(response, bool),
            "$.result.response",
            "smeb-true-false-response",
            "true-false responses are booleans",
        )
        response_text = "true" if response is True else "false"
        pattern = None if correct_responses is None else ["true" if correct_responses is True else "false"]
        definition: dict[str, Any] = {"interactionType": "true-false", "correctResponsesPattern": pattern}
    elif interaction_type == "choice":
        chosen = [] if isinstance(response, bool) else list(response)
        issues += _check(
            bool(chosen),
            "$.result.response",
            "smeb-choice-response-empty",
            "a choice response names at least one choice id",
        )
        issues += _choice_issues(chosen, choices, "$.result.response")
        response_text = "[,]".join(chosen)
        combos = (
            []
            if correct_responses is None or isinstance(correct_responses, bool)
            else [list(c) for c in correct_responses]
        )
        for combo in combos:
            issues += _choice_issues(combo, choices, "$.object.definition.correctResponsesPattern")
        pattern = None if correct_responses is None else ["[,]".join(combo) for combo in combos]
        definition = {"interactionType": "choice", "correctResponsesPattern": pattern, "choices": _components(choices)}
    else:
        raise ValueError(f"quiz interaction_type must be 'choice' or 'true-false', not {interaction_type!r}")
    obj = _activity(question, AdlActivityTypes.CMI_INTERACTION, **definition)
    parent = _activity(quiz_id, AdlActivityTypes.ASSESSMENT)
    result = _result(score=score, success=success, response=response_text, duration=duration)
    return _statement(
        actor,
        AdlVerbs.ANSWERED,
        obj,
        _context(ctx, parent=parent),
        result=result,
        statement_id=statement_id,
        timestamp=timestamp,
        issues=issues,
    )


def scenario_decision(
    actor: Actor,
    decision: Activity,
    scenario: Activity,
    *,
    choices: Sequence[Choice],
    chosen: str,
    recommended: Sequence[str] | None = None,
    ctx: StatementContext | None = None,
    statement_id: str | None = None,
    timestamp: str | None = None,
) -> dict[str, Any]:
    """A learner chose an option at a decision point of a case scenario.

    Uses ADL ``answered`` with a ``choice`` cmi.interaction (so dashboards counting answered
    interactions include it) and the scenario (SMEB type case-scenario) as parent. Case decisions
    are often judgement calls: ``recommended`` (the facilitator's preferred options) is optional,
    and ``success`` is only set when it is given.
    """
    issues = _choice_issues([chosen], choices, "$.result.response")
    pattern = None if recommended is None else list(recommended)
    if recommended is not None:
        issues += _choice_issues(list(recommended), choices, "$.object.definition.correctResponsesPattern")
    obj = _activity(
        decision,
        AdlActivityTypes.CMI_INTERACTION,
        interactionType="choice",
        correctResponsesPattern=pattern,
        choices=_components(choices),
    )
    parent = _activity(scenario, SmebActivityTypes.CASE_SCENARIO)
    success = None if recommended is None else chosen in recommended
    result = _result(response=chosen, success=success)
    return _statement(
        actor,
        AdlVerbs.ANSWERED,
        obj,
        _context(ctx, parent=parent),
        result=result,
        statement_id=statement_id,
        timestamp=timestamp,
        issues=issues,
    )


def survey_answer(
    actor: Actor,
    question: Activity,
    survey_id: str,
    *,
    kind: Literal["likert", "numeric", "fill-in", "long-fill-in"],
    response: str | int,
    scale: Sequence[Choice] = (),
    numeric_range: tuple[int, int] = (1, 10),
    ctx: StatementContext | None = None,
    statement_id: str | None = None,
    timestamp: str | None = None,
) -> dict[str, Any]:
    """A learner answered a survey question; surveys have no correct answer, so no
    correctResponsesPattern, success or score (Data 2.4.4.1: omit the pattern when any answer is correct).

    ``likert`` takes a scale id, ``numeric`` an integer within ``numeric_range`` (default 1..10,
    published as the SMEB survey-scale definition extension), the fill-ins a text.
    """
    issues: list[ValidationIssue] = []
    definition: dict[str, Any] = {"interactionType": kind}
    if kind == "likert":
        issues += _check(
            isinstance(response, str), "$.result.response", "smeb-likert-response", "a likert response is one scale id"
        )
        issues += _check(
            bool(scale), "$.object.definition.scale", "smeb-likert-scale", "a likert question needs its scale"
        )
        issues += _choice_issues([str(response)], scale, "$.result.response")
        definition["scale"] = _components(scale)
        text = str(response)
    elif kind == "numeric":
        low, high = numeric_range
        ok = isinstance(response, int) and not isinstance(response, bool) and low <= response <= high
        issues += _check(
            ok,
            "$.result.response",
            "smeb-numeric-range",
            f"numeric survey answers are integers {low}..{high}, got {response!r}",
        )
        definition["extensions"] = {SmebExtensions.SURVEY_SCALE: {"min": low, "max": high}}
        text = str(response)
    elif kind in ("fill-in", "long-fill-in"):
        issues += _check(
            isinstance(response, str), "$.result.response", "smeb-fill-in-response", "fill-in responses are text"
        )
        text = str(response)
    else:
        raise ValueError(f"survey kind must be likert, numeric, fill-in or long-fill-in, not {kind!r}")
    obj = _activity(question, AdlActivityTypes.CMI_INTERACTION, **definition)
    parent = _activity(survey_id, SmebActivityTypes.SURVEY)
    return _statement(
        actor,
        AdlVerbs.ANSWERED,
        obj,
        _context(ctx, parent=parent),
        result=_result(response=text),
        statement_id=statement_id,
        timestamp=timestamp,
        issues=issues,
    )


def reflection_written(
    actor: Actor,
    reflection: Activity,
    ctx: StatementContext | None = None,
    *,
    duration: str | None = None,
    statement_id: str | None = None,
    timestamp: str | None = None,
) -> dict[str, Any]:
    """A learner wrote a reflection. There is deliberately no parameter for its text: reflections
    are personal and stay in SMEB; the LRS only learns that (and when) one was written."""
    result = _result(completion=True, duration=duration)
    return _statement(
        actor,
        SmebVerbs.REFLECTED,
        _activity(reflection, SmebActivityTypes.REFLECTION),
        _context(ctx),
        result=result,
        statement_id=statement_id,
        timestamp=timestamp,
    )
