"""A scripted browser for the LTI flow: follows redirects and auto-posting forms as a browser with JavaScript does.

LTI 1.3 moves the user between platform and tool with redirects and self-submitting HTML forms
(login initiation, id_token, deep-linking response). :class:`FormBrowser` does the same over
``httpx`` with a cookie jar, so smoke checks, end-to-end tests and the benchmark drive the real
servers without a browser engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin

import httpx


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)
    form_id: str | None = None


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._current: Form | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._current = Form(values.get("action", ""), values.get("method", "get").lower(), {}, values.get("id"))
            self.forms.append(self._current)
        elif tag in ("input", "textarea") and self._current is not None and values.get("name"):
            if values.get("type") in ("checkbox", "radio") and "checked" not in values:
                return
            self._current.fields[values["name"]] = values.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._current = None


def forms_of(html: str) -> list[Form]:
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


class FlowError(Exception):
    """A step of the LTI flow answered with something other than what a browser would follow."""


class FormBrowser:
    """``httpx.Client`` + cookie jar + auto-post forms (those with ``id="autopost"`` or named in :meth:`submit`)."""

    AUTOPOST_IDS = ("autopost", "lti-autopost", "auto")

    def __init__(self, timeout: float = 30.0) -> None:
        self.client = httpx.Client(timeout=timeout, follow_redirects=True)
        self.history: list[httpx.Response] = []

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> FormBrowser:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _autopost(self, response: httpx.Response) -> Form | None:
        if "text/html" not in response.headers.get("content-type", ""):
            return None
        text = response.text
        if ".submit()" not in text:
            return None  # a page that does not submit itself: a browser would stop here too
        forms = forms_of(text)
        return forms[0] if len(forms) == 1 else next((f for f in forms if f.form_id in self.AUTOPOST_IDS), None)

    def follow(self, response: httpx.Response, max_forms: int = 8) -> httpx.Response:
        """Submit self-submitting forms until a page that is not one."""
        for _ in range(max_forms):
            self.history.append(response)
            form = self._autopost(response)
            if form is None:
                return response
            response = self.send(form, base=str(response.url))
        raise FlowError(f"more than {max_forms} self-submitting forms in a row (last: {response.url})")

    def send(self, form: Form, base: str, extra: Mapping[str, str] | None = None) -> httpx.Response:
        url = urljoin(base, form.action)
        data = {**form.fields, **(extra or {})}
        if form.method == "post":
            return self.client.post(url, data=data)
        return self.client.get(url, params=data)

    def post(self, url: str, data: Mapping[str, str]) -> httpx.Response:
        return self.follow(self.client.post(url, data=dict(data)))

    def get(self, url: str) -> httpx.Response:
        return self.client.get(url)

    def launch(self, platform_url: str, link_id: str, user_id: str) -> httpx.Response:
        """Press a course's start button on the demo LMS as ``user_id``; returns the tool's final page."""
        return self.post(f"{platform_url.rstrip('/')}/launch/{link_id}", {"user": user_id})

    def deep_link(self, platform_url: str, client_id: str, user_id: str) -> httpx.Response:
        """Press "add content" on the demo LMS; returns the tool's content selection page."""
        return self.post(f"{platform_url.rstrip('/')}/deep-link/start", {"client_id": client_id, "user": user_id})
