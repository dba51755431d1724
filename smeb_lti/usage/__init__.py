"""Usage for billing: per company and calendar month, counts only (docs/usage.md).

* :mod:`smeb_lti.usage.report` — the counts, derived from launches, learner events and certificates.
* :mod:`smeb_lti.usage.store` — the operator's terms per company and the frozen comparison figures.
* :mod:`smeb_lti.usage.routes` — the operator page ``/operator/usage`` (off unless ``SMEB_OPERATOR_TOKEN``).
* :mod:`smeb_lti.cli.usage` — ``smeb usage report|companies|company set``.

No personal data is stored here (so no ``privacy.py``): terms are about companies, snapshots are aggregates.
"""

from __future__ import annotations

from flask import Flask

from smeb_lti.usage import routes


def init_app(app: Flask) -> None:
    routes.init_app(app)
