"""The one thing a validated LTI launch becomes: a frozen :class:`LaunchContext`.

Everything past the LTI layer (player host, AGS/NRPS, dashboards) reads this and
never the raw id_token, so the quirks of platforms stay here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from smeb_lti.lti import claims as c

# Roles that may pick content (deep linking) and see other learners' progress.
_STAFF_NAMES = frozenset({"Instructor", "Administrator", "ContentDeveloper", "TeachingAssistant", "Faculty"})


@dataclass(frozen=True)
class LaunchContext:
    launch_id: str  # our id for this launch (random, stored server-side)
    registration_id: int  # our platform registration row
    issuer: str
    client_id: str
    deployment_id: str
    message_type: str  # "LtiResourceLinkRequest" | "LtiDeepLinkingRequest"
    subject: str  # the platform's `sub` (opaque)
    roles: tuple[str, ...]  # full role IRIs as given
    is_instructor: bool  # instructor/administrator/content developer/TA (context or institution); unknown → learner
    locale: str  # "nb" for nb/nn/no*, else "en"
    name: str | None
    given_name: str | None
    family_name: str | None
    email: str | None
    context_id: str | None
    context_title: str | None
    resource_link_id: str | None
    custom: Mapping[str, str]  # custom claim (e.g. course=<slug>, module=<id>)
    ags: Mapping[str, Any] | None  # the AGS endpoint claim (scope, lineitems, lineitem)
    nrps: Mapping[str, Any] | None
    deep_linking: Mapping[str, Any] | None  # deep_linking_settings claim
    target_link_uri: str

    @property
    def is_deep_linking(self) -> bool:
        return self.message_type == c.DEEP_LINKING_REQUEST


def _parse_role(role: str) -> tuple[str, str]:
    """``(kind, name)`` with kind "context", "institution", "system" or "unknown".

    Short names ("Instructor") are context roles (LTI 1.3 §A.2.3, deprecated but sent by some platforms);
    sub-roles ``membership/Instructor#TeachingAssistant`` count as their sub-role.
    """
    if role.startswith(c.ROLE_CONTEXT + "#"):
        return "context", role.split("#", 1)[1]
    if role.startswith(c.ROLE_CONTEXT + "/"):
        return "context", role.rsplit("#", 1)[-1]
    if role.startswith(c.ROLE_INSTITUTION + "#"):
        return "institution", role.split("#", 1)[1]
    if role.startswith(c.ROLE_SYSTEM + "#"):
        return "system", role.split("#", 1)[1]
    if "/" not in role and "#" not in role and ":" not in role:
        return "context", role
    return "unknown", role


def is_staff(roles: tuple[str, ...]) -> bool:
    """Whether these roles may act as an instructor here.

    Context roles decide when there are any: Canvas sends an institution "Instructor" role
    to a teacher who is a *student* in this course. Without context roles the institution
    roles decide. Unknown and system roles give learner rights.
    """
    parsed = [_parse_role(r) for r in roles]
    context = [name for kind, name in parsed if kind == "context"]
    names = context if context else [name for kind, name in parsed if kind == "institution"]
    return any(n in _STAFF_NAMES for n in names)


def locale_of(claims: Mapping[str, Any]) -> str:
    """``"nb"`` for Norwegian (nb, nn, no, no-NO ...), else ``"en"``."""
    presentation = claims.get(c.LAUNCH_PRESENTATION)
    raw = presentation.get("locale") if isinstance(presentation, Mapping) else None
    raw = raw or claims.get("locale") or ""
    tag = str(raw).strip().lower().replace("_", "-")
    return "nb" if tag.split("-", 1)[0] in ("nb", "nn", "no") else "en"


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _frozen(value: Any) -> Mapping[str, Any] | None:
    return MappingProxyType(dict(value)) if isinstance(value, Mapping) else None


def context_from_claims(launch_id: str, registration_id: int, client_id: str, claims: Mapping[str, Any]) -> LaunchContext:
    """Build the context from an id_token body that :mod:`smeb_lti.lti.validation` has accepted."""
    roles = tuple(r for r in claims.get(c.ROLES) or () if isinstance(r, str))
    context = _mapping(claims.get(c.CONTEXT))
    link = _mapping(claims.get(c.RESOURCE_LINK))
    custom_raw = _mapping(claims.get(c.CUSTOM))
    # Custom values are strings in the spec; platforms substituting numbers get them as text.
    custom = {str(k): v if isinstance(v, str) else str(v) for k, v in custom_raw.items()}
    return LaunchContext(
        launch_id=launch_id,
        registration_id=registration_id,
        issuer=str(claims["iss"]),
        client_id=client_id,
        deployment_id=str(claims[c.DEPLOYMENT_ID]),
        message_type=str(claims[c.MESSAGE_TYPE]),
        subject=str(claims["sub"]),
        roles=roles,
        is_instructor=is_staff(roles),
        locale=locale_of(claims),
        name=_str_or_none(claims.get("name")),
        given_name=_str_or_none(claims.get("given_name")),
        family_name=_str_or_none(claims.get("family_name")),
        email=_str_or_none(claims.get("email")),
        context_id=_str_or_none(context.get("id")),
        context_title=_str_or_none(context.get("title")),
        resource_link_id=_str_or_none(link.get("id")),
        custom=MappingProxyType(custom),
        ags=_frozen(claims.get(c.AGS_ENDPOINT)),
        nrps=_frozen(claims.get(c.NRPS)),
        deep_linking=_frozen(claims.get(c.DL_SETTINGS)),
        target_link_uri=str(claims.get(c.TARGET_LINK_URI) or ""),
    )
