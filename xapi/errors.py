"""Errors raised by the pure xAPI core (one flat module, one line each)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover - import only for type checkers (validation imports us)
    from xapi.validation.rules import ValidationIssue


class XapiError(Exception):
    """Base class of every error raised by the ``xapi`` package."""


class StatementValidationError(XapiError):
    """A statement breaks the xAPI data model; ``issues`` lists every problem, not only the first."""

    def __init__(self, issues: Iterable[ValidationIssue]) -> None:
        self.issues: list[ValidationIssue] = list(issues)
        super().__init__(self._render())

    def _render(self) -> str:
        if not self.issues:
            return "invalid xAPI statement"
        lines = [f"invalid xAPI statement ({len(self.issues)} issue{'s' if len(self.issues) != 1 else ''}):"]
        lines += [f"  {issue.path}: [{issue.rule}] {issue.message}" for issue in self.issues]
        return "\n".join(lines)

    @property
    def rules(self) -> list[str]:
        """Rule ids of all issues, in order (handy in tests and logs)."""
        return [issue.rule for issue in self.issues]


class ProfileError(XapiError):
    """The SMEB xAPI profile document is malformed or a template rule cannot be evaluated."""


class ActorError(XapiError):
    """An actor cannot be built from the given input (e.g. empty key or non-IRI issuer)."""
