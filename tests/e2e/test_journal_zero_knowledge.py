"""Zero knowledge, proven in the real browser: what a learner writes in the journal never reaches the server.

The tool runs on 127.0.0.1 (werkzeug in a thread of this process, so its logs are captured); Debian's
chromium (playwright-core) sets up a journal with the keyboard, writes a prompt answer and an entry that
carry a marker, edits, deletes, exports, reloads and unlocks with the passphrase, the recovery code and a
changed passphrase, and sees a tampered ciphertext fail cleanly. Then the marker is searched, in many
encodings, in every request the browser sent, in the database (SQLite file + WAL bytes, or ``pg_dump``)
and in the captured logs: zero hits. axe-core checks every state of the page in nb and en.
"""

from __future__ import annotations

import base64
import glob
import json
import logging
import os
import re
import shutil
import subprocess
import threading
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from smeb_lti.db import session_scope
from tests.smeb_lti.journal.launches import launch, make_journal_app
from tests.support.app import dispose
from tests.support.node import E2E_JS as JS
from tests.support.node import run_node
from tests.support.servers import free_port, serving
from xapi.delivery.destinations import Destination, save_destination

pytestmark = pytest.mark.browser

MARKER = "MARKØR-7f3a9 hemmelig"
PASSPHRASE = "blå kabel i tavla 42"
NEW_PASSPHRASE = "ny jordfeilbryter 2026"
DRIVER_TIMEOUT = 570


def encodings(text: str) -> dict[str, bytes]:
    """The marker as it could appear if it leaked: raw, in other charsets, base64 at every alignment, escaped."""
    raw = text.encode("utf-8")
    found: dict[str, bytes] = {
        "utf-8": raw,
        "utf-16le": text.encode("utf-16-le"),
        "utf-16be": text.encode("utf-16-be"),
        "latin-1": text.encode("latin-1"),
        "url": urllib.parse.quote(text).encode(),
        "url-plus": urllib.parse.quote_plus(text).encode(),
        "json-escaped": json.dumps(text).strip('"').encode(),
        "html-entity": text.replace("Ø", "&#216;").encode(),
        "hex": raw.hex().encode(),
        "HEX": raw.hex().upper().encode(),
        "pg-bytea": ("\\x" + raw.hex()).encode(),
    }
    for offset in range(3):
        # A leaked value may sit anywhere in a base64 stream: encode it behind 0, 1 and 2 bytes and keep
        # only the characters that depend on the marker alone (drop the first and last group).
        encoded = base64.b64encode(b"\0" * offset + raw).decode()
        inner = encoded[4:-4] if offset else encoded[:-4]
        found[f"base64@{offset}"] = inner.encode()
        found[f"base64url@{offset}"] = inner.replace("+", "-").replace("/", "_").encode()
    return found


def hits(blob: bytes, where: str) -> list[str]:
    return [f"{where}: {name}" for name, needle in encodings(MARKER).items() if needle in blob]


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def served(migrated_db_url: str, tmp_path: Path) -> Iterator[tuple[Any, str, Capture]]:
    capture = Capture()
    capture.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s %(args)s"))
    loggers = {name: logging.getLogger(name) for name in ("", "werkzeug", "sqlalchemy.engine", "flask.app")}
    levels = {name: lg.level for name, lg in loggers.items()}
    for lg in loggers.values():
        lg.setLevel(logging.DEBUG if lg.name != "sqlalchemy.engine" else logging.INFO)  # INFO: SQL with its parameters
    loggers[""].addHandler(capture)
    app = make_journal_app(migrated_db_url, tmp_path / "data")
    app.logger.setLevel(logging.DEBUG)
    with app.extensions["smeb.engine"].begin() as conn:
        save_destination(conn, Destination(name="bht-lrs", endpoint="https://lrs.example.no/xapi/"))
    try:
        with serving(app) as base:
            yield app, base, capture
    finally:
        dispose(app)
        loggers[""].removeHandler(capture)
        for name, lg in loggers.items():
            lg.setLevel(levels[name])


def drive(url: str, locale: str, *, full: bool) -> dict[str, Any]:
    opts = {"url": url, "locale": locale, "marker": MARKER, "passphrase": PASSPHRASE, "newPassphrase": NEW_PASSPHRASE, "full": full}
    return run_node(JS / "drive-journal.js", opts, timeout=DRIVER_TIMEOUT, cwd=JS)  # type: ignore[no-any-return]


def database_bytes(url: str) -> bytes:
    """Everything the database holds: the SQLite file with its WAL and shared memory, or a full pg_dump."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1]
        return b"".join(Path(p).read_bytes() for p in sorted(glob.glob(path + "*")))
    with psycopg.connect(url) as conn:
        major = conn.info.server_version // 10000
    pg_dump = f"/usr/lib/postgresql/{major}/bin/pg_dump"
    if not os.path.exists(pg_dump):
        pg_dump = shutil.which("pg_dump") or pg_dump
    dump = subprocess.run([pg_dump, "--no-owner", "--dbname", url], capture_output=True, timeout=300, check=False)
    assert dump.returncode == 0, dump.stderr.decode(errors="replace")
    return dump.stdout


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def decrypt_with_python(app: Any, passphrase: str) -> list[dict[str, Any]]:
    """Decrypt the stored journal independently of the browser code (``cryptography``), from the database rows."""
    import unicodedata

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
    from cryptography.hazmat.primitives.keywrap import aes_key_unwrap

    from smeb_lti.journal.store import JournalEntry, JournalKeyring

    with app.extensions["smeb.sessions"]() as session:
        ring = session.query(JournalKeyring).one()
        rows = session.query(JournalEntry).all()
        assert ring.pass_iterations >= 600_000 and ring.recovery_iterations >= 600_000
        kek = PBKDF2HMAC(hashes.SHA256(), 32, _unb64(ring.pass_salt), ring.pass_iterations).derive(
            unicodedata.normalize("NFC", passphrase).encode())
        data_key = aes_key_unwrap(kek, _unb64(ring.pass_wrapped))
        out = []
        for row in rows:
            aad = f"smeb-journal/v1\n{row.entry_id}\n{row.kind}\n{row.block_id or ''}".encode()
            padded = AESGCM(data_key).decrypt(_unb64(row.iv), _unb64(row.ciphertext), aad)
            assert len(padded) % 256 == 0  # padded, so the length tells little
            out.append(json.loads(padded.decode("utf-8")))
    return out


def test_the_marker_never_leaves_the_browser_and_reads_back_with_passphrase_code_and_new_passphrase(
        served: tuple[Any, str, Capture], migrated_db_url: str) -> None:
    app, base, capture = served
    launch_id = launch(app, locale="nb-NO")
    out = drive(f"{base}/app/{launch_id}/journal", "nb-NO", full=True)

    # it really happened: keys set up, entries written, read back three ways, exported
    assert out["lang"] == "nb" and out["codeShape"] == "-".join(["xxxx"] * 8) and out["codeGone"]
    assert out["promptCount"] == 1 and out["boldElements"] == 0  # user text is text, never HTML
    assert MARKER in out["readBack"]["afterWrite"] and "<b>ikke html</b>" in out["readBack"]["afterWrite"]
    assert f"{MARKER} redigert" in out["readBack"]["afterEdit"] and "Slett meg" not in out["readBack"]["afterDelete"]
    for way in ("passphrase", "recovery", "newPassphrase"):
        assert f"{MARKER} redigert" in out["readBack"][way], way
    assert out["readBack"]["promptPassphrase"] == out["readBack"]["promptRecovery"] == f"{MARKER} svar på spørsmålet"
    assert out["exportName"].startswith("smeb-journal-") and f"{MARKER} redigert" in out["exportText"]
    assert f"{MARKER} svar på spørsmålet" in out["exportText"]
    assert out["tamper"] == {"unreadable": 1, "editButtons": 0, "promptStillReadable": f"{MARKER} svar på spørsmålet", "writesAfter": []}
    assert out["lockedEntries"] == 0 and out["csp"] == 0
    assert out["smallTargets"] == [] and out["overflow"] == 0  # 360 px wide, 44 px targets
    assert out["errors"] == [], out["errors"]
    assert out["violations"] == [], json.dumps(out["violations"], indent=1)

    # the browser sent writes (so the scan below looks at real traffic) ...
    writes = [r for r in out["requests"] if r["method"] in ("POST", "PUT", "DELETE")]
    kinds = sorted(f"{r['method']} {r['url'].split('/journal/api/')[1].split('/')[0]}" for r in writes)
    assert kinds == ["DELETE entries", "POST entries", "POST entries", "POST entries", "PUT entries", "PUT keyring", "PUT keyring"]
    assert all(r["url"].startswith(base) for r in out["requests"]), "a request left the tool's origin"
    # ... and the server stored what it was sent: ciphertext that is in the database
    with session_scope(app.extensions["smeb.sessions"]) as session:
        from smeb_lti.journal.store import JournalEntry

        stored = {row.entry_id: row.ciphertext for row in session.query(JournalEntry)}
    assert len(stored) == 2 and any(c in r["body"] for c in stored.values() for r in writes)

    # the stored bytes are exactly the documented scheme: PBKDF2-SHA256(600,000) → AES-KW → AES-GCM with the entry AAD
    plain = decrypt_with_python(app, NEW_PASSPHRASE)
    assert {p["body"] for p in plain} == {f"{MARKER} redigert", f"{MARKER} svar på spørsmålet"}

    # zero hits anywhere
    leaks: list[str] = []
    for request in out["requests"]:
        leaks += hits(request["url"].encode() + b"\n" + request["body"].encode("utf-8"), f"{request['method']} {request['url']}")
    app.extensions["smeb.engine"].dispose()
    database = database_bytes(migrated_db_url)
    assert b"journal_entries" in database and any(c.encode() in database for c in stored.values())  # the scan sees the rows
    leaks += hits(database, "database")
    logs = "\n".join(capture.lines).encode("utf-8")
    assert b"/journal/api/entries" in logs and b"INSERT INTO journal_entries" in logs  # the scan sees requests and SQL
    leaks += hits(logs, "logs")
    assert leaks == []
    # and the statements say that reflections happened, never what they said
    outbox_rows = re.findall(rb"reflected", database)
    assert outbox_rows, "no reflected statement was queued"


def test_the_english_journal_is_axe_clean_and_keeps_the_marker_out_of_requests(served: tuple[Any, str, Capture]) -> None:
    app, base, _ = served
    launch_id = launch(app, sub="learner-en", locale="en-GB")
    out = drive(f"{base}/app/{launch_id}/journal", "en-GB", full=False)
    assert out["lang"] == "en" and MARKER in out["readBack"]["afterWrite"]
    assert out["scans"] == ["set-up", "recovery code", "journal open"]
    assert out["violations"] == [], json.dumps(out["violations"], indent=1)
    assert out["errors"] == []
    assert [hit for r in out["requests"] for hit in hits((r["url"] + r["body"]).encode(), r["url"])] == []


def test_the_scan_finds_the_marker_in_every_encoding_it_claims_to_cover() -> None:
    raw = MARKER.encode("utf-8")
    for prefix in (b"", b"x", b"xy", b"xyz"):
        for suffix in (b"", b"!", b"!?"):
            blob = prefix + raw + suffix
            samples = {
                "base64": base64.b64encode(blob), "base64url": base64.urlsafe_b64encode(blob), "utf-8": blob,
                "hex": blob.hex().encode(), "utf-16le": blob.decode().encode("utf-16-le"),
                "url": urllib.parse.quote(blob.decode()).encode(), "json": json.dumps(blob.decode()).encode(),
            }
            for name, sample in samples.items():
                assert hits(b"{noise}" + sample + b"{noise}", name), (name, prefix, suffix)
    assert hits(os.urandom(4096), "random") == []


def test_the_journal_renders_in_its_own_platforms_iframe_and_nowhere_else(served: tuple[Any, str, Capture]) -> None:
    """frame-ancestors: the LMS that launched (its issuer origin) may frame the journal; another site may not."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from smeb_lti.lti import registrations

    app, base, _ = served
    lms_port, other_port = free_port(), free_port()
    lms = f"http://localhost:{lms_port}"
    with session_scope(app.extensions["smeb.sessions"]) as session:
        registrations.add(session, registrations.RegistrationInput(
            issuer=lms, client_id="client-1", auth_login_url=lms + "/auth", auth_token_url=lms + "/token",
            key_set_url=lms + "/jwks", deployment_ids=("dep-1",)))
    launch_id = launch(app, issuer=lms, sub="framed")
    target = f"{base}/app/{launch_id}/journal"

    class Host(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # an LMS course page with the tool in an iframe (no script)
            body = (f'<!doctype html><html lang="nb"><title>LMS</title><iframe name="course" title="Kurs" src="{target}">'
                    "</iframe></html>").encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    servers = [ThreadingHTTPServer(("127.0.0.1", port), Host) for port in (lms_port, other_port)]
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in servers]
    for t in threads:
        t.start()
    try:
        opts = {"url": target, "locale": "nb-NO", "hosts": [f"{lms}/course", f"http://localhost:{other_port}/course"]}
        out = run_node(JS / "drive-journal.js", opts, timeout=DRIVER_TIMEOUT, cwd=JS)
    finally:
        for s in servers:
            s.shutdown()
            s.server_close()
    own, foreign = out["framed"]
    assert own["rendered"] is True and own["frameUrl"] == target
    assert foreign["rendered"] is False and out["frameAncestorErrors"] >= 1
    assert out["errors"] == []
