"""LTI Dynamic Registration 1.0: ``/lti/register?openid_configuration=...&registration_token=...``.

The platform (Moodle 4.1+, Brightspace, ...) opens this page from its "add tool by URL" screen.
We fetch its OpenID configuration, check that the issuer is the configuration URL's own
origin (a configuration at evil.example cannot speak for moodle.example.no), post our tool
configuration to its registration endpoint, store the answer like a manual registration and
tell the platform's window we are done (``org.imsglobal.lti.close``).

The page is not open to anyone: it makes the server fetch a URL it is given. A registration is
accepted only with a one-time ``smeb_token`` an operator issued (``smeb platform register-url``
prints the whole URL to paste; the LMS keeps our query string and adds its own parameters) or for
a configuration URL whose origin is listed in ``SMEB_DYNREG_ALLOWED_ORIGINS`` (space- or
comma-separated). Configuration URLs on loopback, private, link-local or reserved addresses are
refused unless the operator allowed them: for one registration with ``register-url
--allow-private`` (the grant travels with the one-time token), or for every registration with
``SMEB_DYNREG_ALLOW_PRIVATE=1``. A refusal is a page that says exactly what to do (it is shown
inside the LMS's registration frame, to the LMS administrator).

Moodle (``mod/lti/classes/local/ltiopenid/registration_helper.php``) stores every dynamically
registered tool with "Tool configuration usage" = "Show as preconfigured tool when adding an
external tool", whatever the registration request says; the admin changes that one setting
(docs/moodle.md) to put the tool in the activity chooser.
"""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
import socket
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import requests
from flask import Blueprint, Response, render_template, request

from smeb_lti.db import session_scope
from smeb_lti.lti import claims as c
from smeb_lti.lti import registrations
from smeb_lti.lti.errors import LtiError, PlatformUnreachable, RegistrationError
from smeb_lti.lti.pages import PAGE_CSP
from smeb_lti.lti.services import lti_services
from smeb_lti.settings import settings
from smeb_lti.web import headers

bp = Blueprint("lti_registration", __name__, template_folder="templates")
headers.policy(bp, PAGE_CSP, cache=None)

PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"
TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
TOOL_NAME = "SMEB kurs"
TOKEN_PARAM = "smeb_token"
_TOKEN_KEY = "dynreg-token:"


class RegistrationForbidden(LtiError):
    """403: dynamic registration without an operator's token or an allowed origin, or to a private address."""

    status = 403
    default = "dynamic registration needs a registration URL from the operator: run `smeb platform register-url`"


def _token_key(token: str) -> str:
    return _TOKEN_KEY + hashlib.sha256(token.encode("utf-8")).hexdigest()  # the store never holds the token itself


def issue_registration_token(ttl: int, allow_private: bool = False) -> str:
    """A one-time registration token valid ``ttl`` seconds (inside an app context).

    ``allow_private`` lets this one registration come from an LMS on a loopback or private address.
    """
    token = secrets.token_urlsafe(32)
    lti_services().store.put(_token_key(token), {"ttl": ttl, "allow_private": bool(allow_private)}, ttl)
    return token


def _is_private(host: str) -> bool:
    """Whether ``host`` is or resolves to a loopback, private, link-local, reserved or multicast address."""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        return False  # unresolvable: the fetch fails with a gateway error that says so
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if address.is_loopback or address.is_private or address.is_link_local or address.is_reserved or address.is_multicast \
                or address.is_unspecified:
            return True
    return False


HOW_TO = (
    "On the SMEB server, run `smeb platform register-url` (add `--allow-private` when the LMS is on a private "
    "address) and paste the URL it prints into the LMS's tool URL field"
)


def check_allowed(url: str) -> bool:
    """Refuse a configuration URL nobody vouched for; returns whether an operator's token must be consumed."""
    token = request.args.get(TOKEN_PARAM) or ""
    allowed = settings().dynreg_allowed_origins
    grant: Any = None
    if token:
        grant = lti_services().store.get(_token_key(token))
        if grant is None:
            raise RegistrationForbidden(
                "this registration URL has expired or was used already. " + HOW_TO + " (each URL works once)."
            )
    elif _origin(url) not in allowed:
        raise RegistrationForbidden(
            f"{_origin(url)} may not register itself with this SMEB tool: the URL pasted has no registration token. "
            + HOW_TO + f". Or the operator adds {_origin(url)} to SMEB_DYNREG_ALLOWED_ORIGINS."
        )
    host = urlsplit(url).hostname or ""
    granted = isinstance(grant, Mapping) and bool(grant.get("allow_private"))
    if not granted and not settings().dynreg_allow_private and _is_private(host):
        raise RegistrationForbidden(
            f"the LMS at {host} is on a loopback or private address, which this registration URL does not allow. "
            "On the SMEB server, run `smeb platform register-url --allow-private` and paste the new URL it prints "
            "(or the operator sets SMEB_DYNREG_ALLOW_PRIVATE=1 for every registration)."
        )
    return bool(token)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _object(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _json(response: requests.Response, what: str) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        raise PlatformUnreachable(f"the platform's {what} is not JSON (HTTP {response.status_code})") from None
    if not isinstance(body, dict):
        raise PlatformUnreachable(f"the platform's {what} is not a JSON object")
    return body


def fetch_platform_configuration(http: requests.Session, url: str, token: str | None) -> dict[str, Any]:
    """The platform's OpenID configuration, checked for what registration needs."""
    if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
        raise RegistrationError(f"openid_configuration {url!r} is not an http(s) URL")
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token  # Moodle checks the registration token here too
    try:
        response = http.get(url, headers=headers)
    except requests.RequestException as error:
        raise PlatformUnreachable(f"could not fetch the platform's OpenID configuration from {url}: {error}") from error
    if response.status_code != 200:
        raise PlatformUnreachable(f"the platform's OpenID configuration at {url} answered HTTP {response.status_code}")
    config = _json(response, "OpenID configuration")
    issuer = config.get("issuer")
    if not isinstance(issuer, str) or _origin(issuer) != _origin(url):
        raise RegistrationError(
            f"the OpenID configuration at {url} names issuer {issuer!r}, which is not that URL's origin {_origin(url)}: refused"
        )
    missing = [k for k in ("authorization_endpoint", "token_endpoint", "jwks_uri", "registration_endpoint") if not isinstance(config.get(k), str)]
    if missing:
        raise RegistrationError(f"the platform's OpenID configuration lacks {', '.join(missing)}")
    # We POST our configuration there: it must be the platform itself, not a host it names (no request forgery).
    if _origin(config["registration_endpoint"]) != _origin(url):
        raise RegistrationError(
            f"the registration endpoint {config['registration_endpoint']!r} is not on the platform's origin {_origin(url)}: refused"
        )
    return config


def tool_configuration(base: str, platform: Mapping[str, Any]) -> dict[str, Any]:
    """Our client registration request (LTI Dynamic Registration 1.0 §3.3)."""
    supported = set(platform.get("scopes_supported") or c.TOOL_SCOPES)
    scopes = [s for s in c.TOOL_SCOPES if s in supported]
    return {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": base + "/lti/login",
        "redirect_uris": [base + "/lti/launch"],
        "client_name": TOOL_NAME,
        "jwks_uri": base + "/.well-known/jwks.json",
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": " ".join(scopes),
        TOOL_CONFIGURATION: {
            "domain": urlsplit(base).netloc,
            "description": "Kurs i psykologisk trygghet og systematisk HMS for elektrikere",
            "target_link_uri": base + "/lti/launch",
            "custom_parameters": {},
            "claims": ["iss", "sub", "name", "given_name", "family_name", "email", "locale"],
            "messages": [
                {"type": c.RESOURCE_LINK_REQUEST, "target_link_uri": base + "/lti/launch", "label": TOOL_NAME},
                {
                    "type": c.DEEP_LINKING_REQUEST,
                    "target_link_uri": base + "/lti/launch",
                    "label": TOOL_NAME,
                    "placements": ["ContentArea"],
                    "supported_types": ["ltiResourceLink"],
                },
            ],
        },
    }


def register_with_platform(http: requests.Session, config: Mapping[str, Any], body: Mapping[str, Any], token: str | None) -> dict[str, Any]:
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    url = str(config["registration_endpoint"])
    try:
        response = http.post(url, json=body, headers=headers)
    except requests.RequestException as error:
        raise PlatformUnreachable(f"the platform's registration endpoint {url} failed: {error}") from error
    if response.status_code not in (200, 201):
        # The platform's answer is not shown: it is not ours to reflect; the status says enough to act on.
        raise PlatformUnreachable(
            f"the platform refused the registration (HTTP {response.status_code}): check that the registration link "
            "from the LMS is fresh (registration tokens are single-use and short-lived)"
        )
    answer = _json(response, "registration response")
    if not isinstance(answer.get("client_id"), str) or not answer["client_id"]:
        raise PlatformUnreachable("the platform's registration response has no client_id")
    return answer


def refused_page(error: LtiError) -> Response:
    """The refusal as a page for the LMS administrator who sees it in the LMS's registration frame."""
    page = render_template("lti/registration_refused.html", message=error.message, status=error.status,
                           forbidden=isinstance(error, RegistrationForbidden))
    return Response(page, status=error.status, mimetype="text/html", headers={"Cache-Control": "no-store"})


@bp.get("/lti/register")
def register() -> Response:
    services = lti_services()
    url = request.args.get("openid_configuration") or ""
    if not url:
        raise RegistrationError("open this page from the LMS's 'register tool by URL' screen: it needs ?openid_configuration=")
    token = request.args.get("registration_token") or None
    operator_token = check_allowed(url)
    config = fetch_platform_configuration(services.http, url, token)
    base = services.public_url(request.url_root)
    answer = register_with_platform(services.http, config, tool_configuration(base, config), token)
    tool_conf = _object(answer.get(TOOL_CONFIGURATION))
    deployment = tool_conf.get("deployment_id")
    platform_conf = _object(config.get(PLATFORM_CONFIGURATION))
    data = registrations.RegistrationInput(
        issuer=str(config["issuer"]),
        client_id=str(answer["client_id"]),
        auth_login_url=str(config["authorization_endpoint"]),
        auth_token_url=str(config["token_endpoint"]),
        key_set_url=str(config["jwks_uri"]),
        deployment_ids=(str(deployment),) if deployment else (),
        name=str(platform_conf.get("product_family_code") or ""),
        auth_audience=config.get("authorization_server") if isinstance(config.get("authorization_server"), str) else None,
    )
    if operator_token and services.store.consume(_token_key(request.args[TOKEN_PARAM])) is None:
        raise RegistrationForbidden("this registration URL was used by another registration at the same moment: ask for a new one")
    with session_scope(services.sessions) as session:
        registrations.add(session, data)
    return Response(render_template("lti/registered.html", issuer=data.issuer, client_id=data.client_id, deployment=deployment))
