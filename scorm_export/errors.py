"""Errors and warnings raised while building packages."""

from __future__ import annotations


class PackageError(Exception):
    """Base class for errors about building a package."""


class UnknownFormatError(PackageError):
    """The package format is not one of scorm12, scorm2004, cmi5, xapi."""


class PlayerNotFoundError(PackageError):
    """The player folder is missing or has no index.html (the launch file of every package)."""


class UnsafePathError(PackageError):
    """A file would land outside the package, or comes from outside the course or player folder."""


class EntryCollisionError(PackageError):
    """Two files would have the same name in the package (e.g. a player file named course.json)."""


class MediaNotFoundError(PackageError):
    """A media file the course uses is missing (it was there when the course was loaded)."""


class StateBudgetError(PackageError):
    """The course's fullest learner state does not fit the format's storage (e.g. SCORM 1.2 suspend_data)."""


class PackageSizeWarning(UserWarning):
    """A package is larger than LMS upload limits usually allow; it is built anyway."""
