"""Pure statement builders: plain data in, a validated xAPI 1.0.3 statement dict out.

Every builder

* takes ``statement_id`` and ``timestamp`` (keyword-only) or generates them (uuid4; UTC now
  with milliseconds and ``Z``). Given values are copied byte-for-byte, never reformatted: the
  outbox retries a statement with the same id, and the LRS compares the retried statement with
  the stored one (xAPI Communication 2.1.1), so the bytes must not drift.
* copies ``duration`` strings as given; :func:`format_duration` makes one from seconds.
* validates the result with :func:`xapi.validation.validate_statement` and adds SMEB/cmi5 rules
  of its own; a problem raises :class:`StatementValidationError` naming the rule and path.
* adds the SMEB profile version as a ``category`` context activity, which is how an xAPI Profile
  is announced (xAPI Data 2.4.6.2), and which ``xapi.profile.match_templates`` keys on.

Inputs are ids, language maps and UUIDs; the course model lives elsewhere on purpose.

One module per concern: :mod:`~xapi.statements.base` (input data, ids and time, assembly),
:mod:`~xapi.statements.course`, :mod:`~xapi.statements.interactions`, :mod:`~xapi.statements.video`,
:mod:`~xapi.statements.records` (workshops, action plans, certificates, forum, voiding). This package
is the producers' one entry point (``from xapi import statements as xb``). cmi5 statements are written by
the AU and by the embedded LRS's LMS side (``smeb_lti/lrs/cmi5.py``), not built here.
"""

from xapi.statements.base import (
    LEVEL_TYPES,
    PLATFORM,
    SMEB_CATEGORY,
    Activity,
    Actor,
    Choice,
    LanguageMap,
    Level,
    Score,
    StatementContext,
    format_duration,
    new_statement_id,
    utc_timestamp,
)
from xapi.statements.course import completed, failed, initialized, launched, passed, progressed
from xapi.statements.interactions import quiz_answer, reflection_written, scenario_decision, survey_answer
from xapi.statements.records import (
    assignment_submitted,
    certificate_earned,
    certificate_revoked,
    forum_commented,
    forum_responded,
    voided,
    workshop_attended,
)
from xapi.statements.video import VIDEO_CATEGORY, video_completed, video_paused, video_played, video_seeked

__all__ = [
    "LEVEL_TYPES",
    "PLATFORM",
    "SMEB_CATEGORY",
    "VIDEO_CATEGORY",
    "Activity",
    "Actor",
    "Choice",
    "LanguageMap",
    "Level",
    "Score",
    "StatementContext",
    "assignment_submitted",
    "certificate_earned",
    "certificate_revoked",
    "completed",
    "failed",
    "format_duration",
    "forum_commented",
    "forum_responded",
    "initialized",
    "launched",
    "new_statement_id",
    "passed",
    "progressed",
    "quiz_answer",
    "reflection_written",
    "scenario_decision",
    "survey_answer",
    "utc_timestamp",
    "video_completed",
    "video_paused",
    "video_played",
    "video_seeked",
    "voided",
    "workshop_attended",
]
