{#-
    The current time in UTC as a timestamp without time zone (the convention of every timestamp
    in this warehouse, docs/CONTRACTS.md). Each engine spells it differently: DuckDB's
    current_timestamp carries a zone and follows the session's TimeZone, Redshift's getdate() is
    already UTC, PostgreSQL needs AT TIME ZONE, Spark follows the session zone.
-#}
{% macro utc_now() -%}
    {{ return(adapter.dispatch('utc_now', 'analytics_platform')()) }}
{%- endmacro %}

{% macro default__utc_now() -%}
    current_timestamp
{%- endmacro %}

{% macro duckdb__utc_now() -%}
    cast(timezone('UTC', current_timestamp) as timestamp)
{%- endmacro %}

{% macro postgres__utc_now() -%}
    (now() at time zone 'utc')
{%- endmacro %}

{% macro redshift__utc_now() -%}
    getdate()
{%- endmacro %}

{% macro spark__utc_now() -%}
    to_utc_timestamp(current_timestamp(), current_timezone())
{%- endmacro %}
