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

.PHONY: install manifest demo dev test bench bench-smoke lint validate clean image ci

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

# Two workers for the two cores (pytest-xdist; conftest.py keeps the tests of an expensive shared
# fixture on one worker): `make test PYTEST_WORKERS=0` runs in one process. The tests parse the
# dbt project themselves, once per run (conftest.py's pytest_configure).
PYTEST_WORKERS ?= 2
test: $(INSTALLED)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

# Slim CI of a pull request: builds and tests only the dbt nodes it changed and their children, in
# its own schemas (ANALYTICS_BRANCH=<PR>, e.g. pr_123_silver), deferring everything else to
# production's manifest (ANALYTICS_DBT_STATE_S3_PREFIX, published by `analytics-platform
# publish-manifest`); CI_ARGS='--state DIR' takes a local copy instead. `analytics-platform
# drop-branch-schemas` removes the branch's schemas when the pull request closes.
ci: $(INSTALLED)
	ANALYTICS_ENV=branch $(BIN)/analytics-platform ci $(CI_ARGS)

validate: $(MANIFEST)
	$(BIN)/dagster definitions validate -w workspace.yaml

# Benchmarks are not tests: `make bench` measures every row of the goal table at full scale
# (1M/10M/30M orders; ~45 min on 2 cores), writes benchmarks/results/<date>.json and the table in
# BENCHMARKS.md; BENCH_ARGS passes options, e.g. BENCH_ARGS='--only e2e --scale 100k:1,1m:1' or
# '--only load-time'. `make bench-smoke` runs every row at a tiny scale (one platform build reused;
# goal <= 90 s) to keep the harness working; `make test` runs only that
# (analytics_platform_tests/test_bench_smoke.py).
bench: $(MANIFEST)
	$(BIN)/python -m benchmarks.run $(BENCH_ARGS)

bench-smoke: $(MANIFEST)
	$(BIN)/python -m benchmarks.run --smoke $(BENCH_ARGS)

# Python (ruff) and SQL (sqlfluff, .sqlfluff): the dbt templater renders each model for the DuckDB
# target against an in-memory database, offline; it writes nothing under dbt_project/target.
lint: $(INSTALLED)
	$(BIN)/ruff check analytics_platform analytics_platform_tests benchmarks
	ANALYTICS_ENV=local ANALYTICS_DUCKDB_PATH=:memory: $(BIN)/sqlfluff lint dbt_project

# The deployment image (Dockerfile, docs/DEPLOY.md): `make image IMAGE=registry/analytics-platform:1.2
# WAREHOUSE=databricks`. Needs a Docker daemon; without one it says so and fails.
IMAGE ?= analytics-platform:latest
WAREHOUSE ?= redshift
image:
	@command -v docker > /dev/null || { echo "make image: the docker CLI is not installed: nothing was built (the Dockerfile's steps are \`make install\` and \`make manifest\`, which test_deploy_image.py runs)." >&2; exit 1; }
	@docker info > /dev/null 2>&1 || { echo "make image: no Docker daemon is reachable (docker info failed): nothing was built. Start one, or build on a machine that has one." >&2; exit 1; }
	docker build --build-arg ANALYTICS_WAREHOUSE=$(WAREHOUSE) -t $(IMAGE) .

clean:
	rm -rf .local dbt_project/target dbt_project/logs
