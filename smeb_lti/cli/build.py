"""``smeb build``: course sources → one zip per course and format (SCORM 1.2, SCORM 2004, cmi5, xAPI)."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import click

from scorm_export import FORMATS, PackageError, PackageSizeWarning, StateBudgetError, build_package
from scorm_export.state import check_state_budget
from smeb_lti.cli.courses import load_all


@click.command("build")
@click.argument("courses", nargs=-1, required=True)
@click.option(
    "--format",
    "fmt",
    type=click.Choice([*FORMATS, "all"]),
    default="all",
    show_default=True,
    help="Package format; 'all' builds the four.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("dist"),
    show_default=True,
    help="Folder for the zips (created if missing).",
)
@click.option(
    "--player",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Player folder to package instead of scorm_export/player/ (for player development).",
)
def build_cmd(courses: tuple[str, ...], fmt: str, out: Path, player: Path | None) -> None:
    """Build packages for COURSES (course folders, folders of courses, or shipped slugs).

    Writes <slug>-<version>-<format>.zip into --out. Every course is validated
    first: if any is invalid its errors are printed and nothing is built.
    """
    loaded, failed = load_all(courses)
    if failed or not loaded:
        click.echo(f"error: {failed or 'no'} invalid course(s); nothing was built", err=True)
        sys.exit(1)
    formats = FORMATS if fmt == "all" else (fmt,)
    # Every course/format pair is checked before any zip is written, so a refusal names all of them at once
    # and never leaves a half-built set (e.g. --format all stopping after scorm12).
    refused = []
    for course in loaded:
        for one in formats:
            try:
                check_state_budget(course, one)
            except StateBudgetError as exc:
                refused.append(f"error: {course.slug} ({one}): {exc}")
    if refused:
        click.echo("\n".join(refused), err=True)
        click.echo(f"error: {len(refused)} package(s) cannot be built; nothing was built", err=True)
        sys.exit(1)
    out.mkdir(parents=True, exist_ok=True)
    for course in loaded:
        for one in formats:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", PackageSizeWarning)
                try:
                    path = build_package(course, one, out, player_dir=player)
                except (PackageError, OSError) as exc:
                    click.echo(f"error: {course.slug} ({one}): {exc}", err=True)
                    sys.exit(1)
            for warning in caught:
                click.echo(f"warning: {warning.message}", err=True)
            click.echo(f"built  {path}  ({path.stat().st_size / 1024:.0f} KiB)")


def register(main: click.Group) -> None:
    main.add_command(build_cmd)
