"""``imsmanifest.xml`` for SCORM 1.2 (IMS Content Packaging 1.1.2, ADL CP 1.2, IMS MD 1.2.1).

One organization with one item that launches one SCO (the whole course):
the player tracks progress inside the course, so the LMS sees a single
activity with one score and one status, which is what Moodle's SCORM
activity grades best.
"""

from __future__ import annotations

from collections.abc import Sequence

from lxml import etree

from content.model import Course
from scorm_export.manifests import (
    LAUNCH_FILE,
    decimal_text,
    element,
    href,
    namespaces,
    ncname,
    ordered_languages,
    serialize,
)

FILENAME = "imsmanifest.xml"

NS_CP = "http://www.imsproject.org/xsd/imscp_rootv1p1p2"
NS_ADLCP = "http://www.adlnet.org/xsd/adlcp_rootv1p2"
NS_MD = "http://www.imsglobal.org/xsd/imsmd_rootv1p2p1"
NS_XSI = "http://www.w3.org/2001/XMLSchema-instance"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
# The file names below are the ones SCORM 1.2 conformance tools expect; we do not ship the XSDs.
SCHEMA_LOCATION = f"{NS_CP} imscp_rootv1p1p2.xsd {NS_MD} imsmd_rootv1p2p1.xsd {NS_ADLCP} adlcp_rootv1p2.xsd"


def mastery_score(passing_score: float) -> str | None:
    """``adlcp:masteryscore`` is 0–100 (SCORM 1.2 CAM 2.3.2.2); ``None`` when there is nothing to pass."""
    if passing_score <= 0:
        return None
    return decimal_text(passing_score * 100, places=2)


def render(course: Course, files: Sequence[str]) -> bytes:
    """The manifest; ``files`` are every file of the package except the manifest itself."""
    cp = f"{{{NS_CP}}}"
    md = f"{{{NS_MD}}}"
    adlcp = f"{{{NS_ADLCP}}}"
    languages = ordered_languages(course)
    title = course.title.get(course.language)

    root = etree.Element(f"{cp}manifest", nsmap=namespaces(NS_CP, adlcp=NS_ADLCP, imsmd=NS_MD, xsi=NS_XSI))
    root.set("identifier", ncname("smeb", course.slug, course.version))
    root.set("version", course.version)
    root.set(f"{{{NS_XSI}}}schemaLocation", SCHEMA_LOCATION)

    metadata = element(root, f"{cp}metadata")
    element(metadata, f"{cp}schema", text="ADL SCORM")
    element(metadata, f"{cp}schemaversion", text="1.2")
    lom = element(metadata, f"{md}lom")
    general = element(lom, f"{md}general")
    title_el = element(general, f"{md}title")
    for lang in languages:
        element(title_el, f"{md}langstring", {_XML_LANG: lang}, course.title.get(lang))
    for lang in languages:
        element(general, f"{md}language", text=lang)
    description = element(general, f"{md}description")
    for lang in languages:
        element(description, f"{md}langstring", {_XML_LANG: lang}, course.summary.get(lang))
    lifecycle = element(lom, f"{md}lifecycle")
    element(element(lifecycle, f"{md}version"), f"{md}langstring", text=course.version)
    educational = element(lom, f"{md}educational")
    element(element(educational, f"{md}typicallearningtime"), f"{md}datetime", text=course.duration)

    org_id = ncname("org", course.slug)
    organizations = element(root, f"{cp}organizations", {"default": org_id})
    organization = element(organizations, f"{cp}organization", {"identifier": org_id})
    element(organization, f"{cp}title", text=title)
    item = element(organization, f"{cp}item", {"identifier": ncname("item", course.slug), "identifierref": "sco", "isvisible": "true"})
    element(item, f"{cp}title", text=title)
    score = mastery_score(course.passing_score)
    if score is not None:
        element(item, f"{adlcp}masteryscore", text=score)

    resources = element(root, f"{cp}resources")
    resource = element(resources, f"{cp}resource", {"identifier": "sco", "type": "webcontent"})
    resource.set(f"{adlcp}scormtype", "sco")
    resource.set("href", LAUNCH_FILE)
    for name in sorted(files):
        element(resource, f"{cp}file", {"href": href(name)})
    return serialize(root)
