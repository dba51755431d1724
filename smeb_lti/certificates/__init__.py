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

if TYPE_CHECKING:  # pragma: no cover
    from flask import Flask


def init_app(app: Flask) -> None:
    """Register the verification page, its status endpoint, the public keys and the owner's download."""
    import os

    from smeb_lti.certificates.issue import NUMBER_SETTING, number_in_statements
    from smeb_lti.certificates.routes import init_app as _init

    # Validated at start-up like every SMEB_* setting: a typo must not wait for the first certificate.
    number_in_statements(app.config.get(NUMBER_SETTING, os.environ.get(NUMBER_SETTING, "")))
    _init(app)
