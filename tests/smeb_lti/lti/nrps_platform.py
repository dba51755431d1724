"""A test platform with a Names and Role Provisioning (NRPS 2.0) membership service over real HTTP.

It extends :class:`tests.support.lti_platform.PlatformSim` (JWKS, token endpoint) with
``/memberships``, which answers 401 for every token in ``revoked`` (what a platform does with an
access token it no longer honours, before that token's ``expires_in``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from werkzeug.wrappers import Request, Response

from tests.support.lti_platform import LTI, PlatformSim

NRPS_CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
MEDIA_TYPE = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"


@dataclass
class NrpsPlatform(PlatformSim):
    revoked: set[str] = field(default_factory=set)
    reject_all: bool = False
    membership_calls: list[str] = field(default_factory=list)  # the bearer token of each call

    @property
    def memberships_url(self) -> str:
        return self.issuer + "/memberships"

    def staff_claims(self) -> dict[str, Any]:
        """Overrides for :meth:`Lms.id_token`: an instructor launch offering the membership service."""
        return {
            "roles": [INSTRUCTOR],
            NRPS_CLAIM: {"context_memberships_url": self.memberships_url, "service_versions": ["2.0"]},
            LTI + "context": {"id": "ctx-1", "title": "Elektro 1"},
        }

    def revoke_all_issued(self) -> None:
        self.revoked.update(t["token"] for t in self.tokens_issued)

    def wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        if request.path != "/memberships":
            return super().wsgi(environ, start_response)
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        self.membership_calls.append(token)
        if self.reject_all or token in self.revoked or not any(t["token"] == token for t in self.tokens_issued):
            response = Response(json.dumps({"error": "invalid_token"}), status=401, mimetype="application/json")
        else:
            body = {
                "id": self.memberships_url,
                "context": {"id": "ctx-1", "title": "Elektro 1"},
                "members": [
                    {"user_id": "u-1", "name": "Kari Elektriker", "email": "kari@example.no", "roles": [LEARNER], "status": "Active"},
                    {"user_id": "u-2", "name": "Per Lærer", "email": "per@example.no", "roles": [INSTRUCTOR], "status": "Active"},
                ],
            }
            response = Response(json.dumps(body), mimetype=MEDIA_TYPE)
        return response(environ, start_response)
