"""Errors raised while loading course sources."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class SourceError:
    """One problem in a course source: where it is and what was expected."""

    file: str
    line: int | None
    path: str
    rule: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        field = f" {self.path}:" if self.path else ""
        return f"{where}:{field} {self.message} [{self.rule}]"


class CourseError(Exception):
    """Base class for errors about courses."""


class CourseValidationError(CourseError):
    """A course source is invalid; ``errors`` lists every problem found, not only the first."""

    def __init__(self, course: str, errors: list[SourceError]):
        self.course = course
        self.errors = sorted(errors, key=lambda e: (e.file, e.line or 0, e.path, e.rule, e.message))
        lines = "\n".join(f"  {e}" for e in self.errors)
        super().__init__(f"{course}: {len(self.errors)} error(s)\n{lines}")


class CourseNotFoundError(CourseError):
    """No course folder (with a course.yaml) at the given path or slug."""
