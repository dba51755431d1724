"""``smeb learner export|erase|receipts|migrate-pseudonyms|pseudonym-links``: a learner's data (GDPR art. 15, 17, 20)."""

from __future__ import annotations

import csv
import getpass
import json
import sys
from pathlib import Path

import click

from smeb_lti.cli.tool import configured_tool
from smeb_lti.privacy.erasure import erase_learner, export_learner, list_receipts
from smeb_lti.privacy.errors import PrivacyError
from smeb_lti.privacy.learners import keys_from_app, resolve_subject
from smeb_lti.privacy.pseudonyms import migrate_pseudonyms, pseudonym_links
from smeb_lti.web.sessions import sessions, transaction


@click.group("learner")
def learner_group() -> None:
    """A learner's data: export it (access, portability) or erase it (GDPR art. 15, 17, 20)."""


_ISSUER = click.option("--issuer", required=True, help="The learner's LMS: the LTI issuer ('iss'), as in `smeb platform list`.")
_SUBJECT = click.option("--subject", required=True, help="The learner's LTI user id ('sub') at that LMS (not the e-mail).")


@learner_group.command("export")
@_ISSUER
@_SUBJECT
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write the JSON here (default: stdout).")
def learner_export(issuer: str, subject: str, out: Path | None) -> None:
    """Everything the tool holds about one learner, as one JSON document."""
    with configured_tool() as app:
        keys = keys_from_app(app)
        with sessions(app)() as session:
            try:
                ref = resolve_subject(session, issuer, subject, keys)
            except PrivacyError as error:
                raise click.ClickException(str(error)) from error
            document = export_learner(session, ref)
    text = json.dumps(document, ensure_ascii=False, indent=1, sort_keys=True)
    if out is None:
        click.echo(text)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text + "\n", encoding="utf-8")
    out.chmod(0o600)  # personal data: only the operator who asked may read it
    click.echo(f"wrote {out}", err=True)


@learner_group.command("erase")
@_ISSUER
@_SUBJECT
@click.option("--yes", is_flag=True, help="Confirm: erasure cannot be undone.")
@click.option("--by", "erased_by", default=None, help="Who erases, for the receipt (default: the OS user); a ticket reference is fine.")
@click.option("--keep-certificates", is_flag=True, help="The learner wants their certificates to stay verifiable: keep those rows.")
def learner_erase(issuer: str, subject: str, yes: bool, erased_by: str | None, keep_certificates: bool) -> None:
    """Erase one learner from every store in one transaction; voids what was forwarded to upstream LRSs."""
    if not yes:
        raise click.UsageError("erasure cannot be undone: add --yes (export first with `smeb learner export` if the learner asked for a copy)")
    with configured_tool() as app:
        keys = keys_from_app(app)
        try:
            with transaction(app) as session:
                ref = resolve_subject(session, issuer, subject, keys)
                receipt = erase_learner(session, ref, erased_by=erased_by or f"cli:{getpass.getuser()}",
                                                keep_certificates=keep_certificates)
        except PrivacyError as error:
            raise click.ClickException(str(error)) from error
    click.echo(json.dumps(receipt.to_dict(), indent=1, sort_keys=True))
    if receipt.voids_queued:
        click.echo(f"note: {receipt.voids_queued} voiding statement(s) queued for upstream LRSs; voiding is not erasure there: "
                   "ask each customer to erase the learner in their LRS (docs/privacy.md)", err=True)


@learner_group.command("receipts")
def learner_receipts() -> None:
    """List erasure receipts (no personal data), newest first."""
    with configured_tool() as app, sessions(app)() as session:
        for receipt in list_receipts(session):
            counts = ", ".join(f"{k}={v}" for k, v in sorted(receipt.counts.items()) if v)
            click.echo(f"{receipt.erased_at:%Y-%m-%d %H:%M}Z  {receipt.id}  {receipt.platform_issuer}  by {receipt.erased_by}  {counts or 'nothing found'}")


@learner_group.command("migrate-pseudonyms")
def learner_migrate_pseudonyms() -> None:
    """Link every known learner's old one-per-LMS xAPI id to their per-customer ids (idempotent; run after upgrading)."""
    with configured_tool() as app:
        keys = keys_from_app(app)
        with transaction(app) as session:
            done = migrate_pseudonyms(session, keys)
    click.echo(f"{done.learners} learner(s); {done.links} link(s) from old to per-customer ids ({done.added} new)")
    if done.split:
        click.echo(f"note: {done.split} old id(s) belong to a person in more than one company; each company gets only its own "
                   "links (`smeb learner pseudonym-links --issuer ... --context-id ...`)", err=True)


@learner_group.command("pseudonym-links")
@click.option("--issuer", default=None, help="Only this LMS (LTI issuer).")
@click.option("--context-id", default=None, help="Only this company (LMS course context).")
def learner_pseudonym_links(issuer: str | None, context_id: str | None) -> None:
    """Print old id -> per-customer id as CSV, for a customer who joins records older than the per-customer ids."""
    with configured_tool() as app, sessions(app)() as session:
        rows = pseudonym_links(session, issuer, context_id)
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["legacy_name", "actor_name", "platform_issuer", "client_id", "deployment_id", "context_id"])
    for row in rows:
        writer.writerow([row["legacy_name"], row["actor_name"], row["platform_issuer"], row["client_id"] or "",
                         row["deployment_id"] or "", row["context_id"] or ""])


def register(main: click.Group) -> None:
    main.add_command(learner_group)
