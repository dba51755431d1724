"""Statements about what happens around the courses: workshops, action plans, certificates, forum posts, voiding."""

from __future__ import annotations

from typing import Any

from xapi.constants import (
    ActivityStreamsVerbs,
    AdlActivityTypes,
    AdlVerbs,
    SmebActivityTypes,
    SmebExtensions,
    SmebVerbs,
    TinCanVerbs,
)
from xapi.statements.base import (
    Activity,
    Actor,
    StatementContext,
    _activity,
    _context,
    _result,
    _statement,
)


def workshop_attended(
    actor: Actor,
    workshop: Activity,
    ctx: StatementContext | None = None,
    *,
    duration: str | None = None,
    instructor: Actor | None = None,
    statement_id: str | None = None,
    timestamp: str | None = None,
) -> dict[str, Any]:
    """The learner attended a (physical or online) workshop: ADL ``attended`` a ``meeting``."""
    result = _result(duration=duration)
    return _statement(
        actor,
        AdlVerbs.ATTENDED,
        _activity(workshop, AdlActivityTypes.MEETING),
        _context(ctx, instructor=instructor),
        result=result,
        statement_id=statement_id,
        timestamp=timestamp,
    )


def assignment_submitted(
    actor: Actor,
    assignment: Activity,
    ctx: StatementContext | None = None,
    *,
    statement_id: str | None = None,
    timestamp: str | None = None,
) -> dict[str, Any]:
    """The learner submitted an action plan (its content stays in SMEB)."""
    result = _result(completion=True)
    return _statement(
        actor,
        ActivityStreamsVerbs.SUBMIT,
        _activity(assignment, SmebActivityTypes.ACTION_PLAN),
        _context(ctx),
        result=result,
        statement_id=statement_id,
        timestamp=timestamp,
    )


def certificate_earned(
    actor: Actor,
    certificate: Activity,
    ctx: StatementContext | None = None,
    *,
    certificate_number: str | None = None,
    statement_id: str | None = None,
    timestamp: str | None = None,
) -> dict[str, Any]:
    """The learner earned a certificate; ``certificate`` is the issued certificate (one id per issue)."""
    result = _result(
        completion=True,
        extensions={SmebExtensions.CERTIFICATE_NUMBER: certificate_number} if certificate_number else None,
    )
    return _statement(
        actor,
        TinCanVerbs.EARNED,
        _activity(certificate, SmebActivityTypes.CERTIFICATE),
        _context(ctx),
        result=result,
        statement_id=statement_id,
        timestamp=timestamp,
    )


def certificate_revoked(
    issuer: Actor,
    certificate: Activity,
    reason: str,
    ctx: StatementContext | None = None,
    *,
    earned_statement_id: str | None = None,
    statement_id: str | None = None,
    timestamp: str | None = None,
) -> dict[str, Any]:
    """An administrator/system (``issuer``) revoked an issued certificate.

    Not a voiding: the certificate was valid until now, so the "earned" statement stays true.
    ``earned_statement_id`` links it (context.statement); ``reason`` is a short code, not free text.
    """
    result = _result(extensions={SmebExtensions.REVOCATION_REASON: reason})
    return _statement(
        issuer,
        SmebVerbs.REVOKED,
        _activity(certificate, SmebActivityTypes.CERTIFICATE),
        _context(ctx, statement_ref=earned_statement_id),
        result=result,
        statement_id=statement_id,
        timestamp=timestamp,
    )


def forum_commented(
    actor: Actor,
    thread: Activity,
    ctx: StatementContext | None = None,
    *,
    statement_id: str | None = None,
    timestamp: str | None = None,
) -> dict[str, Any]:
    """The learner posted in a forum thread (the post's text stays in SMEB)."""
    return _statement(
        actor,
        AdlVerbs.COMMENTED,
        _activity(thread, SmebActivityTypes.FORUM_THREAD),
        _context(ctx),
        statement_id=statement_id,
        timestamp=timestamp,
    )


def forum_responded(
    actor: Actor,
    post: Activity,
    ctx: StatementContext | None = None,
    *,
    thread_id: str | None = None,
    in_reply_to: str | None = None,
    statement_id: str | None = None,
    timestamp: str | None = None,
) -> dict[str, Any]:
    """The learner replied to a forum post; ``in_reply_to`` is the statement id of the post's "commented"."""
    parent = _activity(thread_id, SmebActivityTypes.FORUM_THREAD) if thread_id else None
    return _statement(
        actor,
        AdlVerbs.RESPONDED,
        _activity(post, SmebActivityTypes.FORUM_POST),
        _context(ctx, parent=parent, statement_ref=in_reply_to),
        statement_id=statement_id,
        timestamp=timestamp,
    )


def voided(
    actor: Actor, target_statement_id: str, *, statement_id: str | None = None, timestamp: str | None = None
) -> dict[str, Any]:
    """Void a statement we sent by mistake (Data 2.3.2); to "unvoid", resend it under a new id."""
    obj = {"objectType": "StatementRef", "id": target_statement_id}
    return _statement(actor, AdlVerbs.VOIDED, obj, None, statement_id=statement_id, timestamp=timestamp)
