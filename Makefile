# The two commands a newcomer needs (see README.md), and the structure checks alone.
.PHONY: run test check bench

# Install, then run the main job on embedded defaults (SQLite file in var/, built-in keys).
run:
	bash scripts/bootstrap.sh
	bash scripts/run.sh

# Install what the tests need (Python packages, npm packages, chromium, PostgreSQL binaries) and run them all,
# including the structure checks of tests/test_code_checks.py (import-linter, ruff, mypy).
test:
	bash scripts/bootstrap.sh --test
	.venv/bin/python -m pytest $(PYTEST_ARGS)

# Only the structure checks (seconds): the import contracts, ruff and mypy (docs/architecture.md).
check:
	bash scripts/bootstrap.sh --test
	.venv/bin/python -m pytest -q tests/test_code_checks.py

bench:
	bash scripts/bootstrap.sh --test
	bash scripts/bench.sh
