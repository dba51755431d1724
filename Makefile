# The two commands a newcomer needs (see README.md).
.PHONY: run test bench

# Install, then run the main job on embedded defaults (SQLite file in var/, built-in keys).
run:
	bash scripts/bootstrap.sh
	bash scripts/run.sh

# Install what the tests need (Python packages, npm packages, chromium, PostgreSQL binaries) and run them all.
test:
	bash scripts/bootstrap.sh --test
	.venv/bin/python -m pytest $(PYTEST_ARGS)

bench:
	bash scripts/bootstrap.sh --test
	bash scripts/bench.sh
