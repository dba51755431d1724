"""The benchmarks still run: each at its ``--quick`` size, printing every figure it promises.

Only presence and sign are checked, never speed (the machine is shared; speed lives in
benchmarks/README.md). Each ratio must be its figure divided by its baseline, both printed.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.figures import BenchmarkError, Figures, parse

REPO = Path(__file__).resolve().parents[1]
FORMATS = ("scorm12", "scorm2004", "cmi5", "xapi")
GETS = ("about", "no_filter", "verb", "activity", "agent", "registration", "related_activities", "verb_since")

EXPECTED: dict[str, tuple[set[str], set[str]]] = {
    "packages": (
        {"zipfile_floor", "zipfile_deflate_all", "player.raw", "player.gzipped", *(f"{f}.build" for f in FORMATS)},
        {"zipfile_deflate_all/zipfile_floor", "player.gzipped/player.raw", *(f"{f}.build/zipfile_floor" for f in FORMATS)},
    ),
    "lrs": (
        {"ralph.post_batch_1", "ralph.post_batch_100",
         *(f"{db}.post_batch_{n}" for db in ("sqlite", "postgresql") for n in (1, 100)),
         *(f"{db}.get_{q}_{p}" for db in ("sqlite", "postgresql") for q in GETS for p in ("p50", "p99"))},
        {*(f"{db}.post_batch_{n}/ralph.post_batch_{n}" for db in ("sqlite", "postgresql") for n in (1, 100)),
         *(f"{db}.get_{q}_p50/{db}.get_about_p50" for db in ("sqlite", "postgresql") for q in GETS if q != "about")},
    ),
    "delivery": (
        {"json_loads", "validation", "sqlite.build_validate_enqueue", "postgresql.build_validate_enqueue",
         "sqlite.httpx_to_ralph", "sqlite.outbox_to_ralph", "sqlite.post_ms_per_batch", "sqlite.bookkeeping_ms_per_batch",
         "sqlite.post_us_per_statement", "sqlite.enqueue_us_per_statement"},
        {"validation/json_loads", "sqlite.outbox_to_ralph/sqlite.httpx_to_ralph",
         "sqlite.bookkeeping_ms_per_batch/sqlite.post_ms_per_batch",
         "sqlite.enqueue_us_per_statement/sqlite.post_us_per_statement"},
    ),
    "reports": (
        {"in_memory.report", "sqlite.report", "postgresql.report", "ralph.report", "pdf_per_certificate"},
        {"sqlite.report/in_memory.report", "postgresql.report/in_memory.report", "ralph.report/sqlite.report",
         "ralph.report/postgresql.report"},
    ),
    "lti": (
        {"launches", "launch_p50", "launch_p99", "tool_share_p50", "tool_share_p99", "rs256_verify", "pyjwt_decode",
         "id_token_validation"},
        {"id_token_validation/rs256_verify", "pyjwt_decode/rs256_verify", "tool_share_p50/launch_p50"},
    ),
}

NEEDS_SERVERS = [pytest.mark.ralph, pytest.mark.postgres]


def run_quick(*command: str) -> str:
    done = subprocess.run([sys.executable, *command], cwd=REPO, capture_output=True, text=True, timeout=540, check=False)
    assert done.returncode == 0, f"{' '.join(command)} exited {done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def assert_complete(name: str, figures: dict[str, tuple[float, str]], ratios: dict[str, float]) -> None:
    want_figures, want_ratios = EXPECTED[name]
    assert want_figures <= figures.keys(), f"{name} did not print {sorted(want_figures - figures.keys())}"
    assert want_ratios <= ratios.keys(), f"{name} did not print ratios {sorted(want_ratios - ratios.keys())}"
    for key, (value, unit) in figures.items():
        assert value > 0 and math.isfinite(value), f"{name}: {key} = {value} {unit}"
    for key, value in ratios.items():
        of, to = key.split("/")
        assert value == pytest.approx(figures[of][0] / figures[to][0], rel=0.01), f"{name}: ratio {key} is not {of} / {to}"


@pytest.mark.parametrize(
    "name",
    [pytest.param("packages"), *(pytest.param(n, marks=NEEDS_SERVERS) for n in ("lrs", "delivery", "reports")), pytest.param("lti")],
)
def test_each_benchmark_prints_every_figure_positive_at_its_quick_size(name: str) -> None:
    output = run_quick(f"benchmarks/bench_{name}.py", "--quick")
    figures, ratios = parse(output)
    assert_complete(name, figures, ratios)


def test_run_all_prints_the_summary_and_writes_latest_json(tmp_path: Path) -> None:
    output = run_quick("-m", "benchmarks", "--quick", "--only", "packages", "--results", str(tmp_path))
    assert "== 1/1 benchmarks ran" in output
    assert "scorm12.build" in output.split("== summary")[1]
    document = json.loads((tmp_path / "latest.json").read_text(encoding="utf-8"))
    assert document["failed"] == [] and document["mode"] == "quick"
    packages = document["benchmarks"]["packages"]
    assert packages["returncode"] == 0
    figures = {key: (f["value"], f["unit"]) for key, f in packages["figures"].items()}
    ratios = {key: r["value"] for key, r in packages["ratios"].items()}
    assert_complete("packages", figures, ratios)
    assert (tmp_path / "latest.log").read_text(encoding="utf-8").count("FIGURE ") == len(figures)


@pytest.mark.parametrize("value", [0, -1.5, float("nan")])
def test_a_figure_that_is_not_a_positive_measurement_is_refused(value: float) -> None:
    figures = Figures("smoke")
    with pytest.raises(BenchmarkError, match="not a positive measurement"):
        figures.add("rate", value, "statements/s")


def test_a_ratio_between_figures_in_different_units_is_refused() -> None:
    figures = Figures("smoke")
    figures.add("floor", 2.0, "s", better="lower")
    figures.add("rate", 10.0, "statements/s")
    with pytest.raises(BenchmarkError, match="statements/s"):
        figures.ratio("rate", "floor")
    assert figures.ratio("floor", "floor") == 1.0
