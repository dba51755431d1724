"""Run every benchmark, print its figures and their ratios to baselines measured in the same run.

Run from the repo root: ``bash scripts/bench.sh`` (= ``python -m benchmarks``) [--quick | --full] [--only lrs ...].

Default sizes are small but meaningful and finish in well under 15 minutes on the 2-core machine;
``--full`` passes the sizes the issues ask for (1,000,000 statements in the LRS and report
stores, 5,000 deliveries, 300 launches); ``--quick`` only checks that every benchmark still runs.

Each benchmark runs as its own process (``benchmarks/bench_<name>.py``) so one failing does not
stop the others and none shares a GIL or a warm cache with another. Writes
``benchmarks/results/latest.json`` (figures, ratios, command, seconds, load average) and
``benchmarks/results/latest.log`` (everything the benchmarks printed). Exits 1 if any failed.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if __package__ in (None, ""):
    sys.path.insert(0, str(REPO))

RESULTS = REPO / "benchmarks" / "results"


@dataclass(frozen=True)
class Benchmark:
    """One benchmark script and its arguments per mode (``--quick`` is added by the script itself)."""

    name: str
    measures: str
    default: tuple[str, ...]
    full: tuple[str, ...]

    @property
    def script(self) -> Path:
        return REPO / "benchmarks" / f"bench_{self.name}.py"


BENCHMARKS = (
    Benchmark("packages", "package builds (4 formats) next to zipfile alone",
              ("--repeat", "3"), ("--repeat", "3", "--lessons", "200", "--media-mb", "50")),
    Benchmark("lrs", "our LRS (SQLite, PostgreSQL) next to Ralph: POST statements/s; GET latency next to GET /about",
              ("--size", "200000", "--requests", "200"), ("--size", "1000000", "--requests", "200")),
    Benchmark("delivery", "validation next to json.loads; outbox delivery to Ralph next to straight httpx",
              ("--events", "1000", "--deliver", "3000", "--rounds", "7"), ("--events", "2000", "--deliver", "5000", "--rounds", "7")),
    Benchmark("reports", "completion report from the store next to the in-memory aggregation and next to Ralph",
              ("--statements", "200000", "--ralph-statements", "10000", "--pdfs", "10"),
              ("--statements", "1000000", "--ralph-statements", "20000", "--pdfs", "10")),
    Benchmark("lti", "LTI launches/s under gunicorn; id_token validation next to a bare RS256 verify",
              ("--count", "300", "--seconds", "60", "--repeat", "200"), ("--count", "300", "--seconds", "60", "--repeat", "200")),
)


def run_one(benchmark: Benchmark, mode: str, timeout: float, log: list[str]) -> dict[str, object]:
    """Run one benchmark in its own process group, echoing its output; its JSON result plus how it ran."""
    extra = {"quick": ("--quick",), "default": benchmark.default, "full": benchmark.full}[mode]
    with tempfile.TemporaryDirectory(prefix=f"bench-{benchmark.name}-") as tmp:
        out = Path(tmp) / "figures.json"
        command = [sys.executable, str(benchmark.script.relative_to(REPO)), *extra, "--json", str(out)]
        banner = f"== {benchmark.name}: {benchmark.measures}\n== $ {' '.join(command[1:-2])}"
        print(banner, flush=True)
        log.append(banner)
        load_before = os.getloadavg()[0]
        start = time.perf_counter()
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                   start_new_session=True)
        deadline = time.monotonic() + timeout
        timed_out = False
        assert process.stdout is not None
        def stop_on_deadline() -> None:
            nonlocal timed_out
            try:
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                timed_out = True
                _stop(process)

        watchdog = threading.Thread(target=stop_on_deadline, daemon=True)
        watchdog.start()
        for line in process.stdout:  # the scripts flush per line: figures appear as they are measured
            print(line, end="", flush=True)
            log.append(line.rstrip("\n"))
        returncode = process.wait()
        watchdog.join()
        seconds = time.perf_counter() - start
        result: dict[str, object] = {}
        if out.exists():
            result = json.loads(out.read_text(encoding="utf-8"))
    result.update(
        command=" ".join(["python", *command[1:-2]]),
        returncode=returncode,
        timed_out=timed_out,
        wall_seconds=round(seconds, 1),
        load_average_1min={"before": round(load_before, 2), "after": round(os.getloadavg()[0], 2)},
    )
    if returncode != 0 or "figures" not in result:
        why = f"timed out after {timeout:.0f} s" if timed_out else f"exited with {returncode}"
        message = f"!! {benchmark.name} {why}" + ("" if "figures" in result else " without writing its figures")
        print(message, flush=True)
        log.append(message)
    return result


def _stop(process: subprocess.Popen[str]) -> None:
    """SIGINT first (the scripts' ``finally`` blocks stop their servers), SIGKILL to the group if that is ignored."""
    try:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def summary(results: dict[str, dict[str, object]]) -> list[str]:
    """One line per ratio, the figure and its baseline beside it, then the failures."""
    lines = ["", "== summary: ratio = figure / baseline, both measured in this run"]
    for name, result in results.items():
        figures: dict[str, dict[str, object]] = result.get("figures", {})  # type: ignore[assignment]
        ratios: dict[str, dict[str, object]] = result.get("ratios", {})  # type: ignore[assignment]
        load = result["load_average_1min"]
        lines.append(f"{name} ({result['wall_seconds']} s, load {load['before']}→{load['after']}):")  # type: ignore[index]
        for ratio in ratios.values():
            of, to = figures[str(ratio["of"])], figures[str(ratio["to"])]
            lines.append(
                f"  {ratio['of']!s:40s} {of['value']:>10} {of['unit']:14s} / {ratio['to']!s:32s} {to['value']:>10}"
                f"  = {ratio['value']:>8}  ({ratio['better']} is better)"
            )
        alone = [key for key in figures if not any(key in (r["of"], r["to"]) for r in ratios.values())]
        for key in alone:
            lines.append(f"  {key:40s} {figures[key]['value']:>10} {figures[key]['unit']}")
        if result["returncode"] != 0 or not figures:
            lines.append(f"  FAILED: exit {result['returncode']}{' (timed out)' if result['timed_out'] else ''}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sizes = parser.add_mutually_exclusive_group()
    sizes.add_argument("--quick", action="store_true", help="tiny sizes: does everything still run? (not a measurement)")
    sizes.add_argument("--full", action="store_true", help="the sizes the issues ask for (about 20-30 minutes here)")
    parser.add_argument("--only", nargs="+", choices=[b.name for b in BENCHMARKS], help="run only these benchmarks")
    parser.add_argument("--results", type=Path, default=RESULTS, help="folder for latest.json and latest.log")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds before one benchmark is stopped")
    args = parser.parse_args(argv)
    mode = "quick" if args.quick else "full" if args.full else "default"
    chosen = [b for b in BENCHMARKS if not args.only or b.name in args.only]

    started = time.time()
    load_before = os.getloadavg()
    log: list[str] = []
    results = {b.name: run_one(b, mode, args.timeout, log) for b in chosen}
    lines = summary(results)
    failed = [name for name, r in results.items() if r["returncode"] != 0 or not r.get("figures")]
    lines.append(f"== {len(chosen) - len(failed)}/{len(chosen)} benchmarks ran in {time.time() - started:.0f} s "
                 f"({mode} sizes; {os.cpu_count()} cores; load average {load_before[0]:.1f} at start, {os.getloadavg()[0]:.1f} at end)"
                 + (f"; FAILED: {', '.join(failed)}" if failed else ""))
    print("\n".join(lines), flush=True)

    args.results.mkdir(parents=True, exist_ok=True)
    document = {
        "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "seconds": round(time.time() - started, 1),
        "mode": mode,
        "machine": {"cores": os.cpu_count(), "load_average_at_start": [round(x, 2) for x in load_before],
                    "load_average_at_end": [round(x, 2) for x in os.getloadavg()]},
        "failed": failed,
        "benchmarks": results,
    }
    (args.results / "latest.json").write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (args.results / "latest.log").write_text("\n".join(log + lines) + "\n", encoding="utf-8")
    print(f"written: {args.results / 'latest.json'}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
