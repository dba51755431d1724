"""The output formats of GET statements (Communication 2.1.3): ``ids`` and ``canonical``, Accept-Language."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from smeb_lti.lrs.statements import IFI_KEYS, LANGUAGE_MAP_KEYS, links


def _ids_actor(actor: Any) -> Any:
    if not isinstance(actor, dict):
        return actor
    out: dict[str, Any] = {}
    if "objectType" in actor:
        out["objectType"] = actor["objectType"]
    for key in IFI_KEYS:
        if key in actor:
            out[key] = actor[key]
            break
    else:
        if actor.get("objectType") == "Group":
            out["member"] = [_ids_actor(member) for member in actor.get("member") or []]
    return out


def _ids_activity(activity: Any) -> Any:
    """An Activity in ``format=ids`` is its id alone: objectType is optional for an Activity and
    defaults to it (Data 2.4.4.1), so it is not an identifier (ADL suite XAPI-00171 counts the keys)."""
    if isinstance(activity, dict):
        return {"id": activity.get("id")}
    return activity


def to_ids_format(statement: dict[str, Any]) -> dict[str, Any]:
    """``format=ids``: only what identifies each Agent, Group, Verb and Activity."""
    out = copy.deepcopy(statement)

    def fix(stmt: dict[str, Any]) -> None:
        stmt["actor"] = _ids_actor(stmt.get("actor"))
        if isinstance(stmt.get("verb"), dict):
            stmt["verb"] = {"id": stmt["verb"].get("id")}
        obj = stmt.get("object")
        if isinstance(obj, dict):
            kind = obj.get("objectType", "Activity")
            if kind == "Activity":
                stmt["object"] = _ids_activity(obj)
            elif kind in ("Agent", "Group"):
                stmt["object"] = _ids_actor(obj)
            elif kind == "SubStatement":
                fix(obj)
        context = stmt.get("context")
        if isinstance(context, dict):
            for key in ("instructor", "team"):
                if key in context:
                    context[key] = _ids_actor(context[key])
            groups = context.get("contextActivities")
            if isinstance(groups, dict):
                for group, acts in groups.items():
                    groups[group] = [_ids_activity(a) for a in (acts if isinstance(acts, list) else [acts])]
        if "authority" in stmt:
            stmt["authority"] = _ids_actor(stmt["authority"])

    fix(out)
    return out


def parse_accept_language(header: str | None) -> list[str]:
    """Language ranges from Accept-Language, best first (q=0 dropped)."""
    ranges: list[tuple[float, int, str]] = []
    for index, part in enumerate((header or "").split(",")):
        piece = part.strip()
        if not piece:
            continue
        lang, _, params = piece.partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            ranges.append((-quality, index, lang.strip().lower()))
    return [lang for _, _, lang in sorted(ranges)]


def pick_language(language_map: dict[str, Any], preferences: list[str]) -> dict[str, Any]:
    """One entry of a language map, chosen by RFC 2616 language-range matching."""
    if not language_map:
        return language_map
    keys = list(language_map)
    for wanted in preferences:
        if wanted == "*":
            return {keys[0]: language_map[keys[0]]}
        for key in keys:
            lowered = key.lower()
            if lowered == wanted or lowered.startswith(wanted + "-"):
                return {key: language_map[key]}
    for key in keys:  # no preference matched: prefer a neutral/English entry, else the first
        if key.lower() in ("und", "en", "en-us", "en-gb"):
            return {key: language_map[key]}
    return {keys[0]: language_map[keys[0]]}


def _filter_definition(definition: dict[str, Any], preferences: list[str]) -> dict[str, Any]:
    out = copy.deepcopy(definition)
    for key in LANGUAGE_MAP_KEYS:
        if isinstance(out.get(key), dict):
            out[key] = pick_language(out[key], preferences)
    for key in ("choices", "scale", "source", "target", "steps"):
        if isinstance(out.get(key), list):
            for component in out[key]:
                if isinstance(component, dict) and isinstance(component.get("description"), dict):
                    component["description"] = pick_language(component["description"], preferences)
    return out


def to_canonical_format(statement: dict[str, Any], canonical: dict[str, dict[str, Any]], preferences: list[str]) -> dict[str, Any]:
    """``format=canonical``: the LRS's definition of each Activity, one language per language map."""
    out = copy.deepcopy(statement)

    def activity(node: dict[str, Any]) -> None:
        definition = canonical.get(node.get("id", ""), node.get("definition"))
        if isinstance(definition, dict):
            node["definition"] = _filter_definition(definition, preferences)

    def fix(stmt: dict[str, Any]) -> None:
        verb = stmt.get("verb")
        if isinstance(verb, dict) and isinstance(verb.get("display"), dict):
            verb["display"] = pick_language(verb["display"], preferences)
        obj = stmt.get("object")
        if isinstance(obj, dict):
            if obj.get("objectType", "Activity") == "Activity":
                activity(obj)
            elif obj.get("objectType") == "SubStatement":
                fix(obj)
        context = stmt.get("context")
        if isinstance(context, dict) and isinstance(context.get("contextActivities"), dict):
            for acts in context["contextActivities"].values():
                for node in acts if isinstance(acts, list) else [acts]:
                    if isinstance(node, dict):
                        activity(node)
        for attachment in stmt.get("attachments") or []:
            if isinstance(attachment, dict):
                for key in ("display", "description"):
                    if isinstance(attachment.get(key), dict):
                        attachment[key] = pick_language(attachment[key], preferences)

    fix(out)
    return out


def activity_ids_in(statements: Iterable[dict[str, Any]]) -> set[str]:
    """All Activity ids of some statements (to fetch canonical definitions in one query)."""
    found: set[str] = set()
    for statement in statements:
        for kind, value, _ in links(statement):
            if kind == "activity":
                found.add(value)
    return found
