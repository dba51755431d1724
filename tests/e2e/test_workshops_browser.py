"""A workshop series in Debian's chromium over real HTTP: the facilitator starts a series and plans a session,
a learner of another company joins with the code and hands in, attendance is recorded with the keyboard,
the run-sheet's clock follows real time, and axe-core finds no WCAG 2.1 AA violation in Norwegian or English.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from tests.e2e.test_surveys_browser import (
    Tool,
    launch_cookies,
    prepare,
    run_driver,
    start,
    stop,
    store_launch,
)


@pytest.fixture(scope="module")
def tool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tool]:
    tmp = tmp_path_factory.mktemp("workshops-e2e")
    config, app = prepare(tmp)
    config.pop("SMEB_TODAY")  # the run-sheet follows the real clock
    running = Tool("", config)
    for lang, locale in (("nb", "nb-NO"), ("en", "en-GB")):
        running.launches[f"facilitator-{lang}"] = store_launch(app, sub=f"bht-{lang}", staff=True, context="bht", locale=locale,
                                                               title="BHT Vest")
        running.launches[f"learner-{lang}"] = store_launch(app, sub=f"ola-{lang}", staff=False, context="firma-a", locale=locale,
                                                           title="Elektro Nord AS")
        running.cookies += launch_cookies(app, running.launches[f"facilitator-{lang}"])
    app.extensions["smeb.engine"].dispose()
    running.url, process = start(tmp, config)
    try:
        yield running
    finally:
        stop(process)


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["nb", "en"])
def test_a_series_runs_from_join_code_to_attendance_in_the_browser_and_every_page_is_axe_clean(tool: Tool, lang: str, tmp_path: Path) -> None:
    title = f"Kundeverksted {lang}"
    options = {"base": tool.url, "lang": lang, "facilitator": tool.launches[f"facilitator-{lang}"],
               "learner": tool.launches[f"learner-{lang}"], "title": title, "cookies": tool.cookies}
    result = run_driver("drive-workshops.js", options, tmp_path)
    assert result["errors"] == [], "\n".join(result["errors"])
    assert result["violations"] == [], json.dumps(result["violations"], indent=1, ensure_ascii=False)
    assert result["langs"] == [lang] * result["scans"] and result["scans"] >= 10
    assert result["smallTargets"] == [], result["smallTargets"]
    assert len(result["code"]) == 10 and result["handedIn"] is True and result["evaluationLink"] is True
    item = "Fem ord om HMS" if lang == "nb" else "Five words about HSE"  # started 15 minutes ago: 10 + 30 minutes
    assert result["runsheet"]["now"] == item and result["runsheet"]["marked"] == [item]
    assert result["status"] == [{"attended": "1", "handedIn": "1"}]
    engine = create_engine(tool.config["SMEB_DATABASE_URL"])
    try:
        from smeb_lti.play.store import Progress
        from smeb_lti.workshops.store import Series

        with engine.connect() as conn:
            assert conn.execute(select(Series.title).where(Series.title == title)).scalar_one() == title
            answers = conn.execute(select(Progress.answers).where(Progress.subject == f"ola-{lang}")).scalar_one()
        assert json.loads(answers) == {"workshop:samling-1": ["attended"]}
    finally:
        engine.dispose()
