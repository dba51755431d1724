"""``smeb validate`` and ``smeb courses``: check course sources and manage the installed catalogue."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from content import (
    CourseError,
    CourseNotFoundError,
    discover,
    load_course,
    shipped_courses_dir,
)
from content.model import Course
from scorm_export import StateBudgetError
from smeb_lti.courses.catalogue import CatalogueConflictError, install, installed, remove
from smeb_lti.db import configured_session
from smeb_lti.settings import SettingsError, course_limits

# Package manifests: a folder holding one is a built package, not course sources (docs/packages.md).
PACKAGE_MANIFESTS = {"cmi5.xml": "a cmi5 package", "imsmanifest.xml": "a SCORM package", "tincan.xml": "an xAPI (TinCan) package"}


def resolve_course_paths(paths: tuple[str, ...]) -> list[Path]:
    """Course folders for PATH arguments: a course folder, a folder of courses, or a shipped slug.

    A PATH that holds no course is an error (never a silent "nothing to do"), and one that holds a
    built package says so: the catalogue installs course sources, from which the tool serves its player.
    """
    resolved: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists() and (shipped_courses_dir() / raw / "course.yaml").is_file():
            path = shipped_courses_dir() / raw
        found = discover([path])
        if not found:
            manifest = next((name for name in PACKAGE_MANIFESTS if (path / name).is_file()), None)
            if manifest is not None:
                raise CourseNotFoundError(
                    f"{path} is {PACKAGE_MANIFESTS[manifest]} ({manifest}), not course sources: `smeb courses install` takes a course "
                    "folder with course.yaml (or a folder of them) and serves the course with its own player. Install the course's "
                    "source folder, or upload the package's zip to an LMS that plays it (docs/packages.md)"
                )
            raise CourseNotFoundError(f"{path}: no course.yaml in this folder or its subfolders; give a course folder or a folder of courses")
        resolved.extend(found)
    return resolved


def load_all(paths: tuple[str, ...]) -> tuple[list[Course], int]:
    """Load every course; print every error; return the good ones and the number of failed courses."""
    courses: list[Course] = []
    failed = 0
    try:
        folders = resolve_course_paths(paths)
        limits = course_limits()
    except (CourseError, SettingsError) as exc:
        click.echo(f"error: {exc}", err=True)
        return [], 1
    for folder in folders:
        try:
            courses.append(load_course(folder, limits=limits))
        except CourseError as exc:
            failed += 1
            click.echo(str(exc), err=True)
    return courses, failed


@click.command("validate")
@click.argument("paths", nargs=-1, required=True)
def validate_cmd(paths: tuple[str, ...]) -> None:
    """Validate course sources (course folders, folders of courses, or shipped slugs).

    Prints every error with file, line, field path and what was expected; exits 1 if any course is invalid.
    """
    courses, failed = load_all(paths)
    for course in courses:
        blocks = sum(1 for _ in course.blocks())
        click.echo(f"ok  {course.slug} {course.version}: {len(course.modules)} modules, {blocks} blocks, {course.max_points} points")
    if failed or not courses:
        sys.exit(1)


@click.group("courses", invoke_without_command=True)
@click.pass_context
def courses_group(ctx: click.Context) -> None:
    """List the installed courses (install, remove with the subcommands)."""
    if ctx.invoked_subcommand is not None:
        return

    with configured_session() as session:
        rows = installed(session)
    if not rows:
        click.echo("No courses installed. Install the shipped ones with: smeb courses install --shipped")
        return
    for row in rows:
        click.echo(f"{row.slug:40} {row.version:8} {row.title_nb}  ({row.iri})")


@courses_group.command("install")
@click.argument("paths", nargs=-1)
@click.option("--shipped", is_flag=True, help="Install every course shipped with SMEB.")
def install_cmd(paths: tuple[str, ...], shipped: bool) -> None:
    """Validate and install courses into the catalogue; nothing is installed if any course is invalid."""
    if shipped:
        paths = (*paths, str(shipped_courses_dir()))
    if not paths:
        raise click.UsageError("give course folders, or --shipped")
    courses, failed = load_all(paths)
    if failed or not courses:
        click.echo(f"{failed} course(s) invalid or not found; nothing installed", err=True)
        sys.exit(1)
    try:
        with configured_session() as session:
            results = [install(session, c) for c in courses]
    except (CatalogueConflictError, StateBudgetError) as exc:
        click.echo(f"error: {exc}; nothing installed", err=True)
        sys.exit(1)
    for result in results:
        click.echo(f"{'installed' if result.changed else 'unchanged'}  {result.slug} {result.version}")


@courses_group.command("remove")
@click.argument("slug")
def remove_cmd(slug: str) -> None:
    """Remove an installed course from the catalogue."""
    with configured_session() as session:
        if not remove(session, slug):
            click.echo(f"error: no installed course '{slug}'", err=True)
            sys.exit(1)
    click.echo(f"removed  {slug}")


def register(main: click.Group) -> None:
    main.add_command(validate_cmd)
    main.add_command(courses_group)
