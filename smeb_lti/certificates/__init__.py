"""Verifiable certificates: Ed25519-signed claims in a QR code, an Open Badges 3.0 credential, a tagged PDF.

Map:

* :mod:`.model` tables and the :class:`Tenant` (company) that scopes every query;
* :mod:`.signing` the issuer's keys (rotation, encryption at rest, JWKS, did:key);
* :mod:`.claims` the short signed claims and the verification URL;
* :mod:`.openbadges` the OpenBadgeCredential as VC-JWT;
* :mod:`.pdf` the one-page A4 PDF; :mod:`.verify` offline verification of it;
* :mod:`.issue` / :mod:`.revocation` the transactions (with their xAPI statements via the outbox);
* :mod:`.linkedin` the "Add to profile" link; :mod:`.routes` the public pages.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from smeb_lti.certificates import privacy as part_privacy
from smeb_lti.certificates.routes import init_app as _init
from smeb_lti.privacy import registry as privacy_registry

if TYPE_CHECKING:  # pragma: no cover
    from flask import Flask


def init_app(app: Flask) -> None:
    """Register the verification page, its status endpoint, the public keys and the owner's download."""
    privacy_registry.register(*part_privacy.STORES)

    _init(app)
