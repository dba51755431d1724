"""``smeb surveys unlink-closed``: drop the double-answer tokens of every closed survey period (run daily from cron).

The results page does this for the survey it shows; this command makes sure answers of periods nobody
looked at also become unlinkable soon after their period closes.
"""

from __future__ import annotations

import datetime as dt

import click
from sqlalchemy import select

from smeb_lti.db import make_engine, migrate, session_factory, session_scope
from smeb_lti.settings import Settings
from smeb_lti.surveys import store
from smeb_lti.surveys.pages import OSLO


def unlink_all(database_url: str, today: dt.date) -> int:
    """Unlink every closed period of every survey; returns how many answers were unlinked."""
    engine = make_engine(database_url)
    try:
        total = 0
        with session_scope(session_factory(engine)) as session:
            for survey in session.scalars(select(store.Survey)):
                total += store.unlink_closed(session, survey, today)
        return total
    finally:
        engine.dispose()


@click.group("surveys")
def surveys() -> None:
    """Pulse surveys and course evaluations."""


@surveys.command("unlink-closed")
@click.option("--today", "today_", default=None, help="The date to count from (YYYY-MM-DD); default: today in Norway.")
def unlink_closed(today_: str | None) -> None:
    """Forget which answer belongs to whom for every survey period that has closed."""
    settings = Settings.from_env()
    migrate(settings.database_url)
    day = dt.date.fromisoformat(today_) if today_ else dt.datetime.now(OSLO).date()
    click.echo(f"unlinked {unlink_all(settings.database_url, day)} answers of closed periods (as of {day.isoformat()})")


def register(main: click.Group) -> None:
    main.add_command(surveys)
