"""Revocation that reaches every copy of a badge: a W3C Bitstring Status List (v1.0).

Each certificate gets one bit (``cert_certificates.status_list_index``) in a published list; the
Open Badge credential names it in ``credentialStatus`` (``BitstringStatusListEntry``,
``statusPurpose: revocation``). ``smeb cert revoke`` sets ``revoked_at``; the list is built from
the table on every request, so the bit flips at once and a verifier sees it as soon as its cached
copy expires (``Cache-Control: max-age`` = ``SMEB_CERT_STATUS_MAX_AGE``, at most 60 s).

* One list holds :data:`LIST_SIZE` = 131,072 entries (16 KiB uncompressed, the spec's minimum,
  so a list says nothing about how many certificates exist). Index ``n`` lives in list
  ``n // LIST_SIZE + 1`` at position ``n % LIST_SIZE``.
* Positions are drawn at random inside the current list (the spec's privacy advice: neighbouring
  bits must not reveal issue order).
* The list is itself a ``BitstringStatusListCredential`` signed as a VC-JWT with the issuer's
  active key, ``kid`` = a key listed in the issuer Profile, so a verifier trusts it exactly as
  it trusts the badge.
* ``encodedList``: multibase base64url (``u`` prefix, no padding) of the GZIP-compressed bits;
  index 0 is the left-most (most significant) bit of the first byte.
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import secrets
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from smeb_lti.certificates.errors import CertificateNotFound
from smeb_lti.certificates.model import certificates

LIST_SIZE = 131_072
STATUS_PURPOSE = "revocation"
ENTRY_TYPE = "BitstringStatusListEntry"
_RANDOM_TRIES = 32

# The W3C Verifiable Credentials vocabulary both credentials use (this status list, and the badges of .openbadges).
VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"


def iso(moment: dt.datetime) -> str:
    """A credential's timestamp: UTC, whole seconds, ``Z``."""
    return moment.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def list_url(base_url: str, list_number: int) -> str:
    return f"{base_url.rstrip('/')}/certificates/status/{list_number}"


def position(index: int) -> tuple[int, int]:
    """``(list number from 1, position in that list)`` of a global index."""
    return index // LIST_SIZE + 1, index % LIST_SIZE


def status_entry(base_url: str, index: int) -> dict[str, str]:
    """The credential's ``credentialStatus`` for global ``index``."""
    number, pos = position(index)
    url = list_url(base_url, number)
    return {
        "id": f"{url}#{pos}",
        "type": ENTRY_TYPE,
        "statusPurpose": STATUS_PURPOSE,
        "statusListIndex": str(pos),
        "statusListCredential": url,
    }


def allocate_index(session: Session) -> int:
    """A free global index, random inside the list now being filled.

    The unique index on the column is the last word: a concurrent issue that drew the same
    number fails its insert and the caller's transaction rolls back (never two badges on one bit).
    """
    used = session.execute(sa.select(sa.func.count()).where(certificates.c.status_list_index.is_not(None))).scalar_one()
    number = int(used) // LIST_SIZE  # 0-based list being filled
    low, high = number * LIST_SIZE, (number + 1) * LIST_SIZE
    taken_query = sa.select(certificates.c.status_list_index).where(
        certificates.c.status_list_index >= low, certificates.c.status_list_index < high
    )
    for _ in range(_RANDOM_TRIES):
        candidate = low + secrets.randbelow(LIST_SIZE)
        clash = session.execute(sa.select(certificates.c.id).where(certificates.c.status_list_index == candidate)).first()
        if clash is None:
            return candidate
    taken = {row[0] for row in session.execute(taken_query)}  # nearly full list: take the first free one
    for candidate in range(low, high):
        if candidate not in taken:
            return candidate
    return high  # this list is full after all: start the next one


def encode_list(positions: Iterable[int], size: int = LIST_SIZE) -> str:
    """Multibase base64url of the GZIP-compressed bitstring with ``positions`` set."""
    bits = bytearray(size // 8)
    for pos in positions:
        if not 0 <= pos < size:
            raise ValueError(f"status position {pos} is outside the list (0..{size - 1})")
        bits[pos // 8] |= 0x80 >> (pos % 8)
    # mtime=0: the same bits give the same bytes (cacheable, comparable).
    packed = gzip.compress(bytes(bits), mtime=0)
    return "u" + base64.urlsafe_b64encode(packed).rstrip(b"=").decode("ascii")


def revoked_positions(session: Session, list_number: int) -> list[int]:
    low = (list_number - 1) * LIST_SIZE
    rows = session.execute(
        sa.select(certificates.c.status_list_index).where(
            certificates.c.status_list_index >= low,
            certificates.c.status_list_index < low + LIST_SIZE,
            certificates.c.revoked_at.is_not(None),
        )
    )
    return [int(row[0]) - low for row in rows]


def list_exists(session: Session, list_number: int) -> bool:
    """Whether any certificate has a bit in this list (others are 404, not an empty list)."""
    if list_number < 1:
        return False
    low = (list_number - 1) * LIST_SIZE
    return (
        session.execute(
            sa.select(certificates.c.id).where(
                certificates.c.status_list_index >= low, certificates.c.status_list_index < low + LIST_SIZE
            ).limit(1)
        ).first()
        is not None
    )


def status_list_credential(
    session: Session, base_url: str, list_number: int, *, issuer_id: str, now: dt.datetime, max_age: int
) -> dict[str, Any]:
    """The unsigned ``BitstringStatusListCredential`` for ``list_number`` as the table says now."""
    if not list_exists(session, list_number):
        raise CertificateNotFound(f"there is no status list {list_number}")
    url = list_url(base_url, list_number)
    return {
        "@context": [VC_CONTEXT],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer_id,
        "validFrom": iso(now),
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": STATUS_PURPOSE,
            "encodedList": encode_list(revoked_positions(session, list_number)),
            # milliseconds, as the spec counts: how long a verifier may rely on this copy
            "ttl": max_age * 1000,
        },
    }

