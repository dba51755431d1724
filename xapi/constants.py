"""Every verb, activity-type, extension and category IRI we emit, in one module.

Reused IRIs come from their owners (ADL, the cmi5 and ADL video profiles, Activity Streams,
the Tin Can registry). IRIs we mint live under ONE base, :data:`SMEB_BASE`, and are described in
``xapi/profile/smeb-profile.jsonld`` (the SMEB xAPI Profile) and ``docs/xapi-profile.md``.

Known inconsistencies in the published cmi5 material (see the cmi5 spec, "Quartz" edition):

* the cmi5 profile JSON-LD (v1.0) templates use ``http://adlnet.gov/expapi/verbs/{waived,satisfied}``
  but the cmi5 spec sections 9.3.7/9.3.9 say ``https://w3id.org/xapi/adl/verbs/{waived,satisfied}``:
  we follow the spec;
* the same profile's concepts say ``https://w3id.org/xapi/cmi5/activities/{block,course}`` while
  cmi5 spec 9.4 says ``https://w3id.org/xapi/cmi5/activitytype/{block,course}``: we follow the spec;
* the ADL video profile's templates reference ``.../video/extensions/cc-enabled`` although the
  concept is ``.../video/extensions/cc-subtitle-enabled``: we use the concept.
"""

from __future__ import annotations

from typing import Final

XAPI_VERSION: Final = "1.0.3"

# --------------------------------------------------------------------------- SMEB (minted)
SMEB_BASE: Final = "https://smeb.no/xapi/"
SMEB_PROFILE: Final = "https://smeb.no/xapi/profile"
SMEB_PROFILE_VERSION: Final = "https://smeb.no/xapi/profile/v1"


class SmebVerbs:
    """Verbs with no adequate published IRI (see docs/xapi-profile.md for why each was minted)."""

    REFLECTED: Final = "https://smeb.no/xapi/verbs/reflected"  # wrote a reflection; its text never leaves SMEB
    REVOKED: Final = "https://smeb.no/xapi/verbs/revoked"  # a certificate was withdrawn (not voided: it was valid)


class SmebActivityTypes:
    BLOCK: Final = "https://smeb.no/xapi/activities/block"  # a content block inside a lesson
    CASE_SCENARIO: Final = "https://smeb.no/xapi/activities/case-scenario"
    SURVEY: Final = "https://smeb.no/xapi/activities/survey"
    REFLECTION: Final = "https://smeb.no/xapi/activities/reflection"
    ACTION_PLAN: Final = "https://smeb.no/xapi/activities/action-plan"
    CERTIFICATE: Final = "https://smeb.no/xapi/activities/certificate"
    FORUM_THREAD: Final = "https://smeb.no/xapi/activities/forum-thread"
    FORUM_POST: Final = "https://smeb.no/xapi/activities/forum-post"


class SmebExtensions:
    SESSION_ID: Final = "https://smeb.no/xapi/extensions/session-id"  # context: one player session (UUID)
    REVOCATION_REASON: Final = "https://smeb.no/xapi/extensions/revocation-reason"  # result: short code
    CERTIFICATE_NUMBER: Final = "https://smeb.no/xapi/extensions/certificate-number"  # result: printed number
    SURVEY_SCALE: Final = "https://smeb.no/xapi/extensions/survey-scale"  # activity definition: {"min", "max"}


# --------------------------------------------------------------------------- ADL
class AdlVerbs:
    """ADL verbs (http://adlnet.gov/expapi/verbs/) and the newer ADL w3id verbs."""

    ANSWERED: Final = "http://adlnet.gov/expapi/verbs/answered"
    ATTEMPTED: Final = "http://adlnet.gov/expapi/verbs/attempted"
    ATTENDED: Final = "http://adlnet.gov/expapi/verbs/attended"
    COMMENTED: Final = "http://adlnet.gov/expapi/verbs/commented"
    COMPLETED: Final = "http://adlnet.gov/expapi/verbs/completed"
    EXPERIENCED: Final = "http://adlnet.gov/expapi/verbs/experienced"
    FAILED: Final = "http://adlnet.gov/expapi/verbs/failed"
    INITIALIZED: Final = "http://adlnet.gov/expapi/verbs/initialized"
    INTERACTED: Final = "http://adlnet.gov/expapi/verbs/interacted"
    LAUNCHED: Final = "http://adlnet.gov/expapi/verbs/launched"
    PASSED: Final = "http://adlnet.gov/expapi/verbs/passed"
    PROGRESSED: Final = "http://adlnet.gov/expapi/verbs/progressed"
    RESPONDED: Final = "http://adlnet.gov/expapi/verbs/responded"
    TERMINATED: Final = "http://adlnet.gov/expapi/verbs/terminated"
    VOIDED: Final = "http://adlnet.gov/expapi/verbs/voided"  # reserved, xAPI Data 2.3.2
    ABANDONED: Final = "https://w3id.org/xapi/adl/verbs/abandoned"
    SATISFIED: Final = "https://w3id.org/xapi/adl/verbs/satisfied"
    WAIVED: Final = "https://w3id.org/xapi/adl/verbs/waived"


class AdlActivityTypes:
    ASSESSMENT: Final = "http://adlnet.gov/expapi/activities/assessment"
    CMI_INTERACTION: Final = "http://adlnet.gov/expapi/activities/cmi.interaction"  # xAPI Data 2.4.4.1
    COURSE: Final = "http://adlnet.gov/expapi/activities/course"
    LESSON: Final = "http://adlnet.gov/expapi/activities/lesson"
    MEETING: Final = "http://adlnet.gov/expapi/activities/meeting"
    MODULE: Final = "http://adlnet.gov/expapi/activities/module"
    PROFILE: Final = "http://adlnet.gov/expapi/activities/profile"  # category activity naming a profile


# --------------------------------------------------------------------------- other registries
class ActivityStreamsVerbs:
    SUBMIT: Final = "http://activitystrea.ms/schema/1.0/submit"


class TinCanVerbs:
    EARNED: Final = "http://id.tincanapi.com/verb/earned"


# --------------------------------------------------------------------------- cmi5 (spec "Quartz")
class Cmi5:
    """cmi5 IRIs as written in the cmi5 specification (section numbers in comments)."""

    PROFILE: Final = "https://w3id.org/xapi/cmi5"
    CATEGORY_CMI5: Final = "https://w3id.org/xapi/cmi5/context/categories/cmi5"  # 9.6.2.1
    CATEGORY_MOVEON: Final = "https://w3id.org/xapi/cmi5/context/categories/moveon"  # 9.6.2.2
    ACTIVITY_TYPE_BLOCK: Final = "https://w3id.org/xapi/cmi5/activitytype/block"  # 9.4
    ACTIVITY_TYPE_COURSE: Final = "https://w3id.org/xapi/cmi5/activitytype/course"  # 9.4
    EXT_SESSION_ID: Final = "https://w3id.org/xapi/cmi5/context/extensions/sessionid"  # 9.6.3.1
    EXT_MASTERY_SCORE: Final = "https://w3id.org/xapi/cmi5/context/extensions/masteryscore"  # 9.6.3.2
    EXT_LAUNCH_MODE: Final = "https://w3id.org/xapi/cmi5/context/extensions/launchmode"  # 9.6.3.3
    EXT_LAUNCH_URL: Final = "https://w3id.org/xapi/cmi5/context/extensions/launchurl"  # 9.6.3.4
    EXT_MOVE_ON: Final = "https://w3id.org/xapi/cmi5/context/extensions/moveon"  # 9.6.3.6
    EXT_LAUNCH_PARAMETERS: Final = "https://w3id.org/xapi/cmi5/context/extensions/launchparameters"  # 9.6.3.7
    RESULT_PROGRESS: Final = "https://w3id.org/xapi/cmi5/result/extensions/progress"  # 9.5.5.1, integer 0..100
    RESULT_REASON: Final = "https://w3id.org/xapi/cmi5/result/extensions/reason"  # 9.5.5.2
    # Wrong IRIs found in cmi5-profile-v1.0.jsonld; never emitted, listed so reports can map them.
    PROFILE_DEFECT_ALIASES: Final = {
        "http://adlnet.gov/expapi/verbs/waived": AdlVerbs.WAIVED,
        "http://adlnet.gov/expapi/verbs/satisfied": AdlVerbs.SATISFIED,
        "https://w3id.org/xapi/cmi5/activities/block": "https://w3id.org/xapi/cmi5/activitytype/block",
        "https://w3id.org/xapi/cmi5/activities/course": "https://w3id.org/xapi/cmi5/activitytype/course",
    }


# --------------------------------------------------------------------------- ADL video profile v1.0.3
class Video:
    PROFILE: Final = "https://w3id.org/xapi/video"
    ACTIVITY_TYPE: Final = "https://w3id.org/xapi/video/activity-type/video"
    PLAYED: Final = "https://w3id.org/xapi/video/verbs/played"
    PAUSED: Final = "https://w3id.org/xapi/video/verbs/paused"
    SEEKED: Final = "https://w3id.org/xapi/video/verbs/seeked"
    COMPLETED: Final = AdlVerbs.COMPLETED  # the video profile reuses ADL completed
    # result extensions
    TIME: Final = "https://w3id.org/xapi/video/extensions/time"
    TIME_FROM: Final = "https://w3id.org/xapi/video/extensions/time-from"
    TIME_TO: Final = "https://w3id.org/xapi/video/extensions/time-to"
    PROGRESS: Final = "https://w3id.org/xapi/video/extensions/progress"  # 0..1
    PLAYED_SEGMENTS: Final = "https://w3id.org/xapi/video/extensions/played-segments"  # "0[.]5.2[,]7[.]9"
    # context extensions
    LENGTH: Final = "https://w3id.org/xapi/video/extensions/length"
    SESSION_ID: Final = "https://w3id.org/xapi/video/extensions/session-id"
    COMPLETION_THRESHOLD: Final = "https://w3id.org/xapi/video/extensions/completion-threshold"
    CC_SUBTITLE_ENABLED: Final = "https://w3id.org/xapi/video/extensions/cc-subtitle-enabled"
    CC_SUBTITLE_LANG: Final = "https://w3id.org/xapi/video/extensions/cc-subtitle-lang"
    SPEED: Final = "https://w3id.org/xapi/video/extensions/speed"


# Verb display names (English and Norwegian Bokmål); display never carries meaning (Data 2.4.3).
VERB_DISPLAY: Final[dict[str, dict[str, str]]] = {
    AdlVerbs.ANSWERED: {"en": "answered", "nb": "svarte"},
    AdlVerbs.ATTEMPTED: {"en": "attempted", "nb": "forsøkte"},
    AdlVerbs.ATTENDED: {"en": "attended", "nb": "deltok på"},
    AdlVerbs.COMMENTED: {"en": "commented", "nb": "kommenterte"},
    AdlVerbs.COMPLETED: {"en": "completed", "nb": "fullførte"},
    AdlVerbs.EXPERIENCED: {"en": "experienced", "nb": "opplevde"},
    AdlVerbs.FAILED: {"en": "failed", "nb": "bestod ikke"},
    AdlVerbs.INITIALIZED: {"en": "initialized", "nb": "startet"},
    AdlVerbs.INTERACTED: {"en": "interacted", "nb": "samhandlet"},
    AdlVerbs.LAUNCHED: {"en": "launched", "nb": "åpnet"},
    AdlVerbs.PASSED: {"en": "passed", "nb": "bestod"},
    AdlVerbs.PROGRESSED: {"en": "progressed", "nb": "gikk videre"},
    AdlVerbs.RESPONDED: {"en": "responded", "nb": "svarte på"},
    AdlVerbs.TERMINATED: {"en": "terminated", "nb": "avsluttet"},
    AdlVerbs.VOIDED: {"en": "voided", "nb": "annullerte"},
    AdlVerbs.ABANDONED: {"en": "abandoned", "nb": "forlot"},
    AdlVerbs.SATISFIED: {"en": "satisfied", "nb": "oppfylte"},
    AdlVerbs.WAIVED: {"en": "waived", "nb": "fritok"},
    ActivityStreamsVerbs.SUBMIT: {"en": "submitted", "nb": "leverte"},
    TinCanVerbs.EARNED: {"en": "earned", "nb": "oppnådde"},
    Video.PLAYED: {"en": "played", "nb": "spilte av"},
    Video.PAUSED: {"en": "paused", "nb": "satte på pause"},
    Video.SEEKED: {"en": "seeked", "nb": "spolte"},
    SmebVerbs.REFLECTED: {"en": "reflected", "nb": "reflekterte"},
    SmebVerbs.REVOKED: {"en": "revoked", "nb": "trakk tilbake"},
}

# Every IRI we use that another party owns (the profile test checks templates against this).
REUSED_IRIS: Final[frozenset[str]] = frozenset(
    value
    for namespace in (AdlVerbs, AdlActivityTypes, ActivityStreamsVerbs, TinCanVerbs, Cmi5, Video)
    for name, value in vars(namespace).items()
    if name.isupper() and isinstance(value, str)
)

# IRIs we mint (all under SMEB_BASE).
MINTED_IRIS: Final[frozenset[str]] = frozenset(
    value
    for namespace in (SmebVerbs, SmebActivityTypes, SmebExtensions)
    for name, value in vars(namespace).items()
    if name.isupper() and isinstance(value, str)
)
