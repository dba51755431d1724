"""``smeb forum moderator add|remove|list``: who moderates the course forums for the course provider.

A moderator is an LTI user (platform issuer + the platform's ``sub``), typically a SMEB staff account on
the provider's own LMS registration. Customer instructors are deliberately not moderators: the forum is
shared across companies, so moderation belongs to the provider, not to one company's LMS roles.
"""

from __future__ import annotations

import click
from sqlalchemy import select

from smeb_lti.db import configured_session
from smeb_lti.forum import store


def register(main: click.Group) -> None:
    @main.group("forum")
    def forum() -> None:
        """The cross-company course forum."""

    @forum.group("moderator")
    def moderator() -> None:
        """Course-provider moderators (hide/restore posts, lock threads, see reports)."""

    @moderator.command("add")
    @click.option("--issuer", required=True, help="The LTI platform issuer (iss) the moderator launches from.")
    @click.option("--subject", required=True, help="The moderator's LTI user id (sub) on that platform.")
    @click.option("--note", default="", help="Who this is (for the list).")
    def add(issuer: str, subject: str, note: str) -> None:
        """Make an LTI user a forum moderator."""
        with configured_session() as session:
            added = store.add_moderator(session, issuer, subject, note)
        click.echo(f"{'added' if added else 'already a moderator'}: {issuer} {subject}")

    @moderator.command("remove")
    @click.option("--issuer", required=True)
    @click.option("--subject", required=True)
    def remove(issuer: str, subject: str) -> None:
        """Remove a forum moderator."""
        with configured_session() as session:
            removed = store.remove_moderator(session, issuer, subject)
        if not removed:
            raise click.ClickException(f"{issuer} {subject} is not a moderator (see `smeb forum moderator list`)")
        click.echo(f"removed: {issuer} {subject}")

    @moderator.command("list")
    def list_() -> None:
        """List forum moderators."""
        with configured_session() as session:
            for row in session.scalars(select(store.Moderator).order_by(store.Moderator.issuer, store.Moderator.subject)):
                click.echo(f"{row.issuer}\t{row.subject}\t{row.note}")
