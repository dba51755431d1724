"""The player's learner state against each format's storage: the worst case of a course, checked at build time.

The player (``scorm_export/player/core.js`` ``encodeState``) keeps the learner's place, done blocks and answers in
one compact string; learner texts are added only while they fit, so the worst case is the state *without*
texts when every block is done and every answer is at its longest. If that cannot fit the format's storage the
learner would be stuck part-way (the state cannot be saved), so :func:`check_state_budget` refuses to build.

Budgets are UTF-8 bytes, mirrored from ``core.STATE_BUDGETS`` (tests/scorm_export/test_state_budget.py keeps the
two equal):

- ``scorm12``: ``cmi.suspend_data`` is CMIString4096 (SCORM 1.2 RTE 3.4.2.5) → 4096.
- ``scorm2004``: ``cmi.suspend_data`` is characterstring SPM 64000 (SCORM 2004 4th ed. RTE 4.2.24) → 64000.
- ``cmi5``/``xapi``: an xAPI State API document (LRSs take far larger documents), but when the page closes the
  player hands the state *and* the queued statements to the browser with ``fetch(keepalive)``, whose quota is
  64 KiB in flight → 32000, half of it, so the closing statements always fit beside the state.
- ``lti``: the tool stores up to 65536 characters per state (``smeb_lti/play/events.py``), and the state is
  posted with keepalive on close, as above → 32000.
- ``standalone`` (no LMS; the browser's own storage) → 64000.
"""

from __future__ import annotations

import json
import math

from content.model import CaseBlock, Course, QuizBlock, SurveyBlock
from scorm_export.errors import StateBudgetError

STATE_VERSION = 2
STATE_BUDGETS: dict[str, int] = {"scorm12": 4096, "scorm2004": 64000, "cmi5": 32000, "xapi": 32000, "lti": 32000, "standalone": 64000}
_MAX_REPORTED = 255  # the runtimes' "reported" bit flags (completed/passed/failed) fit in 3 digits with room to spare


def _base36(value: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        value, rest = divmod(value, 36)
        out = digits[rest] + out
        if not value:
            return out


def fingerprint(course: Course) -> str:
    """core.js ``fnv``: FNV-1a 32-bit over the block ids joined by spaces, in base 36."""
    h = 0x811C9DC5
    text = " ".join(b.id for b in course.blocks())
    data = text.encode("utf-16-le")
    for i in range(0, len(data), 2):
        h ^= data[i] | (data[i + 1] << 8)
        h = (h * 0x01000193) & 0xFFFFFFFF
    return _base36(h)


def _worst_answer(block: object) -> str | None:
    """The longest answer entry the player writes for ``block`` (None: the block has no answer slot)."""
    if isinstance(block, QuizBlock):
        return _base36(2 ** len(block.choices) - 1)
    if isinstance(block, CaseBlock):
        # Paths are loop-free (core.caseTrim): at most one choice per step, each choice index one base-36 digit.
        return "5" * len(block.steps)
    if isinstance(block, SurveyBlock):
        if block.kind == "free-text":
            return None  # a text: included only while it fits
        if block.options:
            return "9" * len(block.options)
        return "10" if block.kind == "scale" else "5"
    return None


def worst_case_state(course: Course) -> str:
    """The largest state (without the optional texts) a learner can produce in ``course``."""
    blocks = list(course.blocks())
    lessons = sum(len(m.lessons) for m in course.modules)
    answers = [a for a in (_worst_answer(b) for b in blocks) if a is not None]
    doc = {
        "v": STATE_VERSION,
        "f": fingerprint(course),
        "l": lessons,
        "d": "_" * math.ceil(len(blocks) / 6),
        "a": ".".join(answers),
        "r": _MAX_REPORTED,
        "g": "en",
    }
    return json.dumps(doc, separators=(",", ":"))


def worst_case_state_bytes(course: Course) -> int:
    """UTF-8 size of :func:`worst_case_state` (ASCII, so also its length in characters)."""
    return len(worst_case_state(course).encode("utf-8"))


def check_state_budget(course: Course, fmt: str) -> int:
    """The worst-case state size of ``course``; raises :class:`StateBudgetError` when ``fmt`` cannot store it."""
    size = worst_case_state_bytes(course)
    limit = STATE_BUDGETS[fmt]
    if size > limit:
        raise StateBudgetError(
            f"course {course.slug!r} ({course.id}) cannot be packaged as {fmt}: its fullest learner state is {size} bytes, "
            f"more than the {limit} bytes {fmt} can store, so learners could not resume or finish. "
            "Split the course into smaller courses, or build a format with more room (scorm2004, cmi5, xapi)."
        )
    return size
