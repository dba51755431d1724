"""Security headers on every response of the tool, set once here for all blueprints.

Threats (docs/security.md): a page of the tool framed by a site that is not the learner's LMS (clickjacking: a
hidden "send" or "remove from team" button under a decoy); a file served with the wrong type being sniffed into
script; launch ids (which open a learner's pages) leaking through ``Referer``.

Every response gets ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer`` and a
``Content-Security-Policy`` with ``frame-ancestors``, unless the view set its own (a blueprint's stricter or
richer policy wins; a policy without ``frame-ancestors`` gets it appended). The tool runs inside LMS iframes, so:

* an HTML page of a launch (``/play/<launch_id>``, ``/app/<launch_id>/…``, ``/roster/<launch_id>``,
  ``/deep-link/<launch_id>``) may be framed by exactly the origins of that launch's platform registration
  (issuer and OIDC login URL; the demo LMS is a registration like any other);
* the LTI entry pages (OIDC login, launch, dynamic registration) by the origins of every registered platform
  (the launch is not known yet), the registration page also by the platform that opened it;
* everything else by no one: ``frame-ancestors 'none'`` and ``X-Frame-Options: DENY``.

The origins come from the registrations table, cached per app (:class:`FrameOrigins`): one query per
``RELOAD_SECONDS`` (``ENTRY_RELOAD_SECONDS`` for the LTI entry pages) for the registrations, at once when a launch
names a registration not yet loaded, and one primary-key lookup per launch id seen (its registration never changes).
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from typing import Final, Protocol
from urllib.parse import urlsplit

from flask import Blueprint, Flask, Response, current_app, g, request
from sqlalchemy.orm import Session, sessionmaker

from smeb_lti.web.sessions import sessions

RELOAD_SECONDS: Final = 30.0
"""How stale the cached registrations may be: a platform added by ``smeb platform add`` is framable within this."""
ENTRY_RELOAD_SECONDS: Final = 2.0
LAUNCH_CACHE_SIZE: Final = 4096
NONE: Final = "'none'"

# Entry pages of the LTI flow: framed by the LMS before a launch exists.
LTI_ENTRY_ENDPOINTS: Final = frozenset({"lti.login", "lti.launch", "lti_registration.register"})
# A CSP source expression we are willing to emit: scheme, host and optional port, nothing that could end the header.
_ORIGIN: Final = re.compile(r"^https?://[A-Za-z0-9.\-]+(:[0-9]{1,5})?$|^https?://\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$")


def origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` of an http(s) URL, or ``None`` when it is not one that may appear in a CSP."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    origin = f"{parts.scheme.lower()}://{parts.netloc.lower()}"
    return origin if parts.scheme.lower() in ("http", "https") and "@" not in parts.netloc and _ORIGIN.match(origin) else None


class PlatformDirectory(Protocol):
    """Where the registered platforms and the launches' platforms are kept (the LTI part provides it).

    The web kernel imports no part of the tool, so it asks through this instead of reading LTI tables itself.
    """

    def platforms(self, session: Session) -> Iterable[tuple[int, str, str]]:
        """``(registration id, issuer, login URL)`` of every registered platform."""
        ...

    def registration_of(self, session: Session, launch_id: str) -> int | None:
        """The registration id of a stored launch, ``None`` when there is no such launch."""
        ...


class FrameOrigins:
    """The origins of the registered platforms, by registration id, reloaded at most every ``reload_seconds``."""

    def __init__(
        self, sessions: sessionmaker[Session], directory: PlatformDirectory, reload_seconds: float = RELOAD_SECONDS
    ) -> None:
        self._sessions = sessions
        self._directory = directory
        self._reload_seconds = reload_seconds
        self._lock = threading.Lock()
        self._by_registration: dict[int, tuple[str, ...]] = {}
        self._loaded_at = float("-inf")
        self._launches: OrderedDict[str, int | None] = OrderedDict()

    def _load(self, *, force: bool = False, max_age: float | None = None) -> dict[int, tuple[str, ...]]:
        with self._lock:
            now = time.monotonic()
            if force or now - self._loaded_at >= (self._reload_seconds if max_age is None else max_age):
                found: dict[int, tuple[str, ...]] = {}
                with self._sessions() as session:
                    for registration_id, issuer, login_url in self._directory.platforms(session):
                        origins = [o for o in (origin_of(issuer), origin_of(login_url)) if o]
                        found[registration_id] = tuple(dict.fromkeys(origins))
                self._by_registration, self._loaded_at = found, now
            return self._by_registration

    def for_registration(self, registration_id: int) -> tuple[str, ...]:
        loaded = self._load()
        if registration_id not in loaded:
            loaded = self._load(force=True)  # registered since the last load (its launch exists, so it is real)
        return loaded.get(registration_id, ())

    def every_platform(self) -> tuple[str, ...]:
        # Entry pages are one or two per launch, and a platform registered a moment ago must be able to frame its
        # first launch (the cookie-less launch page renders inside the iframe): a fresher list than for other pages.
        loaded = self._load(max_age=ENTRY_RELOAD_SECONDS)
        return tuple(dict.fromkeys(o for origins in loaded.values() for o in origins))

    def for_launch(self, launch_id: str) -> tuple[str, ...]:
        """The origins of the platform of ``launch_id``; none for an unknown launch (its page is a 404)."""
        with self._lock:
            known = launch_id in self._launches
            registration_id = self._launches.get(launch_id)
        if not known:
            with self._sessions() as session:
                registration_id = self._directory.registration_of(session, launch_id)
            if registration_id is None:
                return ()  # not cached: the launch may be stored a moment later
            with self._lock:
                self._launches[launch_id] = registration_id
                while len(self._launches) > LAUNCH_CACHE_SIZE:
                    self._launches.popitem(last=False)
        return self.for_registration(registration_id) if registration_id is not None else ()


def _launch_origins() -> None:
    """Resolve the launch's platform origins before the view runs.

    A view may end its launch (the deep-linking response does, then renders the page that posts back to the
    LMS inside its dialog): looked up after the view, on a worker that had not cached it, the launch is gone
    and the page would get ``frame-ancestors 'none'``, so the LMS's frame would refuse to show it.
    """
    launch_id = (request.view_args or {}).get("launch_id")
    if isinstance(launch_id, str) and launch_id and "\x00" not in launch_id:
        g.smeb_launch_origins = current_app.extensions["smeb.frame_origins"].for_launch(launch_id)


def frame_ancestors() -> str:
    """The ``frame-ancestors`` sources of the current request's page (``'none'`` unless an LMS frames it)."""
    cache: FrameOrigins = current_app.extensions["smeb.frame_origins"]
    launch_id = (request.view_args or {}).get("launch_id")
    origins: tuple[str, ...] = ()
    if isinstance(launch_id, str) and launch_id and "\x00" not in launch_id:
        origins = g.get("smeb_launch_origins") or cache.for_launch(launch_id)
    elif request.endpoint in LTI_ENTRY_ENDPOINTS:
        origins = cache.every_platform()
        opener = origin_of(request.args.get("openid_configuration") or "") if request.endpoint == "lti_registration.register" else None
        if opener and opener not in origins:
            origins += (opener,)  # the LMS that opened dynamic registration frames it before it is registered
    return " ".join(origins) or NONE


def _csp_has(policy: str, directive: str) -> bool:
    return any(part.strip().lower().split(" ", 1)[0] == directive for part in policy.split(";"))


def secure_headers(response: Response) -> Response:
    """Defaults for every response; a view's own values are kept (see the module docstring)."""
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")  # launch ids are in URLs
    policy = response.headers.get("Content-Security-Policy")
    if policy is None or not _csp_has(policy, "frame-ancestors"):
        # Only HTML can be framed in a way that matters; other responses are never framed by an LMS.
        ancestors = frame_ancestors() if response.mimetype == "text/html" else NONE
        directive = f"frame-ancestors {ancestors}"
        response.headers["Content-Security-Policy"] = f"{policy.rstrip().rstrip(';')}; {directive}" if policy else directive
    final = response.headers["Content-Security-Policy"]
    if "X-Frame-Options" not in response.headers and re.search(r"(^|;)\s*frame-ancestors\s+'none'\s*(;|$)", final, re.IGNORECASE):
        response.headers["X-Frame-Options"] = "DENY"  # for browsers that predate frame-ancestors
    return response


# -- a page's own policy ------------------------------------------------------------------------

FRAME_ANCESTORS: Final = "{frame_ancestors}"
"""Where a page's own policy wants the launch's ``frame-ancestors`` sources at a fixed place in its CSP."""
NONCE: Final = "{nonce}"
"""A source expression ``'nonce-…'`` of this response: templates mark their inline ``<script>``/``<style>`` with
``nonce="{{ csp_nonce() }}"`` (the LTI pages carry data for their scripts, so a hash cannot allow them)."""


def csp_nonce() -> str:
    """The nonce of the current response, one per request (a Jinja global: ``{{ csp_nonce() }}``)."""
    if "smeb_csp_nonce" not in g:
        g.smeb_csp_nonce = secrets.token_urlsafe(18)
    return str(g.smeb_csp_nonce)


def _filled(csp: str) -> str:
    if FRAME_ANCESTORS in csp:
        csp = csp.replace(FRAME_ANCESTORS, frame_ancestors())
    if NONCE in csp:
        csp = csp.replace(NONCE, f"'nonce-{csp_nonce()}'")
    return csp


def protect(response: Response, csp: str, *, cache: str = "no-store") -> Response:
    """Give ``response`` its page's own policy and caching; :func:`secure_headers` still adds the defaults after it.

    ``csp`` without ``frame-ancestors`` gets it appended by :func:`secure_headers`; :data:`FRAME_ANCESTORS` and
    :data:`NONCE` in ``csp`` are filled in for this request.
    """
    response.headers["Content-Security-Policy"] = _filled(csp)
    response.headers["Cache-Control"] = cache
    return response


def policy(blueprint: Blueprint, csp: str, *, cache: str | None = "no-store") -> None:
    """Every response of ``blueprint`` (pages, files, API answers, errors) gets ``csp`` and ``cache``.

    A view's own ``Content-Security-Policy`` or ``Cache-Control`` is kept (the LTI key set is cached publicly);
    ``cache=None`` leaves caching to the views.
    """

    def _defaults(response: Response) -> Response:
        if "Content-Security-Policy" not in response.headers:
            response.headers["Content-Security-Policy"] = _filled(csp)
        if cache is not None:
            response.headers.setdefault("Cache-Control", cache)
        return response

    blueprint.after_request(_defaults)


def init_app(app: Flask, directory: PlatformDirectory) -> None:
    app.extensions["smeb.frame_origins"] = FrameOrigins(sessions(app), directory)
    app.before_request(_launch_origins)
    app.after_request(secure_headers)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
