"""The tool's one error model: every refusal is a :class:`SmebError` with its HTTP status and a message for people.

Each part keeps its own error classes (``lti/errors.py``, ``lrs/errors.py``, ...) but roots them here, and one
handler (:func:`init_app`) turns any of them into a response. By default that is the product's error page
(``templates/error.html``, bokmål and English) for people, or ``{"error", "message"}`` JSON for API clients. A part
whose clients expect its own format (the LRS: xAPI's error body and headers; the LTI endpoints; a part's own page)
declares it once with :func:`answer_with`, for its error class and, where it matters, its blueprint only.

Errors of the pure packages (``content``, ``xapi``) are not HTTP errors; the part that calls them maps them to one
of these. Third-party errors (pylti1p3's) are mapped where the part meets the library.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, Response, current_app, jsonify, render_template, request

Render = Callable[[Any], Response]
_RENDERERS = "smeb.error_renderers"


class SmebError(Exception):
    """Base of every error the tool answers over HTTP.

    ``status`` is the HTTP status; ``message`` (English, also the exception's text) and ``message_nb`` say what went
    wrong and what to do; ``spec`` names the specification clause the refusal follows, where one applies.
    """

    status: int = 500
    default: str = "the request could not be processed"
    default_nb: str | None = None
    spec: str | None = None

    def __init__(self, message: str | None = None, *, message_nb: str | None = None) -> None:
        self.message = message or self.default
        self._message_nb = message_nb
        super().__init__(self.message)

    @property
    def message_en(self) -> str:
        return self.message

    @property
    def message_nb(self) -> str:
        """The bokmål message; the English one where there is no translation (operators' and protocol errors)."""
        return self._message_nb or self.default_nb or self.message


E = TypeVar("E", bound=SmebError)


def answer_with(app: Flask, kind: type[E], render: Callable[[E], Response], *, blueprint: str | None = None) -> None:
    """Answer ``kind`` (and its subclasses) with ``render``; only inside ``blueprint`` when one is named.

    The most specific declaration wins, a blueprint's before the app-wide one, as with Flask's own handlers.
    """
    app.extensions.setdefault(_RENDERERS, {})[(blueprint, kind)] = render


def handle(error: SmebError) -> Response:
    """The response for ``error`` in this request: the renderer its part declared, else the default."""
    renderers: dict[tuple[str | None, type], Render] = current_app.extensions.get(_RENDERERS, {})
    for scope in (request.blueprint, None) if request.blueprint else (None,):
        for kind in type(error).__mro__:
            render = renderers.get((scope, kind))
            if render is not None:
                return render(error)
    return default_response(error)


def wants_json() -> bool:
    """Whether the client reads JSON (API calls, the player's fetch) rather than a page."""
    return request.is_json or request.accept_mimetypes.best == "application/json"


def error_page(error: SmebError) -> Response:
    """The product's error page (bokmål and English) for ``error``."""
    body = render_template("error.html", message=error.message, message_nb=error.message_nb, status=error.status)
    return Response(body, status=error.status, mimetype="text/html")


def default_response(error: SmebError) -> Response:
    """``{"error": <class name>, "message"}`` for API clients, the error page for people; never cached."""
    response = jsonify({"error": type(error).__name__, "message": error.message}) if wants_json() else error_page(error)
    response.status_code = error.status
    response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    """The one place a :class:`SmebError` becomes an HTTP response."""
    app.extensions.setdefault(_RENDERERS, {})
    app.register_error_handler(SmebError, handle)
