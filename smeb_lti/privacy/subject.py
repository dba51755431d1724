"""Who a learner is to the privacy code: the keys of their pseudonyms and :class:`SubjectRef`."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Any

SURVEY_TOKEN_LABEL = "smeb-survey-answer-token"  # = smeb_lti.surveys.routes.ANSWER_TOKEN_LABEL (checked by the tests)
ERASED_SUBJECT = "smeb:erased"  # stands in for an erased learner where a row must stay (forum threads, certificates)


@dataclass(frozen=True)
class PrivacyKeys:
    """The server keys that derive the learner's pseudonyms (from the app: :func:`keys_from_app`)."""

    actor_key: bytes  # HMAC key of the pseudonymous xAPI account names
    secret_key: str  # Flask SECRET_KEY: the survey answer tokens derive from it

    def __repr__(self) -> str:
        return "PrivacyKeys(<hidden>)"


@dataclass(frozen=True)
class SubjectRef:
    """One learner: platform issuer + ``sub``, and the pseudonyms our stores know them by."""

    issuer: str
    subject: str
    actor_names: tuple[str, ...]  # the opaque xAPI account names: one per customer, then the legacy one
    registration_ids: tuple[int, ...]
    survey_key: bytes = field(repr=False, default=b"")

    @property
    def actor_ifis(self) -> frozenset[str]:
        """The IFIs as the LRS indexes them (``smeb_lti.lrs.statements.agent_ifi``)."""
        return frozenset(f"account:{self.issuer}|{name}" for name in self.actor_names)

    @property
    def actors(self) -> list[dict[str, Any]]:
        return [{"objectType": "Agent", "account": {"homePage": self.issuer, "name": name}} for name in self.actor_names]

    def survey_token(self, survey_id: str, period: int) -> str:
        """The de-duplication token of this learner's answer (``smeb_lti.surveys`` ``learner_key``)."""
        message = b"\x00".join(p.encode("utf-8") for p in (self.issuer, self.subject, survey_id, str(period)))
        return hmac.new(self.survey_key, message, hashlib.sha256).hexdigest()
