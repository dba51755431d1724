"""Request limits and hostile input refused before any view runs (issue 13): body size (also chunked, over real
HTTP), NUL characters in paths, query parameters and forms, and the ``SMEB_MAX_*`` settings, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import select
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from smeb_lti.settings import Settings, SettingsError
from tests.smeb_lti.dashboard.helpers import ADMIN, COMPANY_A, INSTRUCTOR, launch, open_player

MB = 1024 * 1024


# -- settings ----------------------------------------------------------------------------------


def test_the_limits_have_safe_defaults() -> None:
    limits = Settings.from_env({})
    assert (limits.max_request_bytes, limits.max_event_bytes, limits.max_json_depth) == (MB, 256 * 1024, 32)
    assert Settings.from_env({"SMEB_MAX_REQUEST_BYTES": "2097152", "SMEB_MAX_JSON_DEPTH": " 16 "}).max_request_bytes == 2 * MB


@pytest.mark.parametrize(("name", "value"), [
    ("SMEB_MAX_REQUEST_BYTES", "1MB"), ("SMEB_MAX_REQUEST_BYTES", "-1"), ("SMEB_MAX_REQUEST_BYTES", "0"),
    ("SMEB_MAX_EVENT_BYTES", "10"), ("SMEB_MAX_EVENT_BYTES", "1e6"), ("SMEB_MAX_JSON_DEPTH", "100000"), ("SMEB_MAX_JSON_DEPTH", "abc"),
])
def test_a_bad_limit_refuses_to_start_naming_the_variable(name: str, value: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from smeb_lti.app import create_app

    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=name):
        create_app({"SMEB_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "SMEB_DATA_DIR": str(tmp_path), "TESTING": True})


def test_a_test_config_limit_is_validated_too(tmp_path: Path) -> None:
    from smeb_lti.app import create_app

    with pytest.raises(SettingsError, match="SMEB_MAX_REQUEST_BYTES"):
        create_app({"SMEB_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "SMEB_DATA_DIR": str(tmp_path), "SMEB_MAX_REQUEST_BYTES": "lots"})


# -- body size ---------------------------------------------------------------------------------


def test_an_event_declaring_a_body_over_its_limit_is_refused_with_json_413_before_it_is_read(app: Flask) -> None:
    launch_id = launch(app, COMPANY_A, "ola")
    config = open_player(app.test_client(), launch_id)
    body = json.dumps({"id": str(uuid.uuid4()), "type": "state", "data": {"state": "x" * (300 * 1024)}})
    response = app.test_client().post(config["eventsUrl"], data=body, content_type="application/json",
                                      headers={config["tokenHeader"]: config["token"]})
    assert response.status_code == 413
    assert response.get_json()["field"] == "body" and "SMEB_MAX_EVENT_BYTES" in response.get_json()["message"]


def test_a_page_post_over_the_app_wide_limit_is_refused_with_the_error_page(app: Flask) -> None:
    launch_id = launch(app, COMPANY_A, "boss", roles=(ADMIN,))
    response = app.test_client().post(f"/app/{launch_id}/dashboard/team", data={"team": "x" * (2 * MB)})
    assert response.status_code == 413 and response.mimetype == "text/html"
    assert "SMEB_MAX_REQUEST_BYTES" in response.get_data(as_text=True)


def test_the_lrs_keeps_its_own_larger_limit(app: Flask) -> None:
    """The embedded LRS takes statements with attachments up to SMEB_LRS_MAX_BODY (10 MB), above the app-wide 1 MiB:
    a 2 MiB body reaches the LRS (its 401 for the missing credentials, not the app's 413), 11 MB gets the LRS's 413."""
    client = app.test_client()
    headers = {"X-Experience-API-Version": "1.0.3", "Content-Type": "application/json"}
    medium = client.post("/lrs/default/xapi/statements", data=b"[" + b" " * (2 * MB) + b"]", headers=headers)
    assert medium.status_code != 413, medium.get_data(as_text=True)[:300]
    huge = client.post("/lrs/default/xapi/statements", data=b" " * (11 * MB), headers=headers)
    assert huge.status_code == 413 and "SMEB_LRS_MAX_BODY" in huge.get_data(as_text=True)


@dataclass
class _Counted:
    """A WSGI middleware that counts the bytes the app reads from ``wsgi.input``."""

    app: Any
    read: list[int] = field(default_factory=lambda: [0])

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        inner, read = environ["wsgi.input"], self.read

        class Counting:
            def read(self, *args: Any) -> bytes:
                data: bytes = inner.read(*args)
                read[0] += len(data)
                return data

            def readline(self, *args: Any) -> bytes:
                data: bytes = inner.readline(*args)
                read[0] += len(data)
                return data

        environ["wsgi.input"] = Counting()
        return self.app(environ, start_response)


def _send_chunked(port: int, path: str, headers: dict[str, str], total: int, chunk: int = 64 * 1024) -> tuple[int, bytes, float]:
    """POST ``total`` bytes with Transfer-Encoding: chunked; stop when the server answers or stops reading.

    Returns ``(bytes sent, response, seconds)``.
    """
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nTransfer-Encoding: chunked\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    started = time.monotonic()
    sock.sendall(head.encode("latin-1") + f"{chunk:x}\r\n".encode() + b'{"id": "' + b"x" * (chunk - 8) + b"\r\n")
    sent, answer = chunk, b""
    piece = f"{chunk:x}\r\n".encode() + b"x" * chunk + b"\r\n"
    try:
        while sent < total:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                break
            sock.sendall(piece)
            sent += chunk
        else:
            sock.sendall(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server closed the connection after answering
    try:
        sock.settimeout(10)
        while not _complete(answer):
            data = sock.recv(65536)
            if not data:
                break
            answer += data
    except (ConnectionResetError, TimeoutError):
        pass
    finally:
        sock.close()
    return sent, answer, time.monotonic() - started


def _complete(answer: bytes) -> bool:
    """Whether ``answer`` holds a whole HTTP response (headers and Content-Length bytes of body)."""
    if b"\r\n\r\n" not in answer:
        return False
    head, body = answer.split(b"\r\n\r\n", 1)
    lengths = [int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")]
    return bool(lengths) and len(body) >= lengths[0]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # the storage is not what this is about
def test_a_40_mb_chunked_event_is_cut_off_after_the_limit_and_refused_early_over_real_http(app: Flask) -> None:
    launch_id = launch(app, COMPANY_A, "ola")
    config = open_player(app.test_client(), launch_id)
    counted = _Counted(app.wsgi_app)
    app.wsgi_app = counted  # type: ignore[method-assign]
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        sent, answer, seconds = _send_chunked(server.server_port, config["eventsUrl"], {
            "Content-Type": "application/json", config["tokenHeader"]: config["token"]}, 40 * MB)
    finally:
        server.shutdown()
        server.server_close()
    limit = 256 * 1024
    print(f"chunked 40 MB: refused after {sent} bytes sent, {counted.read[0]} read by the app, in {seconds:.3f} s")
    status_line = answer.split(b"\r\n", 1)[0]
    assert b" 413 " in status_line, answer[:500]
    body = json.loads(answer.split(b"\r\n\r\n", 1)[1])
    assert body["field"] == "body" and "SMEB_MAX_EVENT_BYTES" in body["message"]
    # The app read at most the limit + 1 byte (plus one read's worth of slack), and the client was stopped long
    # before it had sent the 40 MB (socket buffers hold a few MB at most).
    assert counted.read[0] <= limit + 1 + 64 * 1024, counted.read[0]
    assert sent < 10 * MB, f"sent {sent} bytes before the refusal ({seconds:.2f} s)"


# -- NUL characters ----------------------------------------------------------------------------


def test_a_nul_in_a_query_parameter_of_any_tool_page_is_a_400_never_a_500(app: Flask) -> None:
    learner = launch(app, COMPANY_A, "ola")
    staff = launch(app, COMPANY_A, "boss", roles=(ADMIN, INSTRUCTOR))
    open_player(app.test_client(), learner)
    client = app.test_client()
    for url in (f"/play/{learner}?module=%00", f"/app/{learner}/forum?module=x%00y", f"/app/{staff}/dashboard?activity=%00",
                f"/app/{staff}/dashboard?course=%00", f"/roster/{staff}?page=%00", f"/app/{learner}/journal?%00=1",
                f"/app/{learner}/surveys?saved=%00", f"/app/{learner}/workshops?saved=%00"):
        response = client.get(url, headers={"Accept": "text/html"})
        assert response.status_code == 400, (url, response.status_code)
        assert response.mimetype == "text/html" and "NUL" in response.get_data(as_text=True), url
    api = client.get(f"/play/{learner}/smeb-config.json?x=%00")
    assert api.status_code == 400 and api.get_json()["field"] == "query.x"


def test_a_nul_in_the_path_or_a_form_field_is_a_400(app: Flask) -> None:
    client = app.test_client()
    assert client.get("/play/%00").status_code == 400
    assert client.get("/play/abc%00def/smeb-config.json").get_json()["field"] == "path"
    staff = launch(app, COMPANY_A, "boss", roles=(ADMIN,))
    response = client.post(f"/app/{staff}/dashboard/team", data={"subject": "a\x00b", "team": "x"})
    assert response.status_code == 400 and "subject" in response.get_data(as_text=True)
    assert client.post("/lti/launch", data={"state": "s\x00", "id_token": "x"}).status_code == 400
