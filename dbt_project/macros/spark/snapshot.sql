{#-
    Snapshots on Spark's built-in parquet tables (the local `spark` target; no Delta jars there).

    dbt-spark's snapshot materialization requires Delta, Iceberg or Hudi because it MERGEs the
    changes into the snapshot. This override (same name and adapter, so the project's wins) is
    dbt-spark's materialization with one difference: on a parquet table, where there is no MERGE,
    the merge is a rebuild. The snapshot's next content (its rows, with `dbt_valid_to` closed for
    the versions that changed, plus the new versions: what the MERGE would leave) is written to a
    work table, then copied over the snapshot with INSERT OVERWRITE (Spark cannot overwrite a
    table it reads in the same statement). Delta, Iceberg and Hudi tables keep dbt-spark's MERGE;
    Databricks uses dbt-databricks' own materialization, not this one.
-#}
{% materialization snapshot, adapter='spark' %}

  {%- set target_table = model.get('alias', model.get('name')) -%}
  {%- set strategy_name = config.get('strategy') -%}
  {%- set file_format = config.get('file_format') or 'parquet' -%}
  {%- set grant_config = config.get('grants') -%}

  {% set target_relation_exists, target_relation = get_or_create_relation(
          database=none,
          schema=model.schema,
          identifier=target_table,
          type='table') -%}

  {%- if file_format not in ['delta', 'iceberg', 'hudi', 'parquet'] -%}
    {% do exceptions.raise_compiler_error("Snapshots need file_format delta, iceberg, hudi or parquet; got " ~ file_format) %}
  {% endif %}

  {% if not adapter.check_schema_exists(model.database, model.schema) %}
    {% do create_schema(model.schema) %}
  {% endif %}

  {%- if not target_relation.is_table -%}
    {% do exceptions.relation_wrong_type(target_relation, 'table') %}
  {%- endif -%}

  {{ run_hooks(pre_hooks, inside_transaction=False) }}
  {{ run_hooks(pre_hooks, inside_transaction=True) }}

  {% set strategy_macro = strategy_dispatch(strategy_name) %}
  {% set strategy = strategy_macro(model, "snapshotted_data", "source_data", model['config'], target_relation_exists) %}

  {% if not target_relation_exists %}

      {% set build_sql = build_snapshot_table(strategy, model['compiled_code']) %}
      {% set final_sql = create_table_as(False, target_relation, build_sql) %}

  {% else %}

      {% set columns = config.get("snapshot_table_column_names") or get_snapshot_table_column_names() %}
      {{ adapter.valid_snapshot_target(target_relation, columns) }}
      {% set staging_table = spark_build_snapshot_staging_table(strategy, sql, target_relation) %}
      {% do adapter.expand_target_column_types(from_relation=staging_table, to_relation=target_relation) %}

      {% set missing_columns = adapter.get_missing_columns(staging_table, target_relation)
                                   | rejectattr('name', 'equalto', 'dbt_change_type')
                                   | rejectattr('name', 'equalto', 'DBT_CHANGE_TYPE')
                                   | rejectattr('name', 'equalto', 'dbt_unique_key')
                                   | rejectattr('name', 'equalto', 'DBT_UNIQUE_KEY')
                                   | list %}
      {% do create_columns(target_relation, missing_columns) %}

      {% if target_relation.is_delta or target_relation.is_iceberg or target_relation.is_hudi %}
        {% set source_columns = adapter.get_columns_in_relation(staging_table)
                                     | rejectattr('name', 'equalto', 'dbt_change_type')
                                     | rejectattr('name', 'equalto', 'DBT_CHANGE_TYPE')
                                     | rejectattr('name', 'equalto', 'dbt_unique_key')
                                     | rejectattr('name', 'equalto', 'DBT_UNIQUE_KEY')
                                     | list %}
        {% set quoted_source_columns = [] %}
        {% for column in source_columns %}
          {% do quoted_source_columns.append(adapter.quote(column.name)) %}
        {% endfor %}
        {% set final_sql = snapshot_merge_sql(target=target_relation, source=staging_table, insert_cols=quoted_source_columns) %}
      {% else %}
        {% set rebuilt = api.Relation.create(identifier=target_table ~ '__dbt_rebuilt', schema=model.schema, database=none, type='table') %}
        {% do adapter.drop_relation(rebuilt) %}
        {% call statement('build_snapshot_rebuilt_relation') %}
          create table {{ rebuilt }} using parquet as
          {{ spark_snapshot_rebuild_sql(target_relation, staging_table, columns) }}
        {% endcall %}
        {% set final_sql %}
          insert overwrite table {{ target_relation }} select * from {{ rebuilt }}
        {% endset %}
      {% endif %}

  {% endif %}

  {% call statement('main') %}
      {{ final_sql }}
  {% endcall %}

  {% if rebuilt is defined %}
      {% do adapter.drop_relation(rebuilt) %}
  {% endif %}

  {% set should_revoke = should_revoke(target_relation_exists, full_refresh_mode) %}
  {% do apply_grants(target_relation, grant_config, should_revoke) %}
  {% do persist_docs(target_relation, model) %}

  {{ run_hooks(post_hooks, inside_transaction=True) }}
  {{ adapter.commit() }}

  {% if staging_table is defined %}
      {% do post_snapshot(staging_table) %}
  {% endif %}

  {{ run_hooks(post_hooks, inside_transaction=False) }}

  {{ return({'relations': [target_relation]}) }}

{% endmaterialization %}

{#- What dbt-spark's MERGE (spark__snapshot_merge_sql) leaves in the snapshot, as a SELECT in the
    snapshot's column order: current versions matched by an update or delete get its
    dbt_valid_to; inserts whose dbt_scd_id is new are added. -#}
{% macro spark_snapshot_rebuild_sql(target, source, columns) -%}
    {%- set target_columns = adapter.get_columns_in_relation(target) | map(attribute='name') | list -%}
    {%- set current = config.get('dbt_valid_to_current') -%}
    select
        {%- for column in target_columns %}
        {%- if column == columns.dbt_valid_to %}
        case when changes.{{ columns.dbt_scd_id }} is not null then changes.{{ columns.dbt_valid_to }}
             else snapshotted.{{ column }} end as {{ adapter.quote(column) }}
        {%- else %}
        snapshotted.{{ adapter.quote(column) }}
        {%- endif %}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ target }} as snapshotted
    left join (
        select {{ columns.dbt_scd_id }}, {{ columns.dbt_valid_to }}
        from {{ source }}
        where dbt_change_type in ('update', 'delete')
    ) as changes
        on changes.{{ columns.dbt_scd_id }} = snapshotted.{{ columns.dbt_scd_id }}
        and (
            snapshotted.{{ columns.dbt_valid_to }} is null
            {%- if current %} or snapshotted.{{ columns.dbt_valid_to }} = {{ current }}{% endif %}
        )
    union all
    select
        {%- for column in target_columns %}
        inserted.{{ adapter.quote(column) }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ source }} as inserted
    where inserted.dbt_change_type = 'insert'
        and inserted.{{ columns.dbt_scd_id }} not in (select {{ columns.dbt_scd_id }} from {{ target }})
{%- endmacro %}
