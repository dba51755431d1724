"""Errors of export and erasure; each message says what to do."""

from __future__ import annotations

from smeb_lti.errors import SmebError


class PrivacyError(SmebError):
    """Base class of export and erasure errors; the message says what to do."""


class UnknownLearner(PrivacyError):
    """No platform registration has this issuer: check ``--issuer`` against ``smeb platform list``."""


class ErasureFailed(PrivacyError):
    """One store could not be erased; the whole erasure was rolled back (nothing was erased)."""
    def __init__(self, store: str, cause: BaseException) -> None:
        self.store = store
        super().__init__(
            f"erasing store {store!r} failed ({type(cause).__name__}: {cause}); nothing was erased. "
            "Fix the cause and run the erasure again."
        )
