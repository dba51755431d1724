"""Names and Role Provisioning Services 2.0: one page of a course's members from the platform (pure parsing + the request).

The next-page URL travels through the browser, so a caller accepts it only when it points at the same membership
service (:func:`same_service`) as the launch's claim: the tool never fetches an arbitrary URL with its token.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pylti1p3.exception import LtiServiceException

from smeb_lti.lti import claims as c
from smeb_lti.lti import keys, registrations
from smeb_lti.lti.context import is_staff
from smeb_lti.lti.errors import LtiError, PlatformUnreachable
from smeb_lti.lti.tool_conf import ToolRegistration

MEMBERSHIP_MEDIA_TYPE = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"


@dataclass(frozen=True)
class Member:
    user_id: str
    name: str
    email: str | None
    roles: tuple[str, ...]
    status: str
    is_staff: bool


@dataclass(frozen=True)
class RosterPage:
    members: tuple[Member, ...]
    next_url: str | None
    context_title: str | None


def role_names(roles: tuple[str, ...]) -> str:
    return ", ".join(sorted({r.rsplit("#", 1)[-1].rsplit("/", 1)[-1] for r in roles}))


def parse_page(body: Mapping[str, Any], next_url: str | None) -> RosterPage:
    """The members of one NRPS response (pure; unknown fields are ignored, missing names fall back to the id)."""
    members = []
    for raw in body.get("members") or []:
        if not isinstance(raw, Mapping) or not isinstance(raw.get("user_id"), str):
            continue
        roles = tuple(r for r in raw.get("roles") or () if isinstance(r, str))
        name = raw.get("name") or " ".join(p for p in (raw.get("given_name"), raw.get("family_name")) if p) or raw["user_id"]
        members.append(Member(raw["user_id"], str(name), raw.get("email"), roles, str(raw.get("status") or "Active"), is_staff(roles)))
    context = body.get("context")
    title = context.get("title") if isinstance(context, Mapping) else None
    return RosterPage(tuple(members), next_url, title if isinstance(title, str) else None)


def same_service(url: str, service_url: str) -> bool:
    a, b = urlsplit(url), urlsplit(service_url)
    return (a.scheme, a.netloc, a.path) == (b.scheme, b.netloc, b.path)


def with_limit(url: str, limit: int) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "limit"] + [("limit", str(limit))]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


def fetch_page(services: Any, registration_id: int, url: str) -> RosterPage:
    """One page from the platform, with the tool's access token (cached per registration and scope)."""
    with services.sessions() as session:
        row = registrations.get(session, registration_id)
        registration = ToolRegistration(row, keys.signing_key(session, services.fernet))
        session.commit()
    connector = services.connector_cls(registration, services.http)
    try:
        response = connector.make_service_request([c.SCOPE_NRPS], url, accept=MEMBERSHIP_MEDIA_TYPE)
    except LtiServiceException as error:
        raise PlatformUnreachable(f"the platform's membership service refused the roster request: {error}") from error
    except LtiError:
        raise
    except Exception as error:
        raise PlatformUnreachable(f"the platform's membership service {url} did not answer: {error}") from error
    return parse_page(response["body"] or {}, response["next_page_url"])
