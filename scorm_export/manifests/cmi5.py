"""``cmi5.xml``: the cmi5 course structure (cmi5 spec section 13, CourseStructure.xsd).

One AU for the whole course rather than one per module: the player already
navigates between modules, one AU gives the LMS one score and one
passed/completed pair to grade (the same shape as our SCORM packages), and
the learner does not have to relaunch between modules. ``moveOn`` is
``CompletedAndPassed`` with ``masteryScore`` = ``passing_score``; a course
without a passing score (no quiz) is ``Completed`` with no masteryScore,
since an AU without scoring can never send "passed" (spec 9.3.4).

Publisher ids (spec 13.1.1/13.1.4): the course id is the course IRI; the AU
id is ``<course IRI>/au`` so the two differ, as each id must be unique within
the structure. The LMS generates the activity ids the AU reports on (8.1).
"""

from __future__ import annotations

from collections.abc import Sequence

from lxml import etree

from content.model import Course
from scorm_export.manifests import (
    ACTIVITY_TYPE_COURSE,
    LAUNCH_FILE,
    decimal_text,
    element,
    langstrings,
    namespaces,
    ordered_languages,
    serialize,
)

FILENAME = "cmi5.xml"
NS = "https://w3id.org/xapi/profiles/cmi5/v1/CourseStructure.xsd"


def au_id(course: Course) -> str:
    """The AU's publisher id: distinct from the course id within the structure."""
    return course.activity_id("au")


def render(course: Course, files: Sequence[str] = ()) -> bytes:
    """The course structure; ``files`` is unused (cmi5 does not list package files)."""
    ns = f"{{{NS}}}"
    languages = ordered_languages(course)
    root = etree.Element(f"{ns}courseStructure", nsmap=namespaces(NS))
    course_el = element(root, f"{ns}course", {"id": course.id})
    langstrings(element(course_el, f"{ns}title"), f"{ns}langstring", course.title, languages)
    langstrings(element(course_el, f"{ns}description"), f"{ns}langstring", course.summary, languages)

    attrib = {"id": au_id(course), "activityType": ACTIVITY_TYPE_COURSE, "launchMethod": "AnyWindow"}
    if course.passing_score > 0:
        attrib["moveOn"] = "CompletedAndPassed"
        attrib["masteryScore"] = decimal_text(course.passing_score)  # spec: up to 4 decimal places
    else:
        attrib["moveOn"] = "Completed"
    au = element(root, f"{ns}au", attrib)
    langstrings(element(au, f"{ns}title"), f"{ns}langstring", course.title, languages)
    langstrings(element(au, f"{ns}description"), f"{ns}langstring", course.summary, languages)
    element(au, f"{ns}url", text=LAUNCH_FILE)
    return serialize(root)
