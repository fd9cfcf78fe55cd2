# stabfix: `make demo` and `make test` are the README's quick start; `make test-all` adds the
# corpus, oracle and slow suites (sdists from PyPI, Prisma's engine from npm, PostgreSQL).
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_VENV ?= .venv-demo
PYTEST_ARGS ?=
#: what `make test` leaves to `make test-all`
FAST_TESTS := -m "not corpus and not slow and not oracle"

.PHONY: setup demo test test-all lint docs services bench clean

$(BIN)/.installed: pyproject.toml requirements-test.txt
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements-test.txt
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps -e .
	touch $@

setup: $(BIN)/.installed

# the demo needs only stabfix itself: a plain `pip install .`, as a user would, in its own venv
$(DEMO_VENV)/.installed: pyproject.toml $(shell find src templates -type f -not -path '*/__pycache__/*' 2>/dev/null)
	$(PY) -m venv $(DEMO_VENV)
	$(DEMO_VENV)/bin/python -m pip install -q --disable-pip-version-check .
	touch $@

demo: $(DEMO_VENV)/.installed
	$(DEMO_VENV)/bin/stabfix demo

services:
	bash scripts/setup-services.sh

test: setup
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m pytest -n 2 $(FAST_TESTS) $(PYTEST_ARGS)

test-all: setup services
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check src tests scripts
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

docs: setup
	$(BIN)/python scripts/gen_docs.py

# one table: every benchmarks/bench_*.py (whole processes, alternating A/B pairs, median ratios);
# what this clone lacks (../shared, a failed download) is a "skipped" row. BENCH_ARGS: --pairs N --only x,y
BENCH_ARGS ?=
bench: setup
	$(BIN)/python benchmarks/run_all.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(DEMO_VENV) build dist .cache
