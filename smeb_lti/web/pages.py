"""Rendering a page of the tool: HTML in the learner's language."""

from __future__ import annotations

from typing import Any

from flask import Response, render_template


def render(template: str, /, *, lang: str, status: int = 200, **values: Any) -> Response:
    """``template`` as an HTML response with HTTP ``status``.

    Templates get ``lang``, ``nb`` (whether the page is in bokmål) and ``status`` (the error pages show it).
    """
    body = render_template(template, lang=lang, nb=lang == "nb", status=status, **values)
    return Response(body, status=status, mimetype="text/html")
