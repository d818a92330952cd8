{#-
    Which rows the tests of an incremental fact check: on an ordinary run only the rows this
    dbt invocation wrote, so a landing run's tests cost what the run wrote, not the whole table;
    the whole table under the var `test_scope: full` (the Dagster job `dbt_full_tests`, on a
    schedule, and any run that selects checks only: defs/dbt/assets.py passes it).

    A fact stamps each row it writes with `_dbt_run_at` = run_started_at (one value per
    invocation, shared by the model and its tests). A `merge` fact only updates rows whose
    values changed (merge_row_changed, not over _dbt_run_at), so an unchanged row keeps the
    stamp of the run that wrote it, and was tested then.

    In the YAML, a test takes it as

        config:
          where: "__rows_this_run__"

    a placeholder, not `{{ rows_this_run() }}`: dbt renders a test's `where` when it parses the
    project, and with partial parsing that render (and its run_started_at) would be reused by
    later runs. get_where_subquery below substitutes it when the test runs (the override dbt
    documents for run-time values in `where`).
-#}

{% macro rows_this_run() -%}
    {%- if var('test_scope', 'this_run') == 'full' -%}
        1 = 1
    {%- else -%}
        _dbt_run_at = {{ dbt_run_at() }}
    {%- endif -%}
{%- endmacro %}

{#- The run's time as the facts stamp it (the same expression rows_this_run compares with). -#}
{% macro dbt_run_at() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp)
{%- endmacro %}

{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- if where and '__rows_this_run__' in where -%}
        {%- set where = where | replace('__rows_this_run__', rows_this_run()) -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') dbt_subquery') -%}
    {%- endif -%}
    {%- do return(adapter.dispatch('get_where_subquery', 'dbt')(relation)) -%}
{%- endmacro %}
