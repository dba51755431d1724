"""The course model: JSON Schema, loader and frozen model (pure: no Flask, no network)."""

from content.errors import CourseError, CourseNotFoundError, CourseValidationError, SourceError
from content.loader import course_schema, discover, load_course, shipped_courses_dir
from content.model import Block, Course, Lesson, Module, Text

__all__ = [
    "Block",
    "Course",
    "CourseError",
    "CourseNotFoundError",
    "CourseValidationError",
    "Lesson",
    "Module",
    "SourceError",
    "Text",
    "course_schema",
    "discover",
    "load_course",
    "shipped_courses_dir",
]
