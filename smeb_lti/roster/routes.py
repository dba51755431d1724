"""The roster page for instructors and administrators: NRPS 2.0 members of the LMS course, page by page.

``/roster/<launch_id>`` calls the platform's membership service (the launch's NRPS claim) with an
access token for the ``contextmembership.readonly`` scope and shows one page; the platform's
``Link: rel="next"`` becomes a "next page" link. The next-page URL travels through the browser, so
it is accepted only when it points at the same membership service (same origin and path) as the
launch's claim: the tool never fetches an arbitrary URL with its token.

Each member's progress in this launch's course is shown beside the name (from the player host).
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, Response, render_template, request

from smeb_lti.lti import binding
from smeb_lti.lti.errors import Forbidden
from smeb_lti.lti.launches import get_launch
from smeb_lti.lti.nrps import fetch_page, role_names, same_service, with_limit
from smeb_lti.lti.services import lti_services
from smeb_lti.play.store import progress_of_context
from smeb_lti.settings import settings
from smeb_lti.web import headers

bp = Blueprint("roster", __name__)  # its page is in smeb_lti/templates/roster/
# Names and e-mail addresses: nothing but the page's own style (by nonce) may load, and forms only post back here.
CSP = "default-src 'none'; style-src " + headers.NONCE + "; img-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'"
headers.policy(bp, CSP)

def page_size() -> int:
    """Members per page: ``SMEB_ROSTER_PAGE_SIZE`` (1 to 1000, default 25), validated at start."""
    return settings().roster_page_size


@bp.get("/roster/<launch_id>")
def roster(launch_id: str) -> Response:
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
                        player_link=link(f"/play/{launch_id}") if slug else None, role_names=role_names,
                        context_title=page.context_title or context.context_title or ""),
        mimetype="text/html",
    )
    return response
