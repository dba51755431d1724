"""``smeb report completion|competence``: completion and competence reports from an LRS or the embedded LRS."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

import click

from content import CourseError, discover, load_course
from smeb_lti.db import configured_session
from smeb_lti.reports import export
from smeb_lti.reports.aggregate import COMPETENCE_RULE_EN, COMPETENCE_RULE_NB, ReportParameterError, ReportParameters, competence_report, completion_report
from smeb_lti.reports.pseudonyms import PseudonymLinksError, canonical_actors, read_links
from smeb_lti.reports.sources import ReportSourceError, lrs_statements, store_statements
from smeb_lti.settings import Settings


def _when(value: str | None, name: str) -> dt.datetime | None:
    if value is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 date or time (2026-01-31 or 2026-01-31T12:00:00Z)", param_hint=name) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _course_competences(folders: tuple[Path, ...]) -> tuple[dict[str, list[str]], set[str]]:
    """Competence tags per course IRI, and the courses with tests (they give competence only when passed).

    Each folder is a course folder or a folder of courses (like ``smeb validate``); an invalid
    course or a folder without any course is a usage error naming it, not a traceback.
    """
    found: dict[str, list[str]] = {}
    tested: set[str] = set()
    for folder in folders:
        try:
            course_folders = discover([folder])
        except CourseError as error:
            raise click.BadParameter(str(error), param_hint="--courses-dir") from None
        if not course_folders:
            raise click.BadParameter(f"{folder} holds no course (no course.yaml in it or in its subfolders)", param_hint="--courses-dir")
        for course_folder in course_folders:
            try:
                course = load_course(course_folder)
            except CourseError as error:
                raise click.BadParameter(f"{course_folder} is not a valid course: {error}", param_hint="--courses-dir") from None
            found[course.id] = [tag.title.nb for tag in course.competence_tags]
            if course.passing_applies:
                tested.add(course.id)
    return found, tested


def _linked(statements: Any, links_file: Path | None) -> Any:
    """The statements with old (one-per-LMS) actor ids replaced by the company's current ones (docs/privacy.md)."""
    if links_file is None:
        return statements

    try:
        return canonical_actors(statements, read_links(links_file))
    except PseudonymLinksError as error:
        raise click.BadParameter(str(error), param_hint="--pseudonym-links") from None


@click.group("report")
def report() -> None:
    """Completion and competence reports from an LRS (any conformant one) or the embedded LRS."""


def _report_command(kind: str) -> Any:
    @click.option("--lrs", "endpoint", help="xAPI endpoint of the LRS (http(s)://.../xapi/).")
    @click.option("--user", help="LRS Basic auth user (key).")
    @click.option("--password", help="LRS Basic auth password (secret); default $SMEB_REPORT_LRS_PASSWORD.")
    @click.option("--tenant", help="Read the embedded LRS's tables for this tenant instead of --lrs.")
    @click.option("--course", "courses", multiple=True, help="Course IRI (repeatable; default: every course).")
    @click.option("--courses-dir", "course_dirs", multiple=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
                  help="Course source folder, or a folder of courses (content/courses), giving competence tags "
                       "and which courses have tests (repeatable; competence report).")
    @click.option("--since", help="Only statements from this time (ISO 8601).")
    @click.option("--until", help="Only statements before this time (ISO 8601).")
    @click.option("--format", "fmt", type=click.Choice(["table", "csv", "xlsx"]), default="table", show_default=True)
    @click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Output file (required for xlsx).")
    @click.option("--no-server-filters", is_flag=True, help="The LRS ignores verb/activity filters (Ralph 5.1): filter here.")
    @click.option("--pseudonym-links", "links_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                  help="CSV from `smeb learner pseudonym-links`: count a learner's records from before per-customer ids as theirs.")
    def command(endpoint: str | None, user: str | None, password: str | None, tenant: str | None, courses: tuple[str, ...],
                course_dirs: tuple[Path, ...], since: str | None, until: str | None, fmt: str, out: Path | None,
                no_server_filters: bool, links_file: Path | None) -> None:
        if bool(endpoint) == bool(tenant):
            raise click.UsageError("give exactly one of --lrs URL (any LRS) or --tenant SLUG (the embedded LRS)")
        if fmt == "xlsx" and out is None:
            raise click.UsageError("--format xlsx needs --out FILE.xlsx")
        if kind == "competence" and not course_dirs:
            raise click.UsageError("the competence report needs --courses-dir (where the courses' competence tags come from)")
        competences = _course_competences(course_dirs) if kind == "competence" else None  # bad folders fail before any LRS is read
        try:
            params = ReportParameters(tuple(courses), _when(since, "--since"), _when(until, "--until"))
        except ReportParameterError as error:
            raise click.BadParameter(str(error)) from None
        try:
            if endpoint:
                statements: Any = lrs_statements(endpoint, user, password or Settings.from_env().report_lrs_password, params,
                                                 server_filters=not no_server_filters)
                rows: Any = completion_report(_linked(statements, links_file), params)
            else:
                with configured_session() as session:
                    rows = completion_report(_linked(store_statements(session, tenant, params), links_file), params)  # type: ignore[arg-type]  # store rows and LRS statements are both JSON dicts
        except ReportSourceError as error:
            click.echo(f"error: {error}", err=True)
            sys.exit(2)
        columns = export.COMPLETION_COLUMNS
        header = None
        if competences is not None:
            rows = competence_report(rows, *competences)
            columns = export.COMPETENCE_COLUMNS
            header = f"{COMPETENCE_RULE_NB}. / {COMPETENCE_RULE_EN}."
        if fmt == "xlsx":
            out.write_bytes(export.to_xlsx(rows, "Kompetanse" if kind == "competence" else "Fullføring", columns,  # type: ignore[union-attr]  # rows is set on every path that reaches here
                                           page_header=header))
        elif fmt == "csv":
            if out:
                export.write_csv(out, export.to_csv(rows, columns))
            else:
                click.echo(export.to_csv(rows, columns), nl=False)
        else:
            text = export.to_table(rows, columns)
            if header:
                text = header + "\n\n" + text
            if out:
                out.write_text(text + "\n", "utf-8")
            else:
                click.echo(text)
        if out:
            click.echo(f"{len(rows)} rows written to {out}", err=True)

    command.__doc__ = {
        "completion": "Completion per learner and course (status, dates, best score).",
        "competence": "Skills inventory: which learners hold which competence tags. A course with tests gives its tags only when "
                      "passed; a course without tests when completed. --courses-dir may be a course folder or a folder of courses.",
    }[kind]
    return report.command(kind)(command)


_report_command("completion")
_report_command("competence")


def register(main: click.Group) -> None:
    main.add_command(report)
