"""A small, real LTI 1.3 platform (an LMS stand-in) for ``smeb demo`` and the end-to-end tests.

:func:`create_platform_app` builds it; :func:`register_tool` and :func:`add_course_link` seed it
(what an LMS administrator would do by hand).
"""

from __future__ import annotations

from pathlib import Path

from smeb_lti.demo_lms import store
from smeb_lti.demo_lms.app import create_platform_app
from smeb_lti.demo_lms.store import CONTEXT, USERS, Tool


def register_tool(db_path: Path | str, tool: Tool) -> None:
    """Add or update the tool registration in the platform's database (migrating it first)."""
    store.migrate(db_path)
    conn = store.connect(db_path)
    try:
        with store.transaction(conn):
            store.put_tool(conn, tool)
    finally:
        conn.close()


def add_course_link(db_path: Path | str, tool: Tool, link_id: str, title: str, custom: dict[str, str], score_maximum: float) -> None:
    """Put a course on the demo course page with a grade column, unless a link with this id exists."""
    conn = store.connect(db_path)
    try:
        with store.transaction(conn):
            if store.get_link(conn, link_id) is None:
                store.add_link(conn, link_id, tool.client_id, title, tool.launch_url, custom, "catalogue")
                store.add_line_item(conn, tool.client_id, title, score_maximum, resource_link_id=link_id, resource_id=custom.get("course"))
    finally:
        conn.close()


__all__ = ["CONTEXT", "USERS", "Tool", "add_course_link", "create_platform_app", "register_tool"]
