"""The issuer's keys: created once, encrypted at rest when configured, rotation keeps old keys verifying."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from smeb_lti.certificates import claims as signed
from smeb_lti.certificates.errors import KeyEncryptionError
from smeb_lti.certificates.issue import issue_certificate
from smeb_lti.certificates.model import signing_keys
from smeb_lti.certificates.signing import (
    active_key,
    did_key,
    encryption_key_from_env,
    jwks,
    keyring,
    public_keys,
    rotate,
)
from smeb_lti.db import session_scope
from tests.smeb_lti.certificates.conftest import BASE
from tests.smeb_lti.certificates.test_issue_and_revoke import request

SECRET = "correct horse battery staple 42"


def test_the_first_use_creates_one_key_and_later_uses_reuse_it(factory) -> None:
    with session_scope(factory) as session:
        first = active_key(session)
    with session_scope(factory) as session:
        assert active_key(session).kid == first.kid
        assert len(public_keys(session)) == 1
    assert did_key(first.public_key).startswith("did:key:z6Mk")  # multicodec ed25519-pub in base58btc


def test_rotation_signs_with_the_new_key_and_old_certificates_still_verify(factory) -> None:
    with session_scope(factory) as session:
        old = issue_certificate(session, request(), base_url=BASE)
    with session_scope(factory) as session:
        new_key = rotate(session)
        new = issue_certificate(session, request(name="Per"), base_url=BASE)
    assert new.claims.kid == new_key.kid != old.claims.kid
    with factory() as session:
        keys = keyring(session)
        infos = public_keys(session)
    assert signed.verify(old.token, keys) == old.claims
    assert signed.verify(new.token, keys) == new.claims
    published = jwks(infos)["keys"]
    assert {(k["kid"], k["status"]) for k in published} == {(old.claims.kid, "retired"), (new_key.kid, "active")}
    assert all(k["kty"] == "OKP" and k["crv"] == "Ed25519" and "d" not in k for k in published)


def test_with_an_encryption_key_the_private_key_is_stored_encrypted(factory) -> None:
    with session_scope(factory) as session:
        created = active_key(session, SECRET)
    with factory() as session:
        row = session.execute(sa.select(signing_keys)).one()
    assert row.encrypted and "ENCRYPTED PRIVATE KEY" in row.private_key
    with factory() as session:
        assert active_key(session, SECRET).kid == created.kid
        with pytest.raises(KeyEncryptionError, match="SMEB_KEY_ENCRYPTION_KEY"):
            active_key(session, None)
        with pytest.raises(KeyEncryptionError, match="differs"):
            active_key(session, SECRET + "x")


def test_without_an_encryption_key_the_key_is_plain_pkcs8(factory) -> None:
    with session_scope(factory) as session:
        active_key(session)
    with factory() as session:
        row = session.execute(sa.select(signing_keys)).one()
    assert not row.encrypted and "BEGIN PRIVATE KEY" in row.private_key


def test_a_too_short_encryption_key_is_refused() -> None:
    with pytest.raises(KeyEncryptionError, match="too short"):
        encryption_key_from_env({"SMEB_KEY_ENCRYPTION_KEY": "short"})
    assert encryption_key_from_env({}) is None
