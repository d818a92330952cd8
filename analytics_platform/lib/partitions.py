"""Daily partitions of the incremental dbt facts (silver_orders, silver_reviews).

A partition is one UTC day of event time (order / review `created_at`). A run over partitions
[first, last] passes dbt the half-open window [first 00:00, last + 1 day 00:00) as the vars
`window_start` / `window_end` (dbt_project/macros/incremental/window.sql), in one dbt invocation
(single-run backfill policy).

The first partition is `Settings.partitions_start_date` (ANALYTICS_PARTITIONS_START_DATE,
default 2026-10-01, the first day of the sample data): set it to the first day of real data in a
deployment. Changing it only adds or removes partitions, it moves no data.
"""

from __future__ import annotations

from datetime import datetime

import dagster as dg

WINDOW_FORMAT = "%Y-%m-%d %H:%M:%S"


def daily_partitions(start_date: str) -> dg.DailyPartitionsDefinition:
    # UTC, like every timestamp in the warehouse; the newest partition is yesterday (a day is
    # complete once it is over); the sensor-driven runs cover today as files land.
    return dg.DailyPartitionsDefinition(start_date=start_date, timezone="UTC")


def dbt_window_vars(start: datetime, end: datetime) -> dict[str, str]:
    """The dbt vars for the half-open event-time window [start, end)."""
    return {"window_start": start.strftime(WINDOW_FORMAT), "window_end": end.strftime(WINDOW_FORMAT)}
