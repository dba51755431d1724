"""The Open Badge credential checked by an independent verifier: npm ``jose`` (VC-JWT, EdDSA, key from the
issuer Profile) and ``jsonld`` (expansion in safe mode against the VC 2.0 and OB 3.0.3 contexts stored in
tests/fixtures), so ``credentialStatus`` and ``credentialSchema`` use only defined terms. The end-to-end
outsider over HTTP is :mod:`independent_verifier` (test_open_badge_verifier.py)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from smeb_lti.certificates.openbadges import OB_CONTEXT, VC_CONTEXT, issuer_profile
from smeb_lti.certificates.signing import PublicKeyInfo
from tests.smeb_lti.certificates.conftest import make_certificate, new_key
from tests.support.node import run_node
from tests.support.paths import FIXTURES, REPO

SCRIPT = Path(__file__).parent / "js" / "verify_openbadge.mjs"
CONTEXTS = {VC_CONTEXT: str(FIXTURES / "jsonld" / "credentials-v2.json"), OB_CONTEXT: str(FIXTURES / "jsonld" / "ob-context-3.0.3.json")}


def independent_verify(jwt: str, document: dict) -> dict:
    node = shutil.which("node")
    assert node, "Node.js is needed (apt-get install -y nodejs)"
    for package in ("jose", "jsonld"):
        assert (REPO / "node_modules" / package).is_dir(), f"run `npm install` ({package} is a devDependency)"
    return run_node(SCRIPT, stdin=json.dumps({"jwt": jwt, "profile": document, "contexts": CONTEXTS}), timeout=120)  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def published(key) -> dict:
    return issuer_profile("https://kurs.smeb.example", [PublicKeyInfo(key.kid, key.public_key, dt.datetime.now(dt.UTC), None)])


def test_jose_and_jsonld_accept_our_open_badge_credential(made, published) -> None:
    result = independent_verify(made.credential_jwt, published)
    assert result["ok"], result
    assert result["expandedTypes"] == [
        "https://www.w3.org/2018/credentials#VerifiableCredential",
        "https://purl.imsglobal.org/spec/vc/ob/vocab.html#OpenBadgeCredential",
    ]
    assert result["achievementName"] == made.claims.course_title
    assert result["hasStatus"] and result["hasSchema"] and result["schemaTypes"] == ["1EdTechJsonSchemaValidator2019"]


def test_jose_rejects_a_credential_whose_payload_was_edited(made, published) -> None:
    import base64

    header, payload, signature = made.credential_jwt.split(".")
    body = json.loads(base64.urlsafe_b64decode(payload + "=="))
    body["name"] = "Forfalsket kurs"
    edited = base64.urlsafe_b64encode(json.dumps(body).encode()).rstrip(b"=").decode()
    result = independent_verify(f"{header}.{edited}.{signature}", published)
    assert not result["ok"] and "signature verification failed" in result["error"]


def test_jose_rejects_a_credential_signed_by_another_key(published) -> None:
    stranger = make_certificate(new_key())
    result = independent_verify(stranger.credential_jwt, published)
    assert not result["ok"] and "not in the issuer's Profile" in result["error"]


def test_jsonld_safe_mode_rejects_an_undefined_term(made, key, published) -> None:
    from smeb_lti.certificates.openbadges import build_credential, sign_credential

    credential = build_credential(made.claims, base_url="https://kurs.smeb.example", valid_from=dt.datetime(2026, 11, 21, tzinfo=dt.UTC),
                                  status_index=7)
    credential["credentialSubject"]["favouriteColour"] = "blue"  # not in any context: would be dropped silently
    result = independent_verify(sign_credential(credential, key), published)
    assert result == {"ok": False, "error": "Safe mode validation error."}
