"""pylti1p3's tool configuration over our database (registrations, deployments, tool keys).

Always keyed by (issuer, client_id): ``check_iss_has_one_client`` is False for every issuer
so pylti1p3 never picks "the" registration of an issuer that several tenants share.
"""

from __future__ import annotations

import typing as t
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.fernet import Fernet
from pylti1p3.deployment import Deployment
from pylti1p3.registration import Registration
from pylti1p3.tool_config import ToolConfAbstract
from sqlalchemy.orm import Session, sessionmaker

from smeb_lti.lti import keys, registrations
from smeb_lti.lti.errors import UnknownPlatform


class ToolRegistration(Registration):
    """A pylti1p3 registration that knows our row id and signs with our active key's kid.

    The tool's key is given, or loaded on first use by ``signing_loader``: validating a launch never
    signs anything, and decrypting the private key is a good part of what a launch would cost.
    """

    def __init__(
        self,
        row: registrations.PlatformRegistration,
        signing: keys.SigningKey | None,
        signing_loader: Callable[[], keys.SigningKey] | None = None,
    ) -> None:
        self.registration_id = row.id
        self.set_issuer(row.issuer).set_client_id(row.client_id)
        self.set_auth_login_url(row.auth_login_url).set_auth_token_url(row.auth_token_url)
        self.set_key_set_url(row.key_set_url)
        if row.auth_audience:
            self.set_auth_audience(row.auth_audience)
        self._kid: str | None = None
        self._signing_loader = signing_loader
        if signing is not None:
            self._use(signing)

    def _use(self, signing: keys.SigningKey) -> None:
        self._kid = signing.kid
        self._signing_loader = None
        self.set_tool_private_key(signing.private_pem).set_tool_public_key(signing.public_pem)

    def _ensure_signing(self) -> None:
        if self._signing_loader is not None:
            self._use(self._signing_loader())

    def get_tool_private_key(self) -> t.Any:
        self._ensure_signing()
        return super().get_tool_private_key()

    def get_tool_public_key(self) -> t.Any:
        self._ensure_signing()
        return super().get_tool_public_key()

    def get_kid(self) -> str | None:
        self._ensure_signing()
        return self._kid

    def get_jwks(self) -> list[t.Mapping[str, t.Any]]:
        if self._kid and self.get_tool_public_key():
            return [keys.public_jwk(self.get_tool_public_key(), self._kid)]
        return []


@dataclass(frozen=True)
class LaunchRegistration:
    """What validating one launch needs from the database, read in one go."""

    registration: ToolRegistration
    trusted_clients: frozenset[str]  # every client id of ours on this issuer (each ``aud`` must be one)
    deployment_ids: tuple[str, ...]


class DbToolConf(ToolConfAbstract[t.Any]):
    def __init__(self, sessions: sessionmaker[Session], fernet: Fernet) -> None:
        self.sessions = sessions
        self._fernet = fernet
        # pylti1p3 keeps this on the class; ours is per instance and says "many" for every issuer.
        self.issuers_relation_types = {}

    def check_iss_has_one_client(self, iss: str) -> bool:
        return False

    def check_iss_has_many_clients(self, iss: str) -> bool:
        return True

    def _signing(self) -> keys.SigningKey:
        with self.sessions() as session:
            signing = keys.signing_key(session, self._fernet)
            session.commit()  # the first key may just have been created
            return signing

    def _load(self, iss: str, client_id: str | None) -> ToolRegistration:
        with self.sessions() as session:
            row = registrations.resolve(session, iss, client_id)
            return ToolRegistration(row, None, self._signing)

    def for_launch(self, iss: str, client_id: str) -> LaunchRegistration:
        """The registration of ``(iss, client_id)``, the issuer's other client ids and its deployments."""
        with self.sessions() as session:
            rows = registrations.for_issuer(session, iss)
            row = next((r for r in rows if r.client_id == client_id), None)
            if row is None:  # resolve() raises UnknownPlatform saying whether the issuer or the client is unknown
                row = registrations.resolve(session, iss, client_id)
            return LaunchRegistration(
                ToolRegistration(row, None, self._signing), frozenset(r.client_id for r in rows), row.deployment_ids
            )

    def find_registration_by_issuer(self, iss: str, *args: t.Any, **kwargs: t.Any) -> Registration:
        return self._load(iss, None)

    def find_registration_by_params(self, iss: str, client_id: str, *args: t.Any, **kwargs: t.Any) -> Registration:
        return self._load(iss, client_id)

    def find_deployment(self, iss: str, deployment_id: str) -> Deployment | None:
        with self.sessions() as session:
            try:
                row = registrations.resolve(session, iss, None)
            except UnknownPlatform:
                return None
            return Deployment().set_deployment_id(deployment_id) if deployment_id in row.deployment_ids else None

    def find_deployment_by_params(self, iss: str, deployment_id: str, client_id: str, *args: t.Any, **kwargs: t.Any) -> Deployment | None:
        with self.sessions() as session:
            row = registrations.find(session, iss, client_id)
            if row is None or deployment_id not in row.deployment_ids:
                return None
            return Deployment().set_deployment_id(deployment_id)
