"""Usage tables (created only by the ``usage`` Alembic branch): billing terms per company, comparison snapshots.

Nothing here is about a person. A *company* is what the certificates call a tenant: the LTI platform
issuer + deployment + the company's LMS course context ("platform deployment and context"). Its
``company_id`` is a short hash of those three, so the operator can name a company on the command line
without typing three long LMS ids.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass

from sqlalchemy import Date, DateTime, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from smeb_lti.db import Base
from smeb_lti.errors import SmebError

DEFAULT_PRICE_ORE = 19_900  # 199 kr per active user and month (the offer to pilot companies)
MAX_PRICE_ORE = 10_000_000  # 100,000 kr: anything above is a typo (øre vs kroner)
_COMPANY_ID = re.compile(r"^[0-9a-f]{16}$")


class UsageError(SmebError):
    """Base class: a usage request or setting refused; ``status`` is the HTTP status for the web edge."""

    status = 400


class TermsInvalid(UsageError):
    """400: a billing setting is out of range (the message names the option and what is expected)."""


class CompanyNotFound(UsageError):
    """404: no company with this id has launched anything, and no terms are stored for it."""

    status = 404


class MonthInvalid(UsageError):
    """400: the month is not ``YYYY-MM``."""


class OperatorOnly(UsageError):
    """401: the operator page needs the operator token (``SMEB_OPERATOR_TOKEN``)."""

    status = 401


class CompanyTerms(Base):
    __tablename__ = "usage_company_terms"

    company_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    platform_issuer: Mapped[str] = mapped_column(String(512))
    deployment_id: Mapped[str] = mapped_column(String(255))
    context_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    pilot_end: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    price_ore: Mapped[int] = mapped_column(Integer)
    discount_percent: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class ComparisonSnapshot(Base):
    __tablename__ = "usage_comparison_snapshots"

    quarter: Mapped[str] = mapped_column(String(7), primary_key=True)
    figures: Mapped[str] = mapped_column(Text)
    computed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


@dataclass(frozen=True)
class Company:
    """A company (tenant): platform issuer + deployment + LMS course context."""

    platform_issuer: str
    deployment_id: str
    context_id: str

    @property
    def company_id(self) -> str:
        raw = "\x00".join((self.platform_issuer, self.deployment_id, self.context_id)).encode("utf-8")
        return hashlib.sha256(raw).hexdigest()[:16]


@dataclass(frozen=True)
class Terms:
    """What a company pays: no pilot end = billed from the first month; price in øre; discount 0..100 %."""

    name: str | None = None
    pilot_end: dt.date | None = None
    price_ore: int = DEFAULT_PRICE_ORE
    discount_percent: int = 0


def parse_month(raw: str) -> dt.date:
    """``YYYY-MM`` → the first day of that month; :class:`MonthInvalid` naming the expected form otherwise."""
    match = re.fullmatch(r"(\d{4})-(\d{2})", (raw or "").strip())
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 2000:
        raise MonthInvalid(f"month must be YYYY-MM (e.g. 2026-11), got {str(raw)[:20]!r}")
    return dt.date(int(match.group(1)), int(match.group(2)), 1)


def check_company_id(raw: str) -> str:
    if not _COMPANY_ID.match(raw or ""):
        raise TermsInvalid(f"company must be a 16-character company id as `smeb usage companies` lists it, got {str(raw)[:40]!r}")
    return raw


def parse_price(raw: str) -> int:
    """``199``, ``199.50`` or ``199,50`` kroner → øre."""
    match = re.fullmatch(r"(\d{1,6})(?:[.,](\d{1,2}))?", (raw or "").strip())
    if not match:
        raise TermsInvalid(f"--price must be kroner per user and month like 199 or 159.20, got {str(raw)[:20]!r}")
    ore = int(match.group(1)) * 100 + int((match.group(2) or "0").ljust(2, "0"))
    if ore > MAX_PRICE_ORE:
        raise TermsInvalid(f"--price must be at most {MAX_PRICE_ORE // 100} kr, got {raw}")
    return ore


def check_discount(value: int) -> int:
    if not 0 <= value <= 100:
        raise TermsInvalid(f"--discount must be a percentage 0..100, got {value}")
    return value


def terms_of(session: Session) -> dict[str, Terms]:
    """``{company_id: Terms}`` for every company the operator set terms for."""
    return {row.company_id: Terms(row.name, row.pilot_end, row.price_ore, row.discount_percent)
            for row in session.scalars(select(CompanyTerms))}


def set_terms(session: Session, company: Company, *, name: str | None = None, pilot_end: dt.date | None = None,
              clear_pilot: bool = False, price_ore: int | None = None, discount_percent: int | None = None,
              now: dt.datetime | None = None) -> Terms:
    """Store the operator's terms for ``company``; options left ``None`` keep their stored value (or the default)."""
    row = session.get(CompanyTerms, company.company_id)
    moment = now or dt.datetime.now(dt.UTC)
    if row is None:
        row = CompanyTerms(company_id=company.company_id, platform_issuer=company.platform_issuer,
                           deployment_id=company.deployment_id, context_id=company.context_id, name=None, pilot_end=None,
                           price_ore=DEFAULT_PRICE_ORE, discount_percent=0, updated_at=moment)
        session.add(row)
    if name is not None:
        cleaned = " ".join(name.split())[:200]
        row.name = cleaned or None
    if clear_pilot:
        row.pilot_end = None
    elif pilot_end is not None:
        row.pilot_end = pilot_end
    if price_ore is not None:
        row.price_ore = price_ore
    if discount_percent is not None:
        row.discount_percent = check_discount(discount_percent)
    row.updated_at = moment
    session.flush()
    return Terms(row.name, row.pilot_end, row.price_ore, row.discount_percent)
