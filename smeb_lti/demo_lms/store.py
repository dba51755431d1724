"""The demo platform's own SQLite database: users, the tool it knows, links, line items, results, tokens, log.

The demo platform stands for *someone else's* LMS, so it keeps its data in its own file, never in the
tool's database (the tool's schema is Alembic's). Its schema is versioned with ``PRAGMA user_version``:
:data:`MIGRATIONS` are applied in order under ``BEGIN IMMEDIATE``, so several gunicorn workers opening
the same file at once migrate it exactly once.
"""

from __future__ import annotations

import json
import math
import sqlite3
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE platform_keys (id INTEGER PRIMARY KEY CHECK (id = 1), kid TEXT NOT NULL, private_pem TEXT NOT NULL,
                                public_jwk TEXT NOT NULL);
    CREATE TABLE tools (client_id TEXT PRIMARY KEY, deployment_id TEXT NOT NULL, name TEXT NOT NULL,
                        login_url TEXT NOT NULL, launch_url TEXT NOT NULL, jwks_url TEXT NOT NULL,
                        redirect_uris TEXT NOT NULL, deep_link_url TEXT NOT NULL);
    CREATE TABLE resource_links (id TEXT PRIMARY KEY, context_id TEXT NOT NULL, client_id TEXT NOT NULL,
                                 title TEXT NOT NULL, text TEXT, url TEXT NOT NULL, custom TEXT NOT NULL,
                                 source TEXT NOT NULL, created_at REAL NOT NULL);
    CREATE TABLE line_items (id INTEGER PRIMARY KEY AUTOINCREMENT, context_id TEXT NOT NULL, client_id TEXT NOT NULL,
                             label TEXT NOT NULL, score_maximum REAL NOT NULL, resource_link_id TEXT,
                             resource_id TEXT, tag TEXT, start_date_time TEXT, end_date_time TEXT, created_at REAL NOT NULL);
    CREATE TABLE results (line_item_id INTEGER NOT NULL REFERENCES line_items(id) ON DELETE CASCADE,
                          user_id TEXT NOT NULL, score_given REAL, score_maximum REAL, comment TEXT,
                          activity_progress TEXT NOT NULL, grading_progress TEXT NOT NULL, timestamp TEXT NOT NULL,
                          updated_at REAL NOT NULL, PRIMARY KEY (line_item_id, user_id));
    CREATE TABLE launch_hints (id TEXT PRIMARY KEY, user_id TEXT NOT NULL, kind TEXT NOT NULL, link_id TEXT,
                               context_id TEXT NOT NULL, client_id TEXT NOT NULL, created_at REAL NOT NULL);
    CREATE TABLE deep_link_requests (data TEXT PRIMARY KEY, context_id TEXT NOT NULL, client_id TEXT NOT NULL,
                                     user_id TEXT NOT NULL, created_at REAL NOT NULL);
    CREATE TABLE access_tokens (token_hash TEXT PRIMARY KEY, client_id TEXT NOT NULL, scopes TEXT NOT NULL,
                                expires_at REAL NOT NULL);
    CREATE TABLE used_jtis (jti TEXT PRIMARY KEY, expires_at REAL NOT NULL);
    CREATE TABLE service_log (id INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, client_id TEXT,
                              service TEXT NOT NULL, method TEXT NOT NULL, path TEXT NOT NULL, status INTEGER NOT NULL,
                              detail TEXT NOT NULL);
    """,
)


def connect(path: Path | str) -> sqlite3.Connection:
    """A connection with WAL, foreign keys and a busy timeout (several workers share the file)."""
    conn = sqlite3.connect(str(path), timeout=30, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


def migrate(path: Path | str) -> None:
    """Create or upgrade the schema (idempotent, safe to run from many processes at once)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = connect(path)
    try:
        conn.execute("BEGIN IMMEDIATE")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            for statement in filter(str.strip, script.split(";")):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    finally:
        conn.close()


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


# -- the people of the demo ------------------------------------------------------------------

LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
CONTEXT_ADMIN = "http://purl.imsglobal.org/vocab/lis/v2/membership#Administrator"
INST_STUDENT = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Student"
INST_FACULTY = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Faculty"
INST_ADMIN = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator"


@dataclass(frozen=True)
class DemoUser:
    id: str  # the LTI `sub`: opaque and stable
    given_name: str
    family_name: str
    email: str
    roles: tuple[str, ...]
    role_label: str  # "learner" | "instructor" | "admin"

    @property
    def name(self) -> str:
        return f"{self.given_name} {self.family_name}"


_EXTRA = ("Ingrid Berg", "Lars Johansen", "Sofie Larsen", "Jonas Andersen", "Emma Pedersen", "Henrik Nilsen",
          "Nora Kristiansen", "Magnus Jensen", "Sara Karlsen")

USERS: tuple[DemoUser, ...] = (
    DemoUser("demo-ola", "Ola", "Nordmann", "ola.nordmann@elektro-nord.example", (LEARNER, INST_STUDENT), "learner"),
    DemoUser("demo-kari", "Kari", "Nordmann", "kari.nordmann@bht.example", (INSTRUCTOR, INST_FACULTY), "instructor"),
    DemoUser("demo-admin", "Anne", "Bakke", "anne.bakke@elektro-nord.example", (CONTEXT_ADMIN, INST_ADMIN), "admin"),
) + tuple(
    DemoUser(f"demo-learner-{i:02d}", full.split()[0], full.split()[1], f"{full.split()[0].lower()}@elektro-nord.example",
             (LEARNER, INST_STUDENT), "learner")
    for i, full in enumerate(_EXTRA, start=1)
)
USERS_BY_ID = {u.id: u for u in USERS}
MAIN_USERS = USERS[:3]  # the ones with buttons on the home page


@dataclass(frozen=True)
class DemoContext:
    id: str
    label: str
    title: str


CONTEXT = DemoContext("elektro-nord-hms-2027", "ELNORD-HMS", "HMS og kvalitet – Elektro Nord AS")


# -- rows -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tool:
    client_id: str
    deployment_id: str
    name: str
    login_url: str
    launch_url: str
    jwks_url: str
    redirect_uris: tuple[str, ...]
    deep_link_url: str


def _tool(row: sqlite3.Row) -> Tool:
    return Tool(row["client_id"], row["deployment_id"], row["name"], row["login_url"], row["launch_url"], row["jwks_url"],
                tuple(json.loads(row["redirect_uris"])), row["deep_link_url"])


def put_tool(conn: sqlite3.Connection, tool: Tool) -> None:
    conn.execute(
        "INSERT INTO tools VALUES (?,?,?,?,?,?,?,?) ON CONFLICT(client_id) DO UPDATE SET deployment_id=excluded.deployment_id,"
        " name=excluded.name, login_url=excluded.login_url, launch_url=excluded.launch_url, jwks_url=excluded.jwks_url,"
        " redirect_uris=excluded.redirect_uris, deep_link_url=excluded.deep_link_url",
        (tool.client_id, tool.deployment_id, tool.name, tool.login_url, tool.launch_url, tool.jwks_url,
         json.dumps(list(tool.redirect_uris)), tool.deep_link_url),
    )


def get_tool(conn: sqlite3.Connection, client_id: str) -> Tool | None:
    row = conn.execute("SELECT * FROM tools WHERE client_id = ?", (client_id,)).fetchone()
    return _tool(row) if row else None


def tools(conn: sqlite3.Connection) -> list[Tool]:
    return [_tool(r) for r in conn.execute("SELECT * FROM tools ORDER BY name")]


def add_link(conn: sqlite3.Connection, link_id: str, client_id: str, title: str, url: str, custom: Mapping[str, str],
             source: str, text: str | None = None, context_id: str = CONTEXT.id) -> None:
    conn.execute(
        "INSERT INTO resource_links VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET title=excluded.title,"
        " url=excluded.url, custom=excluded.custom, text=excluded.text",
        (link_id, context_id, client_id, title, text, url, json.dumps(dict(custom), sort_keys=True), source, time.time()),
    )


def links(conn: sqlite3.Connection, context_id: str = CONTEXT.id) -> list[sqlite3.Row]:
    return list(conn.execute("SELECT * FROM resource_links WHERE context_id = ? ORDER BY created_at, id", (context_id,)))


def get_link(conn: sqlite3.Connection, link_id: str) -> sqlite3.Row | None:
    return conn.execute("SELECT * FROM resource_links WHERE id = ?", (link_id,)).fetchone()


def add_line_item(conn: sqlite3.Connection, client_id: str, label: str, score_maximum: float, *,
                  resource_link_id: str | None = None, resource_id: str | None = None, tag: str | None = None,
                  start: str | None = None, end: str | None = None, context_id: str = CONTEXT.id) -> int:
    cursor = conn.execute(
        "INSERT INTO line_items (context_id, client_id, label, score_maximum, resource_link_id, resource_id, tag,"
        " start_date_time, end_date_time, created_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
        (context_id, client_id, label, score_maximum, resource_link_id, resource_id, tag, start, end, time.time()),
    )
    return int(cursor.lastrowid or 0)


def line_items(conn: sqlite3.Connection, context_id: str, client_id: str | None = None, *, resource_link_id: str | None = None,
               resource_id: str | None = None, tag: str | None = None) -> list[sqlite3.Row]:
    query = "SELECT * FROM line_items WHERE context_id = ?"
    args: list[Any] = [context_id]
    for column, value in (("client_id", client_id), ("resource_link_id", resource_link_id), ("resource_id", resource_id), ("tag", tag)):
        if value is not None:
            query += f" AND {column} = ?"
            args.append(value)
    return list(conn.execute(query + " ORDER BY id", args))


def get_line_item(conn: sqlite3.Connection, context_id: str, item_id: int) -> sqlite3.Row | None:
    return conn.execute("SELECT * FROM line_items WHERE context_id = ? AND id = ?", (context_id, item_id)).fetchone()


def line_item_for_link(conn: sqlite3.Connection, link_id: str) -> sqlite3.Row | None:
    return conn.execute("SELECT * FROM line_items WHERE resource_link_id = ? ORDER BY id LIMIT 1", (link_id,)).fetchone()


def update_line_item(conn: sqlite3.Connection, item_id: int, values: Mapping[str, Any]) -> None:
    columns = {"label": "label", "scoreMaximum": "score_maximum", "resourceId": "resource_id", "tag": "tag",
               "resourceLinkId": "resource_link_id", "startDateTime": "start_date_time", "endDateTime": "end_date_time"}
    sets = [(columns[k], v) for k, v in values.items() if k in columns]
    if sets:
        conn.execute(f"UPDATE line_items SET {', '.join(c + ' = ?' for c, _ in sets)} WHERE id = ?", [v for _, v in sets] + [item_id])


def put_result(conn: sqlite3.Connection, item_id: int, score: Mapping[str, Any]) -> bool:
    """Store a score unless the result on record is as new or newer; ``False`` then, and nothing changes.

    Like Moodle (``mod/lti/service/gradebookservices/.../scores.php``): timestamps compare in whole
    seconds (``strtotime``), and a score in the same second as the result on record is refused too.
    """
    row = conn.execute("SELECT timestamp FROM results WHERE line_item_id = ? AND user_id = ?", (item_id, score["userId"])).fetchone()
    if row is not None and math.floor(_instant(row["timestamp"])) >= math.floor(_instant(score["timestamp"])):
        return False
    conn.execute(
        "INSERT INTO results VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT(line_item_id, user_id) DO UPDATE SET"
        " score_given=excluded.score_given, score_maximum=excluded.score_maximum, comment=excluded.comment,"
        " activity_progress=excluded.activity_progress, grading_progress=excluded.grading_progress,"
        " timestamp=excluded.timestamp, updated_at=excluded.updated_at",
        (item_id, score["userId"], score.get("scoreGiven"), score.get("scoreMaximum"), score.get("comment"),
         score["activityProgress"], score["gradingProgress"], score["timestamp"], time.time()),
    )
    return True


def _instant(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def results(conn: sqlite3.Connection, item_id: int, user_id: str | None = None) -> list[sqlite3.Row]:
    query = "SELECT * FROM results WHERE line_item_id = ?"
    args: list[int | str] = [item_id]
    if user_id is not None:
        query += " AND user_id = ?"
        args.append(user_id)
    return list(conn.execute(query + " ORDER BY user_id", args))


def gradebook(conn: sqlite3.Connection, context_id: str = CONTEXT.id) -> list[sqlite3.Row]:
    return list(conn.execute(
        "SELECT l.id AS line_item_id, l.label, l.score_maximum AS item_maximum, r.* FROM line_items l"
        " JOIN results r ON r.line_item_id = l.id WHERE l.context_id = ? ORDER BY l.id, r.user_id",
        (context_id,),
    ))


def log(conn: sqlite3.Connection, client_id: str | None, service: str, method: str, path: str, status: int, detail: str) -> None:
    conn.execute("INSERT INTO service_log (at, client_id, service, method, path, status, detail) VALUES (?,?,?,?,?,?,?)",
                 (time.time(), client_id, service, method, path, status, detail[:2000]))


def log_entries(conn: sqlite3.Connection, limit: int = 200) -> list[sqlite3.Row]:
    return list(conn.execute("SELECT * FROM service_log ORDER BY id DESC LIMIT ?", (limit,)))


def members(context_id: str = CONTEXT.id) -> Sequence[DemoUser]:
    return USERS if context_id == CONTEXT.id else ()


def gradable(user: DemoUser) -> bool:
    """Only learners have grades (Moodle: a role listed in ``$CFG->gradebookroles``, by default Student)."""
    return LEARNER in user.roles
