{#-
    Post-hook of every model, seed and snapshot (dbt_project.yml): logs the rows the node's main
    statement wrote, as the adapter reported them (`rows_affected`), while dbt runs, as one line
    `<relation> rows_affected=<n>`. The Dagster asset reads that line from dbt's event stream and
    puts the figure on the node's materialization as soon as dbt reports the node
    (analytics_platform/defs/dbt/assets.py): a table's or seed's rows become its
    `dagster/row_count`, an incremental model's or snapshot's are the rows written this run. The
    hook renders no SQL, so dbt runs nothing for it.

    - DuckDB reports the rows through the profile's plugin (analytics_platform/lib/dbt_duckdb_plugin.py);
      PostgreSQL and Redshift through their adapters; an adapter that reports none (dbt-spark:
      -1) gets no line.
    - A Python model's main statement reports no rows on any adapter: it is counted, one
      `count(*)` (dbt-duckdb: from row-group metadata).
-#}
{% macro report_rows_affected() -%}
    {%- if execute -%}
        {%- set main = load_result('main') -%}
        {%- set rows = main.response.rows_affected if main and main.response else none -%}
        {%- if (rows is none or rows < 0) and model.language == 'python' and config.get('materialized') == 'table' -%}
            {%- set rows = run_query('select count(*) from ' ~ this).columns[0].values()[0] -%}
        {%- endif -%}
        {%- if rows is not none and rows >= 0 -%}
            {{- log(this ~ ' rows_affected=' ~ rows, info=True) -}}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
