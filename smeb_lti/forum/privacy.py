"""A learner's forum profile, threads, posts and reports."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from smeb_lti.privacy.registry import Store
from smeb_lti.privacy.rows import as_dicts, learner_rows, reflected, rowcount
from smeb_lti.privacy.subject import ERASED_SUBJECT, SubjectRef


def _forum_profile_ids(session: Session, ref: SubjectRef) -> list[int]:
    profiles, mine = learner_rows(session, ref, "forum_profiles")
    return list(session.scalars(sa.select(profiles.c.id).where(mine)))


def export_forum(session: Session, ref: SubjectRef) -> dict[str, Any]:
    profiles, mine = learner_rows(session, ref, "forum_profiles")
    ids = _forum_profile_ids(session, ref)
    threads, posts, reports = reflected(session, "forum_threads"), reflected(session, "forum_posts"), reflected(session, "forum_reports")
    moderators = reflected(session, "forum_moderators")
    return {
        "profiles": as_dicts(session.execute(sa.select(profiles).where(mine))),
        "threads_started": as_dicts(session.execute(sa.select(threads).where(threads.c.author_id.in_(ids)).order_by(threads.c.id))),
        "posts": as_dicts(session.execute(sa.select(posts).where(posts.c.author_id.in_(ids)).order_by(posts.c.id))),
        "reports_made": as_dicts(session.execute(sa.select(reports).where(reports.c.reporter_id.in_(ids)).order_by(reports.c.id))),
        "moderator": as_dicts(session.execute(
            sa.select(moderators).where(moderators.c.issuer == ref.issuer, moderators.c.subject == ref.subject))),
    }


def _tombstone_profile(session: Session, registration_id: int) -> int:
    """The per-registration stand-in author of threads whose other replies must stay (created once)."""
    profiles = reflected(session, "forum_profiles")
    where = sa.and_(profiles.c.registration_id == registration_id, profiles.c.subject == ERASED_SUBJECT)
    found = session.scalar(sa.select(profiles.c.id).where(where))
    if found is not None:
        return int(found)
    now = dt.datetime.now(dt.UTC)
    session.execute(sa.insert(profiles).values(registration_id=registration_id, subject=ERASED_SUBJECT,
                                               display_name="Slettet bruker", trade="-", employer=None, created_at=now, updated_at=now))
    return int(session.scalar(sa.select(profiles.c.id).where(where)))  # type: ignore[arg-type]  # the row was inserted just above, so the id is never None


def erase_forum(session: Session, ref: SubjectRef) -> int:
    """Posts, reports, notifications and profile go; a started thread with others' replies keeps them under 'Slettet bruker'."""
    profiles = reflected(session, "forum_profiles")
    threads, posts = reflected(session, "forum_threads"), reflected(session, "forum_posts")
    reports, notifications = reflected(session, "forum_reports"), reflected(session, "forum_notifications")
    moderators = reflected(session, "forum_moderators")
    ids = _forum_profile_ids(session, ref)
    changed = rowcount(session.execute(sa.delete(moderators).where(moderators.c.issuer == ref.issuer, moderators.c.subject == ref.subject)))
    if not ids:
        return changed
    own_posts = list(session.scalars(sa.select(posts.c.id).where(posts.c.author_id.in_(ids))))
    if own_posts:
        # Children first: replies of others to these posts lose their parent (the FK says SET NULL; done here explicitly).
        session.execute(sa.update(posts).where(posts.c.parent_id.in_(own_posts)).values(parent_id=None))
        changed += rowcount(session.execute(sa.delete(reports).where(reports.c.post_id.in_(own_posts))))
        changed += rowcount(session.execute(sa.delete(notifications).where(notifications.c.post_id.in_(own_posts))))
        changed += rowcount(session.execute(sa.delete(posts).where(posts.c.id.in_(own_posts))))
    for thread_id, registration_id in session.execute(
        sa.select(threads.c.id, profiles.c.registration_id).join(profiles, profiles.c.id == threads.c.author_id).where(threads.c.author_id.in_(ids))
    ).all():
        if session.scalar(sa.select(sa.func.count()).select_from(posts).where(posts.c.thread_id == thread_id)):
            tombstone = _tombstone_profile(session, registration_id)
            changed += rowcount(session.execute(
                sa.update(threads).where(threads.c.id == thread_id).values(author_id=tombstone, title="(slettet)")))
        else:
            changed += rowcount(session.execute(sa.delete(threads).where(threads.c.id == thread_id)))
    changed += rowcount(session.execute(sa.delete(reports).where(reports.c.reporter_id.in_(ids))))
    changed += rowcount(session.execute(sa.delete(notifications).where(notifications.c.profile_id.in_(ids))))
    return changed + rowcount(session.execute(sa.delete(profiles).where(profiles.c.id.in_(ids))))


STORES = (Store("forum", export_forum, erase_forum),)
