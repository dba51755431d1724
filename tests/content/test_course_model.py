"""The valid fixture course covers every block type, and the model says what the source said."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from content import course_schema, load_course
from content.export import course_to_dict, course_to_json
from content.markdown import render_markdown
from content.model import (
    ActionPlanBlock,
    CaseBlock,
    QuizBlock,
    ReflectionBlock,
    SurveyBlock,
    TextBlock,
    VideoBlock,
    WorkshopBlock,
)

ALL_BLOCKS = Path(__file__).resolve().parents[1] / "fixtures" / "courses" / "valid" / "all-blocks"


@pytest.fixture(scope="module")
def course():  # type: ignore[no-untyped-def]
    return load_course(ALL_BLOCKS)


def test_every_block_type_of_the_schema_is_in_the_fixture(course) -> None:  # type: ignore[no-untyped-def]
    schema_types = set(course_schema()["$defs"]["block"]["properties"]["type"]["enum"])
    assert {b.type for b in course.blocks()} == schema_types


def test_course_level_fields(course) -> None:  # type: ignore[no-untyped-def]
    assert course.id == "https://smeb.no/courses/test-all-blocks"
    assert course.title.nb == "Testkurs med alle blokktyper" and course.title.en.startswith("Test course")
    assert course.duration == "PT20M" and course.version == "1.0.0"
    assert course.passing_score == 0.5 and course.certificate is True
    assert [t.id for t in course.competence_tags] == ["psykologisk-trygghet"]
    assert [m.id for m in course.modules] == ["m1", "m2"] and course.modules[1].kind == "workshop"
    # "all" requires the blocks a learner does, not text, surveys or workshops.
    assert course.required_blocks == ("film", "tavla", "q-single", "q-multi", "q-tf", "r1", "plan")


def test_the_model_is_immutable(course) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(dataclasses.FrozenInstanceError):
        course.title = None


def test_text_video_case_and_quiz_blocks(course) -> None:  # type: ignore[no-untyped-def]
    text = course.block("intro")
    assert isinstance(text, TextBlock) and text.markdown is not None and "media/diagram.png" in text.markdown.nb
    video = course.block("film")
    assert isinstance(video, VideoBlock) and dict(video.captions) == {"nb": "media/clip.nb.vtt", "en": "media/clip.en.vtt"}
    case = course.block("tavla")
    assert isinstance(case, CaseBlock) and case.step("s1").choices[0].next == "s2" and case.step("s1").choices[1].next is None
    single, multi, tf = course.block("q-single"), course.block("q-multi"), course.block("q-tf")
    assert isinstance(single, QuizBlock) and single.correct_ids == ("a",)
    assert isinstance(multi, QuizBlock) and multi.correct_ids == ("hierarki", "tidspress")
    assert isinstance(tf, QuizBlock) and tf.kind == "true-false" and tf.correct_ids == ("true",)
    assert course.max_points == 5


def test_survey_reflection_action_plan_and_workshop_blocks(course) -> None:  # type: ignore[no-untyped-def]
    scale = course.block("s-scale")
    assert isinstance(scale, SurveyBlock) and scale.low is not None and scale.high is not None
    assert {course.block(i).kind for i in ("s-scale", "s-likert", "s-fritekst", "s-rangering")} == {"scale", "likert", "free-text", "rank"}  # type: ignore[union-attr]
    rank = course.block("s-rangering")
    assert isinstance(rank, SurveyBlock) and rank.pick == 2 and rank.options[0].nb == "Færre feil"
    assert isinstance(course.block("r1"), ReflectionBlock)
    plan = course.block("plan")
    assert isinstance(plan, ActionPlanBlock) and plan.examples[0].responsible.nb == "Formann"  # type: ignore[union-attr]
    workshop = course.block("samling-1")
    assert isinstance(workshop, WorkshopBlock) and workshop.minutes == 40 and workshop.mode == "in-person"


def test_media_files_lists_everything_a_package_must_carry(course) -> None:  # type: ignore[no-untyped-def]
    assert course.media_files() == ("media/clip.en.vtt", "media/clip.mp4", "media/clip.nb.vtt", "media/diagram.png", "media/poster.png")


def test_norwegian_words_stay_text_in_yaml(tmp_path: Path) -> None:
    """YAML 1.1 would read 'Nei', 'Ja' and the language code 'no' as booleans."""
    import shutil

    target = tmp_path / "c"
    shutil.copytree(ALL_BLOCKS, target)
    lesson = target / "lessons" / "01-alt.md"
    lesson.write_text(lesson.read_text("utf-8").replace("feedback: {nb: Nei., en: No.}", "feedback: {nb: Nei, en: No}"), "utf-8")
    loaded = load_course(target)
    quiz = loaded.block("q-single")
    assert isinstance(quiz, QuizBlock) and quiz.choices[1].feedback.nb == "Nei" and quiz.choices[1].feedback.en == "No"


def test_export_is_deterministic_json_with_html_only_in_html_fields(course) -> None:  # type: ignore[no-untyped-def]
    data = course_to_dict(course)
    assert course_to_json(course) == course_to_json(load_course(ALL_BLOCKS))
    text = data["modules"][0]["lessons"][0]["blocks"][0]
    assert text["type"] == "text" and text["html"]["nb"].startswith("<p><strong>Hei!</strong>")
    json.loads(course_to_json(course))


def test_markdown_never_lets_script_through() -> None:
    html = render_markdown('<script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)> [ok](https://smeb.no)')
    assert "<script" not in html and "javascript:" not in html.replace("[x](javascript:alert(1))", "") and "<img" not in html
    assert '<a href="https://smeb.no" rel="noopener noreferrer" target="_blank">ok</a>' in html


def test_markdown_shows_remote_images_as_their_alt_text() -> None:
    html = render_markdown("![sporingspiksel](https://evil.example/p.png) ![tavle](media/tavle.png)")
    assert "evil.example" not in html and "sporingspiksel" in html
    assert '<img src="media/tavle.png" alt="tavle" />' in html
