"""``smeb cert issue|verify|revoke|list|keys``: verifiable certificates (the keys group is in cli/keys.py)."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

import click

from content import load_course
from smeb_lti.certificates.errors import CertificateError, CertificateNotFound, VerificationError
from smeb_lti.certificates.issue import (
    IssueRequest,
    all_tenants,
    customer_of,
    issue_certificate,
    list_certificates,
    public_status,
    request_from_course,
)
from smeb_lti.certificates.model import Tenant
from smeb_lti.certificates.pdf import render_pdf
from smeb_lti.certificates.revocation import revocation_reason, revoke_certificate
from smeb_lti.certificates.signing import keyring, keyring_from_jwks
from smeb_lti.certificates.verify import verify_pdf
from smeb_lti.cli.keys import CERTIFICATE_KEYS, certificate_encryption_key, keys_group
from smeb_lti.cli.tool import configured_tool
from smeb_lti.db import configured_session
from smeb_lti.privacy.learners import keys_from_app
from smeb_lti.settings import Settings
from smeb_lti.web.sessions import sessions
from xapi.actors import customer_key, pseudonymous_actor


def _base_url(value: str | None) -> str:
    url = value or Settings.from_env().public_url
    if not url:
        raise click.ClickException("give --base-url or set SMEB_PUBLIC_URL (the tool's public https URL; it goes into the QR code)")
    return url


tenant_options = [
    click.option("--platform", "platform_issuer", required=True, help="LTI platform issuer (iss)."),
    click.option("--deployment", "deployment_id", required=True, help="LTI deployment id."),
    click.option("--context", "context_id", required=True, help="The company's LMS context id."),
]


def _with_tenant(function: Any) -> Any:
    for option in reversed(tenant_options):
        function = option(function)
    return function


@click.group("cert")
def cert() -> None:
    """Verifiable certificates: issue, verify (offline), revoke, list; issuer keys."""


def _learner_actor(tenant: Any, subject: str) -> dict[str, Any]:
    """The same pseudonymous xAPI agent the player host gives this learner in this company (the tool's keys)."""
    with configured_tool() as app:
        keys = keys_from_app(app)
        with sessions(app)() as session:
            customer = customer_of(session, tenant)
    return pseudonymous_actor(tenant.platform_issuer, subject, key=customer_key(keys.actor_key, customer))


@cert.command("issue")
@_with_tenant
@click.option("--subject", required=True, help="The learner's platform user id (LTI sub).")
@click.option("--name", "learner_name", required=True, help="The learner's name as printed.")
@click.option("--course", "course_path", type=click.Path(exists=True, file_okay=False, path_type=Path), help="Course source folder (title, duration, competences from it).")
@click.option("--course-id", help="Course IRI (without --course).")
@click.option("--title", help="Course title (without --course).")
@click.option("--competence", "competences", multiple=True, help="Competence tag (repeatable; without --course).")
@click.option("--minutes", type=click.IntRange(min=0), help="Course duration in minutes (without --course).")
@click.option("--organization", help="The BHT/company shown beside SMEB AS.")
@click.option("--base-url", help="Public URL of the tool (default $SMEB_PUBLIC_URL).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write the PDF here.")
def cert_issue(platform_issuer: str, deployment_id: str, context_id: str, subject: str, learner_name: str, course_path: Path | None,
               course_id: str | None, title: str | None, competences: tuple[str, ...], minutes: int | None,
               organization: str | None, base_url: str | None, out: Path | None) -> None:
    """Issue a certificate (for tests and operations; learners get theirs from the player)."""
    tenant = Tenant(platform_issuer, deployment_id, context_id)
    actor = _learner_actor(tenant, subject)  # the learner's per-customer pseudonym, never the LMS user id
    if course_path is not None:
        course = load_course(course_path)
        request = request_from_course(course, tenant, subject, learner_name, actor, organization=organization)
    else:
        if not course_id or not title:
            raise click.UsageError("give --course FOLDER, or --course-id and --title")
        request = IssueRequest(tenant, subject, learner_name, course_id, title, actor, competences, minutes, organization)
    url = _base_url(base_url)
    try:
        with configured_session() as session:
            issued = issue_certificate(session, request, base_url=url, encryption_key=certificate_encryption_key())
    except CertificateError as error:
        raise click.ClickException(str(error)) from None
    if out is not None:
        out.write_bytes(render_pdf(issued.claims, issued.token, issued.verification_url, issued.credential_jwt))
    click.echo(json.dumps({"id": issued.id, "url": issued.verification_url, "pdf": str(out) if out else None}, ensure_ascii=False))


@cert.command("verify")
@click.argument("pdf", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--keys", "keys_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Issuer keys saved from /certificates/keys.json (default: the keys in the database).")
@click.option("--online", is_flag=True, help="Also ask the database whether the certificate was revoked.")
def cert_verify(pdf: Path, keys_file: Path | None, online: bool) -> None:
    """Verify a certificate PDF offline; exit 1 with the reason when it does not verify."""
    logging.getLogger("pypdf").setLevel(logging.ERROR)  # a damaged file gets one clear line, not pypdf's repair log
    data = pdf.read_bytes()
    try:
        if keys_file is not None and not online:
            result = verify_pdf(data, keyring_from_jwks(json.loads(keys_file.read_text("utf-8"))))
        else:
            with configured_session() as session:
                keys = keyring_from_jwks(json.loads(keys_file.read_text("utf-8"))) if keys_file else keyring(session)
                lookup = None
                if online:

                    def lookup(cert_id: str) -> str | None:
                        return revocation_reason(session, cert_id)

                result = verify_pdf(data, keys, lookup)
    except VerificationError as error:
        click.echo(f"INVALID [{error.reason}]: {error}", err=True)
        sys.exit(1)
    except Exception as error:  # the CertificateNotFound of --online, a broken keys file
        click.echo(f"INVALID [{getattr(error, 'reason', 'error')}]: {error}", err=True)
        sys.exit(1)
    c = result.claims
    click.echo(f"VALID: {c.certificate_id} — {c.learner_name} — {c.course_title} — {c.issued_on.isoformat()} (key {c.kid})"
               + ("" if result.checked_revocation else " [offline: revocation not checked]"))


@cert.command("revoke")
@click.argument("cert_id")
@click.option("--reason", required=True, help="Short code: issued-in-error, fraud, withdrawn ...")
@click.option("--note", help="Free text kept with the revocation (not sent in xAPI).")
@click.option("--base-url", help="Public URL of the tool (default $SMEB_PUBLIC_URL).")
def cert_revoke(cert_id: str, reason: str, note: str | None, base_url: str | None) -> None:
    """Revoke certificate CERT_ID (the verification page then shows it as revoked)."""
    url = _base_url(base_url)
    try:
        with configured_session() as session:
            found = public_status(session, cert_id)
            if found is None:
                raise CertificateNotFound(f"no certificate {cert_id!r}")
            operator = {"objectType": "Agent", "account": {"homePage": url.rstrip("/"), "name": "smeb-certificates"}}
            revoked = revoke_certificate(session, found.tenant, cert_id, reason, revoked_by=operator, base_url=url, note=note)
    except CertificateError as error:
        click.echo(f"error [{error.reason}]: {error}", err=True)
        sys.exit(1)
    click.echo(f"revoked {revoked.id}: {revoked.revocation_reason}")


@cert.command("list")
@click.option("--platform", "platform_issuer", help="LTI platform issuer (with --deployment and --context).")
@click.option("--deployment", "deployment_id")
@click.option("--context", "context_id")
@click.option("--json", "as_json", is_flag=True, help="JSON lines instead of a table.")
def cert_list(platform_issuer: str | None, deployment_id: str | None, context_id: str | None, as_json: bool) -> None:
    """List certificates of one company (platform+deployment+context), or of all when none is given."""
    given = [platform_issuer, deployment_id, context_id]
    if any(given) and not all(given):
        raise click.UsageError("give all of --platform, --deployment and --context, or none")
    with configured_session() as session:
        if platform_issuer and deployment_id and context_id:
            tenants = [Tenant(platform_issuer, deployment_id, context_id)]
        else:
            tenants = all_tenants(session)
        found = [c for t in tenants for c in list_certificates(session, t)]
    for c in found:
        state = f"revoked {c.revoked_at:%Y-%m-%d} ({c.revocation_reason})" if c.revoked else "valid"
        if as_json:
            click.echo(json.dumps({"id": c.id, "learner": c.claims.learner_name, "course": c.claims.course_title,
                                   "issued": c.claims.issued_on.isoformat(), "status": state, "context": c.tenant.context_id}, ensure_ascii=False))
        else:
            click.echo(f"{c.id}  {c.claims.issued_on}  {c.claims.learner_name}  {c.claims.course_title}  [{state}]")


cert.add_command(keys_group(CERTIFICATE_KEYS))


def register(main: click.Group) -> None:
    main.add_command(cert)
