"""What one launch shows of a course: all of it, or one deep-linked module (pure).

An LMS link may name one module of a course (LTI deep linking). The learner then sees that module only, and
what follows from the blocks shown follows the module: the required blocks, the points (and so the grade),
the course JSON the player gets.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from content.errors import UnknownModuleError
from content.model import Course


@dataclass(frozen=True)
class CourseView:
    """A course as one launch shows it.

    ``course`` is what the learner sees: the installed course, or the course cut to ``module_id`` (only that
    module, only its required blocks; :attr:`Course.max_points` then counts that module's quizzes). It keeps
    the course's IRI, slug, version and titles, so activity ids are the same as in the whole course.
    """

    course: Course
    module_id: str | None = None

    @property
    def is_module(self) -> bool:
        """A deep-linked module, not the whole course (a module earns no certificate, for one)."""
        return self.module_id is not None

    @property
    def key(self) -> str:
        """The course key of a learner's progress: the slug, or ``slug/module`` for a deep-linked module."""
        return f"{self.course.slug}/{self.module_id}" if self.module_id else self.course.slug


def course_view(course: Course, module_id: str | None) -> CourseView:
    """``course`` as shown by a link that names ``module_id`` (``None`` or ``""``: the whole course).

    Raises:
        UnknownModuleError: the course has no such module (the link predates a course update).
    """
    if not module_id:
        return CourseView(course)
    try:
        module = course.module(module_id)
    except KeyError:
        raise UnknownModuleError(course.slug, module_id) from None
    shown = {block.id for block in module.blocks()}
    cut = dataclasses.replace(
        course, modules=(module,), required_blocks=tuple(b for b in course.required_blocks if b in shown)
    )
    return CourseView(cut, module_id)
