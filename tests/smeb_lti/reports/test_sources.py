"""The same report from the embedded LRS's tables, from it over HTTP, and from the real Ralph LRS;
LRSs that misbehave give a clear error and no report."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from smeb_lti.cli import main
from smeb_lti.reports.aggregate import ReportParameters, completion_report
from smeb_lti.reports.sources import ReportSourceError, lrs_statements, store_statements
from tests.smeb_lti.reports.conftest import COURSES, actor, course_statements
from tests.support.ralph import RalphServer


def post(endpoint: str, auth: tuple[str, str] | dict[str, str], statements: list[dict]) -> None:
    headers = {"X-Experience-API-Version": "1.0.3"}
    kwargs: dict = {"headers": headers}
    if isinstance(auth, dict):
        headers.update(auth)
    else:
        kwargs["auth"] = auth
    answer = httpx.post(endpoint + "statements", json=statements, timeout=60, **kwargs)
    assert answer.status_code == 200, answer.text


@pytest.mark.ralph
def test_the_local_store_and_ralph_give_the_same_report(lrs_server, ralph: RalphServer) -> None:
    statements = course_statements()
    post(lrs_server.endpoint, {"Authorization": lrs_server.auth_header}, statements)
    post(ralph.endpoint, (ralph.username, ralph.password), statements)
    with lrs_server.app.extensions["smeb.sessions"]() as session:
        local = completion_report(store_statements(session, lrs_server.tenant))
    key, secret = lrs_server.add_credential("all")
    over_http = completion_report(lrs_statements(lrs_server.endpoint, key, secret, page_size=4))
    from_ralph = completion_report(lrs_statements(ralph.endpoint, ralph.username, ralph.password, page_size=4, server_filters=False))
    assert local == over_http == from_ralph
    assert {r.status for r in local} == {"passed", "completed", "failed", "in_progress"}
    assert len(local) == 7  # 5 learners in course 0, one in course 1, one in course 2


def test_a_course_filter_on_the_store_uses_related_activities(lrs_server) -> None:
    post(lrs_server.endpoint, {"Authorization": lrs_server.auth_header}, course_statements())
    course = list(COURSES)[2]
    with lrs_server.app.extensions["smeb.sessions"]() as session:
        rows = completion_report(store_statements(session, lrs_server.tenant, ReportParameters(courses=(course,))), ReportParameters(courses=(course,)))
        with pytest.raises(ReportSourceError, match="no LRS tenant 'nobody'"):
            list(store_statements(session, "nobody"))
    assert [(r.course_id, r.status) for r in rows] == [(course, "in_progress")]


GOOD_PAGE = {"statements": course_statements()[:2], "more": "/xAPI/statements?page=2"}


@pytest.mark.parametrize(
    "script, message",
    [
        ({"*": [(200, b"<html>Service temporarily unavailable</html>")]}, "non-JSON"),
        ({"*": [(200, GOOD_PAGE), (200, b"<html>oops</html>")]}, "page=2: the LRS answered non-JSON"),
        ({"*": [(200, [1, 2, 3])]}, "expected a StatementResult"),
        ({"*": [(200, {"statements": "nope"})]}, "'statements' is missing or not a list"),
        ({"*": [(200, GOOD_PAGE), (200, {"statements": [{"no": "id"}]})]}, "page 2"),
        ({"*": [(200, GOOD_PAGE), (200, None)]}, "stopped answering on page 2"),
        ({"*": [(401, {"error": "bad credentials"})]}, "401"),
        ({"*": [(200, {"statements": [], "more": "https://evil.example/steal"})]}, "points away from the LRS"),
    ],
)
def test_an_lrs_that_misbehaves_gives_a_clear_error_and_no_report(scripted_lrs, script, message, tmp_path: Path) -> None:
    server = scripted_lrs(script)
    with pytest.raises(ReportSourceError, match="no report made") as caught:
        lrs_statements(server.endpoint, "key", "secret", timeout=5)
    assert message in str(caught.value)
    out = tmp_path / "report.xlsx"
    env = {"SMEB_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    result = CliRunner().invoke(main, ["report", "completion", "--lrs", server.endpoint, "--user", "key", "--password", "secret",
                                       "--format", "xlsx", "--out", str(out)], env=env)
    assert result.exit_code == 2 and "no report made" in result.output
    assert not out.exists(), "a failed report must not leave a half-written file"


def test_an_unreachable_lrs_is_reported(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ReportSourceError, match=f"127.0.0.1:{port}"):
        lrs_statements(f"http://127.0.0.1:{port}/xapi/", "k", "s", timeout=5)


def test_report_command_parameters_are_validated(tmp_path: Path) -> None:
    env = {"SMEB_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    runner = CliRunner()
    cases = [
        (["report", "completion"], "exactly one of --lrs"),
        (["report", "completion", "--lrs", "http://x/xapi/", "--tenant", "acme"], "exactly one of --lrs"),
        (["report", "completion", "--lrs", "http://x/xapi/", "--format", "xlsx"], "needs --out"),
        (["report", "completion", "--lrs", "http://x/xapi/", "--course", "not an iri"], "not an IRI"),
        (["report", "completion", "--lrs", "http://x/xapi/", "--since", "yesterday"], "not an ISO 8601"),
        (["report", "competence", "--lrs", "http://x/xapi/"], "needs --courses-dir"),
        (["report", "completion", "--lrs", "ftp://x/"], "must be the LRS's xAPI endpoint"),
    ]
    for args, message in cases:
        result = runner.invoke(main, args, env=env)
        assert result.exit_code != 0 and message in result.output, (args, result.output)


@pytest.mark.ralph
def test_the_cli_writes_completion_and_competence_reports_from_ralph(ralph: RalphServer, tmp_path: Path) -> None:
    import openpyxl

    from tests.support.paths import FIXTURES
    from xapi import statements as builders

    fixture_course = builders.Activity("https://smeb.no/courses/test-all-blocks", name={"nb": "Testkurs"})
    extra = [
        builders.completed(actor(7, "Ola Nordmann"), "course", fixture_course, timestamp="2026-11-03T10:00:00.000Z"),
        builders.passed(actor(7, "Ola Nordmann"), "course", fixture_course, builders.Score(scaled=0.8), timestamp="2026-11-03T10:00:00.000Z"),
        # Kari completed it with 0 % on its quizzes: the course has tests, so no competence (issue 18 item 6)
        builders.completed(actor(8, "Kari Nordmann"), "course", fixture_course, timestamp="2026-11-03T11:00:00.000Z"),
    ]
    post(ralph.endpoint, (ralph.username, ralph.password), [*course_statements(), *extra])
    env = {"SMEB_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    base = ["--lrs", ralph.endpoint, "--user", ralph.username, "--password", ralph.password, "--no-server-filters"]
    out = tmp_path / "c.xlsx"
    result = CliRunner().invoke(main, ["report", "completion", *base, "--format", "xlsx", "--out", str(out)], env=env)
    assert result.exit_code == 0, result.output
    assert openpyxl.load_workbook(out)["Fullføring"].max_row == 10
    csv_out = CliRunner().invoke(main, ["report", "completion", *base, "--format", "csv", "--course", list(COURSES)[1]], env=env)
    assert csv_out.exit_code == 0 and len(csv_out.output.strip().splitlines()) == 2
    # The fixture course carries one competence tag and has tests; only Ola passed it.
    comp = CliRunner().invoke(main, ["report", "competence", *base, "--courses-dir", str(FIXTURES / "courses" / "valid" / "all-blocks"), "--format", "csv"], env=env)
    assert comp.exit_code == 0, comp.output
    assert comp.output.splitlines() == [
        "Kompetanse;Deltaker-ID;Navn;Kurs-ID;Oppnådd (UTC);Grunnlag (bestått der kurset har prøver, ellers fullført)",
        "Psykologisk trygghet;account:https://canvas.example.org|learner-7;Ola Nordmann;https://smeb.no/courses/test-all-blocks;2026-11-03 10:00:00;Bestått",
    ]



def test_the_store_source_reads_only_its_own_lrs_tenant(lrs_server) -> None:
    from smeb_lti.db import session_scope
    from smeb_lti.lrs import auth, store

    sessions = lrs_server.app.extensions["smeb.sessions"]
    with session_scope(sessions) as session:
        other = store.add_tenant(session, "annen-bedrift")
        issued = auth.add_credential(session, other, ["all"])
    other_endpoint = lrs_server.endpoint.replace(f"/lrs/{lrs_server.tenant}/", "/lrs/annen-bedrift/")
    post(lrs_server.endpoint, {"Authorization": lrs_server.auth_header}, course_statements())
    post(other_endpoint, (issued.key, issued.secret), course_statements()[:2])  # learner 0 launched course 0 there
    with sessions() as session:
        mine = completion_report(store_statements(session, lrs_server.tenant))
        theirs = completion_report(store_statements(session, "annen-bedrift"))
    assert len(mine) == 7
    assert [(r.learner.rsplit("-", 1)[-1], r.status, r.statements) for r in theirs] == [("0", "in_progress", 2)]


def test_the_cli_reports_from_the_embedded_lrs_tables_of_one_tenant(lrs_server, tmp_path: Path) -> None:
    post(lrs_server.endpoint, {"Authorization": lrs_server.auth_header}, course_statements())
    env = {"SMEB_DATABASE_URL": lrs_server.app.config["SMEB_DATABASE_URL"]}
    result = CliRunner().invoke(main, ["report", "completion", "--tenant", lrs_server.tenant, "--format", "csv"], env=env)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == 8 and lines[0].startswith("Deltaker-ID;Navn;Kurs-ID")
    unknown = CliRunner().invoke(main, ["report", "completion", "--tenant", "nobody"], env=env)
    assert unknown.exit_code == 2 and "no LRS tenant 'nobody'" in unknown.output


def test_the_competence_report_takes_the_folder_of_courses_and_states_its_rule(lrs_server, tmp_path: Path) -> None:
    """Issue 18 item 8: ``--courses-dir content/courses`` (the parent folder) works; item 6: passed where there are tests."""
    from content import shipped_courses_dir

    post(lrs_server.endpoint, {"Authorization": lrs_server.auth_header}, course_statements())
    env = {"SMEB_DATABASE_URL": lrs_server.app.config["SMEB_DATABASE_URL"]}
    result = CliRunner().invoke(main, ["report", "competence", "--tenant", lrs_server.tenant, "--courses-dir", str(shipped_courses_dir())], env=env)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("Kompetanse = bestått kurs der kurset har prøver, ellers fullført kurs")
    from content import load_course

    tags = {tag.title.nb for tag in load_course(shipped_courses_dir() / "fra-stille-feil-til-smart-kvalitet").competence_tags}
    held = {(line.split("  account:")[0].strip(), line.split("learner-")[1].split()[0]) for line in lines[3:]}
    # learner 0 passed course 0 (it has tests); learner 1 only completed courses 0 and 1: no competence
    assert held == {(tag, "0") for tag in tags}
    empty = tmp_path / "empty"
    empty.mkdir()
    bad = CliRunner().invoke(main, ["report", "competence", "--tenant", lrs_server.tenant, "--courses-dir", str(empty)], env=env)
    assert bad.exit_code == 2 and "holds no course" in bad.output and "Traceback" not in bad.output
