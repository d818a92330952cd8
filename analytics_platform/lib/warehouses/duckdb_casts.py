"""Lossless casts of landed values to their declared types, in DuckDB SQL.

The rules (docs/CONTRACTS.md), the same for CSV, JSON and Parquet: a value that cannot be
stored exactly as its column's type quarantines the whole file, with the row and the column:
- a required column that is empty: NULL, "" or only blanks, in any format;
- text that does not parse as the type ("two" for an integer, "yesterday" for a timestamp);
- a number that would be rounded: 2.7 into an INTEGER, 9.999 into a DECIMAL(12,2);
- a timestamp or date that is not a point in time (infinity, -infinity).
In a typed (non-text) column an empty or blank value is missing (NULL); text columns keep their
values as landed, whitespace included.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from analytics_platform.lib.datasets import Column
from analytics_platform.lib.warehouses.files import sql_identifier, sql_literal

_WHOLE_NUMBERS = ("TINYINT", "SMALLINT", "INTEGER", "INT", "BIGINT", "HUGEINT", "UTINYINT",
                  "USMALLINT", "UINTEGER", "UBIGINT", "INT2", "INT4", "INT8")
_SHOWN = 40  # characters of an offending value quoted in a reason
_ISO_NAIVE_TIMESTAMP = "%Y-%m-%d %H:%M:%S"  # the shape most landed timestamps have: a fast path


@dataclass(frozen=True)
class TypedValueSql:
    """One column's lossless cast, in three SELECT levels so each part is computed once per row
    (DuckDB does not share a sub-expression between the branches of a CASE: the timestamp
    parse was evaluated three times, measured): `landed` reads the file's value, `parsed` casts
    it (it reads `landed`'s alias), `value` checks the two and is the stored value."""

    landed: str
    parsed: str | None
    value: str


def typed_value_sql(
    column: Column, source_name: str, source_is_text: bool, timestamp_format: str | None, alias: str
) -> TypedValueSql:
    """One column's stored value: the landed value cast to the column's type, or a DuckDB
    `error()` naming the row, the column and the value when the cast would lose data. The
    value's levels refer to each other as `<alias>_landed` and `<alias>_parsed`."""
    source = sql_identifier(source_name)
    landed, parsed = sql_identifier(f"{alias}_landed"), sql_identifier(f"{alias}_parsed")
    sql_type = column.data_type
    if sql_type in ("VARCHAR", "TEXT", "STRING"):
        value = landed
        if column.required:
            value = f"CASE WHEN {landed} IS NULL OR trim({landed}) = '' THEN {_empty(column)} ELSE {landed} END"
        return TypedValueSql(f"CAST({source} AS VARCHAR)", None, value)

    landed_sql = f"nullif(trim(CAST({source} AS VARCHAR)), '')" if source_is_text else source
    if sql_type == "TIMESTAMP" and timestamp_format:
        # strptime gives TIMESTAMPTZ when the format has %z: stored as UTC (the session zone).
        parsed_sql = f"CAST(try_strptime(CAST({landed} AS VARCHAR), {sql_literal(timestamp_format)}) AS TIMESTAMP)"
        expected = f"a timestamp in the declared format {timestamp_format}"
    elif sql_type == "TIMESTAMP":
        # Offsets in the text ("+02:00") are honoured; naive values are UTC (session zone).
        parsed_sql = f"CAST(TRY_CAST({landed} AS TIMESTAMPTZ) AT TIME ZONE 'UTC' AS TIMESTAMP)"
        if source_is_text:
            # The common shape first: strptime accepts exactly "2026-10-01 10:00:00" (no offset,
            # no fraction) and is ~4x cheaper than the TIMESTAMPTZ cast, which runs only for the
            # rows it leaves NULL (coalesce is lazy). Where strptime gives a value, it is the
            # value the TIMESTAMPTZ cast gives (test_ingestion.py).
            parsed_sql = f"coalesce(try_strptime({landed}, {sql_literal(_ISO_NAIVE_TIMESTAMP)}), {parsed_sql})"
        expected = "an ISO 8601 timestamp, e.g. 2026-10-01 10:00:00 or 2026-10-01T10:00:00+02:00"
    else:
        parsed_sql = f"TRY_CAST({landed} AS {sql_type})"
        expected = f"a value of type {sql_type}"

    checks = []
    if column.required:
        checks.append((f"{landed} IS NULL", _empty(column)))
    checks.append((
        f"{landed} IS NOT NULL AND {parsed} IS NULL",
        _fail(column, landed, f"Could not convert string {{value}} to {sql_type}: expected {expected}"),
    ))
    base_type = re.sub(r"\(.*", "", sql_type)
    if base_type in _WHOLE_NUMBERS or base_type in ("DECIMAL", "NUMERIC"):
        # Compared as DOUBLE: exact for every DECIMAL(p<=15) and integer this contract declares.
        loses = "is not a whole number" if base_type not in ("DECIMAL", "NUMERIC") else (
            f"has more decimal places than {sql_type} keeps"
        )
        checks.append((
            f"TRY_CAST({landed} AS DOUBLE) <> CAST({parsed} AS DOUBLE)",
            _fail(column, landed, f"{{value}} {loses} and would be rounded"),
        ))
    if base_type in ("TIMESTAMP", "DATE", "TIMESTAMPTZ"):
        checks.append((
            f"NOT isfinite({parsed})",
            _fail(column, landed, "{value} is not a point in time"),
        ))
    whens = " ".join(f"WHEN {condition} THEN {failure}" for condition, failure in checks)
    return TypedValueSql(landed_sql, parsed_sql, f"CASE {whens} ELSE {parsed} END")


def _empty(column: Column) -> str:
    before = sql_literal(f"column {column.name} is empty in row ")
    after = sql_literal(
        " (a required column: NULL, an empty string and blanks all count as empty): send a value "
        "in every row and re-deliver the file"
    )
    return f"error({before} || __row_number || {after})"


def _fail(column: Column, landed: str, what: str) -> str:
    """An error() whose message names the row, the column and the value; `what` holds {value}."""
    shown = f"'''' || left(CAST({landed} AS VARCHAR), {_SHOWN}) || ''''"
    before, after = what.split("{value}")
    message = (
        f"{sql_literal('row ')} || __row_number || {sql_literal(f', column {column.name}: {before}')}"
        f" || {shown} || {sql_literal(after + '; correct the value (or the declared type) and re-deliver the file')}"
    )
    return f"error({message})"
