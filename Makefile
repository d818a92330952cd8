# Every target installs what it needs first: on a fresh clone `make demo` and `make test` are
# the only two commands a user needs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
MANIFEST := dbt_project/target/manifest.json
DBT_SOURCES := $(shell find dbt_project -name '*.sql' -o -name '*.yml' -o -name '*.csv' 2>/dev/null | grep -v '/target/')

export DO_NOT_TRACK := 1
export DAGSTER_DISABLE_TELEMETRY := 1

.PHONY: install manifest demo dev test bench bench-smoke lint validate clean

install: $(INSTALLED)

# requirements.lock pins every transitive package to the set CI was green with.
$(INSTALLED): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[dev]'
	touch $@

manifest: $(MANIFEST)

$(MANIFEST): $(INSTALLED) $(DBT_SOURCES)
	$(BIN)/analytics-platform prepare

demo: $(MANIFEST)
	$(BIN)/analytics-platform demo

# `make dev PORT=3001 S3_PORT=4567`; VERBOSE=1 turns the S3 access log and DEBUG logs on.
PORT ?= 3000
S3_PORT ?= 4566
dev: $(MANIFEST)
	$(BIN)/analytics-platform dev --port $(PORT) --s3-port $(S3_PORT)

test: $(MANIFEST)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

validate: $(MANIFEST)
	$(BIN)/dagster definitions validate -w workspace.yaml

# Benchmarks are not tests: `make bench` runs all six at full scale (~25 min on 2 cores), writes
# benchmarks/results/<date>.json and the table in BENCHMARKS.md; BENCH_ARGS passes options, e.g.
# BENCH_ARGS='--only e2e --keep-work'. `make bench-smoke` runs them at a tiny scale (~1 min) to
# keep the harness working; `make test` runs only that (analytics_platform_tests/test_bench_smoke.py).
bench: $(MANIFEST)
	$(BIN)/python -m benchmarks.run $(BENCH_ARGS)

bench-smoke: $(MANIFEST)
	$(BIN)/python -m benchmarks.run --smoke $(BENCH_ARGS)

# Python (ruff) and SQL (sqlfluff, .sqlfluff): the dbt templater renders each model for the DuckDB
# target against an in-memory database, offline; it writes nothing under dbt_project/target.
lint: $(INSTALLED)
	$(BIN)/ruff check analytics_platform analytics_platform_tests benchmarks
	ANALYTICS_ENV=local ANALYTICS_DUCKDB_PATH=:memory: $(BIN)/sqlfluff lint dbt_project

clean:
	rm -rf .local dbt_project/target dbt_project/logs
