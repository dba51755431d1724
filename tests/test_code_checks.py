"""The checks that keep the structure: import contracts, lint and types, each run as the tool itself.

They live in the test suite so `make test` (the README's test command, and CI) runs them; their
configuration, with the reasons for each choice, is in pyproject.toml, and docs/architecture.md
explains the layers the import contracts enforce.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PACKAGES = ("content", "scorm_export", "xapi", "smeb_lti")  # the product, as mypy checks it


def _run(command: list[str], timeout: int = 600) -> None:
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=timeout, check=False)
    assert done.returncode == 0, f"{' '.join(command)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"


def _tool(name: str) -> str:
    path = BIN / name
    if not path.exists():
        pytest.fail(f"{name} is not installed in {BIN}: run `bash scripts/bootstrap.sh --test`")
    return str(path)


def test_import_contracts() -> None:
    """The layers and independences of pyproject.toml's [tool.importlinter] hold."""
    _run([_tool("lint-imports"), "--no-cache"])


def test_ruff() -> None:
    """ruff with the rule set of [tool.ruff] finds nothing in the repository."""
    _run([_tool("ruff"), "check", "--no-cache", "--output-format", "concise", "."])


def test_mypy() -> None:
    """mypy, strict on the pure packages, normal on the tool ([tool.mypy])."""
    _run([_tool("mypy"), "--no-incremental", "--cache-dir", "/dev/null"], timeout=900)


IGNORE = re.compile(r"#\s*type:\s*ignore(?P<rest>.*)$")
JUSTIFIED = re.compile(r"^\[[a-z0-9-]+(,\s*[a-z0-9-]+)*\]\s+#\s*\S")


def test_every_type_ignore_in_the_product_names_its_error_and_says_why() -> None:
    """``# type: ignore[code]  # why``: mypy reports unneeded ones (warn_unused_ignores); the reason is for people."""
    bare = []
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                found = IGNORE.search(line)
                if found and not JUSTIFIED.match(found.group("rest").strip()):
                    bare.append(f"{path.relative_to(REPO)}:{number}: {line.strip()}")
    assert not bare, f"{len(bare)} type: ignore without an error code and a reason:\n" + "\n".join(bare)
