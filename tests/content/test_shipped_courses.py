"""The four courses SMEB ships are valid and complete."""

from __future__ import annotations

import subprocess
import sys

import pytest

from content import discover, load_course, shipped_courses_dir

SLUGS = [
    "fra-stille-feil-til-smart-kvalitet",
    "guttastemning-2-0",
    "rolleforstaelse-og-partssamarbeid",
    "systematisk-hms-arbeid-kundeverksted",
]


def test_the_four_courses_are_shipped() -> None:
    assert [p.name for p in discover()] == sorted(SLUGS)


@pytest.mark.parametrize("slug", SLUGS)
def test_a_shipped_course_is_valid_and_has_what_every_course_needs(slug: str) -> None:
    course = load_course(shipped_courses_dir() / slug)
    types = {b.type for b in course.blocks()}
    assert {"case", "quiz", "reflection", "survey", "video"} <= types
    assert course.certificate and course.competence_tags and course.max_points > 0
    for block in course.blocks():
        if block.type == "video":
            assert {lang for lang, _ in block.captions} == {"nb", "en"}  # type: ignore[union-attr]
    assert course.id == f"https://smeb.no/courses/{slug}"


def test_smeb_validate_passes_on_the_shipped_courses() -> None:
    folders = [str(p) for p in discover()]
    result = subprocess.run([sys.executable, "-m", "smeb_lti", "validate", *folders], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("ok  ") == 4
