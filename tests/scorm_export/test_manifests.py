"""Every manifest we write is valid against the official XSD (../shared/schemas) and says what we mean."""

from __future__ import annotations

import dataclasses
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from lxml import etree

import content
from content.model import Course, Text
from scorm_export import build_package
from scorm_export.manifests import cmi5, scorm12, scorm2004, tincan

FIXTURE_COURSE = Path(__file__).resolve().parents[1] / "fixtures" / "courses" / "valid" / "all-blocks"
PARSER = etree.XMLParser(resolve_entities=False, no_network=True)

# (manifest module, entry schema relative to ../shared/schemas), see SOURCES.md there.
FORMATS = {
    "scorm12": (scorm12, "scorm12/_driver.xsd"),
    "scorm2004": (scorm2004, "scorm2004_4ed/_driver.xsd"),
    "cmi5": (cmi5, "cmi5/CourseStructure.xsd"),
    "xapi": (tincan, "tincan/tincan.xsd"),
}
FILES = ["course.json", "index.html", "js/player.js", "media/clip.mp4", "media/my clip.en.vtt", "smeb-config.json"]


def _courses() -> list[object]:
    """The fixture course and every shipped course that validates today (the others are still being written)."""
    params: list[object] = [pytest.param(FIXTURE_COURSE, id="fixture-all-blocks")]
    for folder in content.discover():
        try:
            content.load_course(folder)
        except content.CourseError:
            continue
        params.append(pytest.param(folder, id=folder.name))
    return params


@pytest.fixture(scope="module")
def schemas(shared_dir: Path) -> dict[str, etree.XMLSchema]:
    out = {}
    for fmt, (_, entry) in FORMATS.items():
        out[fmt] = etree.XMLSchema(etree.parse(str(shared_dir / "schemas" / entry), PARSER))
    return out


@pytest.fixture(scope="module")
def course() -> Course:
    return content.load_course(FIXTURE_COURSE)


def _assert_valid(schema: etree.XMLSchema, xml: bytes) -> etree._Element:
    doc = etree.fromstring(xml, PARSER)
    assert schema.validate(doc), "\n".join(str(e) for e in schema.error_log)
    return doc


@pytest.fixture
def player(tmp_path: Path) -> Path:
    """A stand-in for scorm_export/player/ (written in parallel); only ever in a tmp dir."""
    folder = tmp_path / "player"
    (folder / "js").mkdir(parents=True)
    (folder / "index.html").write_text("<!doctype html><title>player</title>\n", encoding="utf-8")
    (folder / "js" / "player.js").write_text("console.log('player');\n", encoding="utf-8")
    return folder


@pytest.mark.parametrize("course_dir", _courses())
@pytest.mark.parametrize("fmt", FORMATS)
def test_the_manifest_in_every_built_package_is_valid_against_its_official_schema(
    course_dir: Path, fmt: str, schemas: dict[str, etree.XMLSchema], player: Path, tmp_path: Path
) -> None:
    loaded = content.load_course(course_dir)
    path = build_package(loaded, fmt, tmp_path / "out", player_dir=player)
    module = FORMATS[fmt][0]
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        doc = _assert_valid(schemas[fmt], zf.read(module.FILENAME))
    if fmt.startswith("scorm"):
        ns = {"cp": module.NS_CP}
        listed = [f.get("href") for f in doc.iterfind("cp:resources/cp:resource/cp:file", ns)]
        assert listed == sorted(n for n in names if n != module.FILENAME)  # every file, nothing else


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_schemas_reject_a_manifest_with_its_root_element_renamed(fmt: str, schemas: dict[str, etree.XMLSchema], course: Course) -> None:
    doc = etree.fromstring(FORMATS[fmt][0].render(course, FILES), PARSER)
    doc.tag = doc.tag + "X"
    assert not schemas[fmt].validate(doc)


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_schemas_reject_a_manifest_with_a_misplaced_element(fmt: str, schemas: dict[str, etree.XMLSchema], course: Course) -> None:
    doc = etree.fromstring(FORMATS[fmt][0].render(course, FILES), PARSER)
    first = doc[0]
    doc.remove(first)
    doc.append(first)  # metadata / course / activities moved after the rest
    doc.append(etree.Element(first.tag))  # and an empty duplicate
    assert not schemas[fmt].validate(doc)


def test_titles_with_markup_characters_are_escaped_and_stay_valid(course: Course, schemas: dict[str, etree.XMLSchema]) -> None:
    hostile = dataclasses.replace(course, title=Text(nb='Feil & <feil> "sitat"', en="<script>alert(1)</script>"))
    for fmt, (module, _) in FORMATS.items():
        doc = _assert_valid(schemas[fmt], module.render(hostile, FILES))
        texts = [t for t in doc.itertext()]
        assert 'Feil & <feil> "sitat"' in texts, fmt
        assert not list(doc.iter("{*}script"))


def _ns(module: object) -> dict[str, str]:
    return {"cp": getattr(module, "NS_CP", ""), "adlcp": getattr(module, "NS_ADLCP", ""), "imsss": getattr(module, "NS_IMSSS", ""), "lom": getattr(module, "NS_LOM", ""), "md": getattr(module, "NS_MD", "")}


def test_scorm12_has_one_sco_listing_every_file_and_the_mastery_score_in_percent(course: Course) -> None:
    doc = etree.fromstring(scorm12.render(course, FILES), PARSER)
    ns = _ns(scorm12)
    assert doc.findtext("cp:metadata/cp:schema", namespaces=ns) == "ADL SCORM"
    assert doc.findtext("cp:metadata/cp:schemaversion", namespaces=ns) == "1.2"
    resources = doc.findall("cp:resources/cp:resource", ns)
    assert len(resources) == 1
    resource = resources[0]
    assert resource.get(f"{{{scorm12.NS_ADLCP}}}scormtype") == "sco"
    assert resource.get("href") == "index.html"
    assert [f.get("href") for f in resource.findall("cp:file", ns)] == [
        "course.json", "index.html", "js/player.js", "media/clip.mp4", "media/my%20clip.en.vtt", "smeb-config.json",
    ]
    items = doc.findall("cp:organizations/cp:organization/cp:item", ns)
    assert len(items) == 1 and items[0].get("identifierref") == resource.get("identifier")
    assert items[0].findtext("adlcp:masteryscore", namespaces=ns) == "50"
    assert {e.text for e in doc.iterfind(".//md:title/md:langstring", ns)} == {course.title.nb, course.title.en}


@pytest.mark.parametrize("passing, expected", [(0.8, "80"), (0.667, "66.7"), (0.12345, "12.35"), (1.0, "100")])
def test_scorm12_mastery_score_is_the_passing_score_times_100(passing: float, expected: str) -> None:
    assert scorm12.mastery_score(passing) == expected


def test_a_course_without_a_passing_score_has_no_mastery_score_or_objective(course: Course) -> None:
    free = dataclasses.replace(course, passing_score=0.0)
    assert b"masteryscore" not in scorm12.render(free, FILES)
    assert b"minNormalizedMeasure" not in scorm2004.render(free, FILES)
    au = etree.fromstring(cmi5.render(free), PARSER).find(f"{{{cmi5.NS}}}au")
    assert au is not None and au.get("moveOn") == "Completed" and au.get("masteryScore") is None


def test_scorm2004_lets_the_learner_move_freely_and_passes_by_measure(course: Course) -> None:
    doc = etree.fromstring(scorm2004.render(course, FILES), PARSER)
    ns = _ns(scorm2004)
    assert doc.findtext("cp:metadata/cp:schemaversion", namespaces=ns) == "2004 4th Edition"
    control = doc.find("cp:organizations/cp:organization/imsss:sequencing/imsss:controlMode", ns)
    assert control is not None and control.get("choice") == "true" and control.get("flow") == "true"
    primary = doc.find(".//cp:item/imsss:sequencing/imsss:objectives/imsss:primaryObjective", ns)
    assert primary is not None and primary.get("satisfiedByMeasure") == "true"
    assert primary.findtext("imsss:minNormalizedMeasure", namespaces=ns) == "0.5"
    resource = doc.find("cp:resources/cp:resource", ns)
    assert resource is not None and resource.get(f"{{{scorm2004.NS_ADLCP}}}scormType") == "sco"
    assert len(resource.findall("cp:file", ns)) == len(FILES)


def test_scorm2004_lom_has_title_description_duration_and_both_languages(course: Course) -> None:
    doc = etree.fromstring(scorm2004.render(course, FILES), PARSER)
    ns = _ns(scorm2004)
    lom = doc.find("cp:metadata/lom:lom", ns)
    assert lom is not None
    titles = {s.get("language"): s.text for s in lom.findall("lom:general/lom:title/lom:string", ns)}
    assert titles == {"nb": course.title.nb, "en": course.title.en}
    descriptions = {s.get("language"): s.text for s in lom.findall("lom:general/lom:description/lom:string", ns)}
    assert descriptions == {"nb": course.summary.nb, "en": course.summary.en}
    assert [e.text for e in lom.findall("lom:general/lom:language", ns)] == ["nb", "en"]
    assert lom.findtext("lom:educational/lom:typicalLearningTime/lom:duration", namespaces=ns) == course.duration


def test_cmi5_has_one_au_that_must_be_completed_and_passed_at_the_passing_score(course: Course) -> None:
    doc = etree.fromstring(cmi5.render(course), PARSER)
    ns = {"c": cmi5.NS}
    course_el = doc.find("c:course", ns)
    assert course_el is not None and course_el.get("id") == course.id
    aus = doc.findall("c:au", ns)
    assert len(aus) == 1
    au = aus[0]
    assert au.get("moveOn") == "CompletedAndPassed"
    assert au.get("masteryScore") == "0.5"
    assert au.get("launchMethod") == "AnyWindow"
    assert au.get("activityType") == "http://adlnet.gov/expapi/activities/course"
    assert au.findtext("c:url", namespaces=ns) == "index.html"
    assert au.get("id") != course.id  # publisher ids are unique within the structure (cmi5 13.1.4)
    for el in (course_el, au):
        for part in ("title", "description"):
            langs = [s.get("lang") for s in el.findall(f"c:{part}/c:langstring", ns)]
            assert langs == ["nb", "en"], part


def test_tincan_describes_the_course_activity_with_its_launch_file(course: Course) -> None:
    doc = etree.fromstring(tincan.render(course), PARSER)
    ns = {"t": tincan.NS}
    activities = doc.findall("t:activities/t:activity", ns)
    assert len(activities) == 1
    activity = activities[0]
    assert activity.get("id") == course.id
    assert activity.findtext("t:launch", namespaces=ns) == "index.html"
    assert {n.get("lang"): n.text for n in activity.findall("t:name", ns)} == {"nb": course.title.nb, "en": course.title.en}
    assert {n.get("lang"): n.text for n in activity.findall("t:description", ns)} == {"nb": course.summary.nb, "en": course.summary.en}


@pytest.mark.parametrize("render", [scorm12.render, scorm2004.render, cmi5.render, tincan.render])
def test_manifests_start_with_a_double_quoted_utf8_declaration(render: Callable[[Course, list[str]], bytes], course: Course) -> None:
    assert render(course, FILES).startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n')
