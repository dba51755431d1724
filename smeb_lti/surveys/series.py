"""Surveys owned by a workshop series: what the survey pages need to know about the series' companies.

Workshops create the surveys of their series, so they import surveys; surveys never import workshops. The
workshops part gives the app a :class:`SeriesDirectory` in its ``init_app`` (:func:`provide`), and the survey
pages ask it (:func:`directory`). Without one (no workshops part), no launch belongs to any series.
"""

from __future__ import annotations

from typing import Protocol

from flask import Flask, current_app
from sqlalchemy.orm import Session

from smeb_lti.surveys.pages import Tenant

EXTENSION = "smeb.survey_series"


class SeriesDirectory(Protocol):
    """The companies of workshop series, as far as their surveys are concerned."""

    def group_labels(self, session: Session, series_id: int) -> dict[str, str]:
        """Survey group key -> the company's name (its LMS course title), for every company of the series."""

    def group_key(self, session: Session, series_id: int, tenant: Tenant) -> str | None:
        """The survey group key of ``tenant`` in the series, or None when it does not take part."""

    def joined_series(self, session: Session, tenant: Tenant) -> list[int]:
        """The series ``tenant`` takes part in."""

    def owned_series(self, session: Session, tenant: Tenant) -> list[int]:
        """The series ``tenant`` (a facilitator's LMS course) runs."""


class NoSeries:
    """The directory of an app without workshops: nobody is in any series."""

    def group_labels(self, session: Session, series_id: int) -> dict[str, str]:
        return {}

    def group_key(self, session: Session, series_id: int, tenant: Tenant) -> str | None:
        return None

    def joined_series(self, session: Session, tenant: Tenant) -> list[int]:
        return []

    def owned_series(self, session: Session, tenant: Tenant) -> list[int]:
        return []


def provide(app: Flask, series: SeriesDirectory) -> None:
    app.extensions[EXTENSION] = series


def directory() -> SeriesDirectory:
    found: SeriesDirectory = current_app.extensions.get(EXTENSION) or NoSeries()
    return found
