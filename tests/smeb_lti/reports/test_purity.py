"""The report aggregations and exports are pure: no Flask, no database driver, no HTTP client."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import sys
for name in ("flask", "werkzeug", "sqlalchemy", "httpx", "psycopg"):
    sys.modules[name] = None
import smeb_lti.reports.aggregate, smeb_lti.reports.export
"""


def test_aggregate_and_export_import_without_flask_sql_or_http() -> None:
    result = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
