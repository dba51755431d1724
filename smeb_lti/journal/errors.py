"""Errors of the journal, each with its HTTP status; translated to JSON once in :mod:`smeb_lti.journal.routes`."""

from __future__ import annotations

from smeb_lti.errors import SmebError


class JournalError(SmebError):
    """Base class: a journal request refused; ``status`` is the HTTP status, ``field`` the offending field if any."""

    status = 400

    def __init__(self, message: str, field: str | None = None) -> None:
        self.field = field
        super().__init__(message)


class JournalInputError(JournalError):
    """400: the body is not exactly what the schema allows (unknown field, plaintext, wrong size); names the field."""


class JournalTokenInvalid(JournalError):
    """403: the request lacks the journal token of this launch (only the journal page has it)."""

    status = 403


class KeyringMissing(JournalError):
    """404: the learner has not set up the journal yet (no wrapped keys stored)."""

    status = 404


class EntryNotFound(JournalError):
    """404: no such entry for this learner (another learner's ids look exactly like missing ones)."""

    status = 404


class WriteConflict(JournalError):
    """409: a replayed or stale write (the version does not match, or the id exists); nothing was overwritten."""

    status = 409


class JournalFull(JournalError):
    """413: the learner has reached the maximum number of entries."""

    status = 413
