"""The forum's Flask edge: server-rendered pages and plain HTML forms (no script at all) under ``/app/<launch_id>/forum``.

Every POST carries the hidden ``csrf`` field (an HMAC of the launch id, only our pages have it). The course
comes from the launch; thread and post ids from URLs and forms are only looked up within that course's
forum, and the author is always the launch's own profile.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    redirect,
    request,
)
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from content.markdown import render_markdown
from smeb_lti import errors
from smeb_lti.courses.launched import CourseNotInstalled, course_of_launch
from smeb_lti.forum import store
from smeb_lti.forum.store import (
    ForumError,
    ForumForbidden,
    ForumInputError,
    ForumTokenInvalid,
    ProfileRequired,
)
from smeb_lti.identity import actor_for
from smeb_lti.lti.context import LaunchContext
from smeb_lti.lti.errors import LaunchNotFound
from smeb_lti.lti.launches import get_launch
from smeb_lti.routing import destinations_for, queue_statement, scope_of
from smeb_lti.settings import settings
from smeb_lti.web import headers, pages
from smeb_lti.web.csrf import Csrf
from smeb_lti.web.sessions import sessions, transaction
from xapi import statements as xb

bp = Blueprint("forum", __name__)

MAX_FORM_BYTES = 64 * 1024
STATEMENT_NAMESPACE = uuid.UUID("6f1d2c1e-52f0-4c55-9d0c-3e0b8a3f0f61")  # forum statement ids: uuid5(this, post IRI)
CSRF = Csrf("smeb-forum")
# Every response of the forum: no script at all, only our own style sheet, framed by the launch's LMS.
CSP = ("default-src 'none'; script-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
       f"frame-ancestors {headers.FRAME_ANCESTORS}; base-uri 'none'")
headers.policy(bp, CSP)


@dataclass(frozen=True)
class ForumLaunch:
    context: LaunchContext
    launch_id: str
    course_key: str
    course_iri: str
    course_title: str
    modules: tuple[tuple[str, str], ...]  # (module id, title in the launch's language)
    moderator: bool

    @property
    def base(self) -> str:
        return f"/app/{self.launch_id}/forum"


def _limits() -> store.Limits:
    configured = settings()
    return store.Limits(
        edit_window=timedelta(seconds=configured.forum_edit_seconds),
        posts_per_window=configured.forum_posts_per_window,
        rate_window=timedelta(seconds=configured.forum_rate_seconds),
    )


def forum_token(launch_id: str) -> str:
    """The CSRF token of this launch's forum forms."""
    return CSRF.token(launch_id)


def _launch(launch_id: str) -> ForumLaunch:
    with sessions()() as session:
        context = get_launch(session, launch_id)
        try:
            launched = course_of_launch(session, context)
        except CourseNotInstalled:
            raise store.ForumNotFound("this LMS link names no installed course, so there is no course forum to show") from None
        course = launched.installed  # the course forum covers every module, also under a link to one
        moderator = store.is_moderator(session, context.issuer, context.subject)
    lang = context.locale
    modules = tuple((m.id, m.title.get(lang)) for m in course.modules)
    return ForumLaunch(context, launch_id, launched.slug, course.id, course.title.get(lang), modules,
                       moderator)


def _check_csrf(launch_id: str) -> None:
    if (request.content_length or 0) > MAX_FORM_BYTES:
        raise ForumInputError(f"the form is larger than {MAX_FORM_BYTES} bytes", "body")
    if not CSRF.valid(launch_id):
        raise ForumTokenInvalid("the form is missing this page's security token (or it belongs to another launch): reload the page and try again")


def _profile(session: Session, launched: ForumLaunch) -> store.Profile:
    profile = store.profile_of(session, launched.context.registration_id, launched.context.subject)
    if profile is None:
        raise ProfileRequired("choose a display name and your trade before you post")
    return profile


def _post_statement(session: Session, launched: ForumLaunch, thread: store.Thread, post: store.Post, parent: store.Post | None,
                    now: datetime) -> None:
    """``commented`` on the thread (a new thread or a reply to it) or ``responded`` to a post; never the text."""
    scope = scope_of(launched.context)  # the forum is shared; each post's statement goes to its author's customer only
    destinations = destinations_for(session, scope)
    thread_iri = f"{launched.course_iri.rstrip('/')}/forum/threads/{thread.id}"
    post_iri = f"{launched.course_iri.rstrip('/')}/forum/posts/{post.id}"
    post.statement_id = str(uuid.uuid5(STATEMENT_NAMESPACE, post_iri))
    if not destinations:
        return
    ctx = xb.StatementContext(course_id=launched.course_iri, language=launched.context.locale)
    actor = actor_for(launched.context)  # the same pseudonymous actor as every other statement
    if parent is None:
        statement = xb.forum_commented(actor, xb.Activity(thread_iri, name={"und": thread.title}), ctx,
                                       statement_id=post.statement_id, timestamp=xb.utc_timestamp(now))
    else:
        statement = xb.forum_responded(actor, xb.Activity(post_iri), ctx, thread_id=thread_iri, in_reply_to=parent.statement_id,
                                       statement_id=post.statement_id, timestamp=xb.utc_timestamp(now))
    queue_statement(session, statement, scope)


def _page(template: str, launched: ForumLaunch, session: Session, **values: Any) -> Response:
    lang = launched.context.locale
    profile = store.profile_of(session, launched.context.registration_id, launched.context.subject)
    return pages.render(
        template, lang=lang, launch=launched, base=launched.base, csrf=CSRF.token(launched.launch_id),
        profile=profile, unread=store.unread_count(session, profile), trades=store.TRADES, trade_names=store.TRADE_NAMES[lang],
        static=f"{launched.base}/static/forum.css", **values,
    )


def _see_other(url: str) -> Response:
    return redirect(url, code=303)  # type: ignore[return-value]  # werkzeug's redirect() returns its own Response class


def _int(value: Any, field: str) -> int:
    try:
        number = int(str(value))
    except ValueError:
        raise ForumInputError(f"{field}: must be a number", field) from None
    if number < 1 or number > 2**31 - 1:
        raise ForumInputError(f"{field}: out of range", field)
    return number


def _markdown(text: str) -> Markup:
    return Markup(render_markdown(text))


# -- pages -------------------------------------------------------------------------------------


@bp.get("/app/<launch_id>/forum")
def index(launch_id: str) -> Response:
    launched = _launch(launch_id)
    module = request.args.get("module") or None
    if module is not None and module not in dict(launched.modules):
        abort(404)
    with sessions()() as session:
        query = select(store.Thread, store.Profile).join(store.Profile, store.Thread.author_id == store.Profile.id).where(
            store.Thread.course_key == launched.course_key)
        if module:
            query = query.where(store.Thread.module_id == module)
        threads = session.execute(query.order_by(store.Thread.last_post_at.desc()).limit(200)).all()
        return _page("forum/index.html", launched, session, threads=threads, module=module, edit_profile=request.args.get("profile") == "1")


@bp.get("/app/<launch_id>/forum/threads/<int:thread_id>")
def thread_page(launch_id: str, thread_id: int) -> Response:
    launched = _launch(launch_id)
    now = datetime.now(UTC)
    with sessions()() as session:
        thread = store.thread_in(session, launched.course_key, thread_id)
        rows = session.execute(
            select(store.Post, store.Profile).join(store.Profile, store.Post.author_id == store.Profile.id)
            .where(store.Post.thread_id == thread.id).order_by(store.Post.created_at, store.Post.id)
        ).all()
        authors = {post.id: author for post, author in rows}
        profile = store.profile_of(session, launched.context.registration_id, launched.context.subject)
        posts = [{
            "post": post, "author": author, "html": _markdown(post.body),
            "parent_author": authors.get(post.parent_id) if post.parent_id else None,
            "editable": profile is not None and store.can_edit(post, profile, now, _limits()) and not thread.locked,
            "mine": profile is not None and post.author_id == profile.id,
        } for post, author in rows]
        reply_to = request.args.get("reply", type=int)
        if profile is not None:
            # Opening the thread reads its notifications.
            ids = [post.id for post, _ in rows]
            for note in session.scalars(select(store.Notification).where(
                    store.Notification.profile_id == profile.id, store.Notification.read_at.is_(None), store.Notification.post_id.in_(ids))):
                note.read_at = now
            session.commit()
        return _page("forum/thread.html", launched, session, thread=thread, posts=posts,
                     reply_to=reply_to if reply_to in authors else None, edit_minutes=int(_limits().edit_window.total_seconds() // 60))


@bp.get("/app/<launch_id>/forum/posts/<int:post_id>/edit")
def edit_page(launch_id: str, post_id: int) -> Response:
    launched = _launch(launch_id)
    with sessions()() as session:
        post, thread = store.post_in(session, launched.course_key, post_id)
        profile = _profile(session, launched)
        if not store.can_edit(post, profile, datetime.now(UTC), _limits()) or thread.locked:
            raise ForumForbidden("posts can be edited for a short time after posting, by their author; this one can no longer be changed")
        return _page("forum/edit.html", launched, session, post=post, thread=thread)


@bp.get("/app/<launch_id>/forum/notifications")
def notifications(launch_id: str) -> Response:
    launched = _launch(launch_id)
    with sessions()() as session:
        profile = store.profile_of(session, launched.context.registration_id, launched.context.subject)
        rows: list[Any] = []
        if profile is not None:
            rows = list(session.execute(
                select(store.Notification, store.Post, store.Thread, store.Profile)
                .join(store.Post, store.Notification.post_id == store.Post.id)
                .join(store.Thread, store.Post.thread_id == store.Thread.id)
                .join(store.Profile, store.Post.author_id == store.Profile.id)
                .where(store.Notification.profile_id == profile.id, store.Thread.course_key == launched.course_key)
                .order_by(store.Notification.created_at.desc()).limit(100)
            ).all())
        return _page("forum/notifications.html", launched, session, rows=rows)


@bp.get("/app/<launch_id>/forum/reports")
def reports(launch_id: str) -> Response:
    launched = _launch(launch_id)
    if not launched.moderator:
        raise ForumForbidden("only the course provider's moderators see reports")
    with sessions()() as session:
        rows = session.execute(
            select(store.Report, store.Post, store.Thread)
            .join(store.Post, store.Report.post_id == store.Post.id).join(store.Thread, store.Post.thread_id == store.Thread.id)
            .where(store.Thread.course_key == launched.course_key, store.Report.resolved.is_(False))
            .order_by(store.Report.created_at)
        ).all()
        return _page("forum/reports.html", launched, session, rows=[(r, p, t, _markdown(p.body)) for r, p, t in rows])


@bp.get("/app/<launch_id>/forum/static/forum.css")
def stylesheet(launch_id: str) -> Response:
    with sessions()() as session:
        get_launch(session, launch_id)
    text = (resources.files("smeb_lti.forum") / "static" / "forum.css").read_text(encoding="utf-8")
    return Response(text, mimetype="text/css")


# -- forms -------------------------------------------------------------------------------------


@bp.post("/app/<launch_id>/forum/profile")
def save_profile(launch_id: str) -> Response:
    _check_csrf(launch_id)
    launched = _launch(launch_id)
    form = request.form
    name = form.get("display_name", "")
    if form.get("use_lms_name") == "1":
        name = launched.context.name or launched.context.given_name or ""  # only when the learner ticks it
    employer = form.get("employer", "") if form.get("show_employer") == "1" else ""
    with transaction() as session:
        store.save_profile(session, launched.context.registration_id, launched.context.subject, name, form.get("trade"),
                           employer, datetime.now(UTC))
    return _see_other(launched.base)


@bp.post("/app/<launch_id>/forum/threads")
def new_thread(launch_id: str) -> Response:
    _check_csrf(launch_id)
    launched = _launch(launch_id)
    module = request.form.get("module") or None
    if module is not None and module not in dict(launched.modules):
        raise ForumInputError(f"module: {module!r} is not a module of this course", "module")
    now = datetime.now(UTC)
    with transaction() as session:
        profile = _profile(session, launched)
        thread, post = store.create_thread(session, profile, launched.course_key, module, request.form.get("title"),
                                           request.form.get("body"), now, _limits())
        _post_statement(session, launched, thread, post, None, now)
        url = f"{launched.base}/threads/{thread.id}"
    return _see_other(url)


@bp.post("/app/<launch_id>/forum/threads/<int:thread_id>/replies")
def new_reply(launch_id: str, thread_id: int) -> Response:
    _check_csrf(launch_id)
    launched = _launch(launch_id)
    parent = request.form.get("parent") or None
    now = datetime.now(UTC)
    with transaction() as session:
        profile = _profile(session, launched)
        thread = store.thread_in(session, launched.course_key, thread_id, lock=True)
        post, parent_post = store.reply(session, profile, thread, _int(parent, "parent") if parent else None,
                                        request.form.get("body"), now, _limits())
        _post_statement(session, launched, thread, post, parent_post, now)
        url = f"{launched.base}/threads/{thread.id}#post-{post.id}"
    return _see_other(url)


@bp.post("/app/<launch_id>/forum/posts/<int:post_id>/edit")
def edit_post(launch_id: str, post_id: int) -> Response:
    _check_csrf(launch_id)
    launched = _launch(launch_id)
    with transaction() as session:
        post, thread = store.post_in(session, launched.course_key, post_id)
        store.edit_post(session, _profile(session, launched), post, thread, request.form.get("body"), datetime.now(UTC), _limits())
        url = f"{launched.base}/threads/{thread.id}#post-{post.id}"
    return _see_other(url)


@bp.post("/app/<launch_id>/forum/posts/<int:post_id>/report")
def report(launch_id: str, post_id: int) -> Response:
    _check_csrf(launch_id)
    launched = _launch(launch_id)
    with transaction() as session:
        post, thread = store.post_in(session, launched.course_key, post_id)
        store.report_post(session, _profile(session, launched), post, request.form.get("reason", ""), datetime.now(UTC))
        url = f"{launched.base}/threads/{thread.id}?reported={post.id}#post-{post.id}"
    return _see_other(url)


@bp.post("/app/<launch_id>/forum/posts/<int:post_id>/<any(hide, restore):action>")
def moderate_post(launch_id: str, post_id: int, action: str) -> Response:
    _check_csrf(launch_id)
    launched = _launch(launch_id)
    if not launched.moderator:
        raise ForumForbidden("only the course provider's moderators can hide or restore posts")
    with transaction() as session:
        post, thread = store.post_in(session, launched.course_key, post_id)
        store.set_hidden(session, post, action == "hide")
        url = f"{launched.base}/threads/{thread.id}#post-{post.id}"
    return _see_other(url)


@bp.post("/app/<launch_id>/forum/threads/<int:thread_id>/<any(lock, unlock):action>")
def moderate_thread(launch_id: str, thread_id: int, action: str) -> Response:
    _check_csrf(launch_id)
    launched = _launch(launch_id)
    if not launched.moderator:
        raise ForumForbidden("only the course provider's moderators can lock threads")
    with transaction() as session:
        thread = store.thread_in(session, launched.course_key, thread_id)
        thread.locked = action == "lock"
    return _see_other(f"{launched.base}/threads/{thread_id}")


@bp.post("/app/<launch_id>/forum/notifications/read")
def mark_read(launch_id: str) -> Response:
    _check_csrf(launch_id)
    launched = _launch(launch_id)
    with transaction() as session:
        profile = _profile(session, launched)
        for note in session.scalars(select(store.Notification).where(
                store.Notification.profile_id == profile.id, store.Notification.read_at.is_(None))):
            note.read_at = datetime.now(UTC)
    return _see_other(f"{launched.base}/notifications")


# -- wiring ------------------------------------------------------------------------------------


def _error(error: ForumError) -> Response:
    lang = "nb"
    launch_id = (request.view_args or {}).get("launch_id", "")
    try:
        with sessions()() as session:
            lang = get_launch(session, launch_id).locale
    except LaunchNotFound:
        pass
    return pages.render("forum/error.html", lang=lang, status=error.status, message=error.message, field=error.field,
                        back=f"/app/{launch_id}/forum" if launch_id else None,
                        static=f"/app/{launch_id}/forum/static/forum.css" if launch_id else None)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    errors.answer_with(app, ForumError, _error)
