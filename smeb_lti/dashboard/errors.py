"""Errors of the dashboard and certificate pages; each has its HTTP status."""

from __future__ import annotations

from smeb_lti.errors import SmebError


class DashboardError(SmebError):
    """Base class: a dashboard request refused; ``status`` is the HTTP status."""

    status = 400


class NotStaff(DashboardError):
    """403: the dashboard is for instructors and administrators of the company's LMS course."""

    status = 403


class CsrfInvalid(DashboardError):
    """403: a dashboard form without this launch's security token."""

    status = 403


class NoCompany(DashboardError):
    """400: the launch has no LMS course context, so there is no company to show."""


class MemberNotFound(DashboardError):
    """404: no such learner in this company (also what another company's learner looks like)."""

    status = 404


class FilterInvalid(DashboardError):
    """400: a filter value is malformed (the message names it and the expected form)."""


class TeamInvalid(DashboardError):
    """400: a team name is empty, too long or not plain text."""
