"""Pure statement handling for the LRS: IFIs, index links, comparison, timestamps (output formats: :mod:`formats`).

No Flask, no SQL: the blueprint and the store call these on parsed JSON.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any

from xapi.jsonlimits import DEFAULT_MAX_DEPTH, JsonLimitError, loads_bounded

VOIDED = "http://adlnet.gov/expapi/verbs/voided"
SIGNATURE_USAGE = "http://adlnet.gov/expapi/attachments/signature"
UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
IFI_KEYS = ("mbox", "mbox_sha1sum", "openid", "account")


def agent_ifi(agent: Any) -> str | None:
    """The one inverse functional identifier of an Agent/Group as a comparable string, or None."""
    if not isinstance(agent, dict):
        return None
    if isinstance(agent.get("mbox"), str):
        return "mbox:" + agent["mbox"].lower()
    if isinstance(agent.get("mbox_sha1sum"), str):
        return "mbox_sha1sum:" + agent["mbox_sha1sum"].lower()
    if isinstance(agent.get("openid"), str):
        return "openid:" + agent["openid"]
    account = agent.get("account")
    if isinstance(account, dict) and isinstance(account.get("homePage"), str) and isinstance(account.get("name"), str):
        return "account:" + account["homePage"] + "|" + account["name"]
    return None


def agent_ifis(agent: Any) -> Iterator[str]:
    """IFIs of an Agent/Group and of a Group's members (the agent filter matches members too)."""
    ifi = agent_ifi(agent)
    if ifi:
        yield ifi
    if isinstance(agent, dict) and agent.get("objectType") == "Group":
        for member in agent.get("member") or []:
            ifi = agent_ifi(member)
            if ifi:
                yield ifi


def parse_agent_param(text: str, name: str = "agent", max_depth: int = DEFAULT_MAX_DEPTH) -> dict[str, Any]:
    """Parse an ``agent`` query parameter: a JSON Agent (or identified Group) with exactly one IFI.

    Parsed with :func:`xapi.jsonlimits.loads_bounded`: 50,000 nested brackets were a RecursionError (500).
    """
    try:
        agent = loads_bounded(text, max_depth=max_depth)
    except JsonLimitError as error:
        raise ValueError(f"parameter '{name}' is not a usable JSON Agent: {error.reason} (at {error.path}); send a URL-encoded Agent object") from None
    if not isinstance(agent, dict):
        raise ValueError(f"parameter '{name}' must be a JSON object (an Agent)")
    present = [key for key in IFI_KEYS if key in agent]
    if len(present) != 1:
        raise ValueError(f"parameter '{name}' must have exactly one inverse functional identifier (mbox, mbox_sha1sum, openid or account), found {present or 'none'}")
    if agent.get("objectType") not in (None, "Agent", "Group"):
        raise ValueError(f"parameter '{name}' objectType must be Agent or Group")
    if "mbox" in agent and not (isinstance(agent["mbox"], str) and agent["mbox"].startswith("mailto:")):
        raise ValueError(f"parameter '{name}': mbox must be a 'mailto:' IRI")
    if "account" in agent:
        account = agent["account"]
        if not (isinstance(account, dict) and isinstance(account.get("homePage"), str) and isinstance(account.get("name"), str)):
            raise ValueError(f"parameter '{name}': account needs homePage and name")
    if "mbox_sha1sum" in agent and not (isinstance(agent["mbox_sha1sum"], str) and re.fullmatch(r"[0-9a-fA-F]{40}", agent["mbox_sha1sum"])):
        raise ValueError(f"parameter '{name}': mbox_sha1sum must be 40 hex digits")
    return agent


def _activity_id(obj: Any) -> str | None:
    if isinstance(obj, dict) and obj.get("objectType", "Activity") == "Activity" and isinstance(obj.get("id"), str):
        return obj["id"]
    return None


def _context_activity_ids(context: Any) -> Iterator[str]:
    if not isinstance(context, dict):
        return
    groups = context.get("contextActivities") or {}
    if isinstance(groups, dict):
        for value in groups.values():
            for activity in value if isinstance(value, list) else [value]:
                if isinstance(activity, dict) and isinstance(activity.get("id"), str):
                    yield activity["id"]


def links(statement: dict[str, Any]) -> set[tuple[str, str, bool]]:
    """(kind, value, direct) rows for the agent/activity filters (Communication 2.1.3).

    Direct: the actor or object (agent filter), the object (activity filter). The rest
    (authority, instructor, team, context activities, SubStatement parts) only match
    with related_agents / related_activities.
    """
    found: dict[tuple[str, str], bool] = {}

    def add(kind: str, value: str, direct: bool) -> None:
        found[(kind, value)] = found.get((kind, value), False) or direct

    def walk(stmt: dict[str, Any], top: bool) -> None:
        for ifi in agent_ifis(stmt.get("actor")):
            add("agent", ifi, top)
        obj = stmt.get("object")
        if isinstance(obj, dict) and obj.get("objectType") in ("Agent", "Group"):
            for ifi in agent_ifis(obj):
                add("agent", ifi, top)
        activity = _activity_id(obj)
        if activity:
            add("activity", activity, top)
        context = stmt.get("context")
        if isinstance(context, dict):
            for key in ("instructor", "team"):
                for ifi in agent_ifis(context.get(key)):
                    add("agent", ifi, False)
            for activity_id in _context_activity_ids(context):
                add("activity", activity_id, False)
        for ifi in agent_ifis(stmt.get("authority")):
            add("agent", ifi, False)
        if isinstance(obj, dict) and obj.get("objectType") == "SubStatement":
            walk(obj, False)

    walk(statement, True)
    # The statement's own authority also gets an "auth" row: statements/read/mine for Basic
    # credentials means "statements this credential stored" (Communication 4.2 scopes).
    authority = agent_ifi(statement.get("authority"))
    if authority:
        found[("auth", authority)] = True
    return {(kind, value, direct) for (kind, value), direct in found.items()}


def activities_with_definitions(statement: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every Activity object in the statement that carries a definition (for canonical merging)."""

    def walk(stmt: dict[str, Any]) -> Iterator[dict[str, Any]]:
        obj = stmt.get("object")
        if isinstance(obj, dict) and _activity_id(obj) and isinstance(obj.get("definition"), dict):
            yield obj
        context = stmt.get("context")
        if isinstance(context, dict) and isinstance(context.get("contextActivities"), dict):
            for value in context["contextActivities"].values():
                for activity in value if isinstance(value, list) else [value]:
                    if isinstance(activity, dict) and isinstance(activity.get("definition"), dict):
                        yield activity
        if isinstance(obj, dict) and obj.get("objectType") == "SubStatement":
            yield from walk(obj)

    yield from walk(statement)


LANGUAGE_MAP_KEYS = ("name", "description")


def merge_definition(old: dict[str, Any] | None, new: dict[str, Any], trusted: bool = True) -> dict[str, Any]:
    """Canonical definition: language maps merge per language, other fields are replaced.

    ``trusted`` (a credential with the ``define`` scope): the newest value wins. Otherwise the
    statement may only fill gaps (a first definition, a language or field not known yet): an
    untrusted source must not change what the LRS already holds (Data 2.4.4.1, Communication 2.5).
    """
    merged = copy.deepcopy(old) if old else {}
    for key, value in new.items():
        if key in LANGUAGE_MAP_KEYS and isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value} if trusted else {**value, **merged[key]}
        elif trusted or key not in merged:
            merged[key] = copy.deepcopy(value)
    return merged


# --------------------------------------------------------------------------- comparison
def _strip_definitions(node: Any) -> Any:
    if isinstance(node, dict):
        return {key: _strip_definitions(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_strip_definitions(value) for value in node]
    return node


def comparable(statement: dict[str, Any]) -> Any:
    """The statement minus what immutability allows to differ (Data 2.3.1), for equivalence checks.

    Ignored: id/authority/stored/version, the timestamp's serialization (compared as an instant),
    a result duration's precision beyond 0.01 s (Data 4.6; a "shall" in xAPI 2.0 §4.2.7), attachments,
    activity definitions, verb display, the order of Group members, contextActivities given as one
    object instead of an array, and the case of mbox.
    """

    def norm(node: Any, path: str) -> Any:
        if isinstance(node, dict):
            out: dict[str, Any] = {}
            for key, value in node.items():
                if path == "" and key in ("id", "authority", "stored", "version", "attachments"):
                    continue
                if key == "timestamp" and isinstance(value, str):
                    try:
                        out[key] = parse_timestamp(value)
                    except ValueError:
                        out[key] = value
                    continue
                if key == "duration" and isinstance(value, str) and path.endswith("result"):
                    out[key] = comparable_duration(value)
                    continue
                if key == "definition" and isinstance(value, dict):
                    continue
                if key == "display" and path.endswith("verb"):
                    continue
                if key == "mbox" and isinstance(value, str):
                    out[key] = value.lower()
                    continue
                if key == "member" and isinstance(value, list):
                    members = [norm(member, path + "/member") for member in value]
                    out[key] = sorted(members, key=lambda member: repr(sorted(member.items())) if isinstance(member, dict) else repr(member))
                    continue
                if key == "contextActivities" and isinstance(value, dict):
                    out[key] = {
                        group: [norm(a, path + "/ca") for a in (acts if isinstance(acts, list) else [acts])]
                        for group, acts in value.items()
                    }
                    continue
                out[key] = norm(value, path + "/" + key)
            return out
        if isinstance(node, list):
            return [norm(value, path) for value in node]
        return node

    return norm(statement, "")


_DURATION_SECONDS = re.compile(r"(\d+)(?:[.,](\d+))?S$")


def comparable_duration(duration: str) -> str:
    """``duration`` with its seconds cut to hundredths: ``PT0.1237S`` and ``PT0.12S`` compare equal."""
    match = _DURATION_SECONDS.search(duration)
    if match is None:
        return duration
    whole, fraction = match.group(1), (match.group(2) or "")[:2].rstrip("0")
    seconds = f"{int(whole)}.{fraction}" if fraction else str(int(whole))
    return duration[: match.start()] + seconds + "S"


def equivalent(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """True when two statements are the same statement for the conflict and signature rules.

    A timestamp missing on one side is one the LRS would assign, so it is not compared.
    """
    left, right = comparable(a), comparable(b)
    if "timestamp" not in left or "timestamp" not in right:
        left.pop("timestamp", None)
        right.pop("timestamp", None)
    return left == right


# --------------------------------------------------------------------------- timestamps
_TS_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|z|[+-]\d{2}:?\d{2})?$"
)


def parse_timestamp(text: str) -> int:
    """ISO 8601 timestamp → microseconds since the epoch (UTC). Raises ValueError with a reason."""
    match = _TS_RE.match(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not an ISO 8601 timestamp such as 2026-11-21T22:00:00.000Z")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    micro = int((fraction or ".0")[1:7].ljust(6, "0"))
    if zone in (None, "Z", "z"):
        tz = UTC
    else:
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        tz = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
    moment = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), micro, tzinfo=tz)
    return int(moment.timestamp()) * 1_000_000 + moment.microsecond


def format_timestamp(micros: int) -> str:
    """Microseconds since the epoch → ``2026-11-21T22:00:00.123Z`` (millisecond precision, UTC)."""
    moment = datetime.fromtimestamp(micros // 1_000_000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{(micros % 1_000_000) // 1000:03d}Z"


def http_date(micros: int) -> str:
    """Microseconds since the epoch → an RFC 7231 date for Last-Modified."""
    return format_datetime(datetime.fromtimestamp(micros / 1_000_000, tz=UTC), usegmt=True)
