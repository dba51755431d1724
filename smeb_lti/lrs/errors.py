"""Errors of the embedded LRS, one per HTTP status the xAPI spec asks for (Communication 3.2).

The blueprint translates them to a JSON body ``{"error": status, "message": ...}`` in one
error handler; every message says what was wrong and what the client can do about it.
"""

from __future__ import annotations

from typing import Any

from smeb_lti.errors import SmebError


class LrsError(SmebError):
    """Base class: an xAPI request the LRS refuses; ``status`` is the HTTP status code."""

    status = 500
    default = "the LRS could not process the request"
    spec = "xAPI 2.0 Communication 3.2 (Error Codes)"

    def __init__(self, message: str | None = None, **details: Any) -> None:
        self.message = message or self.default
        self.details = details
        super().__init__(self.message)

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.status, "message": self.message}
        body.update(self.details)
        return body


class BadRequest(LrsError):
    """400: malformed JSON, an invalid statement, a missing or unknown parameter."""

    status = 400
    default = "bad request"


class InvalidParameter(BadRequest):
    """400: a query/form parameter is missing, unknown, repeated or malformed."""


class InvalidStatement(BadRequest):
    """400: a statement breaks the xAPI data model (the validator's issues are listed)."""


class InvalidAttachment(BadRequest):
    """400: attachment parts do not match the statements (hash, headers, signature)."""


class Unauthorized(LrsError):
    """401: no credentials, or credentials the LRS refuses for this tenant."""

    status = 401
    default = "authentication required: send HTTP Basic credentials issued by `smeb lrs credentials add`"


class Forbidden(LrsError):
    """403: valid credentials without the scope for this request (or a cmi5 rule rejects it)."""

    status = 403
    default = "these credentials are not allowed to do this"


class NotFound(LrsError):
    """404: the statement, document or tenant does not exist."""

    status = 404
    default = "not found"


class MethodNotAllowed(LrsError):
    """405: the resource exists but the specification defines no such method for it."""

    status = 405
    default = "method not allowed"

    def __init__(self, message: str | None = None, allowed: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.allowed = allowed


class Conflict(LrsError):
    """409: a statement id is taken by a different statement, or a document PUT lacks a precondition."""

    status = 409
    default = "conflict"


class PreconditionFailed(LrsError):
    """412: If-Match / If-None-Match did not hold."""

    status = 412
    default = "precondition failed"


class PayloadTooLarge(LrsError):
    """413: the body is larger than SMEB_LRS_MAX_BODY."""

    status = 413
    default = "request body too large"


class Cmi5Violation(Forbidden):
    """403: a statement breaks a cmi5 AU rule; the message starts with the requirement id."""

    def __init__(self, requirement: str, message: str) -> None:
        super().__init__(f"cmi5 {requirement}: {message}", requirement=requirement)
