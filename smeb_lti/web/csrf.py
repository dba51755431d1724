"""The one CSRF guard of the tool's pages under a launch (``/app/<launch_id>/...``).

Inside an LMS iframe there is no cookie to bind a form to, so the token is bound to the launch: a keyed HMAC of
the launch id (:mod:`smeb_lti.web.keys`) that only a page rendered for that launch carries, in a hidden form
field and/or a request header (the journal's fetch calls). Each part declares its guard once::

    CSRF = Csrf("smeb-forum")
    ... render_template(..., csrf=CSRF.token(launch_id)) ...
    if not CSRF.valid(launch_id): raise ForumTokenInvalid(...)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from flask import request

from smeb_lti.web import keys

FIELD: Final = "csrf"
"""The hidden form field that carries the token."""


@dataclass(frozen=True)
class Csrf:
    """The guard of one part: ``purpose`` separates its tokens from every other part's."""

    purpose: str
    form_field: str | None = FIELD
    header: str | None = None
    # The surveys' and workshops' tokens are signed under their purpose's key, the others bind purpose and launch id
    # in one HMAC; both shapes are kept so pages open while the tool is upgraded still send valid tokens.
    purpose_key: bool = False

    def token(self, launch_id: str) -> str:
        """The token of ``launch_id``'s pages (hex)."""
        if self.purpose_key:
            return keys.sign(self.purpose, launch_id)
        return keys.launch_bound(self.purpose, launch_id).hex()

    def sent(self) -> str:
        """The token this request carries: the form field first, then the header."""
        sent = request.form.get(self.form_field, "") if self.form_field else ""
        if not sent and self.header:
            sent = request.headers.get(self.header, "")
        return sent

    def valid(self, launch_id: str) -> bool:
        """Whether this request carries ``launch_id``'s token (constant-time)."""
        return keys.same_token(self.sent(), self.token(launch_id))
