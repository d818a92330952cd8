{#-
    date_expr shifted by `days` (a number or SQL integer expression), as a DATE.
    The SQL differs per engine: DuckDB and PostgreSQL add an integer to a date, Spark SQL /
    Databricks have date_add(), Redshift has dateadd() (which returns a timestamp).
-#}
{% macro add_days(date_expr, days) -%}
    {{ return(adapter.dispatch('add_days', 'analytics_platform')(date_expr, days)) }}
{%- endmacro %}

{% macro default__add_days(date_expr, days) -%}
    (cast({{ date_expr }} as date) + cast({{ days }} as integer))
{%- endmacro %}

{% macro duckdb__add_days(date_expr, days) -%}
    (cast({{ date_expr }} as date) + cast({{ days }} as integer))
{%- endmacro %}

{% macro postgres__add_days(date_expr, days) -%}
    (cast({{ date_expr }} as date) + cast({{ days }} as integer))
{%- endmacro %}

{% macro redshift__add_days(date_expr, days) -%}
    cast(dateadd(day, {{ days }}, cast({{ date_expr }} as date)) as date)
{%- endmacro %}

{% macro spark__add_days(date_expr, days) -%}
    date_add(cast({{ date_expr }} as date), {{ days }})
{%- endmacro %}
