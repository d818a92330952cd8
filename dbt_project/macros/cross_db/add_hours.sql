{#-
    timestamp_expr shifted by `hours` (a number or SQL integer expression), as a timestamp.
    dbt's own dateadd() is not used because on Databricks it asks the cluster for its runtime
    version, which needs a connection (it would break `compile --no-introspect`).
-#}
{% macro add_hours(timestamp_expr, hours) -%}
    {{ return(adapter.dispatch('add_hours', 'analytics_platform')(timestamp_expr, hours)) }}
{%- endmacro %}

{% macro default__add_hours(timestamp_expr, hours) -%}
    ({{ timestamp_expr }} + cast({{ hours }} as integer) * interval '1 hour')
{%- endmacro %}

{% macro duckdb__add_hours(timestamp_expr, hours) -%}
    ({{ timestamp_expr }} + to_hours(cast({{ hours }} as bigint)))
{%- endmacro %}

{% macro redshift__add_hours(timestamp_expr, hours) -%}
    dateadd(hour, {{ hours }}, {{ timestamp_expr }})
{%- endmacro %}

{% macro spark__add_hours(timestamp_expr, hours) -%}
    timestampadd(HOUR, {{ hours }}, {{ timestamp_expr }})
{%- endmacro %}
