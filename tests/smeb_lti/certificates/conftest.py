"""Certificate test helpers: keys and certificates made in memory (pure tests) or in a real database."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, replace

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from sqlalchemy.orm import Session, sessionmaker

from smeb_lti.certificates import claims as signed
from smeb_lti.certificates.claims import CertificateClaims
from smeb_lti.certificates.issue import new_certificate_id
from smeb_lti.certificates.model import Tenant
from smeb_lti.certificates.openbadges import build_credential, sign_credential
from smeb_lti.certificates.pdf import render_pdf
from smeb_lti.certificates.signing import SigningKey, key_id

BASE = "https://kurs.smeb.example"
TENANT = Tenant("https://canvas.example.org", "deploy-1", "ctx-elektro-as")
OTHER_TENANT = Tenant("https://canvas.example.org", "deploy-1", "ctx-annen-bedrift")
ACTOR = {"objectType": "Agent", "account": {"homePage": "https://canvas.example.org", "name": "a1b2c3"}}


def new_key() -> SigningKey:
    private = Ed25519PrivateKey.generate()
    return SigningKey(key_id(private.public_key()), private, dt.datetime.now(dt.UTC))


@dataclass(frozen=True)
class Made:
    claims: CertificateClaims
    token: str
    url: str
    credential_jwt: str

    def pdf(self, printed: CertificateClaims | None = None, credential_jwt: str | None = None) -> bytes:
        """The PDF; ``printed`` shows other values than were signed (a tampered document)."""
        return render_pdf(printed or self.claims, self.token, self.url, credential_jwt or self.credential_jwt)


def make_certificate(key: SigningKey, learner: str = "Kari Nordmann", **changes: object) -> Made:
    claims = CertificateClaims(
        certificate_id=new_certificate_id(),
        course_id="https://smeb.no/courses/fra-stille-feil-til-smart-kvalitet",
        course_title="Fra stille feil til smart kvalitet",
        learner_name=learner,
        issued_on=dt.date(2026, 11, 21),
        issuer="SMEB AS",
        organization="Bedriftshelsetjenesten Vest AS",
        competences=("Psykologisk trygghet", "Kvalitetssikring"),
        duration_minutes=90,
        kid=key.kid,
    )
    claims = replace(claims, **changes)  # type: ignore[arg-type]
    token = signed.sign(claims, key)
    url = signed.verification_url(BASE, token, claims.certificate_id)
    valid_from = dt.datetime(2026, 11, 21, 9, 30, tzinfo=dt.UTC)
    jwt_ = sign_credential(build_credential(claims, base_url=BASE, valid_from=valid_from, status_index=secrets.randbelow(131_072)), key)
    return Made(claims, token, url, jwt_)


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return new_key()


@pytest.fixture(scope="module")
def keys(key: SigningKey) -> dict[str, Ed25519PublicKey]:
    return {key.kid: key.public_key}


@pytest.fixture(scope="module")
def made(key: SigningKey) -> Made:
    return make_certificate(key)


@pytest.fixture(scope="module")
def pdf(made: Made) -> bytes:
    return made.pdf()


@pytest.fixture
def factory(migrated_db_url: str) -> Iterator[sessionmaker[Session]]:
    from smeb_lti.db import make_engine

    engine = make_engine(migrated_db_url)
    yield sessionmaker(engine, expire_on_commit=False)
    engine.dispose()
