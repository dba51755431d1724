"""In-course survey answers (a "how useful? 1-10" scale and the like) are kept with the learner's records, unlike the
anonymous survey module; the player says so beside every such question, in bokmål and in English (issue 18, item 4)."""

from __future__ import annotations

import pytest

from content import load_course
from tests.e2e.test_player_browser import FIXTURE, Site, assemble_package, site  # noqa: F401  (fixture)
from tests.support.node import run_driver

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(("locale", "words"), [("nb-NO", "Ikke anonymt"), ("en-US", "Not anonymous")])
def test_every_in_course_survey_question_says_that_its_answer_is_not_anonymous(site: Site, locale: str, words: str) -> None:  # noqa: F811
    course = load_course(FIXTURE)
    assemble_package(course, "standalone", site.root / "pkg")
    result = run_driver("drive-survey-notice.js", {"url": site.base + "pkg/index.html", "locale": locale})
    assert result["errors"] == [], "\n".join(result["errors"])
    # The fixture's four kinds: a 1-10 scale, a likert, a free text and a ranking.
    assert [s["block"] for s in result["surveys"]] == ["s-scale", "s-likert", "s-fritekst", "s-rangering"], result["surveys"]
    for survey in result["surveys"]:
        assert survey["notice"] and survey["notice"].startswith(words), survey
        assert survey["withQuestion"] and survey["beforeSend"], survey
