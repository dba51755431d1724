"""Errors of the workshop pages (the family of the ``/app/<launch_id>/`` pages, :mod:`smeb_lti.surveys.errors`)."""

from __future__ import annotations

from smeb_lti.surveys.errors import AppError


class WorkshopInputInvalid(AppError):
    """400: a workshop form field is missing or wrong; the message names it."""
