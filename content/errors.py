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


class CourseJsonError(CourseError, ValueError):
    """Course JSON (the player's format, :mod:`content.export`) that :mod:`content.reader` cannot read.

    ``path`` names the value, JSONPath style (``$.modules[0].lessons[2].blocks[1].points``); ``problem`` says
    what was expected there.
    """

    def __init__(self, path: str, problem: str):
        self.path = path
        self.problem = problem
        super().__init__(f"course JSON {path}: {problem}")


class UnknownModuleError(CourseError, KeyError):
    """A deep link names a module the course does not have."""

    def __init__(self, slug: str, module_id: str):
        self.slug = slug
        self.module_id = module_id
        super().__init__(f"course {slug!r} has no module {module_id!r}")

    def __str__(self) -> str:  # KeyError would show the message in quotes
        return str(self.args[0])
