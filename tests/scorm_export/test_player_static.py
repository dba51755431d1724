"""Static properties of the player files the packager copies into every package (scorm_export/player/)."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

from tests.support.node import run_node_code

REPO = Path(__file__).resolve().parents[2]
PLAYER = REPO / "scorm_export" / "player"
BUDGET_GZIP = 40 * 1024


def player_files() -> list[Path]:
    return sorted(p for p in PLAYER.iterdir() if p.is_file())


def test_the_player_is_smaller_than_40_kb_gzipped() -> None:
    sizes = {p.name: len(gzip.compress(p.read_bytes(), 9)) for p in player_files()}
    assert sum(sizes.values()) < BUDGET_GZIP, sizes


def test_no_content_is_evaluated_as_script_and_only_html_fields_reach_inner_html() -> None:
    for path in player_files():
        if path.suffix != ".js":
            continue
        code = path.read_text(encoding="utf-8")
        assert not re.search(r"\beval\s*\(|new\s+Function\b|document\.write|insertAdjacentHTML|outerHTML\s*=", code), path.name
        assignments = re.findall(r"innerHTML\s*=\s*([^;]+);", code)
        assert all(re.match(r"entry\.block\.html\[", rhs) for rhs in assignments), (path.name, assignments)
        assert not re.search(r"setTimeout\(\s*['\"]", code), path.name


def test_nothing_is_fetched_from_another_origin_no_cdn_and_no_web_fonts() -> None:
    html = (PLAYER / "index.html").read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["'](https?:)?//""", html)
    css = (PLAYER / "player.css").read_text(encoding="utf-8")
    assert "@import" not in css and "@font-face" not in css and "url(" not in css
    for path in player_files():
        if path.suffix == ".js":
            # Only IRIs used as identifiers in statements, never as something to load.
            for url in re.findall(r"https?://[^\s\"')]+", path.read_text(encoding="utf-8")):
                assert re.match(r"https?://(adlnet\.gov|w3id\.org|smeb\.no|activitystrea\.ms)/", url), (path.name, url)


def test_every_interface_string_exists_in_bokmal_and_english() -> None:
    script = f"const s = require({json.dumps(str(PLAYER / 'i18n.js'))}).SMEB.strings; process.stdout.write(JSON.stringify(s));"
    strings = run_node_code(script)
    assert set(strings) == {"nb", "en"}
    assert set(strings["nb"]) == set(strings["en"])
    assert all(value.strip() for lang in strings.values() for value in lang.values())
    used = set(re.findall(r"""\bt\(\s*"([A-Za-z0-9_]+)"\s*[,)]""", (PLAYER / "player.js").read_text(encoding="utf-8")))
    assert len(used) > 40
    assert used <= set(strings["nb"]), used - set(strings["nb"])


def test_every_runtime_the_player_can_load_ships_with_it() -> None:
    code = (PLAYER / "player.js").read_text(encoding="utf-8")
    table = re.search(r"var RUNTIMES = (\{.*?\});", code, re.DOTALL)
    assert table is not None
    files = set(re.findall(r'"([a-z0-9-]+\.js)"', table.group(1)))
    assert {
        "runtime-scorm12.js",
        "runtime-scorm2004.js",
        "runtime-cmi5.js",
        "runtime-xapi.js",
        "runtime-lti.js",
        "runtime-standalone.js",
    } <= files
    assert all((PLAYER / name).is_file() for name in files)
    html = (PLAYER / "index.html").read_text(encoding="utf-8")
    assert html.startswith("<!doctype html>") and '<html lang="nb">' in html and 'name="viewport"' in html


def test_the_end_screen_does_not_tell_the_learner_to_close_a_window_the_lms_may_show_the_course_in() -> None:
    # Moodle's "Current window" shows the course inside its own page: "close the window" would close Moodle.
    text = (PLAYER / "i18n.js").read_text(encoding="utf-8")
    exited = re.findall(r'^\s*(exited|exitedHint): "([^"]*)"', text, re.M)
    assert len(exited) == 4, exited
    assert not [v for _, v in exited if re.search(r"lukk\w* vinduet|close the window", v, re.I)]
    assert "closeWindow" in text, "a pop-up window gets a close button instead"
