"""The Moodle guide (docs/moodle.md) shows the screenshots the Moodle tests take: every picture it names is
there, small enough for the repository, and named by a driver or test that takes it."""

from __future__ import annotations

import re
from pathlib import Path

from tests.e2e.moodle.harness import JS, REPO, SCREENSHOTS

GUIDE = REPO / "docs" / "moodle.md"


def _taken_names() -> set[str]:
    """Screenshot names that appear in the drivers and test files of tests/e2e/moodle."""
    sources = [*JS.glob("*.js"), *Path(__file__).parent.glob("*.py")]
    text = "\n".join(p.read_text() for p in sources)
    return set(re.findall(r"""["']([a-z0-9]+(?:-[a-z0-9]+)+)["']""", text))


def test_every_picture_of_the_moodle_guide_exists_is_small_and_is_taken_by_a_test() -> None:
    pictures = re.findall(r"!\[[^\]]*\]\((img/moodle/[^)]+\.png)\)", GUIDE.read_text())
    assert len(pictures) >= 12, pictures
    taken = _taken_names()
    for picture in pictures:
        path = REPO / "docs" / picture
        assert path.is_file(), f"docs/moodle.md shows {picture}, which is missing"
        assert path.stat().st_size < 120_000, f"{picture} is {path.stat().st_size} bytes: take it again (shrink_screenshots)"
        assert path.stem in taken, f"{picture} is taken by no test in tests/e2e/moodle"
    assert SCREENSHOTS == REPO / "docs" / "img" / "moodle"
