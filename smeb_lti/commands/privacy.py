"""``smeb learner export|erase|receipts|migrate-pseudonyms|pseudonym-links``, ``smeb launches purge`` and
``smeb platform register-url``."""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click


@contextmanager
def _tool() -> Iterator[Any]:
    """The tool as configured by ``SMEB_*`` (migrated first): its keys are the ones that made the pseudonyms."""
    from smeb_lti.app import create_app
    from smeb_lti.config import Settings
    from smeb_lti.db import migrate

    migrate(Settings.from_env().database_url)
    app = create_app()
    try:
        yield app
    finally:
        app.extensions["smeb.engine"].dispose()


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
    from smeb_lti import privacy

    with _tool() as app:
        keys = privacy.keys_from_app(app)
        with app.extensions["smeb.sessions"]() as session:
            try:
                ref = privacy.resolve_subject(session, issuer, subject, keys)
            except privacy.PrivacyError as error:
                raise click.ClickException(str(error)) from error
            document = privacy.export_learner(session, ref)
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
    from smeb_lti import privacy
    from smeb_lti.db import session_scope

    if not yes:
        raise click.UsageError("erasure cannot be undone: add --yes (export first with `smeb learner export` if the learner asked for a copy)")
    with _tool() as app:
        keys = privacy.keys_from_app(app)
        try:
            with session_scope(app.extensions["smeb.sessions"]) as session:
                ref = privacy.resolve_subject(session, issuer, subject, keys)
                receipt = privacy.erase_learner(session, ref, erased_by=erased_by or f"cli:{getpass.getuser()}",
                                                keep_certificates=keep_certificates)
        except privacy.PrivacyError as error:
            raise click.ClickException(str(error)) from error
    click.echo(json.dumps(receipt.to_dict(), indent=1, sort_keys=True))
    if receipt.voids_queued:
        click.echo(f"note: {receipt.voids_queued} voiding statement(s) queued for upstream LRSs; voiding is not erasure there: "
                   "ask each customer to erase the learner in their LRS (docs/privacy.md)", err=True)


@learner_group.command("receipts")
def learner_receipts() -> None:
    """List erasure receipts (no personal data), newest first."""
    from smeb_lti import privacy

    with _tool() as app, app.extensions["smeb.sessions"]() as session:
        for receipt in privacy.list_receipts(session):
            counts = ", ".join(f"{k}={v}" for k, v in sorted(receipt.counts.items()) if v)
            click.echo(f"{receipt.erased_at:%Y-%m-%d %H:%M}Z  {receipt.id}  {receipt.platform_issuer}  by {receipt.erased_by}  {counts or 'nothing found'}")


@learner_group.command("migrate-pseudonyms")
def learner_migrate_pseudonyms() -> None:
    """Link every known learner's old one-per-LMS xAPI id to their per-customer ids (idempotent; run after upgrading)."""
    from smeb_lti import privacy
    from smeb_lti.db import session_scope

    with _tool() as app:
        keys = privacy.keys_from_app(app)
        with session_scope(app.extensions["smeb.sessions"]) as session:
            done = privacy.migrate_pseudonyms(session, keys)
    click.echo(f"{done.learners} learner(s); {done.links} link(s) from old to per-customer ids ({done.added} new)")
    if done.split:
        click.echo(f"note: {done.split} old id(s) belong to a person in more than one company; each company gets only its own "
                   "links (`smeb learner pseudonym-links --issuer ... --context-id ...`)", err=True)


@learner_group.command("pseudonym-links")
@click.option("--issuer", default=None, help="Only this LMS (LTI issuer).")
@click.option("--context-id", default=None, help="Only this company (LMS course context).")
def learner_pseudonym_links(issuer: str | None, context_id: str | None) -> None:
    """Print old id -> per-customer id as CSV, for a customer who joins records older than the per-customer ids."""
    import csv

    from smeb_lti import privacy

    with _tool() as app, app.extensions["smeb.sessions"]() as session:
        rows = privacy.pseudonym_links(session, issuer, context_id)
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["legacy_name", "actor_name", "platform_issuer", "client_id", "deployment_id", "context_id"])
    for row in rows:
        writer.writerow([row["legacy_name"], row["actor_name"], row["platform_issuer"], row["client_id"] or "",
                         row["deployment_id"] or "", row["context_id"] or ""])


@click.group("launches")
def launches_group() -> None:
    """Stored LTI launches (they hold the platform's claims: name, e-mail, roles)."""


@launches_group.command("purge")
def launches_purge() -> None:
    """Delete expired launches and expired short-lived LTI entries (states, nonces, caches); run it daily."""
    from sqlalchemy.orm import sessionmaker

    from smeb_lti.config import Settings
    from smeb_lti.db import make_engine, migrate, session_scope
    from smeb_lti.lti import launches
    from smeb_lti.lti.storage import DbStore

    settings = Settings.from_env()
    migrate(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        sessions = sessionmaker(engine, expire_on_commit=False)
        with session_scope(sessions) as session:
            removed = launches.purge_expired(session)
        entries = DbStore(sessions).purge_expired()
    finally:
        engine.dispose()
    click.echo(f"purged {removed} expired launch(es) and {entries} expired short-lived LTI entr{'y' if entries == 1 else 'ies'}")


@click.command("register-url")
@click.option("--base-url", default=None, help="The tool's public URL (default: SMEB_PUBLIC_URL).")
@click.option("--hours", type=click.IntRange(1, 24 * 7), default=24, show_default=True, help="How long the URL works.")
@click.option("--allow-private", is_flag=True,
              help="Let this one registration come from an LMS on a loopback or private address (10.x, 192.168.x, 127.x, "
                   "intranet names); without it such an LMS is refused unless SMEB_DYNREG_ALLOW_PRIVATE=1.")
def platform_register_url(base_url: str | None, hours: int, allow_private: bool) -> None:
    """Print a one-time dynamic registration URL to give an LMS administrator.

    \b
    The administrator pastes it into the LMS's tool URL field; in Moodle:
    Site administration > Plugins > Activity modules > External tool > Manage tools,
    "Tool URL", "Add LTI Advantage", then "Activate"; to offer the tool in the activity
    chooser, edit it and set "Tool configuration usage" (docs/moodle.md).
    """
    from smeb_lti.lti.dynamic_registration import issue_registration_token
    from smeb_lti.lti.services import lti_services

    with _tool() as app:
        base = (base_url or lti_services(app).settings.public_url or "").rstrip("/")
        if not base:
            raise click.UsageError("give --base-url https://kurs.example.no (or set SMEB_PUBLIC_URL)")
        with app.app_context():
            token = issue_registration_token(hours * 3600, allow_private=allow_private)
    click.echo(f"{base}/lti/register?smeb_token={token}")
    where = " from an LMS on a private address" if allow_private else ""
    click.echo(
        f"valid once{where}, for {hours} h: in Moodle paste it into Site administration > Plugins > Activity modules > "
        "External tool > Manage tools > Tool URL, press 'Add LTI Advantage', then 'Activate' (docs/moodle.md)",
        err=True,
    )


def register(main: click.Group) -> None:
    main.add_command(learner_group)
    main.add_command(launches_group)
    platform = main.commands.get("platform")
    if isinstance(platform, click.Group):
        platform.add_command(platform_register_url)
    else:  # pragma: no cover - the LTI commands are registered before ours (COMMAND_MODULES order)
        print("smeb: the platform command group is missing; `platform register-url` is unavailable", file=sys.stderr)
