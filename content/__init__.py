"""The course model: JSON Schema, loader, frozen model and its JSON both ways (pure: no Flask, no network)."""

from content.diagnostics import course_schema
from content.errors import CourseError, CourseJsonError, CourseNotFoundError, CourseValidationError, SourceError, UnknownModuleError
from content.loader import discover, load_course, shipped_courses_dir
from content.model import Block, Course, Lesson, Module, Text
from content.reader import course_from_json
from content.view import CourseView, course_view

__all__ = [
    "Block",
    "Course",
    "CourseError",
    "CourseJsonError",
    "CourseNotFoundError",
    "CourseValidationError",
    "CourseView",
    "Lesson",
    "Module",
    "SourceError",
    "Text",
    "UnknownModuleError",
    "course_from_json",
    "course_schema",
    "course_view",
    "discover",
    "load_course",
    "shipped_courses_dir",
]
