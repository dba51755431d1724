"""Issue 17: the Open Badge from ``smeb cert issue`` verifies for an outsider, and reads revoked after ``smeb cert revoke``.

The tool runs on 127.0.0.1 (werkzeug, real HTTP) on SQLite and PostgreSQL; the badge is taken out of the
PDF the CLI wrote; :mod:`independent_verifier` (no ``smeb_lti`` import) fetches the issuer Profile at
``issuer.id``, resolves the key, checks the signature and the OB 3.0 schema, and follows the status list.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import jwt
import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pypdf import PdfReader

from smeb_lti.cli import main
from smeb_lti.db import migrate
from smeb_lti.settings import update_settings
from tests.smeb_lti.certificates import independent_verifier as outsider
from tests.support.app import dispose, make_app
from tests.support.paths import FIXTURES
from tests.support.servers import serving

TENANT_ARGS = ["--platform", "https://canvas.example.org", "--deployment", "d1", "--context", "ctx-1"]
COURSE = str(FIXTURES / "courses" / "valid" / "all-blocks")


class Tool:
    """The tool served on 127.0.0.1 plus its CLI on the same database."""

    def __init__(self, base: str, env: dict[str, str], tmp_path: Path) -> None:
        self.base, self.env, self.tmp_path = base, env, tmp_path

    def cli(self, *args: str) -> str:
        result = CliRunner().invoke(main, list(args), env=self.env, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    def issue(self, name: str = "Kari Nordmann", subject: str = "u1") -> tuple[str, str]:
        """``(certificate id, the badge JWT taken out of the PDF)``."""
        out = self.tmp_path / f"{subject}-{len(list(self.tmp_path.glob('*.pdf')))}.pdf"
        info = json.loads(self.cli("cert", "issue", *TENANT_ARGS, "--subject", subject, "--name", name, "--course", COURSE,
                                   "--organization", "Elektro AS", "--out", str(out)))
        attachments = PdfReader(io.BytesIO(out.read_bytes())).attachments
        return info["id"], attachments["openbadge-credential.jwt"][0].decode("utf-8").strip()


@pytest.fixture
def tool(db_url: str, tmp_path: Path) -> Iterator[Tool]:
    migrate(db_url)
    app = make_app(db_url)
    try:
        with serving(app) as base:
            update_settings(app, {"SMEB_PUBLIC_URL": base})
            yield Tool(base, {"SMEB_DATABASE_URL": db_url, "SMEB_DATA_DIR": str(tmp_path), "SMEB_PUBLIC_URL": base}, tmp_path)
    finally:
        dispose(app)


def _payload(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def test_a_fresh_badge_verifies_for_an_outsider_and_reads_revoked_after_smeb_cert_revoke(tool: Tool, db_url: str) -> None:
    cert_id, badge = tool.issue()
    fresh = outsider.verify_badge(badge)
    print(f"\n[{db_url.split(':')[0]}] fresh:   {fresh.line()}")
    assert fresh.status == "valid", fresh.reason
    assert fresh.issuer == f"{tool.base}/certificates/issuer"
    assert fresh.kid.startswith(fresh.issuer + "#")

    tool.cli("cert", "revoke", cert_id, "--reason", "issued-in-error")
    revoked = outsider.verify_badge(badge)
    print(f"[{db_url.split(':')[0]}] revoked: {revoked.line()}")
    assert revoked.status == "revoked", revoked.reason


def test_another_badge_in_the_same_list_stays_valid_when_one_is_revoked(tool: Tool) -> None:
    first_id, first = tool.issue("Kari Nordmann", "u1")
    _second_id, second = tool.issue("Ola Nordmann", "u2")
    tool.cli("cert", "revoke", first_id, "--reason", "fraud")
    assert outsider.verify_badge(first).status == "revoked"
    assert outsider.verify_badge(second).status == "valid"
    assert _payload(first)["credentialStatus"]["statusListIndex"] != _payload(second)["credentialStatus"]["statusListIndex"]


def test_key_rotation_keeps_an_old_badge_verifiable_and_the_profile_lists_the_retired_key(tool: Tool) -> None:
    _old_id, old = tool.issue("Kari Nordmann", "u1")
    tool.cli("cert", "keys", "rotate")
    _new_id, new = tool.issue("Ola Nordmann", "u2")
    old_result, new_result = outsider.verify_badge(old), outsider.verify_badge(new)
    assert (old_result.status, new_result.status) == ("valid", "valid"), (old_result.reason, new_result.reason)
    assert old_result.kid != new_result.kid
    profile = httpx.get(f"{tool.base}/certificates/issuer").json()
    assert {m["id"] for m in profile["verificationMethod"]} == {old_result.kid, new_result.kid}


def _resign(payload: dict, header: dict, private: Ed25519PrivateKey) -> str:
    return jwt.encode(payload, private, algorithm="EdDSA", headers=header)


def test_a_badge_signed_by_another_key_naming_smeb_as_fails(tool: Tool) -> None:
    _cert_id, badge = tool.issue()
    payload, header = _payload(badge), jwt.get_unverified_header(badge)
    assert payload["issuer"]["name"] == "SMEB AS"
    stranger = Ed25519PrivateKey.generate()
    # 1. claims the issuer's own key id: the signature does not verify with the Profile's key.
    forged = outsider.verify_badge(_resign(payload, {"kid": header["kid"], "typ": "vc+jwt"}, stranger))
    assert forged.status == "invalid" and "signature does not verify" in forged.reason
    # 2. names its own did:key (what the old badges did): the Profile does not list it.
    raw = stranger.public_key().public_bytes_raw()
    number = int.from_bytes(b"\xed\x01" + raw, "big")
    digits = ""
    while number:
        number, rest = divmod(number, 58)
        digits = outsider._B58[rest] + digits
    did = f"did:key:z{digits}"
    forged = outsider.verify_badge(_resign(payload, {"kid": f"{did}#z{digits}", "typ": "vc+jwt"}, stranger))
    assert forged.status == "invalid" and "not one of the issuer's" in forged.reason
    # 3. an edited badge under the real signature.
    head, body, signature = badge.split(".")
    edited = dict(payload, name="Forfalsket kurs")
    body = base64.urlsafe_b64encode(json.dumps(edited).encode()).rstrip(b"=").decode()
    assert outsider.verify_badge(f"{head}.{body}.{signature}").status == "invalid"


def test_the_status_list_may_be_cached_at_most_a_minute_and_is_open_to_other_origins(tool: Tool) -> None:
    _cert_id, badge = tool.issue()
    url = _payload(badge)["credentialStatus"]["statusListCredential"]
    response = httpx.get(url)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("application/vc+jwt")
    max_age = int(re.search(r"max-age=(\d+)", response.headers["Cache-Control"]).group(1))  # type: ignore[union-attr]
    assert 0 <= max_age <= 60
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert httpx.get(f"{tool.base}/certificates/status/2").status_code == 404  # no certificate has a bit there
    assert httpx.get(f"{tool.base}/certificates/status/0").status_code == 404


def test_the_profile_at_issuer_id_is_json_ld_naming_smeb_as(tool: Tool) -> None:
    _cert_id, badge = tool.issue()
    issuer = _payload(badge)["issuer"]["id"]
    response = httpx.get(issuer)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("application/ld+json")
    profile = response.json()
    assert profile["name"] == "SMEB AS" and profile["type"] == ["Profile"] and profile["id"] == issuer
    assert profile["@context"][:2] == ["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]
    assert jwt.get_unverified_header(badge)["kid"] in profile["assertionMethod"]


def test_the_status_max_age_setting_is_validated_at_start(tmp_path: Path) -> None:
    from smeb_lti.app import create_app
    from smeb_lti.settings import SettingsError

    url = f"sqlite:///{tmp_path / 's.db'}"
    with pytest.raises(SettingsError, match="SMEB_CERT_STATUS_MAX_AGE"):
        create_app({"SMEB_DATABASE_URL": url, "TESTING": True, "SMEB_CERT_STATUS_MAX_AGE": "300"})
    with pytest.raises(SettingsError, match="SMEB_CERT_STATUS_MAX_AGE"):
        create_app({"SMEB_DATABASE_URL": url, "TESTING": True, "SMEB_CERT_STATUS_MAX_AGE": "soon"})


def test_bitstring_decoder_reads_the_left_most_bit_as_index_zero() -> None:
    import gzip

    bits = bytearray(16384)
    bits[0] = 0b1000_0000
    bits[1] = 0b0000_0001
    encoded = "u" + base64.urlsafe_b64encode(gzip.compress(bytes(bits))).rstrip(b"=").decode()
    decoded = outsider.decode_status_list(encoded)
    assert [outsider.bit_at(decoded, i) for i in (0, 1, 7, 8, 15)] == [1, 0, 0, 0, 1]
    with pytest.raises(outsider.VerificationFailed, match="minimum"):
        outsider.decode_status_list("u" + base64.urlsafe_b64encode(gzip.compress(b"\0" * 10)).rstrip(b"=").decode())


def test_the_verifier_does_not_import_the_product() -> None:
    source = Path(outsider.__file__).read_text("utf-8")
    assert "smeb_lti" not in re.sub(r'""".*?"""', "", source, flags=re.S)


def test_a_status_list_signed_by_a_stranger_is_refused(tool: Tool) -> None:
    """A man in the middle serving a forged 'valid' list is caught: the list must verify with the Profile's keys."""
    _cert_id, badge = tool.issue()
    url = _payload(badge)["credentialStatus"]["statusListCredential"]
    token = httpx.get(url).text
    status_payload = _payload(token)
    forged = _resign(status_payload, jwt.get_unverified_header(token), Ed25519PrivateKey.generate())
    with httpx.Client() as client:
        profile = outsider.fetch_profile(client, _payload(badge)["issuer"]["id"])
        with pytest.raises(outsider.VerificationFailed, match="signature"):
            outsider.verify_jwt(client, forged, profile)
    assert dt.datetime.fromisoformat(status_payload["validFrom"].replace("Z", "+00:00")) <= dt.datetime.now(dt.UTC)


def test_a_badge_from_before_the_profile_with_a_did_key_kid_still_verifies(tool: Tool) -> None:
    """Badges issued before issue 17 name a bare did:key; the Profile's assertionMethod lists it, so they verify."""
    from smeb_lti.certificates.signing import active_key, did_key_url
    from smeb_lti.db import configured_session

    _cert_id, badge = tool.issue()
    with pytest.MonkeyPatch.context() as patch:
        for name, value in tool.env.items():
            patch.setenv(name, value)
        with configured_session() as session:
            key = active_key(session, create=False)
    legacy = _resign(_payload(badge), {"kid": did_key_url(key.public_key), "typ": "vc+jwt"}, key.private_key)
    result = outsider.verify_badge(legacy)
    assert result.status == "valid", result.reason
    assert result.kid.startswith("did:key:z6Mk")
