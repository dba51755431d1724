"""SMEB's xAPI package: statement builders, validation, the SMEB profile (pure core), and delivery.

The pure core (``constants``, ``actors``, ``builders``, ``validation``, ``profile``, ``errors``)
does no IO beyond reading its own packaged data files and imports nothing else of ours.
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
