"""Errors of the LTI tool, each with the HTTP status it becomes and a message that says what to fix.

Rooted in :class:`smeb_lti.errors.SmebError`; how they look is declared in :func:`smeb_lti.lti.routes.register_error_handlers`:
bad input from a platform or a browser is always a 4xx, never a 500.
"""

from __future__ import annotations

from smeb_lti.errors import SmebError


class LtiError(SmebError):
    """Base class: an LTI request the tool refuses; ``status`` is the HTTP status code."""

    status = 400
    default = "the LTI request was refused"

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default
        super().__init__(self.message)


class LoginError(LtiError):
    """400: the OIDC third-party login initiation lacks or has wrong parameters."""

    default = "invalid OIDC login initiation: the platform must send iss, login_hint and target_link_uri"


class UnknownPlatform(LtiError):
    """400: no registration for this issuer (and client id)."""

    default = "this platform is not registered with the tool: register it with `smeb platform add` or dynamic registration"


class UnknownDeployment(LtiError):
    """400: the deployment id is not registered for this platform registration."""

    default = "this deployment is not registered: add it with `smeb platform add --deployment ID`"


class StateError(LtiError):
    """400: the OIDC ``state`` is missing, unknown, expired or belongs to another browser."""

    default = "the launch state is missing or unknown: start the activity again from the course page in the LMS"

    def __init__(self, message: str | None = None, retry_url: str | None = None) -> None:
        super().__init__(message)
        self.retry_url = retry_url  # "open in a new window": a first-party login that can set its cookie


class InvalidToken(LtiError):
    """401: the id_token is malformed, badly signed, expired, or for another audience."""

    status = 401
    default = "the id_token was refused"


class ReplayedToken(InvalidToken):
    """401: the nonce was never issued by this tool or has already been used."""

    default = "this launch was already used (or its nonce was never issued): start the activity again from the LMS"


class InvalidMessage(LtiError):
    """400: the id_token is valid but is not a well-formed LTI 1.3 message."""

    default = "the LTI message is incomplete"


class PlatformKeyError(LtiError):
    """401: the platform's key set does not contain the key (kid) that signed the token."""

    status = 401
    default = "the platform's signing key could not be found"


class PlatformUnreachable(LtiError):
    """502: an HTTP call to the platform failed or timed out."""

    status = 502
    default = "the platform did not answer in time"


class LaunchNotFound(LtiError):
    """404: no stored launch with this id (expired, or never existed)."""

    status = 404
    default = "this launch has expired or does not exist: open the activity again from the LMS"


class Forbidden(LtiError):
    """403: the launch does not allow this action (e.g. a learner opening the deep-linking catalogue)."""

    status = 403
    default = "this launch is not allowed to do that"


class DeepLinkingError(LtiError):
    """400: the deep-linking selection is invalid (unknown course or module, tampered data)."""

    default = "invalid deep-linking selection"


class RegistrationError(LtiError):
    """400: a registration (manual or dynamic) is invalid."""

    default = "invalid platform registration"


class ToolKeyError(LtiError):
    """500: the tool's own signing keys cannot be used (missing, or the encryption key does not open them)."""

    status = 500
    default = "the tool's signing key is unavailable: run `smeb keys rotate` or check SMEB_KEY_ENCRYPTION_KEY"


class RateLimited(LtiError):
    """429: too many requests of this kind from this address or platform; ``retry_after`` in seconds."""

    status = 429
    default = "too many requests: wait a minute and try again"

    def __init__(self, message: str | None = None, retry_after: int = 60) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TokenTooLarge(LtiError):
    """413: the posted id_token is larger than ``SMEB_MAX_ID_TOKEN_BYTES``; refused before it is parsed."""

    status = 413
    default = "the id_token is too large"
