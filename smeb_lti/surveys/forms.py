"""The survey templates (course evaluation, psychological-safety pulse) and the checking of answers. Pure.

Every closed question (scale, Likert, choice, rank) must be answered, so each question of a
group has the same number of answers as the group has respondents: the minimum group size of
:mod:`smeb_lti.aggregates` then holds for every number shown, not only for the group. Free text
is optional.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

Kind = Literal["scale", "likert", "choice", "rank", "text"]
TEXT_MAX = 2000


class AnswerInvalid(ValueError):
    """An answer does not fit the survey; ``field`` names the question (for the form's error link)."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


@dataclass(frozen=True)
class Question:
    id: str
    kind: Kind
    prompt: Mapping[str, str]  # {"nb": ..., "en": ...}
    options: tuple[Mapping[str, str], ...] = ()  # choice and rank; answers name them o1, o2, ...
    pick: int = 3  # rank: how many to rank

    def option_ids(self) -> tuple[str, ...]:
        return tuple(f"o{i + 1}" for i in range(len(self.options)))

    @property
    def top(self) -> int:
        return 10 if self.kind == "scale" else 5


@dataclass(frozen=True)
class SurveyTemplate:
    id: str
    title: Mapping[str, str]
    intro: Mapping[str, str]
    questions: tuple[Question, ...]


LIKERT = (
    {"nb": "Helt uenig", "en": "Strongly disagree"},
    {"nb": "Litt uenig", "en": "Disagree"},
    {"nb": "Verken enig eller uenig", "en": "Neither agree nor disagree"},
    {"nb": "Litt enig", "en": "Agree"},
    {"nb": "Helt enig", "en": "Strongly agree"},
)

COURSE_EVALUATION = SurveyTemplate(
    id="course-evaluation",
    title={"nb": "Kursevaluering", "en": "Course evaluation"},
    intro={"nb": "Svarene er anonyme: vi lagrer ikke hvem som svarte, og resultater vises bare for grupper på minst fem.",
           "en": "Answers are anonymous: we do not store who answered, and results are shown only for groups of at least five."},
    questions=(
        Question("usefulness", "scale", {"nb": "Hvor nyttig var kurset for deg? (1 = ikke nyttig, 10 = svært nyttig)",
                                         "en": "How useful was the course for you? (1 = not useful, 10 = very useful)"}),
        Question("higher", "text", {"nb": "Hva skulle til for at du ga en høyere score?",
                                    "en": "What would make you give a higher score?"}),
        Question("reasons", "rank", {"nb": "Ranger de tre viktigste grunnene til scoren din",
                                     "en": "Rank the three most important reasons for your score"},
                 options=(
                     {"nb": "Relevant for jobben min", "en": "Relevant to my job"},
                     {"nb": "Eksempler fra elektrofaget", "en": "Examples from electrical work"},
                     {"nb": "Samtalene med kollegaer", "en": "The conversations with colleagues"},
                     {"nb": "Kurslederen", "en": "The facilitator"},
                     {"nb": "Videoene og casene", "en": "The videos and cases"},
                     {"nb": "Lengden på øktene", "en": "The length of the sessions"},
                     {"nb": "Noe jeg kan bruke med en gang", "en": "Something I can use right away"},
                 )),
        Question("length", "choice", {"nb": "Lengden på hver økt var", "en": "The length of each session was"},
                 options=({"nb": "For kort", "en": "Too short"}, {"nb": "Passe", "en": "About right"},
                          {"nb": "For lang", "en": "Too long"})),
        Question("frequency", "choice", {"nb": "Hvor ofte bør øktene være?", "en": "How often should the sessions be?"},
                 options=({"nb": "Hver uke", "en": "Every week"}, {"nb": "Annenhver uke", "en": "Every other week"},
                          {"nb": "Hver måned", "en": "Every month"})),
        Question("recommend", "choice", {"nb": "Vil du anbefale kurset til en kollega?",
                                         "en": "Would you recommend the course to a colleague?"},
                 options=({"nb": "Ja", "en": "Yes"}, {"nb": "Kanskje", "en": "Maybe"}, {"nb": "Nei", "en": "No"})),
    ),
)

PSYCHOLOGICAL_SAFETY = SurveyTemplate(
    id="psych-safety-pulse",
    title={"nb": "Puls: psykologisk trygghet", "en": "Pulse: psychological safety"},
    intro={"nb": "Fem korte påstander om arbeidsplassen din. Svarene er anonyme og vises bare samlet for grupper på minst fem.",
           "en": "Five short statements about your workplace. Answers are anonymous and shown only as totals for groups of at least five."},
    questions=(
        Question("unsure", "likert", {"nb": "På arbeidsplassen min er det trygt å si «jeg er usikker».",
                                      "en": "At my workplace it is safe to say “I am not sure”."}, options=LIKERT),
        Question("mistakes", "likert", {"nb": "Hvis jeg gjør en feil på jobben, blir det ikke holdt mot meg.",
                                        "en": "If I make a mistake at work, it is not held against me."}, options=LIKERT),
        Question("speak-up", "likert", {"nb": "Jeg kan si ifra om farlige forhold uten å være redd for reaksjonene.",
                                        "en": "I can speak up about hazards without fearing the reaction."}, options=LIKERT),
        Question("stop-work", "likert", {"nb": "Når jeg stopper en jobb fordi noe er utrygt, får jeg støtte fra lederen min.",
                                         "en": "When I stop a job because something is unsafe, my manager backs me."}, options=LIKERT),
        Question("learn", "likert", {"nb": "Vi snakker åpent om feil og nestenulykker for å lære av dem.",
                                     "en": "We talk openly about mistakes and near misses to learn from them."}, options=LIKERT),
    ),
)

TEMPLATES: dict[str, SurveyTemplate] = {t.id: t for t in (COURSE_EVALUATION, PSYCHOLOGICAL_SAFETY)}


def template(template_id: str) -> SurveyTemplate:
    try:
        return TEMPLATES[template_id]
    except KeyError:
        raise AnswerInvalid("template", f"unknown survey template {template_id!r}; choose one of {', '.join(TEMPLATES)}") from None


def parse_answers(survey: SurveyTemplate, form: Mapping[str, str]) -> dict[str, object]:
    """The answers of one submitted form, checked: ``{question id: int | str | [option ids]}``.

    Form fields: ``q-<id>`` for scale/Likert/choice/text, ``q-<id>-1`` .. ``q-<id>-<pick>`` for rank places.
    """
    out: dict[str, object] = {}
    for q in survey.questions:
        name = f"q-{q.id}"
        if q.kind in ("scale", "likert"):
            raw = (form.get(name) or "").strip()
            if not raw.isdigit() or not 1 <= int(raw) <= q.top:
                raise AnswerInvalid(name, f"choose a number from 1 to {q.top}")
            out[q.id] = int(raw)
        elif q.kind == "choice":
            raw = (form.get(name) or "").strip()
            if raw not in q.option_ids():
                raise AnswerInvalid(name, "choose one of the options")
            out[q.id] = raw
        elif q.kind == "rank":
            places = [(form.get(f"{name}-{i + 1}") or "").strip() for i in range(q.pick)]
            if any(p not in q.option_ids() for p in places):
                raise AnswerInvalid(f"{name}-1", f"choose an option for each of the {q.pick} places")
            if len(set(places)) != len(places):
                raise AnswerInvalid(f"{name}-1", "choose a different option for each place")
            out[q.id] = places
        else:
            text = (form.get(name) or "").replace("\r\n", "\n").strip()
            if len(text) > TEXT_MAX:
                raise AnswerInvalid(name, f"write at most {TEXT_MAX} characters")
            if text:
                out[q.id] = text
    return out


def form_values(survey: SurveyTemplate, answers: Mapping[str, object]) -> dict[str, str]:
    """Stored answers as form field values (to prefill the form when the learner edits)."""
    values: dict[str, str] = {}
    for q in survey.questions:
        value = answers.get(q.id)
        if value is None:
            continue
        if q.kind == "rank" and isinstance(value, list):
            for i, option in enumerate(value):
                values[f"q-{q.id}-{i + 1}"] = str(option)
        else:
            values[f"q-{q.id}"] = str(value)
    return values
