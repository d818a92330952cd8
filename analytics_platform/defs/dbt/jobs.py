"""Jobs and schedules over the dbt graph; selective runs use asset selections instead (see README).

- `landing_to_gold`: every materializable asset except the docs site, no partition. The daily
  partitioned incremental facts are in it too: Dagster runs unpartitioned assets and assets of
  one partitions definition in one job, and a run without a partition builds the facts the
  ordinary dbt incremental way (dbt_project/macros/incremental/scope.sql). Launched with a partition
  (key or range), the facts are rebuilt for those days and everything else as usual.
- `dbt_incremental_daily`: the incremental facts and everything downstream, partitioned by day;
  its schedule rebuilds yesterday each night (late rows of the day just closed).
- `dbt_docs`: the docs site, with a daily schedule.
Schedules start stopped; turn them on in the UI (or set default_status) where a daemon runs.
"""

import dagster as dg

from analytics_platform.defs.dbt.docs import DOCS_GROUP

INCREMENTAL_FACTS = dg.AssetSelection.tag("materialized", "incremental")
DOCS = dg.AssetSelection.groups(DOCS_GROUP)

landing_to_gold_job = dg.define_asset_job(
    name="landing_to_gold",
    selection=dg.AssetSelection.all() - DOCS,
    description="Load every new landed file, then build and test every dbt model up to gold.",
)

dbt_incremental_daily_job = dg.define_asset_job(
    name="dbt_incremental_daily",
    selection=(INCREMENTAL_FACTS.downstream() - DOCS).materializable(),
    description=(
        "Rebuild the incremental facts for the selected days (one dbt run for a range) and "
        "everything downstream of them."
    ),
)

dbt_docs_job = dg.define_asset_job(
    name="dbt_docs",
    selection=DOCS,
    description="Generate the dbt docs site and publish it (local folder or S3 prefix).",
)

dbt_incremental_daily_schedule = dg.build_schedule_from_partitioned_job(
    dbt_incremental_daily_job,
    hour_of_day=2,
    default_status=dg.DefaultScheduleStatus.STOPPED,
    name="dbt_incremental_daily_schedule",
)

dbt_docs_schedule = dg.ScheduleDefinition(
    name="dbt_docs_daily",
    job=dbt_docs_job,
    cron_schedule="0 6 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
)
