"""The database sessions of a request: the app's one sessionmaker (made in :func:`smeb_lti.app.create_app`).

Every part of the tool reads it from here rather than from ``app.extensions`` itself, so where the sessions
come from is decided in one place.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

from flask import Flask, current_app
from sqlalchemy.orm import Session, sessionmaker

from smeb_lti.db import session_scope

EXTENSION: Final = "smeb.sessions"


def install(app: Flask, factory: sessionmaker[Session]) -> None:
    """Make ``factory`` the sessionmaker of ``app`` (the composition root does this once)."""
    app.extensions[EXTENSION] = factory


def sessions(app: Flask | None = None) -> sessionmaker[Session]:
    """The sessionmaker of ``app`` (default: the current app): ``with sessions()() as session`` reads."""
    factory: sessionmaker[Session] = (app or current_app).extensions[EXTENSION]
    return factory


@contextmanager
def transaction(app: Flask | None = None) -> Iterator[Session]:
    """One transaction on the app's database: commit on success, roll back on any error."""
    with session_scope(sessions(app)) as session:
        yield session
