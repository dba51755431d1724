"""The catalogue of installed courses: which validated course versions the tool serves."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import DateTime, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from content.export import course_to_json
from content.model import Course
from scorm_export.state import check_state_budget
from smeb_lti.db import Base


class InstalledCourse(Base):
    __tablename__ = "courses"

    slug: Mapped[str] = mapped_column(String(64), primary_key=True)
    iri: Mapped[str] = mapped_column(String(512), unique=True)
    version: Mapped[str] = mapped_column(String(32))
    title_nb: Mapped[str] = mapped_column(String(300))
    title_en: Mapped[str] = mapped_column(String(300))
    source_hash: Mapped[str] = mapped_column(String(64))
    model_json: Mapped[str] = mapped_column(Text)
    installed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


@dataclass(frozen=True)
class InstallResult:
    slug: str
    version: str
    changed: bool


def source_hash(course: Course) -> str:
    """A digest of the course model and every media file it uses: changes when learners would see a change."""
    digest = hashlib.sha256(course_to_json(course).encode("utf-8"))
    for rel in course.media_files():
        digest.update(rel.encode("utf-8"))
        digest.update(hashlib.sha256((course.root / rel).read_bytes()).digest())
    return digest.hexdigest()


class CatalogueConflictError(Exception):
    """Another installed course already uses this course IRI."""


def install(session: Session, course: Course) -> InstallResult:
    """Install or update ``course`` (already validated: only the loader makes a ``Course``).

    Raises :class:`scorm_export.StateBudgetError` when the learner state of the course cannot fit what the
    tool stores per launch: the player would get stuck part-way, so the course is refused before it is served.
    """
    check_state_budget(course, "lti")
    digest = source_hash(course)
    clash = session.scalars(select(InstalledCourse).where(InstalledCourse.iri == course.id, InstalledCourse.slug != course.slug)).first()
    if clash is not None:
        raise CatalogueConflictError(f"course id {course.id} is already installed as '{clash.slug}'; course ids must be unique")
    row = session.get(InstalledCourse, course.slug)
    if row is not None and row.source_hash == digest:
        return InstallResult(course.slug, course.version, changed=False)
    if row is None:
        row = InstalledCourse(slug=course.slug)
        session.add(row)
    row.iri = course.id
    row.version = course.version
    row.title_nb = course.title.nb
    row.title_en = course.title.en
    row.source_hash = digest
    row.model_json = course_to_json(course)
    row.installed_at = datetime.now(UTC)
    return InstallResult(course.slug, course.version, changed=True)


def installed(session: Session) -> list[InstalledCourse]:
    return list(session.scalars(select(InstalledCourse).order_by(InstalledCourse.slug)))


def remove(session: Session, slug: str) -> bool:
    row = session.get(InstalledCourse, slug)
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True
