"""``smeb cert issue|verify|revoke|list|keys`` and ``smeb report completion|competence``."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from smeb_lti.db import configured_session


def _encryption_key() -> str | None:
    from smeb_lti.certificates.errors import KeyEncryptionError
    from smeb_lti.certificates.signing import encryption_key_from_env

    try:
        return encryption_key_from_env()
    except KeyEncryptionError as error:
        raise click.ClickException(str(error)) from None


def _base_url(value: str | None) -> str:
    url = value or os.environ.get("SMEB_PUBLIC_URL")
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
    from smeb_lti.app import create_app
    from smeb_lti.certificates.issue import customer_of
    from smeb_lti.privacy import keys_from_app
    from smeb_lti.config import Settings
    from smeb_lti.db import migrate
    from xapi.actors import customer_key, pseudonymous_actor

    migrate(Settings.from_env().database_url)
    app = create_app()
    try:
        keys = keys_from_app(app)
        with app.extensions["smeb.sessions"]() as session:
            customer = customer_of(session, tenant)
    finally:
        app.extensions["smeb.engine"].dispose()
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
    from smeb_lti.certificates.errors import CertificateError
    from smeb_lti.certificates.issue import (
        IssueRequest,
        issue_certificate,
        request_from_course,
    )
    from smeb_lti.certificates.model import Tenant
    from smeb_lti.certificates.pdf import render_pdf

    tenant = Tenant(platform_issuer, deployment_id, context_id)
    actor = _learner_actor(tenant, subject)  # the learner's per-customer pseudonym, never the LMS user id
    if course_path is not None:
        from content import load_course

        course = load_course(course_path)
        request = request_from_course(course, tenant, subject, learner_name, actor, organization=organization)
    else:
        if not course_id or not title:
            raise click.UsageError("give --course FOLDER, or --course-id and --title")
        request = IssueRequest(tenant, subject, learner_name, course_id, title, actor, competences, minutes, organization)
    url = _base_url(base_url)
    try:
        with configured_session() as session:
            issued = issue_certificate(session, request, base_url=url, encryption_key=_encryption_key())
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
    import logging

    from smeb_lti.certificates.errors import VerificationError
    from smeb_lti.certificates.signing import keyring, keyring_from_jwks
    from smeb_lti.certificates.verify import verify_pdf

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
                    from smeb_lti.certificates.revocation import revocation_reason

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
    from smeb_lti.certificates.errors import CertificateError, CertificateNotFound
    from smeb_lti.certificates.issue import public_status
    from smeb_lti.certificates.revocation import revoke_certificate

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
    from smeb_lti.certificates.issue import all_tenants, list_certificates
    from smeb_lti.certificates.model import Tenant

    given = [platform_issuer, deployment_id, context_id]
    if any(given) and not all(given):
        raise click.UsageError("give all of --platform, --deployment and --context, or none")
    with configured_session() as session:
        tenants = [Tenant(*given)] if all(given) else all_tenants(session)  # type: ignore[arg-type]
        found = [c for t in tenants for c in list_certificates(session, t)]
    for c in found:
        state = f"revoked {c.revoked_at:%Y-%m-%d} ({c.revocation_reason})" if c.revoked else "valid"
        if as_json:
            click.echo(json.dumps({"id": c.id, "learner": c.claims.learner_name, "course": c.claims.course_title,
                                   "issued": c.claims.issued_on.isoformat(), "status": state, "context": c.tenant.context_id}, ensure_ascii=False))
        else:
            click.echo(f"{c.id}  {c.claims.issued_on}  {c.claims.learner_name}  {c.claims.course_title}  [{state}]")


@cert.group("keys")
def keys() -> None:
    """The issuer's Ed25519 signing keys."""


@keys.command("list")
def keys_list() -> None:
    """Every key (active and retired) with its did:key."""
    from smeb_lti.certificates.signing import did_key, public_keys

    with configured_session() as session:
        for info in public_keys(session):
            click.echo(f"{info.kid}  {'active ' if info.active else 'retired'}  {info.created_at:%Y-%m-%d}  {did_key(info.public_key)}")


@keys.command("rotate")
def keys_rotate() -> None:
    """Retire the active key and create a new one (old certificates keep verifying)."""
    from smeb_lti.certificates.signing import rotate

    with configured_session() as session:
        key = rotate(session, _encryption_key())
    click.echo(f"new active key {key.kid}")


# --------------------------------------------------------------------------- reports
def _when(value: str | None, name: str) -> dt.datetime | None:
    if value is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 date or time (2026-01-31 or 2026-01-31T12:00:00Z)", param_hint=name) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _course_competences(folders: tuple[Path, ...]) -> tuple[dict[str, list[str]], set[str]]:
    """Competence tags per course IRI, and the courses with tests (they give competence only when passed).

    Each folder is a course folder or a folder of courses (like ``smeb validate``); an invalid
    course or a folder without any course is a usage error naming it, not a traceback.
    """
    from content import CourseError, discover, load_course
    from smeb_lti.completion import passing_applies

    found: dict[str, list[str]] = {}
    tested: set[str] = set()
    for folder in folders:
        try:
            course_folders = discover([folder])
        except CourseError as error:
            raise click.BadParameter(str(error), param_hint="--courses-dir") from None
        if not course_folders:
            raise click.BadParameter(f"{folder} holds no course (no course.yaml in it or in its subfolders)", param_hint="--courses-dir")
        for course_folder in course_folders:
            try:
                course = load_course(course_folder)
            except CourseError as error:
                raise click.BadParameter(f"{course_folder} is not a valid course: {error}", param_hint="--courses-dir") from None
            found[course.id] = [tag.title.nb for tag in course.competence_tags]
            if passing_applies({"maxPoints": course.max_points, "passingScore": course.passing_score}):
                tested.add(course.id)
    return found, tested


def _linked(statements: Any, links_file: Path | None) -> Any:
    """The statements with old (one-per-LMS) actor ids replaced by the company's current ones (docs/privacy.md)."""
    if links_file is None:
        return statements
    from smeb_lti.reports.pseudonyms import PseudonymLinksError, canonical_actors, read_links

    try:
        return canonical_actors(statements, read_links(links_file))
    except PseudonymLinksError as error:
        raise click.BadParameter(str(error), param_hint="--pseudonym-links") from None


@click.group("report")
def report() -> None:
    """Completion and competence reports from an LRS (any conformant one) or the embedded LRS."""


def _report_command(kind: str) -> Any:
    @click.option("--lrs", "endpoint", help="xAPI endpoint of the LRS (http(s)://.../xapi/).")
    @click.option("--user", help="LRS Basic auth user (key).")
    @click.option("--password", help="LRS Basic auth password (secret); default $SMEB_REPORT_LRS_PASSWORD.")
    @click.option("--tenant", help="Read the embedded LRS's tables for this tenant instead of --lrs.")
    @click.option("--course", "courses", multiple=True, help="Course IRI (repeatable; default: every course).")
    @click.option("--courses-dir", "course_dirs", multiple=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
                  help="Course source folder, or a folder of courses (content/courses), giving competence tags "
                       "and which courses have tests (repeatable; competence report).")
    @click.option("--since", help="Only statements from this time (ISO 8601).")
    @click.option("--until", help="Only statements before this time (ISO 8601).")
    @click.option("--format", "fmt", type=click.Choice(["table", "csv", "xlsx"]), default="table", show_default=True)
    @click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Output file (required for xlsx).")
    @click.option("--no-server-filters", is_flag=True, help="The LRS ignores verb/activity filters (Ralph 5.1): filter here.")
    @click.option("--pseudonym-links", "links_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                  help="CSV from `smeb learner pseudonym-links`: count a learner's records from before per-customer ids as theirs.")
    def command(endpoint: str | None, user: str | None, password: str | None, tenant: str | None, courses: tuple[str, ...],
                course_dirs: tuple[Path, ...], since: str | None, until: str | None, fmt: str, out: Path | None,
                no_server_filters: bool, links_file: Path | None) -> None:
        from smeb_lti.reports import export
        from smeb_lti.reports.aggregate import (
            COMPETENCE_RULE_EN,
            COMPETENCE_RULE_NB,
            ReportParameterError,
            ReportParameters,
            competence_report,
            completion_report,
        )
        from smeb_lti.reports.sources import (
            ReportSourceError,
            lrs_statements,
            store_statements,
        )

        if bool(endpoint) == bool(tenant):
            raise click.UsageError("give exactly one of --lrs URL (any LRS) or --tenant SLUG (the embedded LRS)")
        if fmt == "xlsx" and out is None:
            raise click.UsageError("--format xlsx needs --out FILE.xlsx")
        if kind == "competence" and not course_dirs:
            raise click.UsageError("the competence report needs --courses-dir (where the courses' competence tags come from)")
        competences = _course_competences(course_dirs) if kind == "competence" else None  # bad folders fail before any LRS is read
        try:
            params = ReportParameters(tuple(courses), _when(since, "--since"), _when(until, "--until"))
        except ReportParameterError as error:
            raise click.BadParameter(str(error)) from None
        try:
            if endpoint:
                statements: Any = lrs_statements(endpoint, user, password or os.environ.get("SMEB_REPORT_LRS_PASSWORD"), params,
                                                 server_filters=not no_server_filters)
                rows: Any = completion_report(_linked(statements, links_file), params)
            else:
                with configured_session() as session:
                    rows = completion_report(_linked(store_statements(session, tenant, params), links_file), params)  # type: ignore[arg-type]
        except ReportSourceError as error:
            click.echo(f"error: {error}", err=True)
            sys.exit(2)
        columns = export.COMPLETION_COLUMNS
        header = None
        if competences is not None:
            rows = competence_report(rows, *competences)
            columns = export.COMPETENCE_COLUMNS
            header = f"{COMPETENCE_RULE_NB}. / {COMPETENCE_RULE_EN}."
        if fmt == "xlsx":
            out.write_bytes(export.to_xlsx(rows, "Kompetanse" if kind == "competence" else "Fullføring", columns,  # type: ignore[union-attr]
                                           page_header=header))
        elif fmt == "csv":
            if out:
                export.write_csv(out, export.to_csv(rows, columns))
            else:
                click.echo(export.to_csv(rows, columns), nl=False)
        else:
            text = export.to_table(rows, columns)
            if header:
                text = header + "\n\n" + text
            if out:
                out.write_text(text + "\n", "utf-8")
            else:
                click.echo(text)
        if out:
            click.echo(f"{len(rows)} rows written to {out}", err=True)

    command.__doc__ = {
        "completion": "Completion per learner and course (status, dates, best score).",
        "competence": "Skills inventory: which learners hold which competence tags. A course with tests gives its tags only when "
                      "passed; a course without tests when completed. --courses-dir may be a course folder or a folder of courses.",
    }[kind]
    return report.command(kind)(command)


_report_command("completion")
_report_command("competence")


def register(main: click.Group) -> None:
    main.add_command(cert)
    main.add_command(report)
