"""Launch validation: pylti1p3's ``MessageLaunch`` with its gaps closed.

Out of the box pylti1p3 accepts a replayed id_token for 24 h (the nonce is only checked,
never consumed), checks ``aud[0]`` only, raises a bare ``Exception`` for an unknown issuer,
fetches the platform JWKS on every launch without a timeout, and caches service access
tokens per issuer. :class:`ToolMessageLaunch` validates, in this order, so that nothing is
stored unless everything holds:

1. state: known to the server, issued to *this* browser (state cookie, or the platform's
   postMessage storage when third-party cookies are blocked), single-use;
2. JWT format and header: ``alg`` must be RS256/384/512 (no ``none``, no HMAC);
3. registration by (iss, client id from ``azp``/``aud``), every ``aud`` entry trusted;
4. signature with the platform key of that ``kid`` (JWKS cached, re-fetched once for an unknown kid),
   ``exp``/``nbf``/``iat`` with 60 s of clock skew;
5. deployment id registered for that registration;
6. the LTI message itself (version, message type, roles, sub, resource link / deep-linking settings);
7. nonce: the one issued with this state (the state is consumed atomically first, so a replay fails even on
   another worker); ``exp`` at most ``SMEB_MAX_TOKEN_LIFETIME`` ahead, ``iat`` not in the future.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt
from pylti1p3.contrib.flask import FlaskMessageLaunch, FlaskRequest
from pylti1p3.exception import LtiException

from smeb_lti.lti import claims as c
from smeb_lti.lti import registrations
from smeb_lti.lti.errors import (
    InvalidMessage,
    InvalidToken,
    ReplayedToken,
    StateError,
    UnknownPlatform,
)
from smeb_lti.lti.platform_keys import PlatformKeySets
from smeb_lti.lti.tool_conf import DbToolConf

CLOCK_SKEW = 60  # seconds of leeway for exp/nbf/iat: platform clocks drift
ALLOWED_ALGS = ("RS256", "RS384", "RS512")  # LTI Security Framework §6.1: RSA; never "none" or HMAC
STATE_TTL = 600  # a login must reach the launch within 10 minutes


@dataclass(frozen=True)
class StateRecord:
    """What the login stored under the state: the nonce it issued and how the browser proves it holds the state."""

    nonce: str
    registration_id: int
    storage_secret: str | None  # the value put into the platform's storage (lti.put_data), if offered
    storage_target: str | None
    platform_origin: str | None
    login_params: Mapping[str, str]

    def to_json(self) -> dict[str, Any]:
        return {
            "nonce": self.nonce,
            "registration_id": self.registration_id,
            "storage_secret": self.storage_secret,
            "storage_target": self.storage_target,
            "platform_origin": self.platform_origin,
            "login_params": dict(self.login_params),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StateRecord:
        return cls(
            nonce=str(data["nonce"]),
            registration_id=int(data["registration_id"]),
            storage_secret=data.get("storage_secret"),
            storage_target=data.get("storage_target"),
            platform_origin=data.get("platform_origin"),
            login_params=dict(data.get("login_params") or {}),
        )


def decode_unverified(id_token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and body of a JWT, *not yet verified*: only to find the registration and key."""
    if not id_token or id_token.count(".") != 2:
        raise InvalidToken("the id_token is not a JWT (expected three dot-separated parts)")
    try:
        decoded = jwt.decode_complete(id_token, options={"verify_signature": False})
        header, body = decoded["header"], decoded["payload"]
    except jwt.PyJWTError as error:
        raise InvalidToken(f"the id_token cannot be decoded: {error}") from error
    if not isinstance(body, dict):
        raise InvalidToken("the id_token body is not a JSON object")
    return dict(header), body


def client_id_of(body: Mapping[str, Any]) -> str:
    """The client id the token is for: ``azp`` when present (it must be one of ``aud``), else the single ``aud``.

    OpenID Connect Core §3.1.3.7 (5)-(7): several audiences need ``azp``.
    """
    aud = body.get("aud")
    audiences = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else None
    if not audiences or not all(isinstance(a, str) and a for a in audiences):
        raise InvalidToken("the id_token has no valid 'aud' (audience) claim")
    azp = body.get("azp")
    if azp is not None:
        if not isinstance(azp, str) or azp not in audiences:
            raise InvalidToken(f"the id_token's 'azp' {azp!r} is not one of its audiences {audiences}")
        return azp
    if len(audiences) > 1:
        raise InvalidToken("the id_token has several audiences but no 'azp' saying which client it is for")
    return audiences[0]


class ToolMessageLaunch(FlaskMessageLaunch):
    """A pylti1p3 launch validated as described in the module docstring; nothing is stored here."""

    def __init__(self, *args: Any, key_sets: PlatformKeySets | None = None, max_token_lifetime: int = 3600, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._key_sets = key_sets
        self._max_token_lifetime = max_token_lifetime
        self.state_record: StateRecord | None = None
        self.claims: dict[str, Any] = {}
        self.registration_id: int | None = None
        self._deployment_ids: tuple[str, ...] = ()

    def get_client_id(self) -> str:
        return client_id_of(self._get_jwt_body())

    def validate_with_state(self, record: StateRecord) -> ToolMessageLaunch:
        """Validate the launch; ``record`` is the already consumed state the browser proved it holds."""
        self.state_record = record
        self._validated = True
        try:
            self.validate_jwt_format()
            self.validate_registration()
            self.validate_jwt_signature()
            self.validate_deployment()
            self.validate_message()
            self.validate_nonce()
        except Exception:
            self._validated = False
            raise
        return self

    def validate(self) -> ToolMessageLaunch:
        raise NotImplementedError("use validate_with_state(): the state is checked by the route, which owns cookies")

    def validate_jwt_format(self) -> ToolMessageLaunch:
        header, body = decode_unverified(self._get_id_token())
        alg = header.get("alg")
        if alg not in ALLOWED_ALGS:
            raise InvalidToken(f"the id_token is signed with alg {alg!r}; LTI 1.3 requires RS256 (an RSA key)")
        if not isinstance(header.get("kid"), str) or not header["kid"]:
            raise InvalidToken("the id_token header has no 'kid': the platform must say which key signed it")
        self._jwt = {"header": header, "body": body}  # type: ignore[typeddict-item]  # pylti1p3's _jwt TypedDict is narrower than the claims it stores
        return self

    def validate_registration(self) -> ToolMessageLaunch:
        body = self._get_jwt_body()
        iss = body.get("iss")
        if not isinstance(iss, str) or not iss:
            raise InvalidToken("the id_token has no 'iss' (issuer) claim")
        client_id = self.get_client_id()
        try:
            tool_config = self._tool_config
            assert isinstance(tool_config, DbToolConf), "the tool launches with its database configuration"
            found = tool_config.for_launch(iss, client_id)
        except UnknownPlatform:
            raise
        except LtiException as error:
            raise UnknownPlatform(str(error)) from error
        self._registration = found.registration
        self._deployment_ids = found.deployment_ids
        self.registration_id = int(found.registration.registration_id)
        if self.state_record is not None and self.state_record.registration_id != self.registration_id:
            raise StateError("the state was issued for another platform registration than the one that signed this launch")
        # Every audience must be a client of ours on this issuer (OIDC Core §3.1.3.7 (3)).
        aud = body.get("aud")
        audiences = [aud] if isinstance(aud, str) else list(aud or [])
        untrusted = [a for a in audiences if a not in found.trusted_clients]
        if untrusted:
            raise InvalidToken(f"the id_token names audiences this tool does not trust: {untrusted}")
        return self

    def validate_jwt_signature(self) -> ToolMessageLaunch:
        assert self._registration is not None and self._key_sets is not None
        header = self._jwt["header"]
        url = self._registration.get_key_set_url() or ""
        key = self._key_sets.key(url, str(header.get("kid")), str(header.get("alg")))
        try:
            verified = jwt.decode(
                self._get_id_token(),
                key,
                algorithms=[str(header.get("alg"))],
                audience=self.get_client_id(),
                issuer=self._registration.get_issuer(),
                leeway=CLOCK_SKEW,
                options={"require": ["exp", "iat", "iss", "aud", "nonce"]},
            )
        except jwt.ExpiredSignatureError as error:
            raise InvalidToken("the id_token has expired ('exp' is in the past): launch again from the LMS") from error
        except jwt.ImmatureSignatureError as error:
            raise InvalidToken(
                f"the id_token is not valid yet ({error}: 'iat'/'nbf' more than {CLOCK_SKEW} s in the future); check the platform's clock"
            ) from error
        except jwt.InvalidSignatureError as error:
            raise InvalidToken("the id_token's signature does not match the platform's key") from error
        except jwt.PyJWTError as error:
            raise InvalidToken(f"the id_token was refused: {error}") from error
        # PyJWT checks that exp is not past; an exp years ahead would be a token usable (if stolen) for years.
        ahead = int(verified["exp"]) - int(time.time())
        if ahead > self._max_token_lifetime + CLOCK_SKEW:
            raise InvalidToken(
                f"the id_token's 'exp' is {ahead} s in the future; this tool accepts at most {self._max_token_lifetime} s "
                "(SMEB_MAX_TOKEN_LIFETIME): an id_token is meant to be used at once"
            )
        self._jwt["body"] = verified  # type: ignore[typeddict-item]  # pylti1p3's _jwt TypedDict is narrower than the claims it stores
        self.claims = verified
        return self

    def validate_deployment(self) -> ToolMessageLaunch:
        deployment_id = self._get_jwt_body().get(c.DEPLOYMENT_ID)
        if not isinstance(deployment_id, str) or not deployment_id:
            raise InvalidMessage(f"the launch has no deployment id (claim {c.DEPLOYMENT_ID})")
        assert self._registration is not None
        issuer, client_id = self._registration.get_issuer(), self._registration.get_client_id()
        # A stored registration always has both (NOT NULL columns); pylti1p3 types them as optional.
        assert issuer is not None and client_id is not None
        registrations.require_deployment_id(issuer, client_id, self._deployment_ids, deployment_id)
        return self

    def validate_message(self) -> ToolMessageLaunch:
        body = self._get_jwt_body()
        validate_message_claims(body)
        # LTI Core 1.3 §5.1.1.3: the target_link_uri of the message is the one the login was started for.
        expected = self.state_record.login_params.get("target_link_uri") if self.state_record else None
        if expected and body.get(c.TARGET_LINK_URI) != expected:
            raise InvalidMessage(
                f"the launch's target link URI {body.get(c.TARGET_LINK_URI)!r} is not the one its login was for ({expected!r})"
            )
        return self

    def validate_nonce(self) -> ToolMessageLaunch:
        nonce = self._get_jwt_body().get("nonce")
        if not isinstance(nonce, str) or not nonce:
            raise InvalidToken("the id_token has no 'nonce'")
        assert self.state_record is not None
        # The nonce was issued with this state, and the state was consumed atomically by the route before
        # validation: the nonce is therefore used once only, even across workers (no row of its own).
        if not secrets.compare_digest(nonce.encode("utf-8"), self.state_record.nonce.encode("utf-8")):
            raise ReplayedToken("the id_token's nonce was not issued with this state: start the activity again from the LMS")
        return self

    def save_launch_data(self) -> ToolMessageLaunch:
        return self  # the route stores the launch row in its own transaction


def validate_message_claims(body: Mapping[str, Any]) -> None:
    """LTI Core 1.3 §5.3 required claims and the message-type specific ones, each with a clear message."""
    version = body.get(c.VERSION)
    if version != c.LTI_VERSION:
        shown = "missing" if version is None else repr(version)
        raise InvalidMessage(f"LTI version is {shown}; this tool speaks LTI 1.3 ({c.VERSION} must be '1.3.0')")
    message_type = body.get(c.MESSAGE_TYPE)
    if not message_type:
        raise InvalidMessage(f"the launch has no message type ({c.MESSAGE_TYPE})")
    if message_type not in c.SUPPORTED_MESSAGE_TYPES:
        raise InvalidMessage(f"message type {message_type!r} is not supported; expected one of {list(c.SUPPORTED_MESSAGE_TYPES)}")
    sub = body.get("sub")
    if not isinstance(sub, str) or not sub:
        raise InvalidMessage("the launch has no user ('sub'); anonymous launches are not supported")
    roles = body.get(c.ROLES)
    if roles is None:
        raise InvalidMessage(f"the launch has no roles claim ({c.ROLES}); an empty list is allowed, a missing claim is not")
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise InvalidMessage(f"the roles claim ({c.ROLES}) must be a list of role IRIs")
    if not isinstance(body.get(c.TARGET_LINK_URI), str) or not body.get(c.TARGET_LINK_URI):
        raise InvalidMessage(f"the launch has no target link URI ({c.TARGET_LINK_URI})")
    if message_type == c.RESOURCE_LINK_REQUEST:
        link = body.get(c.RESOURCE_LINK)
        if not isinstance(link, dict) or not isinstance(link.get("id"), str) or not link.get("id"):
            raise InvalidMessage(f"a resource link launch needs a resource link id ({c.RESOURCE_LINK}.id)")
    if message_type == c.DEEP_LINKING_REQUEST:
        settings = body.get(c.DL_SETTINGS)
        if not isinstance(settings, dict) or not isinstance(settings.get("deep_link_return_url"), str):
            raise InvalidMessage(f"a deep-linking request needs {c.DL_SETTINGS} with deep_link_return_url")
        accept = settings.get("accept_types")
        if not isinstance(accept, list) or "ltiResourceLink" not in accept:
            raise InvalidMessage("the platform does not accept 'ltiResourceLink' items in this deep-linking request")
    for name in (c.CUSTOM, c.CONTEXT, c.AGS_ENDPOINT, c.NRPS):
        if name in body and not isinstance(body[name], dict):
            raise InvalidMessage(f"claim {name} must be a JSON object")


def make_request(form: Mapping[str, str]) -> FlaskRequest:
    """pylti1p3's request port over an explicit parameter mapping; no Flask session is ever touched."""
    return FlaskRequest(session={}, request_data=dict(form) or {"_": ""})
