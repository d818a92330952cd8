{#-
    The materialization of experimental models: a materialized view where the adapter has one
    (dbt-postgres, dbt-redshift, dbt-databricks: dbt creates it, then refreshes it on later builds),
    a table elsewhere (DuckDB, Spark). Resolved at parse time from the target's type.
-#}
{% macro materialized_view_or_table() -%}
    {{ return(adapter.dispatch('materialized_view_or_table', 'analytics_platform')()) }}
{%- endmacro %}

{% macro default__materialized_view_or_table() -%}
    {{ return('table') }}
{%- endmacro %}

{% macro postgres__materialized_view_or_table() -%}
    {{ return('materialized_view') }}
{%- endmacro %}

{% macro redshift__materialized_view_or_table() -%}
    {{ return('materialized_view') }}
{%- endmacro %}

{% macro databricks__materialized_view_or_table() -%}
    {{ return('materialized_view') }}
{%- endmacro %}
