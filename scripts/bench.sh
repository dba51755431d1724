#!/usr/bin/env bash
# Every benchmark with small-but-meaningful sizes (≤ 15 minutes on 2 cores): prints each figure and
# its ratio to a baseline measured in the same run, writes benchmarks/results/latest.json.
# Arguments go to benchmarks/run_all.py: --quick (does it still run?), --full (the issues' sizes),
# --only lrs delivery ...  See benchmarks/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${PYTHON:-}" ]; then
  if [ -x .venv/bin/python ]; then PYTHON=.venv/bin/python; else PYTHON=python3; fi
fi
exec "$PYTHON" -m benchmarks "$@"
