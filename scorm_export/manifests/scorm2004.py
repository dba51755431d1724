"""``imsmanifest.xml`` for SCORM 2004 4th Edition (IMS CP 1.1.4, ADL CP/SEQ/NAV 1.3, IMS SS 1.0, IEEE LOM).

One organization, one item, one SCO (the whole course), like SCORM 1.2. The
sequencing lets the learner move freely (``controlMode choice/flow``) because
the player does its own navigation inside the SCO. Passing is decided by the
LMS from ``cmi.score.scaled`` against ``minNormalizedMeasure`` (=
``passing_score``) via the primary objective's ``satisfiedByMeasure``, so a
site cannot end up with a status that contradicts the score. No
``adlcp:completionThreshold``: the player sets ``cmi.completion_status``
itself from the course's required blocks, which a progress-measure threshold
could only contradict.
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

NS_CP = "http://www.imsglobal.org/xsd/imscp_v1p1"
NS_ADLCP = "http://www.adlnet.org/xsd/adlcp_v1p3"
NS_ADLSEQ = "http://www.adlnet.org/xsd/adlseq_v1p3"
NS_ADLNAV = "http://www.adlnet.org/xsd/adlnav_v1p3"
NS_IMSSS = "http://www.imsglobal.org/xsd/imsss"
NS_LOM = "http://ltsc.ieee.org/xsd/LOM"
NS_XSI = "http://www.w3.org/2001/XMLSchema-instance"
SCHEMA_LOCATION = " ".join(
    (
        f"{NS_CP} imscp_v1p1.xsd",
        f"{NS_ADLCP} adlcp_v1p3.xsd",
        f"{NS_ADLSEQ} adlseq_v1p3.xsd",
        f"{NS_ADLNAV} adlnav_v1p3.xsd",
        f"{NS_IMSSS} imsss_v1p0.xsd",
        f"{NS_LOM} lom.xsd",
    )
)
PRIMARY_OBJECTIVE_ID = "passing-score"


def _lom(metadata: etree._Element, course: Course) -> None:
    lom = f"{{{NS_LOM}}}"
    languages = ordered_languages(course)
    root = element(metadata, f"{lom}lom")
    general = element(root, f"{lom}general")
    identifier = element(general, f"{lom}identifier")
    element(identifier, f"{lom}catalog", text="URI")
    element(identifier, f"{lom}entry", text=course.id)
    title = element(general, f"{lom}title")
    for lang in languages:
        element(title, f"{lom}string", {"language": lang}, course.title.get(lang))
    for lang in languages:
        element(general, f"{lom}language", text=lang)
    description = element(general, f"{lom}description")
    for lang in languages:
        element(description, f"{lom}string", {"language": lang}, course.summary.get(lang))
    lifecycle = element(root, f"{lom}lifeCycle")
    element(element(lifecycle, f"{lom}version"), f"{lom}string", {"language": "x-none"}, course.version)
    educational = element(root, f"{lom}educational")
    element(element(educational, f"{lom}typicalLearningTime"), f"{lom}duration", text=course.duration)
    for lang in languages:
        element(educational, f"{lom}language", text=lang)


def render(course: Course, files: Sequence[str]) -> bytes:
    """The manifest; ``files`` are every file of the package except the manifest itself."""
    cp = f"{{{NS_CP}}}"
    adlcp = f"{{{NS_ADLCP}}}"
    imsss = f"{{{NS_IMSSS}}}"
    title = course.title.get(course.language)

    root = etree.Element(
        f"{cp}manifest",
        nsmap=namespaces(NS_CP, adlcp=NS_ADLCP, adlseq=NS_ADLSEQ, adlnav=NS_ADLNAV, imsss=NS_IMSSS, lom=NS_LOM, xsi=NS_XSI),
    )
    root.set("identifier", ncname("smeb", course.slug, course.version))
    root.set("version", course.version)
    root.set(f"{{{NS_XSI}}}schemaLocation", SCHEMA_LOCATION)

    metadata = element(root, f"{cp}metadata")
    element(metadata, f"{cp}schema", text="ADL SCORM")
    element(metadata, f"{cp}schemaversion", text="2004 4th Edition")
    _lom(metadata, course)

    org_id = ncname("org", course.slug)
    organizations = element(root, f"{cp}organizations", {"default": org_id})
    organization = element(organizations, f"{cp}organization", {"identifier": org_id})
    element(organization, f"{cp}title", text=title)
    item = element(organization, f"{cp}item", {"identifier": ncname("item", course.slug), "identifierref": "sco", "isvisible": "true"})
    element(item, f"{cp}title", text=title)
    item_seq = element(item, f"{imsss}sequencing")
    if course.passing_score > 0:
        objectives = element(item_seq, f"{imsss}objectives")
        primary = element(objectives, f"{imsss}primaryObjective", {"objectiveID": PRIMARY_OBJECTIVE_ID, "satisfiedByMeasure": "true"})
        element(primary, f"{imsss}minNormalizedMeasure", text=decimal_text(course.passing_score))
    # The player reports completion and success itself (cmi.completion_status / cmi.success_status).
    element(item_seq, f"{imsss}deliveryControls", {"completionSetByContent": "true", "objectiveSetByContent": "true"})

    org_seq = element(organization, f"{imsss}sequencing")
    element(org_seq, f"{imsss}controlMode", {"choice": "true", "flow": "true"})

    resources = element(root, f"{cp}resources")
    resource = element(resources, f"{cp}resource", {"identifier": "sco", "type": "webcontent"})
    resource.set(f"{adlcp}scormType", "sco")
    resource.set("href", LAUNCH_FILE)
    for name in sorted(files):
        element(resource, f"{cp}file", {"href": href(name)})
    return serialize(root)
