"""``python -m benchmarks``: every benchmark, its figures and their ratios to baselines (see run_all.py)."""

import sys

from benchmarks.run_all import main

sys.exit(main())
