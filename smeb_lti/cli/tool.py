"""The tool as the CLI sees it: the Flask app built from ``SMEB_*`` after migrating the database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from smeb_lti.app import create_app
from smeb_lti.db import migrate
from smeb_lti.settings import Settings


@contextmanager
def configured_tool() -> Iterator[Any]:
    """The tool as configured by ``SMEB_*`` (migrated first): its keys are the ones that made the pseudonyms."""
    migrate(Settings.from_env().database_url)
    app = create_app()
    try:
        yield app
    finally:
        app.extensions["smeb.engine"].dispose()
