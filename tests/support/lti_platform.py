"""A test LTI platform: a real RSA key pair, id_tokens minted with it, and a real HTTP server.

The server (werkzeug in a thread, 127.0.0.1, free port) serves the platform JWKS, an OAuth 2
token endpoint and an AGS line-items endpoint, so JWKS fetching, caching, timeouts and access
tokens are exercised over real HTTP. It counts requests so tests can assert on re-fetches.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from html import escape
from typing import Any
from urllib.parse import urlencode

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

LTI = "https://purl.imsglobal.org/spec/lti/claim/"


@dataclass
class PlatformKey:
    kid: str
    private_pem: bytes
    public_pem: bytes
    public_jwk: dict[str, Any]

    @classmethod
    def generate(cls, kid: str | None = None) -> PlatformKey:
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        kid = kid or uuid.uuid4().hex[:12]
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
        jwk.update({"kid": kid, "alg": "RS256", "use": "sig"})
        return cls(
            kid=kid,
            private_pem=private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
            public_pem=private.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo),
            public_jwk=jwk,
        )


@dataclass
class PlatformSim:
    """The platform's keys and HTTP endpoints; ``issuer`` is its base URL."""

    keys: list[PlatformKey] = field(default_factory=lambda: [PlatformKey.generate()])
    requests: list[tuple[str, str]] = field(default_factory=list)  # (path, authorization or client id)
    jwks_delay: float = 0.0
    port: int = 0
    tokens_issued: list[dict[str, Any]] = field(default_factory=list)
    registration_token: str = "reg-token-1"
    openid_issuer: str | None = None  # None: the real issuer; set to lie about it
    registrations_received: list[dict[str, Any]] = field(default_factory=list)
    registration_endpoint: str | None = None  # None: /register on the platform

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def jwks_url(self) -> str:
        return self.issuer + "/jwks"

    @property
    def token_url(self) -> str:
        return self.issuer + "/token"

    @property
    def auth_url(self) -> str:
        return self.issuer + "/auth"

    deployment_for_auth: str = "dep-1"

    def course_page(self, tool: str, client_id: str) -> str:
        """An LMS course page that embeds the tool in an iframe and offers platform storage (lti.put_data/get_data)."""
        login = tool + "/lti/login?" + urlencode({
            "iss": self.issuer, "login_hint": "u-123", "target_link_uri": tool + "/lti/launch",
            "client_id": client_id, "lti_storage_target": "_parent",
        })
        return f"""<!doctype html><title>LMS</title>
<script>
window.__lti_log = [];
var store = {{}};
window.addEventListener("message", function (event) {{
  var d = event.data || {{}};
  if (event.origin !== {json.dumps(tool)}) return;
  window.__lti_log.push(d.subject);
  if (d.subject === "lti.put_data") {{
    store[d.key] = d.value;
    event.source.postMessage({{subject: "lti.put_data.response", message_id: d.message_id, key: d.key, value: d.value}}, event.origin);
  }} else if (d.subject === "lti.get_data") {{
    event.source.postMessage({{subject: "lti.get_data.response", message_id: d.message_id, key: d.key, value: store[d.key]}}, event.origin);
  }}
}});
</script>
<iframe id="tool" src="{escape(login)}" width="900" height="600"></iframe>"""

    def openid_configuration(self) -> dict[str, Any]:
        return {
            "issuer": self.openid_issuer or self.issuer,
            "authorization_endpoint": self.auth_url,
            "token_endpoint": self.token_url,
            "jwks_uri": self.jwks_url,
            "registration_endpoint": self.registration_endpoint or self.issuer + "/register",
            "scopes_supported": ["openid", "https://purl.imsglobal.org/spec/lti-ags/scope/score",
                                 "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
                                 "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"],
            "response_types_supported": ["id_token"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "https://purl.imsglobal.org/spec/lti-platform-configuration": {
                "product_family_code": "moodle", "version": "4.5",
                "messages_supported": [{"type": "LtiResourceLinkRequest"}, {"type": "LtiDeepLinkingRequest"}],
            },
        }

    def count(self, path: str) -> int:
        return sum(1 for p, _ in self.requests if p == path)

    def jwks(self) -> dict[str, Any]:
        return {"keys": [k.public_jwk for k in self.keys]}

    def mint(self, claims: dict[str, Any], *, key: PlatformKey | None = None, headers: dict[str, Any] | None = None, alg: str = "RS256") -> str:
        key = key or self.keys[0]
        head = {"kid": key.kid}
        head.update(headers or {})
        return jwt.encode(claims, key.private_pem, algorithm=alg, headers=head)

    def claims(self, *, client_id: str, deployment_id: str | None, nonce: str | None, **overrides: Any) -> dict[str, Any]:
        """A valid resource-link launch body; ``overrides`` replace (value ``None`` removes) claims."""
        now = int(time.time())
        body: dict[str, Any] = {
            "iss": self.issuer,
            "aud": client_id,
            "sub": "user-123",
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
            "name": "Kari Elektriker",
            "given_name": "Kari",
            "family_name": "Elektriker",
            "email": "kari@example.no",
            "locale": "nb-NO",
            LTI + "message_type": "LtiResourceLinkRequest",
            LTI + "version": "1.3.0",
            LTI + "deployment_id": deployment_id,
            LTI + "target_link_uri": "http://localhost/lti/launch",
            LTI + "resource_link": {"id": "rl-1", "title": "Kurs"},
            LTI + "roles": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"],
            LTI + "context": {"id": "ctx-1", "title": "Elektro 1"},
            LTI + "custom": {"course": "all-blocks"},  # the slug of tests/fixtures/courses/valid/all-blocks
            "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint": {
                "scope": ["https://purl.imsglobal.org/spec/lti-ags/scope/score"],
                "lineitems": self.issuer + "/lineitems",
            },
        }
        for name, value in overrides.items():
            name = {"message_type": LTI + "message_type", "version": LTI + "version", "roles": LTI + "roles",
                    "deployment_id": LTI + "deployment_id", "resource_link": LTI + "resource_link",
                    "context": LTI + "context", "custom": LTI + "custom"}.get(name, name)
            if value is None:
                body.pop(name, None)
            else:
                body[name] = value
        return body

    # --- the HTTP side ---------------------------------------------------------------------

    def wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        if request.path == "/jwks":
            self.requests.append(("/jwks", ""))
            if self.jwks_delay:
                time.sleep(self.jwks_delay)
            response = Response(json.dumps(self.jwks()), mimetype="application/json")
        elif request.path == "/token":
            assertion = request.form.get("client_assertion", "")
            client_id = jwt.decode(assertion, options={"verify_signature": False}).get("sub", "") if assertion else ""
            token = f"token-{client_id}-{uuid.uuid4().hex[:8]}"
            self.tokens_issued.append({"client_id": client_id, "token": token, "scope": request.form.get("scope"), "assertion": assertion})
            self.requests.append(("/token", client_id))
            response = Response(json.dumps({"access_token": token, "token_type": "bearer", "expires_in": 3600, "scope": request.form.get("scope")}), mimetype="application/json")
        elif request.path == "/lineitems":
            self.requests.append(("/lineitems", request.headers.get("Authorization", "")))
            response = Response("[]", mimetype="application/vnd.ims.lis.v2.lineitemcontainer+json")
        elif request.path == "/course":
            response = Response(self.course_page(request.args["tool"], request.args["client_id"]), mimetype="text/html")
        elif request.path == "/auth":
            # The OIDC authorization endpoint: answer with the id_token, form-posted to the tool (response_mode=form_post).
            args = request.args
            self.requests.append(("/auth", args.get("client_id", "")))
            body = self.claims(client_id=args["client_id"], deployment_id=self.deployment_for_auth, nonce=args["nonce"])
            body[LTI + "target_link_uri"] = args["redirect_uri"]  # the course page logs in with target = launch URL
            token = self.mint(body)
            page = (
                f'<form id="f" method="post" action="{escape(args["redirect_uri"])}">'
                f'<input type="hidden" name="id_token" value="{escape(token)}">'
                f'<input type="hidden" name="state" value="{escape(args["state"])}"></form>'
                '<script>document.getElementById("f").submit()</script>'
            )
            response = Response(page, mimetype="text/html")
        elif request.path == "/openid-configuration":
            self.requests.append(("/openid-configuration", request.headers.get("Authorization", "")))
            response = Response(json.dumps(self.openid_configuration()), mimetype="application/json")
        elif request.path == "/register":
            if request.headers.get("Authorization") != "Bearer " + self.registration_token:
                response = Response(json.dumps({"error": "invalid registration token"}), status=401, mimetype="application/json")
            else:
                body = json.loads(request.get_data(as_text=True))
                self.registrations_received.append(body)
                answer = dict(body, client_id="dyn-client-1")
                answer["https://purl.imsglobal.org/spec/lti-tool-configuration"] = dict(
                    body["https://purl.imsglobal.org/spec/lti-tool-configuration"], deployment_id="dyn-dep-1"
                )
                response = Response(json.dumps(answer), mimetype="application/json")
        else:
            response = Response("not found", status=404)
        return response(environ, start_response)


class PlatformServer:
    """Runs a :class:`PlatformSim` on 127.0.0.1 in a daemon thread until :meth:`stop`."""

    def __init__(self, platform: PlatformSim) -> None:
        self.platform = platform
        self._server = make_server("127.0.0.1", 0, platform.wsgi, threaded=True)
        platform.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> PlatformSim:
        self._thread.start()
        return self.platform

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)


def running_platform() -> Iterator[PlatformSim]:
    with PlatformServer(PlatformSim()) as platform:
        yield platform
