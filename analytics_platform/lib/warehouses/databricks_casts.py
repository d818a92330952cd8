"""Lossless casts of landed values to their declared types, in Databricks (Spark) SQL: the rules of
duckdb_casts.py (docs/CONTRACTS.md) for the typed SELECT of a `COPY INTO`.

The same rules, spelled for Spark: a required column that is empty, text that does not parse as
the type, or a number that would be rounded fails the COPY with `raise_error(...)` naming the
column and the value (Spark readers do not number rows, so the row is not named). `try_cast`
and `try_to_timestamp` return NULL instead of failing whatever the session's ANSI mode, so the
checks behave the same on a SQL warehouse (ANSI on) and a cluster (ANSI off). The session runs
in UTC (`SET TIME ZONE 'UTC'`): naive timestamps are UTC, offsets in the text are honoured.
"""

from __future__ import annotations

import re
from datetime import datetime

from analytics_platform.lib.datasets import Column

# Declared types are DuckDB's spelling; these Spark spells differently.
DATABRICKS_TYPES = {"VARCHAR": "STRING", "TEXT": "STRING", "JSON": "STRING", "INTEGER": "INT",
                    "INT4": "INT", "INT8": "BIGINT", "INT2": "SMALLINT", "HUGEINT": "DECIMAL(38,0)",
                    "REAL": "FLOAT", "TIMESTAMPTZ": "TIMESTAMP"}
_WHOLE_NUMBERS = ("TINYINT", "SMALLINT", "INT", "BIGINT", "DECIMAL(38,0)")
_SHOWN = 40  # characters of an offending value quoted in a reason


def databricks_type(data_type: str) -> str:
    base = re.sub(r"\(.*", "", data_type)
    if base == "VARCHAR":
        return "STRING"  # VARCHAR(n) too: the raw layer keeps text as landed
    return DATABRICKS_TYPES.get(data_type, data_type)


def databricks_literal(value: object) -> str:
    """A Spark SQL literal: strings escape quotes and backslashes with a backslash."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime):
        return f"TIMESTAMP '{value.isoformat(sep=' ')}'"
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


def databricks_identifier(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def spark_time_format(strftime_format: str) -> str:
    """strftime (the declaration's) -> Spark's datetime pattern: %m/%d/%Y %H:%M:%S -> M/d/yyyy H:m:s
    (one letter: parses both padded and unpadded numbers, as strptime does)."""
    mapping = {"%Y": "yyyy", "%m": "M", "%d": "d", "%H": "H", "%M": "m", "%S": "s", "%f": "SSSSSS", "%z": "XXX"}
    for code, letters in mapping.items():
        strftime_format = strftime_format.replace(code, letters)
    return strftime_format


def typed_value_sql(column: Column, source: str, source_is_text: bool, timestamp_format: str | None) -> str:
    """The Spark SQL of one column's stored value: `source` (an expression over the file's columns)
    cast to the column's type, or a `raise_error` naming the column and the value when the cast
    would lose data."""
    sql_type = databricks_type(column.data_type)
    if sql_type == "STRING":
        value = f"CAST({source} AS STRING)"
        if not column.required:
            return value
        return f"CASE WHEN {source} IS NULL OR trim({value}) = '' THEN {_empty(column)} ELSE {value} END"

    landed = f"nullif(trim(CAST({source} AS STRING)), '')" if source_is_text else source
    if sql_type == "TIMESTAMP" and timestamp_format:
        pattern = spark_time_format(timestamp_format)
        parsed = f"try_to_timestamp({landed}, {databricks_literal(pattern)})"
        expected = f"a timestamp in the declared format {timestamp_format}"
    else:
        parsed = f"try_cast({landed} AS {sql_type})"
        expected = (
            "an ISO 8601 timestamp, e.g. 2026-10-01 10:00:00 or 2026-10-01T10:00:00+02:00"
            if sql_type == "TIMESTAMP" else f"a value of type {column.data_type}"
        )
    checks = []
    if column.required:
        checks.append((f"{landed} IS NULL", _empty(column)))
    checks.append((
        f"{landed} IS NOT NULL AND {parsed} IS NULL",
        _fail(column, landed, f"could not convert {{value}} to {column.data_type}: expected {expected}"),
    ))
    if sql_type in _WHOLE_NUMBERS or sql_type.startswith(("DECIMAL", "NUMERIC")):
        loses = "is not a whole number" if sql_type in _WHOLE_NUMBERS else (
            f"has more decimal places than {column.data_type} keeps"
        )
        checks.append((
            f"try_cast({landed} AS DOUBLE) <> CAST({parsed} AS DOUBLE)",
            _fail(column, landed, f"{{value}} {loses} and would be rounded"),
        ))
    whens = " ".join(f"WHEN {condition} THEN {failure}" for condition, failure in checks)
    return f"CASE {whens} ELSE {parsed} END"


def _empty(column: Column) -> str:
    return "raise_error(" + databricks_literal(
        f"column {column.name} is empty in a row (a required column: NULL, an empty string and "
        "blanks all count as empty): send a value in every row and re-deliver the file"
    ) + ")"


def _fail(column: Column, landed: str, what: str) -> str:
    """A raise_error whose message names the column and the value; `what` holds {value}."""
    before, after = what.split("{value}")
    return (
        f"raise_error(concat({databricks_literal(f'column {column.name}: {before}')}, "
        f"{databricks_literal(chr(39))}, left(CAST({landed} AS STRING), {_SHOWN}), {databricks_literal(chr(39))}, "
        f"{databricks_literal(after + '; correct the value (or the declared type) and re-deliver the file')}))"
    )
