"""The event-time window of a backfill: run config of the dbt step, passed to dbt as vars.

A run of the dbt assets may carry `window_start` / `window_end` (half-open [start, end), UTC,
'YYYY-MM-DD' or 'YYYY-MM-DD HH:MM'): each incremental fact then rewrites the whole periods of
its grain that the window touches (dbt_project/macros/incremental/scope.sql), in the run's one dbt
invocation: the hourly game facts the window's hours, the daily facts the whole days those hours
fall in (they replace a day at a time, so rewriting part of a day would drop the rest of it).
Without a window a run is the ordinary incremental catch-up.

The UI launchpad shows the two fields (ops > dbt_models > config); `analytics-platform backfill`
and the daily schedule fill them in.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import dagster as dg
from pydantic import Field

DBT_WINDOW_FORMAT = "%Y-%m-%d %H:%M:%S"
"""What the dbt vars carry (macros/incremental/window.sql casts it to a timestamp)."""
ACCEPTED_FORMATS = ("%Y-%m-%d", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M")
DBT_OP = "dbt_models"
"""The op of the dbt assets, whose config holds the window (run config `ops.dbt_models.config`)."""


class BackfillWindowError(ValueError):
    """A window that cannot be run: a message naming what to fix."""


def parse_window_bound(name: str, value: str) -> datetime:
    text = value.strip()
    for pattern in ACCEPTED_FORMATS:
        try:
            return datetime.strptime(text, pattern)
        except ValueError:
            continue
    raise BackfillWindowError(
        f"{name}={value!r} is not a UTC date or hour: write 'YYYY-MM-DD' (midnight) or "
        "'YYYY-MM-DD HH:MM'."
    )


def backfill_window(start: str | None, end: str | None) -> tuple[datetime, datetime] | None:
    """[start, end) parsed and checked, or None when neither is set (the catch-up run)."""
    if start is None and end is None:
        return None
    if start is None or end is None:
        raise BackfillWindowError(
            "Set both window_start and window_end (half-open [start, end), UTC), or neither for "
            f"an ordinary incremental run; got window_start={start!r}, window_end={end!r}."
        )
    first, last = parse_window_bound("window_start", start), parse_window_bound("window_end", end)
    if first >= last:
        raise BackfillWindowError(
            f"window_start ({first:%Y-%m-%d %H:%M}) must be before window_end "
            f"({last:%Y-%m-%d %H:%M}): the window is half-open, [start, end); one day is "
            "window_start=D, window_end=D+1."
        )
    return first, last


def backfill_window_or_exit(start: str, end: str) -> tuple[datetime, datetime]:
    """For a command line: the window, or exit with the message (no traceback)."""
    try:
        return backfill_window(start, end)
    except BackfillWindowError as error:
        raise SystemExit(f"backfill --start/--end: {error}") from None


def dbt_window_vars(start: datetime, end: datetime) -> dict[str, str]:
    """The dbt vars for the half-open event-time window [start, end)."""
    return {"window_start": start.strftime(DBT_WINDOW_FORMAT), "window_end": end.strftime(DBT_WINDOW_FORMAT)}


class DbtBuildConfig(dg.Config):
    """Run config of the dbt step (the UI launchpad's form for a backfill)."""

    window_start: str | None = Field(
        default=None,
        description="Backfill window start, UTC, inclusive: 'YYYY-MM-DD' or 'YYYY-MM-DD HH:MM'. "
        "Leave both empty for the ordinary incremental run (what is new, plus the lookback).",
    )
    window_end: str | None = Field(
        default=None,
        description="Backfill window end, UTC, exclusive: 'YYYY-MM-DD' or 'YYYY-MM-DD HH:MM'.",
    )

    def window(self) -> tuple[datetime, datetime] | None:
        return backfill_window(self.window_start, self.window_end)


def window_run_config(start: datetime, end: datetime) -> dict:
    """Run config that sets the backfill window of the dbt step (for a job or a schedule)."""
    return {"ops": {DBT_OP: {"config": {
        "window_start": start.strftime("%Y-%m-%d %H:%M"), "window_end": end.strftime("%Y-%m-%d %H:%M"),
    }}}}


def day_before(moment: datetime) -> tuple[datetime, datetime]:
    """The whole UTC day before `moment`'s day: what a nightly run rebuilds."""
    midnight = datetime(moment.year, moment.month, moment.day)
    return midnight - timedelta(days=1), midnight
