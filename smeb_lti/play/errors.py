"""The player's refusals, each with its HTTP status.

:func:`smeb_lti.play.routes.init_app` answers them (and :class:`smeb_lti.courses.launched.CourseNotInstalled`)
as JSON for the player's requests and as a page otherwise.
"""

from __future__ import annotations

from smeb_lti.errors import SmebError


class PlayError(SmebError):
    """Base class: a player request refused; ``status`` is the HTTP status."""

    status = 400


class EventInvalid(PlayError):
    """400: a learner event is malformed or does not fit the course; ``field`` (and the message) name the field."""

    def __init__(self, message: str, field: str = "body") -> None:
        self.field = field
        super().__init__(message)


class LaunchTokenInvalid(PlayError):
    """401: the event lacks the launch token of this launch (only the player page has it)."""

    status = 401


class EventReplayed(PlayError):
    """409: this event id was applied before (the player's outbox retried); nothing changed."""

    status = 409
