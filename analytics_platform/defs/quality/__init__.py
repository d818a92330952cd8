"""Quality: freshness policies by layer, and dbt source freshness as asset checks in a job of
their own with an hourly schedule. (dbt tests become asset checks with their models, in defs/dbt.)"""

from collections.abc import Mapping
from typing import Any

import dagster as dg

from analytics_platform.defs.quality.alerts import alert_sensors
from analytics_platform.defs.quality.source_freshness import (
    SOURCE_FRESHNESS_CHECKS,
    build_source_freshness_checks,
    has_source_freshness,
)
from analytics_platform.lib.dbt_project import dbt_project_for
from analytics_platform.settings import Settings

source_freshness_job = dg.define_asset_job(
    name="source_freshness",
    selection=SOURCE_FRESHNESS_CHECKS,
    description="`dbt source freshness` of every landed source that declares one, as asset checks.",
)

source_freshness_schedule = dg.ScheduleDefinition(
    name="source_freshness_hourly",
    job=source_freshness_job,
    cron_schedule="15 * * * *",
    execution_timezone="UTC",
    # Like every schedule here: turned on where a daemon runs (the UI, or default_status).
    default_status=dg.DefaultScheduleStatus.STOPPED,
)


def quality_definitions(settings: Settings, manifest: Mapping[str, Any]) -> dg.Definitions:
    project = dbt_project_for(settings)
    if not has_source_freshness(manifest, project):  # a job over no checks cannot run
        return dg.Definitions(sensors=alert_sensors(settings))
    return dg.Definitions(
        asset_checks=[build_source_freshness_checks(manifest, project)],
        jobs=[source_freshness_job],
        schedules=[source_freshness_schedule],
        sensors=alert_sensors(settings),  # failed runs and failing blocking checks (alerts.py)
    )
