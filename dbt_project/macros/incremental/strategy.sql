{#-
    Incremental strategy settings of the facts: silver_orders uses `merge` keyed on order_id
    (recomputing the keys that changed, macros/incremental/key_scope.sql), silver_reviews
    `delete+insert` keyed on review_date (recomputing whole days, macros/incremental/scope.sql).
    merge_row_changed() is the merge's update condition.
-#}

{#-
    merge_update_condition of a `merge` fact (dbt-duckdb): update a matched row only when one of
    `columns` changed. A run recomputes rows that may come out as they were (a backfill window's
    whole days, the orders a new version may re-price); rewriting them costs most of a merge
    (DuckDB updates are row rewrites), and an unchanged row keeps the stamp of the run that wrote it. Columns that land
    beyond the contract are not listed: their values change only with a new delivery, which
    changes _loaded_at. Adapters without the setting ignore it and update every matched row.
-#}
{% macro merge_row_changed(columns) -%}
    {%- set changed = [] -%}
    {%- for column in columns -%}
        {%- do changed.append('DBT_INTERNAL_SOURCE.' ~ column ~ ' is distinct from DBT_INTERNAL_DEST.' ~ column) -%}
    {%- endfor -%}
    {{ return('(' ~ changed | join(' or ') ~ ')') }}
{%- endmacro %}

{#-
    The incremental strategy and partitioning of a fact, per engine, so the same model runs on
    DuckDB, PostgreSQL, Redshift, Databricks and Spark:

      {{ config(
          materialized='incremental',
          incremental_strategy=incremental_strategy_for('merge'),   -- or 'delete+insert'
          partition_by=incremental_partition_by('order_date'),
          unique_key='order_id', ...) }}

    - DuckDB, PostgreSQL, Redshift, Databricks (Delta): the strategy the model asks for (`merge`
      keyed on the row, `delete+insert` keyed on the day); no partitioning.
    - Spark with its built-in parquet tables (target type `spark`; Delta's jars are not
      available there): no MERGE, UPDATE or DELETE, so `insert_overwrite` with the table
      partitioned by `day_column` (a DATE, or an hour for hourly facts): a run rewrites exactly the
      partitions it selects rows for. This is equivalent because every fact run there recomputes
      whole days (macros/incremental/scope.sql; the scope by key is for `merge` only): the rows
      written for a day are all of that day's rows.
      Partition columns come last in a Spark table's column order.
-#}
{% macro incremental_strategy_for(preferred) -%}
    {{ return(adapter.dispatch('incremental_strategy_for', 'analytics_platform')(preferred)) }}
{%- endmacro %}

{% macro default__incremental_strategy_for(preferred) -%}
    {{ return(preferred) }}
{%- endmacro %}

{% macro spark__incremental_strategy_for(preferred) -%}
    {#- dbt-databricks falls back to spark__ macros: Delta has MERGE, keep the model's choice. -#}
    {{ return(preferred if target.type != 'spark' else 'insert_overwrite') }}
{%- endmacro %}

{% macro incremental_partition_by(day_column) -%}
    {{ return(adapter.dispatch('incremental_partition_by', 'analytics_platform')(day_column)) }}
{%- endmacro %}

{% macro default__incremental_partition_by(day_column) -%}
    {{ return(none) }}
{%- endmacro %}

{% macro spark__incremental_partition_by(day_column) -%}
    {{ return(none if target.type != 'spark' else [day_column]) }}
{%- endmacro %}

{#-
    dbt-duckdb writes a `merge` as MERGE INTO. At 10M orders, inserting ~0.1M rows that way took
    5.9 s (DuckDB 2.0.1, dbt-duckdb 1.11.1), against 1.5 s for the same change as a DELETE of the
    matched rows that changed (merge_update_condition) and an INSERT of every source row then
    without a match (BENCHMARKS.md, incremental row). Same rows afterwards: both keys unique,
    a matched row that did not change is left alone (and keeps its _dbt_run_at), one that
    changed is replaced by the source's whole row, as UPDATE BY NAME does. Both statements run in
    the model's transaction. A merge using any other merge_* option keeps dbt-duckdb's MERGE.
-#}
{% macro duckdb__get_incremental_merge_sql(args_dict) -%}
    {%- set unique_key = args_dict['unique_key'] -%}
    {%- set other_options = [] -%}
    {%- for option in ['merge_update_columns', 'merge_exclude_columns', 'merge_insert_condition',
                       'merge_update_set_expressions', 'merge_returning_columns', 'merge_on_using_columns'] -%}
        {%- if config.get(option) -%}{%- do other_options.append(option) -%}{%- endif -%}
    {%- endfor -%}
    {%- if unique_key is not string or other_options or args_dict.get('incremental_predicates') -%}
        {{ return(dbt_duckdb.duckdb__get_incremental_merge_sql(args_dict)) }}
    {%- endif -%}
    {%- set target = args_dict['target_relation'] -%}
    {%- set source = args_dict['temp_relation'] -%}
delete from {{ target }} as DBT_INTERNAL_DEST
using {{ source }} as DBT_INTERNAL_SOURCE
where DBT_INTERNAL_SOURCE.{{ unique_key }} = DBT_INTERNAL_DEST.{{ unique_key }}
    and {{ config.get('merge_update_condition') or 'true' }};

insert into {{ target }} by name
select * from {{ source }} as DBT_INTERNAL_SOURCE
where not exists (
    select 1 from {{ target }} as DBT_INTERNAL_DEST
    where DBT_INTERNAL_DEST.{{ unique_key }} = DBT_INTERNAL_SOURCE.{{ unique_key }}
)
{%- endmacro %}
