"""The course a launch opens: the one way from an LTI launch to the installed course (player, journal, forum, workshops).

The catalogue stores each installed course as the JSON the player reads (:func:`content.export.course_to_json`);
it is read back into the typed :class:`content.model.Course` here, by :func:`content.reader.course_from_json`
only, and every part of the tool works on that model (or on the :class:`content.view.CourseView` of one
deep-linked module).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from sqlalchemy.orm import Session

from content.errors import UnknownModuleError
from content.model import Course
from content.reader import course_from_json
from content.view import CourseView, course_view
from smeb_lti.courses.catalogue import InstalledCourse, installed
from smeb_lti.errors import SmebError
from smeb_lti.lti.context import LaunchContext
from smeb_lti.lti.launches import get_launch


class CourseNotInstalled(SmebError):
    """404: the launch names no course, or a course (or module) that is not installed."""

    status = 404


@dataclass(frozen=True)
class Installed:
    """One installed course: the model and the version the catalogue holds."""

    course: Course
    version: str


def installed_course(session: Session, slug: str) -> Installed | None:
    """The installed course ``slug``, or ``None``."""
    row = session.get(InstalledCourse, slug) if slug else None
    if row is None:
        return None
    return Installed(course_from_json(row.model_json), row.version)


def installed_courses(session: Session) -> list[Installed]:
    """Every installed course, by slug."""
    return [Installed(course_from_json(row.model_json), row.version) for row in installed(session)]


@dataclass(frozen=True)
class LaunchedCourse:
    """An installed course as one launch sees it; ``module_id`` is the deep-linked module, if the link names one."""

    context: LaunchContext
    slug: str
    version: str
    installed: Course  # the whole course, whatever module the link names
    module_id: str | None

    @cached_property
    def view(self) -> CourseView:
        """What the learner of this launch sees: the course, or the one module the link names."""
        try:
            return course_view(self.installed, self.module_id)
        except UnknownModuleError as error:
            raise CourseNotInstalled(f"{error}: pick the content again (deep linking)") from None

    @property
    def course(self) -> Course:
        """The course as this launch shows it (only the linked module, when there is one)."""
        return self.view.course

    @property
    def course_key(self) -> str:
        """The key of the learner's progress: the slug, or ``<slug>/<module>`` for a deep-linked module."""
        return self.view.key


def course_of_launch(session: Session, context: LaunchContext) -> LaunchedCourse:
    """The course ``context`` names (custom parameter ``course``), or :class:`CourseNotInstalled`."""
    slug = context.custom.get("course", "")
    if not slug:
        raise CourseNotInstalled("this LMS link names no course (custom parameter course=<slug>): the instructor adds the course again with 'select content'")
    found = installed_course(session, slug)
    if found is None:
        raise CourseNotInstalled(f"course {slug!r} is not installed on this SMEB server: install it with `smeb courses install`")
    return LaunchedCourse(context, slug, found.version, found.course, context.custom.get("module") or None)


def launched_course(session: Session, launch_id: str) -> LaunchedCourse:
    """The course of launch ``launch_id`` as its learner sees it (what the player serves).

    Raises what :func:`get_launch` raises for an expired or unknown launch, and :class:`CourseNotInstalled` also
    when the link names a module the installed course no longer has.
    """
    launched = course_of_launch(session, get_launch(session, launch_id))
    launched.view  # noqa: B018 (computed now, so a stale module link is refused before anything is served)
    return launched
