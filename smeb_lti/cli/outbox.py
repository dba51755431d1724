"""``smeb worker`` (deliver the outbox) and ``smeb outbox status|retry|parked`` (look after it)."""

from __future__ import annotations

import datetime as dt
import json
import logging
import signal
import sys
import threading

import click

from smeb_lti.db import configured_engine
from smeb_lti.settings import Settings
from xapi.delivery import outbox
from xapi.delivery.destinations import DestinationConfigError, load_destinations
from xapi.delivery.sender import DeliveryPolicy
from xapi.delivery.worker import Worker


@click.command("worker")
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit (for cron and tests).")
@click.option("--batch-size", default=100, show_default=True, type=click.IntRange(1, 100))
@click.option("--timeout", default=10.0, show_default=True, help="HTTP timeout per request, seconds.")
@click.option("--lease-seconds", default=120.0, show_default=True, help="How long a claimed batch stays ours.")
@click.option("--backoff-base", default=1.0, show_default=True, help="First retry delay bound, seconds.")
@click.option("--backoff-cap", default=600.0, show_default=True, help="Largest retry delay bound, seconds.")
@click.option("--idle", default=1.0, show_default=True, help="Sleep between passes when nothing was due.")
def worker(once: bool, batch_size: int, timeout: float, lease_seconds: float, backoff_base: float, backoff_cap: float, idle: float) -> None:
    """Deliver outbox statements to the upstream LRSs until SIGTERM (the batch in flight completes).

    With --once, exit status 2 means some rows could not be delivered (the errors are on stderr).
    """
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    policy = DeliveryPolicy(batch_size=batch_size, lease_seconds=lease_seconds, backoff_base=backoff_base, backoff_cap=backoff_cap, timeout=timeout)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with configured_engine() as engine:
        try:
            with engine.connect() as conn:
                destinations = load_destinations(conn, Settings.from_env().lrs_upstreams)
        except DestinationConfigError as error:
            raise click.ClickException(str(error)) from error
        if not destinations:
            raise click.ClickException("no destination configured: set SMEB_LRS_UPSTREAMS or add rows to xapi_destinations")
        with Worker(engine, destinations, policy, stop=stop) as running:
            stats = running.run_once() if once else running.run_forever(idle)
    click.echo(f"delivered {stats.delivered}, parked {stats.parked}, rescheduled {stats.rescheduled}, requests {stats.requests}")
    for message in dict.fromkeys(stats.errors):
        click.echo(f"error: {message}", err=True)
    if once and stats.errors:
        sys.exit(2)  # for cron: something is still waiting, and stderr says why


@click.group("outbox")
def outbox_group() -> None:
    """Inspect and steer the xAPI outbox."""


@outbox_group.command("status")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def status(as_json: bool) -> None:
    """Rows per destination and status, and the age of the oldest pending row."""
    with configured_engine() as engine, engine.connect() as conn:
        counts = outbox.status_counts(conn)
        oldest = outbox.oldest_pending(conn)
    now = dt.datetime.now(dt.UTC)
    destinations = sorted({d for d, _ in counts})
    report = {
        d: {
            **{s: counts.get((d, s), 0) for s in (outbox.PENDING, outbox.DELIVERED, outbox.PARKED, outbox.SUPERSEDED)},
            "oldest_pending_seconds": round((now - oldest[d]).total_seconds(), 1) if d in oldest else None,
        }
        for d in destinations
    }
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    if not report:
        click.echo("outbox is empty")
    for d, row in report.items():
        age = "" if row["oldest_pending_seconds"] is None else f", oldest pending {row['oldest_pending_seconds']}s"
        superseded = f", {row['superseded']} superseded" if row["superseded"] else ""  # AGS scores a newer score replaced
        click.echo(f"{d}: {row['pending']} pending, {row['delivered']} delivered, {row['parked']} parked{superseded}{age}")


@outbox_group.command("retry")
@click.option("--parked", is_flag=True, help="Also put parked rows back in the queue (after fixing the cause).")
@click.option("--destination", default=None, help="Only this destination.")
def retry(parked: bool, destination: str | None) -> None:
    """Make waiting rows due now, for example after fixing credentials."""
    with configured_engine() as engine, engine.begin() as conn:
        count = outbox.retry(conn, parked=parked, destination=destination)
    click.echo(f"{count} rows due now")


@outbox_group.command("parked")
@click.option("--limit", default=100, show_default=True)
def parked(limit: int) -> None:
    """Rows an LRS or LMS rejected for good, with its answer (status and body)."""
    with configured_engine() as engine, engine.connect() as conn:
        rows = outbox.parked_rows(conn, limit=limit)
    if not rows:
        click.echo("no parked rows")
    for row in rows:
        click.echo(f"#{row.id} {row.destination} {row.item_id}{_what(row)} after {row.attempts} attempt(s): {row.last_error}")


def _what(row: outbox.OutboxRow) -> str:
    """For an LTI AGS score: whose grade, which line item, what it said (the statement id is enough for xAPI rows)."""
    if row.kind != "ags":
        return ""
    try:
        payload = json.loads(row.payload)
        score = payload["score"]
        given = f"{score['scoreGiven']}/{score['scoreMaximum']}" if score.get("scoreGiven") is not None else "no score"
        return (f" score for user {score['userId']} on {payload['lineitem']}"
                f" ({given}, {score['activityProgress']}, {score['gradingProgress']}, {score['timestamp']})")
    except (ValueError, KeyError, TypeError):
        return " (unreadable score payload)"


def register(main: click.Group) -> None:
    main.add_command(worker)
    main.add_command(outbox_group)
