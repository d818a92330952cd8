"""Jobs and schedules over the dbt graph; selective runs use asset selections instead (see README).

Every job below runs its dbt part as ONE `dbt build` (the one `dbt_models` op):
- `landing_to_gold`: ingestion and every dbt asset with its tests, except the docs site and dbt
  source freshness (its own hourly job, defs/quality). The incremental facts catch up the
  ordinary dbt way; launched with the run config `window_start` / `window_end`
  (lib/backfill_window.py) they rewrite exactly that event-time window instead.
- `dbt_incremental_daily`: the incremental facts and everything downstream; its nightly schedule
  passes yesterday's window (late rows of the day just closed). `analytics-platform backfill
  --start A --end B` launches it with any window: one run, one dbt invocation.
- `dbt_full_tests`: the facts' tests over the whole tables (a landing run tests only the rows it
  wrote: dbt_project/macros/incremental/test_scope.sql), with a daily schedule.
- `dbt_docs`: the docs site, with a daily schedule.
Schedules start stopped; turn them on in the UI (or set default_status) where a daemon runs.
"""

from datetime import datetime, timezone

import dagster as dg

from analytics_platform.defs.dbt.docs import DOCS_GROUP
from analytics_platform.defs.quality.source_freshness import SOURCE_FRESHNESS_CHECKS
from analytics_platform.lib.backfill_window import day_before, window_run_config

INCREMENTAL_FACTS = dg.AssetSelection.tag("materialized", "incremental")
DOCS = dg.AssetSelection.groups(DOCS_GROUP)


landing_to_gold_job = dg.define_asset_job(
    name="landing_to_gold",
    selection=dg.AssetSelection.all() - DOCS - SOURCE_FRESHNESS_CHECKS,
    description=(
        "Load every new landed file, then build and test every dbt model up to gold (one dbt "
        "invocation). Run config ops.dbt_models.config.window_start / window_end (UTC, "
        "half-open) backfills that event-time window of the incremental facts."
    ),
)


dbt_incremental_daily_job = dg.define_asset_job(
    name="dbt_incremental_daily",
    selection=(INCREMENTAL_FACTS.downstream() - DOCS).materializable(),
    description=(
        "Rebuild the incremental facts for a window of event time (run config "
        "ops.dbt_models.config.window_start / window_end, UTC, half-open; empty: catch up) and "
        "everything downstream of them, in one dbt invocation."
    ),
)

dbt_full_tests_job = dg.define_asset_job(
    name="dbt_full_tests",
    # Checks only, no asset: the dbt step then tests the whole tables (test_scope: full).
    selection=dg.AssetSelection.all_asset_checks() & INCREMENTAL_FACTS,
    description=(
        "Every test of the incremental facts over the whole tables (landing runs test only the "
        "rows they wrote)."
    ),
)

dbt_docs_job = dg.define_asset_job(
    name="dbt_docs",
    selection=DOCS,
    description="Generate the dbt docs site and publish it (local folder or S3 prefix).",
)


@dg.schedule(
    name="dbt_incremental_daily_schedule",
    job=dbt_incremental_daily_job,
    cron_schedule="0 2 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
)
def dbt_incremental_daily_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """Each night, yesterday (UTC) again: its late rows, in one window."""
    moment = context.scheduled_execution_time or datetime.now(timezone.utc)
    start, end = day_before(moment.astimezone(timezone.utc).replace(tzinfo=None))
    return dg.RunRequest(
        run_key=f"{start:%Y-%m-%d}", run_config=window_run_config(start, end),
        tags={"analytics/window": f"{start:%Y-%m-%d %H:%M}...{end:%Y-%m-%d %H:%M}"},
    )


dbt_full_tests_schedule = dg.ScheduleDefinition(
    name="dbt_full_tests_daily",
    job=dbt_full_tests_job,
    cron_schedule="0 4 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
)

dbt_docs_schedule = dg.ScheduleDefinition(
    name="dbt_docs_daily",
    job=dbt_docs_job,
    cron_schedule="0 6 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
)
