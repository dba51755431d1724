"""Errors of the pages under ``/app/<launch_id>/`` (surveys and workshops): each has its HTTP status."""

from __future__ import annotations

from smeb_lti.errors import SmebError


class AppError(SmebError):
    """Base class: a request under ``/app/<launch_id>/`` refused; ``status`` is the HTTP status."""

    status = 400


class NotFound(AppError):
    """404: no such survey/series for this company (also what another company's ids look like)."""

    status = 404


class NotAllowed(AppError):
    """403: the launch's role may not do this (e.g. a learner opening results)."""

    status = 403


class CsrfInvalid(AppError):
    """403: the form lacks this launch's CSRF token: reload the page from the LMS and send it again."""

    status = 403


class NoCompany(AppError):
    """400: the LMS link has no course context, so the company cannot be told apart."""


class PeriodClosed(AppError):
    """409: the survey has no open period; answers of a closed period can no longer change."""

    status = 409
