"""Staff pages reached by a launch id are bound to the browser that did the launch.

Threat: a launch id is a 12-hour bearer value in the URL. A staff URL that leaks (pasted into a
chat, a screenshot, browser history on a shared PC, a proxy log) would otherwise show the roster
with names and e-mail addresses, the company dashboard and its exports to whoever opens it.

Control, two ways for a browser to prove it did the launch:

1. **The launch cookie.** A staff launch's response sets ``smeb_staff`` = HMAC(SMEB_SECRET_KEY,
   launch id), HttpOnly, and over HTTPS ``Secure; SameSite=None; Partitioned`` (CHIPS: kept in the
   LMS's partition when the tool runs in its iframe), once per staff path of that launch
   (``/app/<id>/``, ``/roster/<id>``, ``/deep-link/<id>``), so it travels only to that launch's pages
   and many launches do not grow every request's Cookie header. No server-side row: the HMAC is
   the proof, unforgeable without the secret.
2. **A single-use ticket** (``?smeb_ticket=`` or a form field) for the embedded launch whose
   browser sends no cookie (third-party cookies blocked; the launch was proven through the
   platform's postMessage storage, issue 11). The launch redirect carries one; each staff page
   opened with a valid ticket gives its own staff links and forms fresh ones
   (:func:`staff_link`, :func:`ticket_field`). A ticket lives ``SMEB_STAFF_TICKET_TTL`` seconds
   (default 600) and is consumed atomically by its first use, so a URL copied from the address bar
   after it was opened is worthless.

A browser with neither gets :class:`BrowserNotBound`: a 403 page in Norwegian and English that
says to open the activity again from the LMS, with nothing of the launch on it.

Learner pages (``/play/<id>`` and what the player calls) stay bearer URLs on purpose, see
docs/lti.md ("Limits").
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from flask import g, request
from markupsafe import Markup, escape
from werkzeug.wrappers import Response as BaseResponse

from smeb_lti.lti.errors import LtiError
from smeb_lti.lti.services import LtiServices, lti_services
from smeb_lti.web import keys

COOKIE = "smeb_staff"
TICKET = "smeb_ticket"
_TICKET_KEY = "staff-ticket:"


class BrowserNotBound(LtiError):
    """403: a staff page opened by a browser that did not do its launch (no launch cookie, no valid ticket)."""

    status = 403
    default = (
        "Denne lenken er knyttet til nettleseren som åpnet aktiviteten. Åpne aktiviteten på nytt fra læringsplattformen (LMS). / "
        "This link only works in the browser that opened the activity. Open the activity again from your learning platform (LMS)."
    )


def staff_paths(launch_id: str) -> tuple[str, ...]:
    """Where a staff launch's pages live; the launch cookie is scoped to exactly these paths."""
    return (f"/app/{launch_id}/", f"/roster/{launch_id}", f"/deep-link/{launch_id}")


def proof(secret: str | bytes, launch_id: str) -> str:
    """The cookie value that proves a browser did launch ``launch_id``: HMAC-SHA256 with the app's secret."""
    return keys.launch_bound("smeb-staff-binding", launch_id, secret=secret).hex()


def _services() -> LtiServices:
    return lti_services()


def bind(response: BaseResponse, launch_id: str, *, secure: bool, max_age: int) -> None:
    """Set the launch cookie on the launch's response (its redirect to the player or the catalogue)."""
    value = proof(keys.secret_key(), launch_id)
    for path in staff_paths(launch_id):
        if secure:
            response.set_cookie(COOKIE, value, max_age=max_age, path=path, secure=True, httponly=True, samesite="None", partitioned=True)
        else:  # plain-HTTP development: a cookie without Secure cannot be SameSite=None
            response.set_cookie(COOKIE, value, max_age=max_age, path=path, httponly=True, samesite="Lax")


def issue_ticket(launch_id: str) -> str:
    """A fresh single-use ticket for one staff request of ``launch_id`` (stored hashed, in the shared store)."""
    services = _services()
    ticket = secrets.token_urlsafe(32)
    services.store.put(_TICKET_KEY + hashlib.sha256(ticket.encode("ascii")).hexdigest(), launch_id, services.settings.staff_ticket_ttl)
    return ticket


def _cookie_ok(launch_id: str) -> bool:
    expected = proof(keys.secret_key(), launch_id)
    # Several cookies of this name may arrive (one per matching path); any valid one proves the launch.
    return any(keys.same_token(value, expected) for value in request.cookies.getlist(COOKIE))


def _presented_tickets() -> list[str]:
    found = [request.args.get(TICKET, "")]
    if request.method == "POST" and request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        found.insert(0, request.form.get(TICKET, ""))
    return [t for t in found if t and len(t) <= 100]


def _consume(launch_id: str) -> bool:
    services = _services()
    for ticket in _presented_tickets():
        try:
            digest = hashlib.sha256(ticket.encode("ascii")).hexdigest()
        except UnicodeEncodeError:
            continue
        owner = services.store.consume(_TICKET_KEY + digest)
        if isinstance(owner, str) and hmac.compare_digest(owner.encode("utf-8"), launch_id.encode("utf-8")):
            return True
    return False


def how_bound(launch_id: str) -> str | None:
    """``"cookie"``, ``"ticket"`` or ``None`` for this request; a presented ticket is consumed at the first call."""
    cache: dict[str, str | None] = g.setdefault("smeb_binding", {})
    if launch_id not in cache:
        cache[launch_id] = "cookie" if _cookie_ok(launch_id) else "ticket" if _consume(launch_id) else None
    return cache[launch_id]


def require_bound_browser(launch_id: str) -> None:
    """Raise :class:`BrowserNotBound` (403) unless this browser did the launch (cookie) or holds a valid ticket."""
    if how_bound(launch_id) is None:
        raise BrowserNotBound()


def staff_link(launch_id: str, url: str) -> str:
    """``url`` (a page of this launch) as a link for the current page: with a fresh ticket when this request came by ticket.

    A browser with the cookie needs none, and a request that is not bound gets none (the link then leads to the 403 page).
    """
    if how_bound(launch_id) != "ticket":
        return url
    base, hash_, fragment = url.partition("#")
    base += ("&" if urlsplit(base).query else "?") + f"{TICKET}={issue_ticket(launch_id)}"
    return base + hash_ + fragment


def ticket_field(launch_id: str) -> Markup:
    """A hidden form field with a fresh ticket, when this request came by ticket (else nothing)."""
    if how_bound(launch_id) != "ticket":
        return Markup("")
    return Markup('<input type="hidden" name="{}" value="{}">').format(TICKET, escape(issue_ticket(launch_id)))
