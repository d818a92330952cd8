"""Daily partitions of the incremental dbt facts (silver_orders, silver_reviews).

A partition is one UTC day of event time (order / review `created_at`). A run over partitions
[first, last] passes dbt the half-open window [first 00:00, last + 1 day 00:00) as the vars
`window_start` / `window_end` (dbt_project/macros/incremental.sql), in one dbt invocation
(single-run backfill policy).

The first partition defaults to 2026-10-01, the first day of the sample data
(`SampleSpec().start`); set ANALYTICS_PARTITIONS_START_DATE (YYYY-MM-DD) to the first day of
real data in a deployment. Changing it only adds or removes partitions, it moves no data.
"""

from __future__ import annotations

import os
from datetime import date, datetime

import dagster as dg

PARTITIONS_START_DATE_ENV = "ANALYTICS_PARTITIONS_START_DATE"
DEFAULT_PARTITIONS_START_DATE = "2026-10-01"
WINDOW_FORMAT = "%Y-%m-%d %H:%M:%S"


def partitions_start_date(environ: dict[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    value = (env.get(PARTITIONS_START_DATE_ENV) or DEFAULT_PARTITIONS_START_DATE).strip()
    try:
        date.fromisoformat(value)
    except ValueError as error:
        raise ValueError(f"{PARTITIONS_START_DATE_ENV} must be a date (YYYY-MM-DD), got {value!r}") from error
    return value


def daily_partitions(environ: dict[str, str] | None = None) -> dg.DailyPartitionsDefinition:
    # UTC, like every timestamp in the warehouse; the newest partition is yesterday (a day is
    # complete once it is over); the sensor-driven runs cover today as files land.
    return dg.DailyPartitionsDefinition(start_date=partitions_start_date(environ), timezone="UTC")


def dbt_window_vars(start: datetime, end: datetime) -> dict[str, str]:
    """The dbt vars for the half-open event-time window [start, end)."""
    return {"window_start": start.strftime(WINDOW_FORMAT), "window_end": end.strftime(WINDOW_FORMAT)}
