"""The course JSON contract in both directions: content.export writes it, content.reader reads it back (issue 12).

``course_from_json(course_to_json(c)) == c`` and the JSON is identical after a second write, for every shipped
course, the all-blocks fixture and generated courses; malformed JSON raises CourseJsonError naming its path.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from content import discover, load_course
from content.errors import CourseError, CourseJsonError, UnknownModuleError
from content.export import course_to_dict, course_to_json, learner_course_dict
from content.markdown import image_sources
from content.model import (
    MODULE_KINDS,
    QUALITIES,
    QUIZ_KINDS,
    SURVEY_KINDS,
    WORKSHOP_MODES,
    ActionPlanBlock,
    ActionPlanExample,
    AgendaItem,
    Block,
    CaseBlock,
    CaseChoice,
    CaseStep,
    CompetenceTag,
    Course,
    Lesson,
    Module,
    QuizBlock,
    QuizChoice,
    ReflectionBlock,
    SurveyBlock,
    Text,
    TextBlock,
    VideoBlock,
    WorkshopBlock,
)
from content.reader import course_from_dict, course_from_json
from content.view import course_view

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "courses" / "valid" / "all-blocks"
COURSES = [*discover(), FIXTURE]


@pytest.fixture(scope="module")
def fixture_course() -> Course:
    return load_course(FIXTURE)


@pytest.mark.parametrize("folder", COURSES, ids=lambda p: p.name)
def test_every_shipped_course_reads_back_equal_and_writes_the_same_json(folder: Path) -> None:
    course = load_course(folder)
    text = course_to_json(course)
    again = course_from_json(text, root=course.root)
    assert again == course
    assert course_to_json(again) == text
    assert course_from_json(text.encode("utf-8")) == course  # bytes too (what a database driver may hand over)
    assert again.media_files() == course.media_files() and again.media_paths() == course.media_paths()


@pytest.mark.parametrize("folder", COURSES, ids=lambda p: p.name)
def test_media_files_are_the_images_the_author_wrote_and_the_video_files(folder: Path) -> None:
    """The rule from before the model held HTML: images from the Markdown source, and each video's files."""
    course = load_course(folder)
    expected: set[str] = set()
    for block in course.blocks():
        if isinstance(block, TextBlock):
            assert block.markdown is not None
            expected.update(image_sources(block.markdown.nb), image_sources(block.markdown.en))
        elif isinstance(block, VideoBlock):
            expected.update([block.src, block.poster, *(p for _, p in block.captions), *(p for _, p in block.transcript)])
    assert course.media_files() == tuple(sorted(expected))


def test_media_paths_add_the_files_texts_link_to(fixture_course: Course) -> None:
    linked = TextBlock("handout", Text('<p><a href="media/handout.pdf">Ark</a></p>', "<p>Sheet</p>"))
    module = fixture_course.modules[0]
    lesson = module.lessons[0]
    changed = _replace_first_lesson(fixture_course, Lesson(lesson.id, lesson.title, (*lesson.blocks, linked), lesson.source))
    assert "media/handout.pdf" in changed.media_paths() and "media/handout.pdf" not in changed.media_files()


def _replace_first_lesson(course: Course, lesson: Lesson) -> Course:
    module = course.modules[0]
    return dataclasses.replace(course, modules=(dataclasses.replace(module, lessons=(lesson, *module.lessons[1:])), *course.modules[1:]))


def test_the_view_of_a_module_keeps_its_blocks_required_and_points(fixture_course: Course) -> None:
    whole = course_view(fixture_course, None)
    assert whole.course is fixture_course and not whole.is_module and whole.key == fixture_course.slug
    for module in fixture_course.modules:
        view = course_view(fixture_course, module.id)
        shown = {b.id for b in module.blocks()}
        assert view.is_module and view.key == f"{fixture_course.slug}/{module.id}"
        assert view.course.modules == (module,) and set(view.course.required_blocks) <= shown
        assert view.course.max_points == sum(b.points for b in module.blocks() if isinstance(b, QuizBlock))
        assert course_from_json(course_to_json(view.course)) == view.course
    with pytest.raises(UnknownModuleError, match="has no module 'nope'") as caught:
        course_view(fixture_course, "nope")
    assert isinstance(caught.value, CourseError)


def test_the_learner_json_has_no_answer_key(fixture_course: Course) -> None:
    data = learner_course_dict(fixture_course)
    assert data["grading"] == "server"
    quizzes = [b for m in data["modules"] for les in m["lessons"] for b in les["blocks"] if b["type"] == "quiz"]
    assert quizzes and all(set(c) == {"id", "text"} for q in quizzes for c in q["choices"])
    assert "correct" in json.dumps(course_to_dict(fixture_course))  # the package JSON keeps the key


def test_text_in_a_language_falls_back_to_bokmal() -> None:
    assert Text("Hei", "Hello").get("en") == "Hello" and Text("Hei", "Hello").get("nb") == "Hei"
    assert Text("Hei", "").get("en") == "Hei" and Text("Hei", "Hello").get("se") == "Hei"


def test_model_facts(fixture_course: Course) -> None:
    course = fixture_course
    assert course.activity_id("m1", "intro") == course.id.rstrip("/") + "/m1/intro"
    assert course.passing_applies == (course.max_points > 0 and course.passing_score > 0)
    assert course.block("q-single").id == "q-single" and set(course.blocks_by_id) == {b.id for b in course.blocks()}
    assert course.lesson_ids == {lesson.id for m in course.modules for lesson in m.lessons}
    with pytest.raises(KeyError):
        course.block("nope")


# -- malformed JSON: a CourseJsonError naming the path -------------------------------------------------------


def _broken(fixture_course: Course, change: Any) -> dict[str, Any]:
    data = course_to_dict(fixture_course)
    change(data)
    return data


def _first_quiz(data: dict[str, Any]) -> dict[str, Any]:
    return next(b for m in data["modules"] for les in m["lessons"] for b in les["blocks"] if b["type"] == "quiz")


def _quiz_path(data: dict[str, Any]) -> str:
    for mi, m in enumerate(data["modules"]):
        for li, les in enumerate(m["lessons"]):
            for bi, b in enumerate(les["blocks"]):
                if b["type"] == "quiz":
                    return f"$.modules[{mi}].lessons[{li}].blocks[{bi}]"
    raise AssertionError("no quiz")


@pytest.mark.parametrize(
    ("change", "path", "words"),
    [
        (lambda d: d.update(format=2), "$.format", "not supported"),
        (lambda d: d.pop("title"), "$", "missing required field 'title'"),
        (lambda d: d.update(extra=1), "$.extra", "unknown field"),
        (lambda d: d["title"].update(nb=5), "$.title.nb", "expected a string"),
        (lambda d: d["title"].update(se="x"), "$.title.se", "unknown field"),
        (lambda d: d.update(certificate="yes"), "$.certificate", "expected true or false"),
        (lambda d: d.update(passingScore=True), "$.passingScore", "expected a number"),
        (lambda d: d.update(modules={}), "$.modules", "expected an array"),
        (lambda d: d.update(maxPoints=d["maxPoints"] + 1), "$.maxPoints", "add up to"),
        (lambda d: d.update(required=[*d["required"], "ghost"]), "$.required[", "'ghost' is not a block"),
        (lambda d: d["modules"][0].update(kind="remote"), "$.modules[0].kind", "is not one of"),
        (lambda d: d["modules"][0]["lessons"][0]["blocks"][0].update(type="poll"), "$.modules[0].lessons[0].blocks[0].type", "unknown block type"),
        (lambda d: _first_quiz(d).update(points="1"), "<quiz>.points", "expected a whole number"),
        (lambda d: _first_quiz(d)["choices"][0].pop("correct"), "<quiz>.choices[0]", "missing required field 'correct'"),
    ],
)
def test_malformed_json_names_the_path(fixture_course: Course, change: Any, path: str, words: str) -> None:
    data = _broken(fixture_course, change)
    if "<quiz>" in path:
        path = path.replace("<quiz>", _quiz_path(data))
    with pytest.raises(CourseJsonError) as caught:
        course_from_dict(data)
    assert caught.value.path.startswith(path) and words in str(caught.value), str(caught.value)
    with pytest.raises(CourseJsonError):
        course_from_json(json.dumps(data))


def test_a_repeated_block_id_is_refused(fixture_course: Course) -> None:
    data = course_to_dict(fixture_course)
    blocks = data["modules"][0]["lessons"][0]["blocks"]
    blocks.append(dict(blocks[0]))
    with pytest.raises(CourseJsonError, match="used twice") as caught:
        course_from_dict(data)
    assert caught.value.path == f"$.modules[0].lessons[0].blocks[{len(blocks) - 1}].id"


@pytest.mark.parametrize("text", ["", "{", "[]", "null", '{"format": NaN}', b"\xff\xfe\x00", "1" * 10])
def test_text_that_is_not_course_json_is_refused_at_the_root(text: str | bytes) -> None:
    with pytest.raises(CourseJsonError) as caught:
        course_from_json(text)
    assert caught.value.path.startswith("$") and isinstance(caught.value, ValueError)


# -- generated courses ---------------------------------------------------------------------------------------

ids = st.text(alphabet="abcdefghij-0123456789", min_size=1, max_size=6)
strings = st.text(max_size=12)
texts = st.builds(Text, strings, strings)
optional_texts = st.none() | texts
langs = st.lists(st.sampled_from(("nb", "en")), unique=True).map(lambda ls: tuple(sorted((lang, f"media/{lang}.vtt") for lang in ls)))


def _blocks(block_id: str) -> st.SearchStrategy[Block]:
    return st.one_of(
        st.builds(TextBlock, st.just(block_id), texts),
        st.builds(VideoBlock, st.just(block_id), texts, strings, strings, langs, strings, langs),
        st.builds(CaseBlock, st.just(block_id), texts, ids, st.lists(
            st.builds(CaseStep, ids, texts, st.lists(st.builds(CaseChoice, ids, texts, texts, st.sampled_from(QUALITIES), st.none() | ids), max_size=2).map(tuple)),
            max_size=2).map(tuple)),
        st.builds(QuizBlock, st.just(block_id), st.sampled_from(QUIZ_KINDS), texts, st.integers(0, 5),
                  st.lists(st.builds(QuizChoice, ids, texts, st.booleans(), texts), max_size=3).map(tuple)),
        st.builds(SurveyBlock, st.just(block_id), st.sampled_from(SURVEY_KINDS), texts, optional_texts, optional_texts,
                  st.lists(texts, max_size=2).map(tuple), st.integers(1, 5)),
        st.builds(ReflectionBlock, st.just(block_id), texts),
        st.builds(ActionPlanBlock, st.just(block_id), texts, st.integers(0, 5),
                  st.lists(st.builds(ActionPlanExample, texts, optional_texts, optional_texts), max_size=2).map(tuple)),
        st.builds(WorkshopBlock, st.just(block_id), texts, st.sampled_from(WORKSHOP_MODES),
                  st.lists(st.builds(AgendaItem, st.integers(0, 90), texts, optional_texts), max_size=2).map(tuple), optional_texts),
    )


@st.composite
def courses(draw: st.DrawFn) -> Course:
    block_ids = draw(st.lists(ids, unique=True, max_size=8))
    blocks = [draw(_blocks(f"b-{bid}")) for bid in block_ids]
    modules: list[Module] = []
    cut = sorted(draw(st.lists(st.integers(0, len(blocks)), max_size=3)))
    for mi, (start, end) in enumerate(zip([0, *cut], [*cut, len(blocks)])):
        lesson = Lesson(f"l{mi}", draw(texts), tuple(blocks[start:end]), f"lessons/{mi}.md", draw(st.none() | strings))
        modules.append(Module(f"m{mi}", draw(texts), draw(st.sampled_from([(), (lesson,)])), draw(optional_texts), draw(st.sampled_from(MODULE_KINDS))))
    shown = [b.id for m in modules for les in m.lessons for b in les.blocks]
    return Course(
        id=draw(st.sampled_from(["https://smeb.no/courses/x", "https://smeb.no/courses/x/"])),
        slug=draw(ids), version=draw(strings), title=draw(texts), summary=draw(texts), duration=draw(strings),
        passing_score=draw(st.floats(0, 1)), certificate=draw(st.booleans()),
        competence_tags=tuple(draw(st.lists(st.builds(CompetenceTag, ids, texts), max_size=2))),
        required_blocks=tuple(draw(st.lists(st.sampled_from(shown), unique=True)) if shown else ()),
        modules=tuple(modules), root=Path(), language=draw(st.sampled_from(["nb", "en"])),
    )


@settings(max_examples=80, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(courses())
def test_generated_courses_round_trip(course: Course) -> None:
    text = course_to_json(course)
    again = course_from_json(text)
    assert again == course
    assert course_to_json(again) == text
