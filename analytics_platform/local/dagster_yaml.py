"""The Dagster instance config `analytics-platform` writes to `$DAGSTER_HOME/dagster.yaml` locally
(`make demo`, `make dev`, the CLI): a module of its own so tests and benchmarks write the same file
without importing the CLI. The production instance is deploy/dagster.yaml.
"""

DAGSTER_YAML = """\
# Written by `analytics-platform`; edit freely, it is not overwritten.
# One op at a time per pool: every warehouse writer is in the `warehouse` pool, so a sensor run
# and a manual run queue instead of failing on DuckDB's file lock.
concurrency:
  pools:
    default_limit: 1
# Dagster's SQLite event log without an fsync per event (analytics_platform/local/instance.py).
event_log_storage:
  module: analytics_platform.local.instance
  class: LocalSqliteEventLogStorage
  config:
    dagster_home:
      env: DAGSTER_HOME
# Dead runs: a run whose worker process died (SIGKILL, the OOM killer) would otherwise stay
# STARTED and hold its `warehouse` pool slot forever. The launcher below checks each started
# run's worker pid (analytics_platform/local/instance.py), run monitoring marks a dead one failed
# within a poll interval, and its pool slots are freed a few seconds after it ends.
run_launcher:
  module: analytics_platform.local.instance
  class: LocalRunLauncher
run_monitoring:
  enabled: true
  poll_interval_seconds: 10
  start_timeout_seconds: 300
  max_resume_run_attempts: 0
  free_slots_after_run_end_seconds: 5
# A failed run is re-launched from its failure (up to twice), so landed files do not wait for a
# new file to trigger the sensor again; a job opts out with the tag dagster/max_retries: 0.
run_retries:
  enabled: true
  max_retries: 2
# Run logs on the terminal of `make dev` / `dg launch` at INFO: DEBUG adds a line per step
# event (hundreds per dbt build). DEBUG here brings them back.
python_logs:
  python_log_level: INFO
telemetry:
  enabled: false
"""
