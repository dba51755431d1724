"""Where the tests find the repository, their fixture files and the reference material beside it."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"
COURSE_FIXTURES = FIXTURES / "courses" / "valid"
SHARED = REPO.parent / "shared"
