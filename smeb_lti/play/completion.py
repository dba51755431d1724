"""What happens when a learner completes a course: the certificate is issued, once.

The player host judges completion (:func:`smeb_lti.play.apply.apply_event`) and calls
:func:`on_course_completed` inside the same transaction that records the outcome, so a certificate
exists exactly when the completion it rewards was stored (and its ``earned`` statement is queued in
that transaction too, by :func:`smeb_lti.certificates.issue.issue_certificate`).

The rules, in the order they are checked:

1. the course has ``certificate: true`` (the course JSON's ``certificate`` flag);
2. the launch is for the whole course: a deep-linked *module* is not the course, so it earns nothing;
3. the progress row is completed, and when a passing score applies (the course has quiz points and a
   ``passingScore``) it is also passed — "completed but failed" earns no certificate;
4. the launch has a course context (the company = :class:`~smeb_lti.certificates.model.Tenant`) and the
   platform sent the learner's name (a certificate without a name proves nothing);
5. this learner has no certificate for this course in this company yet (a revoked one counts: revoking
   for cause must not be undone by the next ``outcome`` event; an operator re-issues with ``smeb cert issue``).

Replays and a second ``outcome`` event find rule 5 and return ``None``; the progress row is locked for
the transaction (see ``apply_event``), so two tabs completing at once cannot issue two certificates.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any

from flask import request
from sqlalchemy.orm import Session

from content.model import Course
from smeb_lti.certificates.issue import (
    IssuedCertificate,
    IssueRequest,
    issue_certificate,
    list_certificates,
    minutes_of,
)
from smeb_lti.certificates.model import Tenant
from smeb_lti.lti.context import LaunchContext
from smeb_lti.play.store import Progress
from smeb_lti.routing import scope_of
from smeb_lti.settings import current_settings, settings

log = logging.getLogger(__name__)


def learner_name(context: LaunchContext) -> str | None:
    """The name to print: the platform's ``name``, else given + family name; ``None`` when it sent none."""
    if context.name and context.name.strip():
        return context.name.strip()
    joined = " ".join(p.strip() for p in (context.given_name, context.family_name) if p and p.strip())
    return joined or None


def rule_met(course: Course, completed: bool, passed: bool | None) -> bool:
    """Completed, and passed when a passing score applies (pure: the unit of the completion rule)."""
    if not completed:
        return False
    return passed is True if course.passing_applies else True


def issue_request(course: Course, context: LaunchContext, name: str, actor: Mapping[str, Any]) -> IssueRequest:
    """The :class:`IssueRequest` for this course and this launch."""
    organization = context.custom.get("organization") or context.custom.get("company") or None
    return IssueRequest(
        tenant=Tenant.from_launch(context),
        learner_subject=context.subject,
        learner_name=name,
        course_id=course.id,
        course_title=course.title.nb,
        actor=actor,
        competences=tuple(tag.title.nb for tag in course.competence_tags if tag.title.nb),
        duration_minutes=minutes_of(course.duration),
        organization=organization,
        customer=scope_of(context),  # the earned statement goes to this customer's LRSs only
    )


def public_base() -> str:
    """``SMEB_PUBLIC_URL`` (what goes into QR codes), else the URL this request came in on."""
    return (settings().public_url or request.url_root).rstrip("/")


def _encryption_key() -> str | None:
    return current_settings().configured_key_encryption_key


def on_course_completed(
    session: Session,
    context: LaunchContext,
    course: Course,
    progress_row: Progress,
    *,
    actor: Mapping[str, Any],
    base_url: str | None = None,
    encryption_key: str | None = None,
    now: dt.datetime | None = None,
) -> IssuedCertificate | None:
    """Issue the learner's certificate in ``session``'s transaction when the rules above are met.

    Args:
        course: the course as the player sees it (possibly one deep-linked module).
        progress_row: the learner's :class:`smeb_lti.play.store.Progress` row (``completed``, ``passed``).
        actor: the learner's (pseudonymous) xAPI agent, for the ``earned`` statement.
        base_url: the tool's public URL for the QR code; default ``SMEB_PUBLIC_URL`` or the request's root.

    Returns:
        The certificate issued now, or ``None`` (rules not met, or issued before).
    """
    if not course.certificate:
        return None
    if context.custom.get("module"):
        return None  # one module of a course is not the course (rule 2)
    if not rule_met(course, bool(progress_row.completed), progress_row.passed):
        return None
    if not context.context_id:
        log.warning("course %s completed in a launch without a course context: no certificate (no company to issue it in)", course.id)
        return None
    name = learner_name(context)
    if name is None:
        log.warning("course %s completed but the platform sent no learner name: no certificate", course.id)
        return None
    tenant = Tenant.from_launch(context)
    existing = list_certificates(session, tenant, learner_subject=context.subject, course_id=course.id)
    if existing:
        return None  # once: a revoked certificate is not re-issued by a later outcome event (an operator can issue by hand)
    return issue_certificate(
        session,
        issue_request(course, context, name, actor),
        base_url=base_url or public_base(),
        encryption_key=encryption_key if encryption_key is not None else _encryption_key(),
        now=now,
    )
