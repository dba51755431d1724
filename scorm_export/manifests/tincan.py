"""``tincan.xml``: the TinCan (xAPI) launch package descriptor (Rustici's tincan.xsd).

One activity, the course itself (its IRI is the object of the course's
statements), with name and description in every language and ``index.html``
as the launch file. The LMS appends endpoint, auth, actor and registration to
the launch URL (Rustici "launch" document); the player reads them.
"""

from __future__ import annotations

from collections.abc import Sequence

from lxml import etree

from content.model import Course
from scorm_export.manifests import (
    ACTIVITY_TYPE_COURSE,
    LAUNCH_FILE,
    element,
    langstrings,
    namespaces,
    ordered_languages,
    serialize,
)

FILENAME = "tincan.xml"
NS = "http://projecttincan.com/tincan.xsd"


def render(course: Course, files: Sequence[str] = ()) -> bytes:
    """The descriptor; ``files`` is unused (TinCan does not list package files)."""
    ns = f"{{{NS}}}"
    languages = ordered_languages(course)
    root = etree.Element(f"{ns}tincan", nsmap=namespaces(NS))
    activities = element(root, f"{ns}activities")
    activity = element(activities, f"{ns}activity", {"id": course.id, "type": ACTIVITY_TYPE_COURSE})
    langstrings(activity, f"{ns}name", course.title, languages)
    langstrings(activity, f"{ns}description", course.summary, languages)
    element(activity, f"{ns}launch", {"lang": course.language}, LAUNCH_FILE)
    return serialize(root)
