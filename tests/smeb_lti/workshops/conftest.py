"""The same app and launches as the survey tests (SQLite and PostgreSQL, the all-blocks course)."""

from tests.smeb_lti.surveys.conftest import app  # noqa: F401  (the fixture)
