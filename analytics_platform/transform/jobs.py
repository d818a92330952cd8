"""Jobs and schedules over the dbt graph; selective runs use asset selections instead (see README).

- `landing_to_gold`: every materializable asset except the docs site.
- `dbt_docs`: the docs site, with a daily schedule (stopped by default; turn it on in the UI, or
  set default_status, where a daemon runs).
"""

import dagster as dg

from analytics_platform.transform.docs import DOCS_GROUP

DOCS = dg.AssetSelection.groups(DOCS_GROUP)

landing_to_gold_job = dg.define_asset_job(
    name="landing_to_gold",
    selection=dg.AssetSelection.all() - DOCS,
    description="Load every new landed file, then build and test every dbt model up to gold.",
)

dbt_docs_job = dg.define_asset_job(
    name="dbt_docs",
    selection=DOCS,
    description="Generate the dbt docs site and publish it (local folder or S3 prefix).",
)

dbt_docs_schedule = dg.ScheduleDefinition(
    name="dbt_docs_daily",
    job=dbt_docs_job,
    cron_schedule="0 6 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
)
