"""The journal API stores only ciphertext and key material, refuses everything else by field name,
refuses replayed and stale writes, keeps learners apart, and records that a reflection happened
(never what it says) — on SQLite and PostgreSQL.
"""

from __future__ import annotations

import base64
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from smeb_lti.journal.routes import TOKEN_HEADER, journal_token
from tests.smeb_lti.journal.launches import ISSUER_B, launch, make_journal_app
from xapi.delivery import outbox
from xapi.delivery.destinations import Destination, save_destination
from xapi.validation import validate_statement


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def wrapped(salt: bytes | None = None, iterations: int = 600_000) -> dict[str, Any]:
    return {"kdf": {"name": "PBKDF2-SHA256", "iterations": iterations, "salt": b64(salt or os.urandom(16))}, "wrappedKey": b64(os.urandom(40))}


def keyring(version: int = 0) -> dict[str, Any]:
    return {"version": version, "passphrase": wrapped(), "recovery": wrapped()}


def entry(kind: str = "entry", block_id: str | None = None, size: int = 256 + 16) -> dict[str, Any]:
    body = {"id": str(uuid.uuid4()), "kind": kind, "iv": b64(os.urandom(12)), "ciphertext": b64(os.urandom(size))}
    if block_id:
        body["blockId"] = block_id
    return body


@pytest.fixture
def app(migrated_db_url: str, tmp_path: Path) -> Iterator[Flask]:
    app = make_journal_app(migrated_db_url, tmp_path / "data")
    yield app
    app.extensions["smeb.engine"].dispose()


class Learner:
    def __init__(self, app: Flask, launch_id: str) -> None:
        self.client: FlaskClient = app.test_client()
        self.launch_id = launch_id
        with app.test_request_context():
            self.token = journal_token(launch_id)
        self.api = f"/app/{launch_id}/journal/api"

    def call(self, method: str, path: str, body: Any = None, token: str | None = None, **kw: Any) -> Any:
        headers = {TOKEN_HEADER: self.token if token is None else token}
        if body is not None:
            kw["json"] = body
        return self.client.open(self.api + path, method=method, headers=headers, **kw)

    def set_up(self) -> dict[str, Any]:
        response = self.call("PUT", "/keyring", keyring())
        assert response.status_code == 201, response.get_json()
        return response.get_json()  # type: ignore[no-any-return]


@pytest.fixture
def ola(app: Flask) -> Learner:
    return Learner(app, launch(app))


def test_the_page_sends_the_strict_csp_no_referrer_and_no_store_and_names_the_loss_plainly(app: Flask, ola: Learner) -> None:
    response = ola.client.get(f"/app/{ola.launch_id}/journal")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    for directive in ("default-src 'none'", "script-src 'self'", "connect-src 'self'", "style-src 'self'", "img-src 'self'",
                      "form-action 'self'", "frame-ancestors https://lms.elektro-a.no;", "base-uri 'none'"):
        assert directive in csp
    assert "unsafe" not in csp and "lms.roer-b.no" not in csp
    assert response.headers["Referrer-Policy"] == "no-referrer" and response.headers["Cache-Control"] == "no-store"
    import re

    assert re.findall(r"<script[^>]*>", page) == [f'<script src="/app/{ola.launch_id}/journal/static/journal.js" defer>']
    assert "style=" not in page and "<style" not in page
    assert "er notatene borte for godt" in page and 'data-block="r1"' in page
    english = Learner(app, launch(app, sub="learner-en", locale="en-GB"))
    assert "your entries are gone for good" in english.client.get(f"/app/{english.launch_id}/journal").get_data(as_text=True)
    js = ola.client.get(f"/app/{ola.launch_id}/journal/static/journal.js")
    assert js.status_code == 200 and js.mimetype == "text/javascript" and "PBKDF2" in js.get_data(as_text=True)
    assert ola.client.get(f"/app/{ola.launch_id}/journal/static/..%2Fschema.py").status_code == 404


def test_a_learner_sets_up_writes_edits_and_deletes_and_gets_back_exactly_the_ciphertext(ola: Learner) -> None:
    assert ola.call("GET", "/keyring").status_code == 404
    ring = ola.set_up()
    assert ring["version"] == 1 and ring["passphrase"]["kdf"]["iterations"] == 600_000
    assert ola.call("GET", "/keyring").get_json() == ring
    first = entry()
    created = ola.call("POST", "/entries", first)
    assert created.status_code == 201 and created.headers["ETag"] == '"1"'
    listed = ola.call("GET", "/entries").get_json()["entries"]
    assert [(e["id"], e["iv"], e["ciphertext"], e["version"]) for e in listed] == [(first["id"], first["iv"], first["ciphertext"], 1)]
    change = {"version": 1, "iv": b64(os.urandom(12)), "ciphertext": b64(os.urandom(300))}
    updated = ola.call("PUT", f"/entries/{first['id']}", change)
    assert updated.status_code == 200 and updated.get_json()["version"] == 2 and updated.get_json()["ciphertext"] == change["ciphertext"]
    assert ola.call("DELETE", f"/entries/{first['id']}", {"version": 2}).status_code == 204
    assert ola.call("GET", "/entries").get_json()["entries"] == []


def test_a_replayed_or_stale_write_is_a_409_and_overwrites_nothing(ola: Learner) -> None:
    ola.set_up()
    first = entry()
    assert ola.call("POST", "/entries", first).status_code == 201
    assert ola.call("POST", "/entries", first).status_code == 409  # the same create, replayed
    v2 = {"version": 1, "iv": b64(os.urandom(12)), "ciphertext": b64(os.urandom(300))}
    assert ola.call("PUT", f"/entries/{first['id']}", v2).status_code == 200
    replay = ola.call("PUT", f"/entries/{first['id']}", v2)  # the same update again: it replaces version 1, which is gone
    assert replay.status_code == 409 and "nothing was overwritten" in replay.get_json()["message"]
    stale = {"version": 1, "iv": b64(os.urandom(12)), "ciphertext": b64(os.urandom(300))}
    assert ola.call("PUT", f"/entries/{first['id']}", stale).status_code == 409
    assert ola.call("DELETE", f"/entries/{first['id']}", {"version": 1}).status_code == 409
    (stored,) = ola.call("GET", "/entries").get_json()["entries"]
    assert stored["ciphertext"] == v2["ciphertext"] and stored["version"] == 2
    # the keyring too: a second set-up, or a passphrase change for an old version
    assert ola.call("PUT", "/keyring", keyring()).status_code == 409
    change = {"version": 1, "passphrase": wrapped()}
    assert ola.call("PUT", "/keyring", change).status_code == 200
    assert ola.call("PUT", "/keyring", change).status_code == 409
    ring = ola.call("GET", "/keyring").get_json()
    assert ring["version"] == 2 and ring["passphrase"] == change["passphrase"]


def test_a_prompt_answer_names_a_reflection_block_of_the_course_and_is_answered_once(ola: Learner) -> None:
    ola.set_up()
    assert ola.call("POST", "/entries", entry("reflection", "r1")).status_code == 201
    second = ola.call("POST", "/entries", entry("reflection", "r1"))
    assert second.status_code == 409 and "edit that answer" in second.get_json()["message"]
    for block, field in (("q1", "$.blockId"), ("nope", "$.blockId"), (None, "$.blockId")):
        response = ola.call("POST", "/entries", entry("reflection", block))
        assert response.status_code == 400 and response.get_json()["field"] == field


@pytest.mark.parametrize(("mutate", "field"), [
    (lambda e: e.update(text="MARKØR hemmelig"), "$.text"),
    (lambda e: e.update(title="Min tittel"), "$.title"),
    (lambda e: e.update(ciphertext=b64(b"Dette er ren tekst, ikke kryptert i det hele tatt.")), "$.ciphertext"),
    (lambda e: e.update(ciphertext="Dette er ren tekst"), "$.ciphertext"),
    (lambda e: e.update(ciphertext=b64(os.urandom(48 * 1024 + 1))), "$.ciphertext"),
    (lambda e: e.update(ciphertext=b64(os.urandom(10))), "$.ciphertext"),
    (lambda e: e.update(ciphertext=b64(os.urandom(64)) + "=="), "$.ciphertext"),
    (lambda e: e.update(iv=b64(os.urandom(16))), "$.iv"),
    (lambda e: e.update(id="entry-1"), "$.id"),
    (lambda e: e.update(kind="note"), "$.kind"),
    (lambda e: e.update(blockId="r1"), "$.blockId"),
    (lambda e: e.pop("iv"), "$.iv"),
])
def test_an_entry_with_anything_but_ciphertext_is_refused_naming_the_field(ola: Learner, mutate: Any, field: str) -> None:
    ola.set_up()
    body = entry()
    mutate(body)
    response = ola.call("POST", "/entries", body)
    assert response.status_code == 400 and response.get_json()["field"] == field, response.get_json()
    assert ola.call("GET", "/entries").get_json()["entries"] == []


@pytest.mark.parametrize(("mutate", "field"), [
    (lambda k: k["passphrase"]["kdf"].update(iterations=599_999), "$.passphrase.kdf.iterations"),
    (lambda k: k["passphrase"]["kdf"].update(name="PBKDF2-SHA1"), "$.passphrase.kdf.name"),
    (lambda k: k["passphrase"]["kdf"].update(salt=b64(b"short")), "$.passphrase.kdf.salt"),
    (lambda k: k["recovery"].update(wrappedKey=b64(os.urandom(32))), "$.recovery.wrappedKey"),
    (lambda k: k["recovery"].update(code="ABCD-EFGH"), "$.recovery.code"),
    (lambda k: k.update(passphrase_hint="hunden min"), "$.passphrase_hint"),
    (lambda k: k.pop("recovery"), "$.recovery"),
    (lambda k: k["recovery"]["kdf"].update(salt=k["passphrase"]["kdf"]["salt"]), "$.recovery.kdf.salt"),
])
def test_a_keyring_with_anything_but_wrapped_keys_and_kdf_parameters_is_refused_naming_the_field(ola: Learner, mutate: Any, field: str) -> None:
    body = keyring()
    mutate(body)
    response = ola.call("PUT", "/keyring", body)
    assert response.status_code == 400 and response.get_json()["field"] == field, response.get_json()
    assert ola.call("GET", "/keyring").status_code == 404


def test_oversized_and_non_json_bodies_are_refused(ola: Learner) -> None:
    ola.set_up()
    huge = ola.client.post(ola.api + "/entries", data=b"{" + b" " * (200 * 1024) + b"}", content_type="application/json",
                           headers={TOKEN_HEADER: ola.token})
    assert huge.status_code == 400 and huge.get_json()["field"] == "$"
    form = ola.client.post(ola.api + "/entries", data={"ciphertext": "x"}, headers={TOKEN_HEADER: ola.token})
    assert form.status_code == 400 and "JSON" in form.get_json()["message"]


def test_a_query_string_is_refused_because_urls_end_up_in_logs(ola: Learner) -> None:
    ola.set_up()
    response = ola.call("POST", "/entries?text=MARK%C3%98R", entry())
    assert response.status_code == 400 and response.get_json()["field"] == "?text"
    assert ola.call("GET", "/entries?x=1").status_code == 400
    assert ola.call("GET", "/entries").get_json()["entries"] == []


def test_every_api_call_needs_the_token_of_this_launch(app: Flask, ola: Learner) -> None:
    other = Learner(app, launch(app, sub="learner-2"))
    for method, path, body in (("GET", "/keyring", None), ("PUT", "/keyring", keyring()), ("GET", "/entries", None),
                               ("POST", "/entries", entry()), ("PUT", f"/entries/{uuid.uuid4()}", {"version": 1}),
                               ("DELETE", f"/entries/{uuid.uuid4()}", {"version": 1})):
        assert ola.call(method, path, body, token="").status_code == 403
        assert ola.call(method, path, body, token=other.token).status_code == 403
    assert ola.call("GET", "/keyring").status_code == 404  # nothing was set up by the refused PUT


def test_another_learner_or_company_cannot_read_change_or_delete_an_entry_by_its_id(app: Flask, ola: Learner) -> None:
    ola.set_up()
    mine = entry()
    assert ola.call("POST", "/entries", mine).status_code == 201
    for intruder in (Learner(app, launch(app, sub="learner-2")), Learner(app, launch(app, issuer=ISSUER_B, sub="learner-1"))):
        intruder.set_up()
        assert intruder.call("GET", "/entries").get_json()["entries"] == []
        change = {"version": 1, "iv": b64(os.urandom(12)), "ciphertext": b64(os.urandom(300))}
        assert intruder.call("PUT", f"/entries/{mine['id']}", change).status_code == 404
        assert intruder.call("DELETE", f"/entries/{mine['id']}", {"version": 1}).status_code == 404
        # the same entry id in another journal is that journal's own entry, not a way into Ola's
        assert intruder.call("POST", "/entries", {**mine, "ciphertext": b64(os.urandom(300))}).status_code == 201
        assert intruder.call("GET", "/keyring").get_json()["passphrase"] != ola.call("GET", "/keyring").get_json()["passphrase"]
    (stored,) = ola.call("GET", "/entries").get_json()["entries"]
    assert stored["ciphertext"] == mine["ciphertext"] and stored["version"] == 1


def test_writing_before_set_up_is_refused(ola: Learner) -> None:
    assert ola.call("POST", "/entries", entry()).status_code == 404
    assert ola.call("PUT", "/keyring", {"version": 1, "passphrase": wrapped()}).status_code == 400  # no recovery copy


def test_a_new_entry_queues_reflected_statements_without_content_and_a_replay_queues_none(app: Flask, ola: Learner) -> None:
    with app.extensions["smeb.engine"].begin() as conn:
        save_destination(conn, Destination(name="bht-lrs", endpoint="https://lrs.example.no/xapi/"))
    ola.set_up()
    answer, free = entry("reflection", "r1"), entry()
    assert ola.call("POST", "/entries", answer).status_code == 201
    assert ola.call("POST", "/entries", free).status_code == 201
    assert ola.call("POST", "/entries", free).status_code == 409
    assert ola.call("PUT", f"/entries/{free['id']}", {"version": 1, "iv": b64(os.urandom(12)), "ciphertext": b64(os.urandom(300))}).status_code == 200
    with app.extensions["smeb.engine"].connect() as conn:
        rows = conn.execute(select(outbox.outbox_table.c.payload).where(outbox.outbox_table.c.kind == "lrs")
                            .order_by(outbox.outbox_table.c.id)).scalars().all()
    import json

    statements = [json.loads(p) for p in rows]
    assert len(statements) == 2
    for statement in statements:
        validate_statement(statement)
        assert statement["verb"]["id"].endswith("reflected") and "response" not in statement.get("result", {})
        text = json.dumps(statement)
        assert answer["ciphertext"] not in text and free["ciphertext"] not in text and "Ola" not in text
    assert statements[0]["object"]["id"] == "https://smeb.no/courses/test-all-blocks/r1"
    assert statements[1]["object"]["id"] == "https://smeb.no/courses/test-all-blocks/journal"


def test_an_unknown_launch_is_a_404_with_the_strictest_headers(ola: Learner) -> None:
    response = ola.client.get("/app/not-a-launch/journal")
    assert response.status_code == 404 and "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert ola.client.get("/app/not-a-launch/journal/api/entries", headers={TOKEN_HEADER: "x"}).status_code in (403, 404)
