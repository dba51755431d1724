"""The cross-company course forum over HTTP (Flask test client) on SQLite and PostgreSQL: profiles that show
a chosen name and trade (never the employer unless chosen), threads, replies, notifications, the edit window,
reports, moderation by the provider's moderators, statements through the outbox, and the bad input: oversized
posts, HTML/script, CSRF on every form, ids from other courses, rate limits.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from content import load_course
from smeb_lti.courses import catalogue
from smeb_lti.db import session_scope
from smeb_lti.forum import store
from smeb_lti.forum.routes import forum_token
from smeb_lti.settings import update_settings
from tests.smeb_lti.journal.launches import (
    FIXTURES,
    ISSUER_A,
    ISSUER_B,
    launch,
    make_journal_app,
)
from xapi.delivery import outbox
from xapi.delivery.destinations import Destination, save_destination
from xapi.validation import validate_statement


@pytest.fixture
def app(migrated_db_url: str, tmp_path: Path) -> Iterator[Flask]:
    app = make_journal_app(migrated_db_url, tmp_path / "data", SMEB_FORUM_POSTS_PER_WINDOW=50)
    yield app
    app.extensions["smeb.engine"].dispose()


class User:
    def __init__(self, app: Flask, launch_id: str) -> None:
        self.app = app
        self.client: FlaskClient = app.test_client()
        self.launch_id = launch_id
        self.base = f"/app/{launch_id}/forum"
        with app.test_request_context():
            self.csrf = forum_token(launch_id)

    def get(self, path: str = "") -> Any:
        return self.client.get(self.base + path)

    def post(self, path: str, csrf: str | None = None, **form: str) -> Any:
        return self.client.post(self.base + path, data={"csrf": self.csrf if csrf is None else csrf, **form})

    def profile(self, name: str = "Ola E.", trade: str = "elektriker", **extra: str) -> None:
        assert self.post("/profile", display_name=name, trade=trade, **extra).status_code == 303

    def thread(self, title: str = "Stille feil på byggeplassen", body: str = "Hvordan sier dere ifra?", **extra: str) -> int:
        response = self.post("/threads", title=title, body=body, **extra)
        assert response.status_code == 303, response.get_data(as_text=True)
        return int(re.search(r"/threads/(\d+)", response.headers["Location"]).group(1))  # type: ignore[union-attr]

    def reply(self, thread_id: int, body: str, parent: int | None = None) -> int:
        form = {"body": body} | ({"parent": str(parent)} if parent else {})
        response = self.post(f"/threads/{thread_id}/replies", **form)
        assert response.status_code == 303, response.get_data(as_text=True)
        return int(response.headers["Location"].rsplit("#post-", 1)[1])


@pytest.fixture
def ola(app: Flask) -> User:
    return User(app, launch(app, name="Ola Nordmann"))


@pytest.fixture
def kari(app: Flask) -> User:
    """A learner of another company (another platform) in the same course."""
    return User(app, launch(app, issuer=ISSUER_B, sub="kari", name="Kari Rør"))


def _posts(app: Flask) -> list[store.Post]:
    with app.extensions["smeb.sessions"]() as session:
        return list(session.scalars(select(store.Post).order_by(store.Post.id)))


def test_posts_show_the_chosen_name_and_trade_and_the_employer_only_when_chosen(app: Flask, ola: User, kari: User) -> None:
    assert 'id="profile-form"' in ola.get().get_data(as_text=True)
    ola.profile("Ola E.", "elektriker", employer="Elektro AS")  # typed, but "show employer" not ticked
    kari.profile("ignored", "rørlegger", use_lms_name="1", show_employer="1", employer="Rør & Varme AS")
    thread = ola.thread()
    kari.reply(thread, "Vi tar det på morgenmøtet.")
    page = kari.get(f"/threads/{thread}").get_data(as_text=True)
    assert "Ola E." in page and "Elektriker" in page and "Elektro AS" not in page and "Ola Nordmann" not in page
    assert "Kari Rør" in page and "Rørlegger" in page and "Rør &amp; Varme AS" in page
    with app.extensions["smeb.sessions"]() as session:
        assert session.scalars(select(store.Profile.employer).where(store.Profile.subject == "learner-1")).one() is None


def test_a_reply_to_your_post_shows_an_unread_badge_until_you_read_it(ola: User, kari: User) -> None:
    ola.profile()
    kari.profile("Kari", "rørlegger")
    thread = ola.thread()
    first = ola.reply(thread, "Og en ting til.")
    assert 'id="unread"' not in ola.get().get_data(as_text=True)  # your own reply notifies nobody
    kari.reply(thread, "Svar til tråden")
    kari.reply(thread, "Svar til Olas andre innlegg", parent=first)
    index = ola.get().get_data(as_text=True)
    assert re.search(r'<span class="badge" id="unread">2</span>', index)
    notes = ola.get("/notifications").get_data(as_text=True)
    assert notes.count('class="unread"') == 2 and "Kari" in notes
    page = ola.get(f"/threads/{thread}").get_data(as_text=True)
    assert "svar til Ola E." in page
    assert 'id="unread"' not in ola.get().get_data(as_text=True)
    assert 'id="unread"' not in kari.get().get_data(as_text=True)


def test_threads_and_replies_queue_commented_and_responded_statements_without_text(app: Flask, ola: User, kari: User) -> None:
    with app.extensions["smeb.engine"].begin() as conn:
        save_destination(conn, Destination(name="bht-lrs", endpoint="https://lrs.example.no/xapi/"))
    ola.profile()
    kari.profile("Kari", "rørlegger")
    thread = ola.thread(body="HEMMELIG-TEKST-1")
    first_post = _posts(app)[0]
    kari.reply(thread, "HEMMELIG-TEKST-2", parent=first_post.id)
    with app.extensions["smeb.engine"].connect() as conn:
        payloads = conn.execute(select(outbox.outbox_table.c.payload).order_by(outbox.outbox_table.c.id)).scalars().all()
    commented, responded = (json.loads(p) for p in payloads)
    for statement in (commented, responded):
        validate_statement(statement)
        assert "HEMMELIG" not in json.dumps(statement)
    assert commented["verb"]["id"] == "http://adlnet.gov/expapi/verbs/commented"
    assert commented["object"]["id"] == f"https://smeb.no/courses/test-all-blocks/forum/threads/{thread}"
    assert responded["verb"]["id"] == "http://adlnet.gov/expapi/verbs/responded"
    assert responded["context"]["statement"]["id"] == commented["id"] == first_post.statement_id
    assert commented["actor"]["account"]["homePage"] == ISSUER_A and responded["actor"]["account"]["homePage"] == ISSUER_B


def test_html_and_script_in_posts_are_rendered_inert_by_the_one_markdown_sanitizer(ola: User) -> None:
    ola.profile()
    hostile = ('<script>window.pwned=1</script> <img src=x onerror="window.pwned=2"> [klikk](javascript:alert(1)) '
               '<a href="#" onclick="x()">a</a> **fet**')
    thread = ola.thread(title='<script>alert("t")</script>', body=hostile)
    response = ola.get(f"/threads/{thread}")
    page = response.get_data(as_text=True)
    assert "<script" not in page and "<img" not in page and not re.search(r"<[a-z][^>]*\son[a-z]+\s*=", page, re.IGNORECASE)
    assert 'href="javascript:' not in page and "<strong>fet</strong>" in page and "&lt;script&gt;" in page
    assert "script-src 'none'" in response.headers["Content-Security-Policy"]


def test_oversized_empty_and_unknown_values_are_refused_naming_the_field(ola: User, app: Flask) -> None:
    ola.profile()
    for form, field in (
        ({"title": "Ok tittel", "body": "x" * 5001}, "body"),
        ({"title": "Ok tittel", "body": "   "}, "body"),
        ({"title": "ab", "body": "tekst"}, "title"),
        ({"title": "t" * 121, "body": "tekst"}, "title"),
        ({"title": "Ok tittel", "body": "tekst", "module": "m99"}, "module"),
    ):
        response = ola.post("/threads", **form)
        assert response.status_code == 400 and f'data-field="{field}"' in response.get_data(as_text=True), form
    huge = ola.post("/threads", title="Ok tittel", body="y" * (70 * 1024))
    assert huge.status_code in (400, 413)
    for form, field in (({"display_name": "O", "trade": "elektriker"}, "display_name"),
                        ({"display_name": "Ola", "trade": "astronaut"}, "trade")):
        response = ola.post("/profile", **form)
        assert response.status_code == 400 and f'data-field="{field}"' in response.get_data(as_text=True)
    assert _posts(app) == []


def test_every_form_refuses_a_missing_or_foreign_csrf_token_and_changes_nothing(app: Flask, ola: User, kari: User) -> None:
    ola.profile()
    thread = ola.thread()
    post_id = _posts(app)[0].id
    store_moderator(app, ISSUER_A, "learner-1")
    forms = [("/profile", {"display_name": "Hacket", "trade": "maler"}), ("/threads", {"title": "Forfalsket", "body": "x"}),
             (f"/threads/{thread}/replies", {"body": "forfalsket svar"}), (f"/posts/{post_id}/edit", {"body": "forfalsket"}),
             (f"/posts/{post_id}/report", {"reason": "x"}), (f"/posts/{post_id}/hide", {}), (f"/posts/{post_id}/restore", {}),
             (f"/threads/{thread}/lock", {}), (f"/threads/{thread}/unlock", {}), ("/notifications/read", {})]
    for path, form in forms:
        for token in ("", kari.csrf):
            response = ola.post(path, csrf=token, **form)
            assert response.status_code == 403 and "security token" in response.get_data(as_text=True), path
    (post,) = _posts(app)
    assert post.body == "Hvordan sier dere ifra?" and not post.hidden
    assert "Hacket" not in ola.get().get_data(as_text=True) and "Forfalsket" not in ola.get().get_data(as_text=True)


def store_moderator(app: Flask, issuer: str, subject: str) -> None:
    with session_scope(app.extensions["smeb.sessions"]) as session:
        store.add_moderator(session, issuer, subject, "test")


def test_the_author_can_edit_within_the_window_and_nobody_after_it_or_for_someone_else(app: Flask, ola: User, kari: User) -> None:
    ola.profile()
    kari.profile("Kari", "rørlegger")
    thread = ola.thread()
    post_id = _posts(app)[0].id
    assert "/edit" in ola.get(f"/threads/{thread}").get_data(as_text=True)
    assert ola.post(f"/posts/{post_id}/edit", body="Rettet skrivefeil").status_code == 303
    assert "· redigert" in ola.get(f"/threads/{thread}").get_data(as_text=True)
    assert kari.post(f"/posts/{post_id}/edit", body="Kari endrer Olas innlegg").status_code == 403
    with session_scope(app.extensions["smeb.sessions"]) as session:
        session.execute(update(store.Post).values(created_at=datetime.now(UTC) - timedelta(minutes=16)))
    late = ola.post(f"/posts/{post_id}/edit", body="For sent")
    assert late.status_code == 403 and "15 minutes" in late.get_data(as_text=True)
    assert ola.get(f"/posts/{post_id}/edit").status_code == 403
    assert _posts(app)[0].body == "Rettet skrivefeil"


def test_moderators_hide_restore_and_lock_and_learners_cannot(app: Flask, ola: User, kari: User) -> None:
    ola.profile()
    kari.profile("Kari", "rørlegger")
    thread = ola.thread(body="Upassende innhold")
    post_id = _posts(app)[0].id
    assert kari.post(f"/posts/{post_id}/report", reason="Stygt språk").status_code == 303
    assert kari.get("/reports").status_code == 403
    for path in (f"/posts/{post_id}/hide", f"/threads/{thread}/lock"):
        assert kari.post(path).status_code == 403
    # a customer's instructor is not a moderator either: the forum is shared across companies
    teacher = User(app, launch(app, sub="teacher", roles=("http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor",)))
    assert teacher.post(f"/posts/{post_id}/hide").status_code == 403
    store_moderator(app, ISSUER_A, "smeb-staff")
    mod = User(app, launch(app, sub="smeb-staff"))
    assert "Stygt språk" in mod.get("/reports").get_data(as_text=True)
    assert mod.post(f"/posts/{post_id}/hide").status_code == 303
    assert "Upassende innhold" not in kari.get(f"/threads/{thread}").get_data(as_text=True)
    assert "skjult av moderator" in kari.get(f"/threads/{thread}").get_data(as_text=True)
    assert "Upassende innhold" in mod.get(f"/threads/{thread}").get_data(as_text=True)
    assert "Stygt språk" not in mod.get("/reports").get_data(as_text=True)  # settled
    assert mod.post(f"/posts/{post_id}/restore").status_code == 303
    assert "Upassende innhold" in kari.get(f"/threads/{thread}").get_data(as_text=True)
    assert mod.post(f"/threads/{thread}/lock").status_code == 303
    locked = kari.post(f"/threads/{thread}/replies", body="Svar i låst tråd")
    assert locked.status_code == 403 and "locked" in locked.get_data(as_text=True)
    assert mod.post(f"/threads/{thread}/unlock").status_code == 303
    kari.reply(thread, "Nå går det")


def test_ids_from_another_course_or_a_foreign_thread_are_not_found(app: Flask, ola: User, tmp_path: Path) -> None:
    other = tmp_path / "annet-kurs"
    shutil.copytree(FIXTURES / "all-blocks", other)
    yaml = other / "course.yaml"
    yaml.write_text(yaml.read_text(encoding="utf-8").replace("test-all-blocks", "test-annet-kurs"), encoding="utf-8")
    with session_scope(app.extensions["smeb.sessions"]) as session:
        catalogue.install(session, load_course(other))
    ola.profile()
    thread = ola.thread(body="Bare for kurs A")
    post_id = _posts(app)[0].id
    stranger = User(app, launch(app, issuer=ISSUER_B, sub="s", course="annet-kurs"))
    stranger.profile("Per", "maler")
    assert "Bare for kurs A" not in stranger.get().get_data(as_text=True)
    assert stranger.get(f"/threads/{thread}").status_code == 404
    assert stranger.post(f"/threads/{thread}/replies", body="inn fra siden").status_code == 404
    assert stranger.post(f"/posts/{post_id}/report", reason="x").status_code == 404
    own = stranger.thread()
    assert ola.post(f"/threads/{own}/replies", body="svar", parent=str(post_id)).status_code == 404
    assert stranger.post(f"/threads/{own}/replies", body="svar", parent=str(post_id)).status_code == 400  # parent from another thread
    assert User(app, launch(app, course=None)).get().status_code == 404


def test_posting_needs_a_profile_and_is_rate_limited(app: Flask) -> None:
    strict = app
    update_settings(strict, {"SMEB_FORUM_POSTS_PER_WINDOW": 3})
    user = User(strict, launch(strict, sub="eager"))
    assert user.post("/threads", title="Uten profil", body="x").status_code == 409
    user.profile()
    thread = user.thread()
    user.reply(thread, "to")
    user.reply(thread, "tre")
    limited = user.post(f"/threads/{thread}/replies", body="fire")
    assert limited.status_code == 429 and "at most 3 posts" in limited.get_data(as_text=True)
    assert len(_posts(strict)) == 3


def test_forum_pages_send_a_csp_without_any_script_and_the_platform_as_frame_ancestor(ola: User) -> None:
    response = ola.get()
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'none'" in csp and "frame-ancestors https://lms.elektro-a.no;" in csp and "default-src 'none'" in csp
    assert response.headers["Referrer-Policy"] == "no-referrer" and response.headers["Cache-Control"] == "no-store"
    assert "<script" not in response.get_data(as_text=True) and "style=" not in response.get_data(as_text=True)
    assert ola.client.get(f"/app/{ola.launch_id}/forum/static/forum.css").status_code == 200
