"""The roster page for instructors and administrators: NRPS 2.0 members of the LMS course, page by page.

``/roster/<launch_id>`` calls the platform's membership service (the launch's NRPS claim) with an
access token for the ``contextmembership.readonly`` scope and shows one page; the platform's
``Link: rel="next"`` becomes a "next page" link. The next-page URL travels through the browser, so
it is accepted only when it points at the same membership service (same origin and path) as the
launch's claim: the tool never fetches an arbitrary URL with its token.

Each member's progress in this launch's course is shown beside the name (from the player host).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import Blueprint, Flask, Response, current_app, render_template, request

from smeb_lti.lti import binding
from smeb_lti.lti import claims as c
from smeb_lti.lti.errors import Forbidden, LtiError, PlatformUnreachable
from smeb_lti.lti.launches import get_launch

bp = Blueprint("roster", __name__, template_folder="templates")

MEMBERSHIP_MEDIA_TYPE = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
PAGE_SIZE = 25


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


def _role_names(roles: tuple[str, ...]) -> str:
    return ", ".join(sorted({r.rsplit("#", 1)[-1].rsplit("/", 1)[-1] for r in roles}))


def parse_page(body: Mapping[str, Any], next_url: str | None) -> RosterPage:
    """The members of one NRPS response (pure; unknown fields are ignored, missing names fall back to the id)."""
    from smeb_lti.lti.context import is_staff

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
    from pylti1p3.exception import LtiServiceException

    from smeb_lti.lti import keys, registrations
    from smeb_lti.lti.tool_conf import ToolRegistration

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


def page_size() -> int:
    """Members per page: ``SMEB_ROSTER_PAGE_SIZE`` (config or environment), default 25."""
    import os

    raw = current_app.config.get("SMEB_ROSTER_PAGE_SIZE") or os.environ.get("SMEB_ROSTER_PAGE_SIZE") or PAGE_SIZE
    try:
        return max(1, min(1000, int(raw)))
    except ValueError:
        return PAGE_SIZE


@bp.get("/roster/<launch_id>")
def roster(launch_id: str) -> Response:
    from smeb_lti.lti.services import lti_services
    from smeb_lti.player_host import progress_of_context

    services = lti_services()
    with services.sessions() as session:
        context = get_launch(session, launch_id)
    if not context.is_instructor:
        raise Forbidden("the roster is for instructors and administrators of this course")
    # Names and e-mail addresses: only for the browser that did this launch, never for a leaked URL.
    binding.require_bound_browser(launch_id)
    service_url = (context.nrps or {}).get("context_memberships_url")
    if not isinstance(service_url, str) or not service_url:
        raise Forbidden("this LMS did not offer its member list to the tool (no Names and Role Provisioning claim in the launch)")
    page_url = request.args.get("page") or with_limit(service_url, page_size())
    if not same_service(page_url, service_url):
        raise Forbidden("the page link does not belong to this course's membership service")
    page = fetch_page(services, context.registration_id, page_url)
    slug = context.custom.get("course", "")
    key = f"{slug}/{context.custom['module']}" if context.custom.get("module") else slug
    with services.sessions() as session:
        progress = progress_of_context(session, context.registration_id, key) if slug else {}
    next_link = f"/roster/{launch_id}?{urlencode({'page': page.next_url})}" if page.next_url and same_service(page.next_url, service_url) else None
    link = lambda url: binding.staff_link(launch_id, url) if url else None  # noqa: E731  (fresh tickets without a cookie)
    response = Response(
        render_template("roster/roster.html", lang=context.locale, page=page, progress=progress, next_link=link(next_link),
                        first_link=link(f"/roster/{launch_id}") if request.args.get("page") else None,
                        player_link=link(f"/play/{launch_id}") if slug else None, role_names=_role_names,
                        context_title=page.context_title or context.context_title or ""),
        mimetype="text/html",
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
