"""The operator's usage page and the dashboard's "your company beside all companies" in real chromium,
axe-clean (WCAG 2.1 AA) in nb and en at 360 and 1280 px. Data: the usage fixture (3 companies × 2 months)
and the comparison fixture (6 companies in 2026-Q3), served by the tool on 127.0.0.1.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from tests.smeb_lti.dashboard import test_comparison as comparison_fixture
from tests.smeb_lti.dashboard.helpers import INSTRUCTOR, launch
from tests.smeb_lti.usage import fixture
from tests.support.app import course_app
from tests.support.node import E2E_JS, require_chromium, run_node

DRIVER = E2E_JS / "drive-usage.js"
TOKEN = "operator-token-for-the-browser-test-0123456789"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Flask, str]]:
    from smeb_lti.db import migrate

    url = f"sqlite:///{tmp_path / 'smeb.db'}"
    migrate(url)
    app = course_app(url, tmp_path, SMEB_OPERATOR_TOKEN=TOKEN, SMEB_TODAY="2026-10-15")
    fixture.build(app)
    for number, (started, completed, wrong, pulse) in comparison_fixture.PLAN.items():
        company = comparison_fixture.COMPANIES[number - 1]
        for i in range(started):
            launch_id = fixture.learner(app, company, f"p{number}-{i}")
            fixture.session_events(app, launch_id, comparison_fixture.AUG, complete=i < completed,
                                   wrong=("q-single",) if i < wrong else ())
        if pulse is not None:
            comparison_fixture._pulse(app, company, pulse)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=15)
    app.extensions["smeb.engine"].dispose()


def _dashboard_url(app: Flask, base: str, locale: str) -> str:
    from smeb_lti.lti import binding

    launch_id = launch(app, comparison_fixture.COMPANIES[0], f"leder-{locale}", name="Leder", roles=(INSTRUCTOR,), locale=locale)
    with app.test_request_context():
        ticket = binding.issue_ticket(launch_id)  # what the LTI launch hands a browser without the staff cookie
    return f"{base}/app/{launch_id}/dashboard?{binding.TICKET}={ticket}"


def test_the_usage_page_and_the_comparison_are_axe_clean_in_chromium_in_nb_and_en(served: tuple[Flask, str]) -> None:
    require_chromium(axe=True)
    app, base = served
    auth = {"Authorization": "Basic " + base64.b64encode(f"operator:{TOKEN}".encode()).decode()}
    pages: list[dict[str, Any]] = []
    for lang, locale in (("nb", "nb-NO"), ("en", "en-GB")):
        for width in (360, 1280):
            pages.append({"where": f"usage {lang} {width}", "url": f"{base}/operator/usage?month=2026-10&lang={lang}",
                          "width": width, "locale": locale, "headers": auth})
            pages.append({"where": f"dashboard {lang} {width}", "url": _dashboard_url(app, base, locale), "width": width,
                          "locale": locale})
    result = run_node(DRIVER, {"pages": pages}, timeout=300)
    assert len(result["pages"]) == 8
    for seen in result["pages"]:
        lang = seen["where"].split()[1]
        assert seen["status"] == 200 and seen["lang"] == lang and not seen["overflowX"] and seen["errors"] == [], seen
        if seen["where"].startswith("usage"):
            # the usage fixture's 3 companies and the comparison's 6 (active in August only: 0 in October)
            assert seen["usageRows"] == 9, seen
            assert seen["summary"].startswith("9 bedrifter, 5 aktive brukere" if lang == "nb" else "9 companies, 5 active users"), seen
        else:
            assert seen["comparisonTables"] == 4, seen
            assert seen["comparisonHeading"] == ("Din bedrift ved siden av alle bedrifter" if lang == "nb"
                                                 else "Your company beside all companies")
            # 2026-Q3 holds the comparison's 26 rows and the usage fixture's September (A 3, B 1, C 1): 26 of 31 completed
            assert seen["completion"] == ["100 % (n = 5)", "84 % (9 bedrifter, n = 31)" if lang == "nb" else "84 % (9 companies, n = 31)"]
    assert result["violations"] == [], json.dumps(result["violations"], indent=1, ensure_ascii=False)
