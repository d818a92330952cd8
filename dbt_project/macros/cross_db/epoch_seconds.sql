{#-
    Epoch seconds (an integer expression) as a UTC timestamp without time zone, the warehouse's
    convention (docs/CONTRACTS.md). DuckDB's and PostgreSQL's to_timestamp() return a zoned
    timestamp, Spark's timestamp_seconds() follows the session zone (UTC on our sessions).
-#}
{% macro epoch_seconds_to_timestamp(seconds_expr) -%}
    {{ return(adapter.dispatch('epoch_seconds_to_timestamp', 'analytics_platform')(seconds_expr)) }}
{%- endmacro %}

{% macro default__epoch_seconds_to_timestamp(seconds_expr) -%}
    (to_timestamp({{ seconds_expr }}) at time zone 'UTC')
{%- endmacro %}

{% macro duckdb__epoch_seconds_to_timestamp(seconds_expr) -%}
    make_timestamp(cast({{ seconds_expr }} as bigint) * 1000000)
{%- endmacro %}

{% macro redshift__epoch_seconds_to_timestamp(seconds_expr) -%}
    (timestamp 'epoch' + cast({{ seconds_expr }} as bigint) * interval '1 second')
{%- endmacro %}

{% macro spark__epoch_seconds_to_timestamp(seconds_expr) -%}
    timestamp_seconds({{ seconds_expr }})
{%- endmacro %}
