"""Forum storage and rules: profiles, threads, posts, reports, notifications and moderators.

The forum of a course is shared by every company that runs the course (that is the point: craftsmen
learn from each other across employers), so a thread belongs to a course (and optionally a module),
not to a tenant. What stays per learner: the profile (display name, trade, employer only if given),
which a learner can only ever write for themselves — the author is always the launch's
(registration, ``sub``), never an id from a form.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from smeb_lti.db import Base
from smeb_lti.errors import SmebError

TRADES = ("elektriker", "rørlegger", "tømrer", "maler", "ventilasjonsmontør", "automatiker", "murer", "annet")
TRADE_NAMES = {
    "nb": {"elektriker": "Elektriker", "rørlegger": "Rørlegger", "tømrer": "Tømrer", "maler": "Maler",
           "ventilasjonsmontør": "Ventilasjonsmontør", "automatiker": "Automatiker", "murer": "Murer", "annet": "Annet fag"},
    "en": {"elektriker": "Electrician", "rørlegger": "Plumber", "tømrer": "Carpenter", "maler": "Painter",
           "ventilasjonsmontør": "Ventilation fitter", "automatiker": "Automation technician", "murer": "Bricklayer", "annet": "Other trade"},
}
NAME_LENGTH = (2, 40)
EMPLOYER_MAX = 80
TITLE_LENGTH = (3, 120)
BODY_MAX = 5000
REASON_MAX = 500


class ForumError(SmebError):
    """Base class: a forum request refused; ``status`` is the HTTP status, the message says what to do."""

    status = 400

    def __init__(self, message: str, field: str | None = None) -> None:
        self.field = field
        super().__init__(message)


class ForumInputError(ForumError):
    """400: a form field is missing, too long or not one of the allowed values; ``field`` names it."""


class ForumTokenInvalid(ForumError):
    """403: the form lacks the forum token of this launch (cross-site request forgery)."""

    status = 403


class ForumForbidden(ForumError):
    """403: not allowed (edit window closed, someone else's post, moderators only, locked thread)."""

    status = 403


class ForumNotFound(ForumError):
    """404: no such thread or post in this course's forum."""

    status = 404


class RateLimited(ForumError):
    """429: too many posts in a short time."""

    status = 429


class ProfileRequired(ForumError):
    """409: choose a display name and trade before posting."""

    status = 409


# -- tables ------------------------------------------------------------------------------------


class Profile(Base):
    __tablename__ = "forum_profiles"
    __table_args__ = (UniqueConstraint("registration_id", "subject", name="uq_forum_profiles_registration_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("lti_registrations.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(60))
    trade: Mapped[str] = mapped_column(String(40))
    employer: Mapped[str | None] = mapped_column(String(100), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Thread(Base):
    __tablename__ = "forum_threads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    course_key: Mapped[str] = mapped_column(String(200), index=True)
    module_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    title: Mapped[str] = mapped_column(String(200))
    author_id: Mapped[int] = mapped_column(ForeignKey("forum_profiles.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_post_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    locked: Mapped[bool] = mapped_column(Boolean)


class Post(Base):
    __tablename__ = "forum_posts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("forum_threads.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("forum_posts.id", ondelete="SET NULL"), nullable=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("forum_profiles.id", ondelete="CASCADE"), index=True)
    body: Mapped[str] = mapped_column(Text)  # Markdown source; rendered with content.markdown.render_markdown
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    edited_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    hidden: Mapped[bool] = mapped_column(Boolean)
    statement_id: Mapped[str | None] = mapped_column(String(36), nullable=True)


class Report(Base):
    __tablename__ = "forum_reports"
    __table_args__ = (UniqueConstraint("post_id", "reporter_id", name="uq_forum_reports_post_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("forum_posts.id", ondelete="CASCADE"))
    reporter_id: Mapped[int] = mapped_column(ForeignKey("forum_profiles.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(REASON_MAX * 2))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    resolved: Mapped[bool] = mapped_column(Boolean)


class Notification(Base):
    __tablename__ = "forum_notifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    profile_id: Mapped[int] = mapped_column(ForeignKey("forum_profiles.id", ondelete="CASCADE"), index=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("forum_posts.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Moderator(Base):
    __tablename__ = "forum_moderators"
    __table_args__ = (UniqueConstraint("issuer", "subject", name="uq_forum_moderators_issuer"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issuer: Mapped[str] = mapped_column(String(512))
    subject: Mapped[str] = mapped_column(String(255))
    note: Mapped[str] = mapped_column(String(200))
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# -- rules (pure checks) -------------------------------------------------------------------------


@dataclass(frozen=True)
class Limits:
    edit_window: timedelta = timedelta(minutes=15)
    posts_per_window: int = 5
    rate_window: timedelta = timedelta(minutes=5)


def clean_text(value: Any, field: str, low: int, high: int, *, multiline: bool = False) -> str:
    """A trimmed text field of ``low..high`` characters without control characters; names ``field`` otherwise."""
    if not isinstance(value, str):
        raise ForumInputError(f"{field}: is required", field)
    text = value.replace("\r\n", "\n").strip()
    if any(ord(ch) < 32 and not (multiline and ch in "\n\t") for ch in text) or "\x7f" in text:
        raise ForumInputError(f"{field}: contains control characters", field)
    if not low <= len(text) <= high:
        raise ForumInputError(f"{field}: must be {low}..{high} characters, got {len(text)}", field)
    return text


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def can_edit(post: Post, profile: Profile, now: datetime, limits: Limits) -> bool:
    return post.author_id == profile.id and not post.hidden and now - _aware(post.created_at) <= limits.edit_window


# -- operations ----------------------------------------------------------------------------------


def is_moderator(session: Session, issuer: str, subject: str) -> bool:
    return session.scalars(select(Moderator.id).where(Moderator.issuer == issuer, Moderator.subject == subject)).first() is not None


def add_moderator(session: Session, issuer: str, subject: str, note: str = "") -> bool:
    """Map an LTI user (issuer + ``sub``) to the provider's moderator role; False when already mapped."""
    if is_moderator(session, issuer, subject):
        return False
    session.add(Moderator(issuer=issuer, subject=subject, note=note[:200], added_at=datetime.now(UTC)))
    session.flush()
    return True


def remove_moderator(session: Session, issuer: str, subject: str) -> bool:
    row = session.scalars(select(Moderator).where(Moderator.issuer == issuer, Moderator.subject == subject)).first()
    if row is None:
        return False
    session.delete(row)
    return True


def profile_of(session: Session, registration_id: int, subject: str) -> Profile | None:
    return session.scalars(select(Profile).where(Profile.registration_id == registration_id, Profile.subject == subject)).first()


def save_profile(session: Session, registration_id: int, subject: str, display_name: Any, trade: Any, employer: Any,
                 now: datetime) -> Profile:
    name = clean_text(display_name, "display_name", *NAME_LENGTH)
    if trade not in TRADES:
        raise ForumInputError(f"trade: must be one of {', '.join(TRADES)}", "trade")
    shown = clean_text(employer, "employer", 0, EMPLOYER_MAX) if employer else ""
    row = profile_of(session, registration_id, subject)
    if row is None:
        row = Profile(registration_id=registration_id, subject=subject, created_at=now)
        session.add(row)
    row.display_name, row.trade, row.employer, row.updated_at = name, str(trade), shown or None, now
    session.flush()
    return row


def _check_rate(session: Session, profile: Profile, now: datetime, limits: Limits) -> None:
    recent = session.scalar(select(func.count()).select_from(Post).where(
        Post.author_id == profile.id, Post.created_at > now - limits.rate_window))
    if (recent or 0) >= limits.posts_per_window:
        minutes = int(limits.rate_window.total_seconds() // 60)
        raise RateLimited(f"at most {limits.posts_per_window} posts in {minutes} minutes: wait a little and post again")


def create_thread(session: Session, profile: Profile, course_key: str, module_id: str | None, title: Any, body: Any,
                  now: datetime, limits: Limits) -> tuple[Thread, Post]:
    clean_title = clean_text(title, "title", *TITLE_LENGTH)
    clean_body = clean_text(body, "body", 1, BODY_MAX, multiline=True)
    _check_rate(session, profile, now, limits)
    thread = Thread(course_key=course_key, module_id=module_id, title=clean_title, author_id=profile.id, created_at=now,
                    last_post_at=now, locked=False)
    session.add(thread)
    session.flush()
    post = Post(thread_id=thread.id, parent_id=None, author_id=profile.id, body=clean_body, created_at=now, hidden=False)
    session.add(post)
    session.flush()
    return thread, post


def thread_in(session: Session, course_key: str, thread_id: int, *, lock: bool = False) -> Thread:
    """The thread, if it belongs to this course's forum (ids from other courses look like missing ones)."""
    query = select(Thread).where(Thread.id == thread_id, Thread.course_key == course_key)
    thread = session.scalars(query.with_for_update() if lock else query).first()
    if thread is None:
        raise ForumNotFound(f"no thread {thread_id} in this course's forum")
    return thread


def post_in(session: Session, course_key: str, post_id: int) -> tuple[Post, Thread]:
    row = session.execute(select(Post, Thread).join(Thread, Post.thread_id == Thread.id)
                          .where(Post.id == post_id, Thread.course_key == course_key)).first()
    if row is None:
        raise ForumNotFound(f"no post {post_id} in this course's forum")
    return row[0], row[1]


def reply(session: Session, profile: Profile, thread: Thread, parent_id: int | None, body: Any, now: datetime,
          limits: Limits) -> tuple[Post, Post | None]:
    """A reply in ``thread`` (to ``parent_id`` when given); notifies the author replied to. Returns (reply, parent)."""
    if thread.locked:
        raise ForumForbidden("this thread is locked by the moderator: no new replies")
    clean_body = clean_text(body, "body", 1, BODY_MAX, multiline=True)
    parent = None
    if parent_id is not None:
        parent = session.scalars(select(Post).where(Post.id == parent_id, Post.thread_id == thread.id)).first()
        if parent is None:
            raise ForumInputError(f"parent: post {parent_id} is not in this thread", "parent")
    _check_rate(session, profile, now, limits)
    post = Post(thread_id=thread.id, parent_id=parent.id if parent else None, author_id=profile.id, body=clean_body,
                created_at=now, hidden=False)
    session.add(post)
    thread.last_post_at = now
    session.flush()
    recipient = parent.author_id if parent else thread.author_id
    if recipient != profile.id:
        session.add(Notification(profile_id=recipient, post_id=post.id, created_at=now, read_at=None))
    return post, parent


def edit_post(session: Session, profile: Profile, post: Post, thread: Thread, body: Any, now: datetime, limits: Limits) -> None:
    if post.author_id != profile.id:
        raise ForumForbidden("only the author can edit a post")
    if not can_edit(post, profile, now, limits):
        minutes = int(limits.edit_window.total_seconds() // 60)
        raise ForumForbidden(f"posts can be edited for {minutes} minutes after posting; this one can no longer be changed")
    if thread.locked:
        raise ForumForbidden("this thread is locked by the moderator")
    post.body = clean_text(body, "body", 1, BODY_MAX, multiline=True)
    post.edited_at = now


def report_post(session: Session, profile: Profile, post: Post, reason: Any, now: datetime) -> bool:
    """Record a report; False when this learner had reported the post already."""
    text = clean_text(reason or "", "reason", 0, REASON_MAX, multiline=True)
    exists = session.scalars(select(Report.id).where(Report.post_id == post.id, Report.reporter_id == profile.id)).first()
    if exists is not None:
        return False
    session.add(Report(post_id=post.id, reporter_id=profile.id, reason=text, created_at=now, resolved=False))
    return True


def set_hidden(session: Session, post: Post, hidden: bool) -> None:
    post.hidden = hidden
    # a moderator's decision settles the reports on the post
    session.execute(update(Report).where(Report.post_id == post.id).values(resolved=True))


def unread_count(session: Session, profile: Profile | None) -> int:
    if profile is None:
        return 0
    return int(session.scalar(select(func.count()).select_from(Notification).where(
        Notification.profile_id == profile.id, Notification.read_at.is_(None))) or 0)
