"""dbt-duckdb plugin: dbt's DuckDB statements report the rows they wrote (`rows_affected`).

dbt-duckdb 1.11 answers every statement with `AdapterResponse("OK")`
(`DuckDBConnectionManager.get_response`), so a table's `rows_affected` stays empty, although
DuckDB's cursor has it: `rowcount` is the rows a CREATE TABLE AS, INSERT, UPDATE or DELETE wrote,
and -1 for anything else (a SELECT, DDL); reading it fetches nothing. With this plugin the
response carries it, as dbt-postgres' and dbt-redshift's do, so every engine reports a table's
rows the same way: the post-hook `report_rows_affected()` (dbt_project/macros/rows_affected.sql)
logs them while dbt runs, and the Dagster asset puts them on the model's materialization as dbt
reports it (defs/dbt/assets.py).

dbt-duckdb loads it from the profile (dbt_project/profiles.yml, `plugins:`) in dbt's own
process; the module imports dbt only, never Dagster, so dbt starts as fast as without it.
"""

from typing import Any

from dbt.adapters.contracts.connection import AdapterResponse
from dbt.adapters.duckdb.connections import DuckDBConnectionManager
from dbt.adapters.duckdb.plugins import BasePlugin


def response_with_rows_affected(cls, cursor) -> AdapterResponse:
    rows = getattr(cursor, "rowcount", -1)
    return AdapterResponse(_message="OK", rows_affected=rows if isinstance(rows, int) and rows >= 0 else None)


class Plugin(BasePlugin):
    def initialize(self, plugin_config: dict[str, Any]) -> None:
        DuckDBConnectionManager.get_response = classmethod(response_with_rows_affected)  # type: ignore[method-assign]
