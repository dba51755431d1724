"""``smeb cert issue|verify|revoke|list|keys``: exit codes and reasons an operator can act on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from pypdf import PdfReader, PdfWriter

from smeb_lti.cli import main
from tests.support.paths import FIXTURES


@pytest.fixture
def run(tmp_path: Path):  # type: ignore[no-untyped-def]
    env = {"SMEB_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "SMEB_DATA_DIR": str(tmp_path), "SMEB_PUBLIC_URL": "https://kurs.smeb.example"}

    def invoke(*args: str):  # type: ignore[no-untyped-def]
        return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)

    return invoke


TENANT_ARGS = ["--platform", "https://canvas.example.org", "--deployment", "d1", "--context", "ctx-1"]


def issue(run, tmp_path: Path, name: str = "Đorđe Šćepanović") -> tuple[dict, Path]:  # type: ignore[no-untyped-def]
    out = tmp_path / f"{len(list(tmp_path.glob('*.pdf')))}.pdf"
    result = run("cert", "issue", *TENANT_ARGS, "--subject", "u1", "--name", name,
                 "--course", str(FIXTURES / "courses" / "valid" / "all-blocks"), "--organization", "Elektro AS", "--out", str(out))
    assert result.exit_code == 0, result.output
    return json.loads(result.output), out


def test_issue_then_verify_offline_then_revoke_then_verify_online(run, tmp_path: Path) -> None:
    info, pdf = issue(run, tmp_path)
    assert info["url"].startswith(f"https://kurs.smeb.example/verify/{info['id']}#")
    verified = run("cert", "verify", str(pdf))
    assert verified.exit_code == 0 and "VALID" in verified.output and "Đorđe Šćepanović" in verified.output
    assert "revocation not checked" in verified.output
    revoked = run("cert", "revoke", info["id"], "--reason", "issued-in-error")
    assert revoked.exit_code == 0, revoked.output
    online = run("cert", "verify", "--online", str(pdf))
    assert online.exit_code == 1 and "[revoked]" in online.output
    assert run("cert", "verify", str(pdf)).exit_code == 0  # offline, a revoked PDF still carries a genuine signature
    listed = run("cert", "list", "--json")
    assert json.loads(listed.output)["status"].startswith("revoked")


def test_verify_exits_non_zero_with_the_reason_for_a_tampered_pdf(run, tmp_path: Path) -> None:
    _info, pdf = issue(run, tmp_path)
    writer = PdfWriter(clone_from=PdfReader(pdf))
    writer.add_metadata({"/smebclaims": "garbage"})
    tampered = tmp_path / "tampered.pdf"
    with open(tampered, "wb") as handle:
        writer.write(handle)
    result = run("cert", "verify", str(tampered))
    assert result.exit_code == 1 and "INVALID [malformed-payload]" in result.output


def test_verify_with_a_saved_keys_file_works_without_the_database(run, tmp_path: Path) -> None:
    from smeb_lti.certificates.signing import PublicKeyInfo, jwks
    from tests.smeb_lti.certificates.conftest import new_key

    _info, pdf = issue(run, tmp_path)
    stranger = new_key()
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps(jwks([PublicKeyInfo(stranger.kid, stranger.public_key, stranger.created_at, None)])))
    result = run("cert", "verify", "--keys", str(keys), str(pdf))
    assert result.exit_code == 1 and "[unknown-key]" in result.output


def test_revoking_an_unknown_id_says_so(run) -> None:
    result = run("cert", "revoke", "a" * 16, "--reason", "fraud")
    assert result.exit_code == 1 and "[unknown-certificate]" in result.output


def test_rotating_keys_keeps_old_certificates_verifiable(run, tmp_path: Path) -> None:
    _info, pdf = issue(run, tmp_path)
    assert run("cert", "keys", "rotate").exit_code == 0
    listed = run("cert", "keys", "list").output.splitlines()
    assert [line.split()[1] for line in listed] == ["active", "retired"]
    assert run("cert", "verify", str(pdf)).exit_code == 0


def test_list_needs_the_whole_company_or_nothing(run) -> None:
    result = CliRunner().invoke(main, ["cert", "list", "--platform", "https://x"])
    assert result.exit_code == 2 and "give all of" in result.output
