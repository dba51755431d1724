"""Errors of the demo platform, each with its HTTP status; turned into responses in one place (``app._register_errors``)."""

from __future__ import annotations

from smeb_lti.errors import SmebError


class PlatformError(SmebError):
    """Base class: a request the demo platform refuses."""

    status = 400
    oauth_error = "invalid_request"


class AuthRequestInvalid(PlatformError):
    """400: the tool's OIDC authentication request is wrong (redirect_uri, client_id, nonce, hints ...)."""


class ToolTokenInvalid(PlatformError):
    """401: a JWT from the tool (client assertion, deep-linking response) failed verification."""

    status = 401
    oauth_error = "invalid_client"


class ToolKeyUnavailable(PlatformError):
    """502: the tool's JWKS could not be fetched."""

    status = 502
    oauth_error = "invalid_client"


class TokenRequestInvalid(PlatformError):
    """400: the OAuth2 token request is malformed (grant type, assertion type, scope)."""


class ServiceUnauthorized(PlatformError):
    """401: no valid bearer token for an AGS/NRPS call."""

    status = 401
    oauth_error = "invalid_token"


class ServiceForbidden(PlatformError):
    """403: the bearer token lacks the scope this AGS/NRPS call needs."""

    status = 403
    oauth_error = "insufficient_scope"


class NotFound(PlatformError):
    """404: no such context, line item or link."""

    status = 404


class ScoreInvalid(PlatformError):
    """400: the Score (AGS 2.0 §3.4) or line item JSON is malformed; the message names the field."""


class ScoreConflict(PlatformError):
    """409: the result on record is at least as new as this score (Moodle compares whole seconds and refuses an equal one)."""

    status = 409


class UnsupportedMediaType(PlatformError):
    """415: wrong Content-Type for an AGS call."""

    status = 415


class DeepLinkInvalid(PlatformError):
    """400: the LtiDeepLinkingResponse is not acceptable (message type, data, content items)."""
