"""``smeb usage``: the billing report and each company's terms (pilot end, price, discount).

    smeb usage report --month 2026-11 [--format xlsx|csv|json] [--out FILE]
    smeb usage companies
    smeb usage company set COMPANY_ID [--name TEXT] [--pilot-end YYYY-MM-DD | --no-pilot] [--price KR] [--discount PCT]
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from smeb_lti.db import configured_session
from smeb_lti.usage.report import kroner, render, usage_for_month
from smeb_lti.usage.store import Company, CompanyNotFound, UsageError, check_company_id, check_discount, parse_month, parse_price, set_terms


def _fail(error: UsageError) -> click.ClickException:
    return click.ClickException(error.message)


@click.group("usage")
def usage() -> None:
    """Usage per company and month for billing (counts only; docs/usage.md)."""


@usage.command("report")
@click.option("--month", required=True, help="Calendar month, YYYY-MM (UTC).")
@click.option("--format", "fmt", type=click.Choice(["xlsx", "csv", "json"]), default="csv", show_default=True)
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file (default: standard output; xlsx needs --out).")
def report_command(month: str, fmt: str, out: Path | None) -> None:
    """Active users, new users, courses started/completed, certificates and the amount, per company."""
    try:
        first = parse_month(month)
    except UsageError as error:
        raise click.BadParameter(error.message, param_hint="--month") from None
    if fmt == "xlsx" and out is None:
        raise click.BadParameter("an xlsx workbook is binary: give --out FILE.xlsx", param_hint="--out")
    with configured_session() as session:
        rows = usage_for_month(session, first.strftime("%Y-%m"))
    body = render(rows, fmt, first.strftime("%Y-%m"))
    if out is None:
        sys.stdout.write(body.decode("utf-8").lstrip("\ufeff"))
    else:
        out.write_bytes(body)
        click.echo(f"{len(rows)} companies → {out}", err=True)


@usage.command("companies")
def companies_command() -> None:
    """Every company known to the tool, with its id for `smeb usage company set` and its terms."""
    with configured_session() as session:
        rows = usage_for_month(session, dt.datetime.now(dt.UTC).strftime("%Y-%m"))
    click.echo("company_id\tname\tissuer\tdeployment\tcontext\tpilot_end\tprice_kr\tdiscount_%")
    for r in rows:
        click.echo(f"{r.company_id}\t{r.company_name or '-'}\t{r.platform_issuer}\t{r.deployment_id}\t{r.context_id}\t"
                   f"{r.pilot_end or '-'}\t{kroner(r.price_ore)}\t{r.discount_percent}")


@usage.group("company")
def company() -> None:
    """A company's billing terms."""


@company.command("set")
@click.argument("company_id")
@click.option("--name", default=None, help="The company's name on the report.")
@click.option("--pilot-end", default=None, help="Last day of the free pilot, YYYY-MM-DD (months touching it are free).")
@click.option("--no-pilot", is_flag=True, help="Remove the pilot end: billed from the first month.")
@click.option("--price", default=None, help="Kroner per active user and month (default 199).")
@click.option("--discount", type=int, default=None, help="Percent off, 0..100 (e.g. 20 for members of a business network).")
def company_set(company_id: str, name: str | None, pilot_end: str | None, no_pilot: bool, price: str | None,
                discount: int | None) -> None:
    """Set COMPANY_ID's terms (as `smeb usage companies` lists it); options not given keep their value."""
    try:
        check_company_id(company_id)
        if pilot_end is not None and no_pilot:
            raise click.UsageError("give --pilot-end or --no-pilot, not both")
        end = None
        if pilot_end is not None:
            try:
                end = dt.date.fromisoformat(pilot_end)
            except ValueError:
                raise click.BadParameter(f"must be a date like 2027-05-31, got {pilot_end[:20]!r}", param_hint="--pilot-end") from None
        ore = parse_price(price) if price is not None else None
        if discount is not None:
            check_discount(discount)
        with configured_session() as session:
            known = {r.company_id: r for r in usage_for_month(session, dt.datetime.now(dt.UTC).strftime("%Y-%m"))}
            if company_id not in known:
                raise CompanyNotFound(f"no company {company_id}: `smeb usage companies` lists the companies that launched a course")

            row = known[company_id]
            terms = set_terms(session, Company(row.platform_issuer, row.deployment_id, row.context_id), name=name,
                              pilot_end=end, clear_pilot=no_pilot, price_ore=ore, discount_percent=discount)
    except UsageError as error:
        raise _fail(error) from None
    click.echo(f"{company_id}\t{terms.name or '-'}\tpilot_end={terms.pilot_end or '-'}\tprice={kroner(terms.price_ore)} kr\t"
               f"discount={terms.discount_percent} %")


def register(main: click.Group) -> None:
    main.add_command(usage)
