"""The one output format every benchmark shares, so ``run_all`` and the smoke test can read them.

Each benchmark keeps its own human-readable lines and ends with a block of

    FIGURE <key> = <value> <unit>
    RATIO <key>/<baseline key> = <value>

lines. A figure is one measured number; a ratio divides a figure by its baseline, another
figure measured in the same run on the same machine (a floor such as ``zipfile`` alone, or a
reference such as Ralph), so the ratio stays meaningful when the machine's load changes the
absolute figures. With ``--json PATH`` the same block is also written as JSON.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

FIGURE_LINE = re.compile(r"^FIGURE (?P<key>\S+) = (?P<value>\S+) (?P<unit>.+)$")
RATIO_LINE = re.compile(r"^RATIO (?P<key>\S+)/(?P<baseline>\S+) = (?P<value>\S+)$")


class BenchmarkError(RuntimeError):
    """A benchmark produced a figure that cannot be a measurement (zero, negative, NaN or missing)."""


@dataclass
class Figures:
    """The figures of one benchmark run, in the order they were measured."""

    benchmark: str
    figures: dict[str, dict[str, object]] = field(default_factory=dict)
    ratios: dict[str, dict[str, object]] = field(default_factory=dict)
    started: float = field(default_factory=time.time)
    load_before: float = field(default_factory=lambda: os.getloadavg()[0])

    def add(self, key: str, value: float, unit: str, *, better: str = "higher", baseline: str | None = None) -> None:
        """Record figure ``key``; with ``baseline`` (the key of a figure already added) also its ratio to it."""
        if better not in ("higher", "lower"):
            raise ValueError(f"better must be 'higher' or 'lower', not {better!r}")
        if not isinstance(value, int | float) or math.isnan(value) or value <= 0:
            raise BenchmarkError(f"{self.benchmark}: figure {key} = {value!r} is not a positive measurement")
        self.figures[key] = {"value": _round(value), "unit": unit, "better": better}
        if baseline is not None:
            self.ratio(key, baseline)

    def ratio(self, key: str, baseline: str) -> float:
        """Record ``key / baseline`` (both figures of this run, same unit) and return it."""
        try:
            numerator, denominator = self.figures[key], self.figures[baseline]
        except KeyError as missing:
            raise BenchmarkError(f"{self.benchmark}: ratio {key}/{baseline} needs figure {missing} first") from None
        if numerator["unit"] != denominator["unit"]:
            raise BenchmarkError(f"{self.benchmark}: {key} is in {numerator['unit']}, {baseline} in {denominator['unit']}")
        value = float(numerator["value"]) / float(denominator["value"])  # type: ignore[arg-type]
        self.ratios[f"{key}/{baseline}"] = {"value": _round(value), "of": key, "to": baseline, "better": numerator["better"]}
        return value

    def as_dict(self) -> dict[str, object]:
        return {
            "benchmark": self.benchmark,
            "argv": sys.argv[1:],
            "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.started)),
            "seconds": round(time.time() - self.started, 1),
            "cores": os.cpu_count(),
            "load_average_1min": {"before": round(self.load_before, 2), "after": round(os.getloadavg()[0], 2)},
            "figures": self.figures,
            "ratios": self.ratios,
        }

    def emit(self, json_path: str | Path | None = None) -> None:
        """Print the FIGURE/RATIO block (and write it as JSON to ``json_path`` if given)."""
        print(f"-- figures ({self.benchmark}; {os.cpu_count()} cores, load average {self.load_before:.1f} before, "
              f"{os.getloadavg()[0]:.1f} after) --")
        for key, figure in self.figures.items():
            print(f"FIGURE {key} = {figure['value']} {figure['unit']}")
        for key, ratio in self.ratios.items():
            print(f"RATIO {key} = {ratio['value']}")
        sys.stdout.flush()
        if json_path is not None:
            Path(json_path).write_text(json.dumps(self.as_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def parse(output: str) -> tuple[dict[str, tuple[float, str]], dict[str, float]]:
    """The (figures, ratios) printed in ``output``: ``{key: (value, unit)}`` and ``{"key/baseline": value}``."""
    figures: dict[str, tuple[float, str]] = {}
    ratios: dict[str, float] = {}
    for line in output.splitlines():
        if match := FIGURE_LINE.match(line):
            figures[match["key"]] = (float(match["value"]), match["unit"])
        elif match := RATIO_LINE.match(line):
            ratios[f"{match['key']}/{match['baseline']}"] = float(match["value"])
    return figures, ratios


def _round(value: float) -> float:
    """Four significant digits: more would be noise on a shared machine."""
    if value == 0 or not math.isfinite(value):
        return value
    return float(f"{value:.4g}")


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks the benchmark still runs (smoke test), not a measurement")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON to PATH")
