"""Generated course sources with many questions, for the state-budget tests (issue 13, item 12b)."""

from __future__ import annotations

from pathlib import Path

COURSE_YAML = """\
id: https://smeb.no/courses/test-big-{questions}
version: 1.0.0
language: nb
title: {{nb: Stort testkurs, en: Big test course}}
summary: {{nb: Mange spørsmål., en: Many questions.}}
duration: PT5H
passing_score: 0.5
certificate: false
competence_tags: []
completion:
  require: all
modules:
{modules}
"""

QUIZ = """\
::: quiz q{n}
kind: {kind}
question: {{nb: "Spørsmål {n}?", en: "Question {n}?"}}
points: 1
choices:
{choices}
:::
"""


def _choices(n: int) -> tuple[str, str]:
    """Alternate kinds: a multiple-choice quiz with eight choices (the longest answer), and a single choice."""
    if n % 2:
        rows = "\n".join(
            f"  - id: c{i}\n    text: {{nb: Valg {i}, en: Choice {i}}}\n    feedback: {{nb: Ok., en: Ok.}}" + ("\n    correct: true" if i < 2 else "")
            for i in range(8)
        )
        return "multiple", rows
    rows = "\n".join(
        f"  - id: c{i}\n    text: {{nb: Valg {i}, en: Choice {i}}}\n    feedback: {{nb: Ok., en: Ok.}}" + ("\n    correct: true" if i == 0 else "")
        for i in range(3)
    )
    return "single", rows


def write_big_course(dest: Path, questions: int = 450, per_lesson: int = 15) -> Path:
    """A valid course with ``questions`` quizzes, ``per_lesson`` to a lesson, one module per ten lessons."""
    (dest / "lessons").mkdir(parents=True)
    (dest / "media").mkdir()
    lessons = []
    for li in range(0, questions, per_lesson):
        number = li // per_lesson + 1
        body = [f"---\nid: l{number}\ntitle: {{nb: Leksjon {number}, en: Lesson {number}}}\n---\n"]
        for n in range(li + 1, min(questions, li + per_lesson) + 1):
            kind, choices = _choices(n)
            body.append(QUIZ.format(n=n, kind=kind, choices=choices))
        name = f"lessons/{number:03d}.md"
        (dest / name).write_text("\n".join(body), encoding="utf-8")
        lessons.append(name)
    modules = []
    for mi in range(0, len(lessons), 10):
        refs = "\n".join(f"      - {name}" for name in lessons[mi : mi + 10])
        modules.append(f"  - id: m{mi // 10 + 1}\n    title: {{nb: Modul {mi // 10 + 1}, en: Module {mi // 10 + 1}}}\n    lessons:\n{refs}")
    (dest / "course.yaml").write_text(COURSE_YAML.format(questions=questions, modules="\n".join(modules)), encoding="utf-8")
    return dest
