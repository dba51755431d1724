"""SMEB's xAPI package: statement builders, validation, the SMEB profile (pure core), and delivery.

The pure core (``constants``, ``actors``, ``customers``, ``statements``, ``validation``, ``profile``,
``jsonlimits``, ``errors``) does no IO beyond reading its own packaged data files, imports nothing else
of ours and no framework, database or HTTP library. :mod:`xapi.delivery` (outbox, worker, LRS and
query clients) is the one part that uses SQLAlchemy and httpx; the pure core never imports it.
"""

from xapi.errors import StatementValidationError, XapiError
from xapi.validation import (
    ValidationIssue,
    iter_statement_issues,
    normalize_statement,
    validate_statement,
    validate_statements,
)

__all__ = [
    "StatementValidationError",
    "ValidationIssue",
    "XapiError",
    "iter_statement_issues",
    "normalize_statement",
    "validate_statement",
    "validate_statements",
]
