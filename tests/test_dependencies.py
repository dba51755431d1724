"""Dependencies point one way: only smeb_lti imports Flask and pylti1p3 (STYLE.md)."""

from __future__ import annotations

import subprocess
import sys

import pytest

CHECK = """
import sys
for name in ("flask", "pylti1p3", "smeb_lti", "werkzeug"):
    sys.modules[name] = None
import importlib, pkgutil
import {package}
for info in pkgutil.walk_packages({package}.__path__, "{package}."):
    importlib.import_module(info.name)
"""


@pytest.mark.parametrize("package", ["content", "xapi", "scorm_export"])
def test_the_pure_packages_import_without_flask_or_the_tool(package: str) -> None:
    result = subprocess.run([sys.executable, "-c", CHECK.format(package=package)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_content_imports_nothing_of_ours() -> None:
    code = CHECK.format(package="content").replace('("flask", "pylti1p3", "smeb_lti", "werkzeug")', '("flask", "smeb_lti", "xapi", "scorm_export")')
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
