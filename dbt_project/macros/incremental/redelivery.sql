{#-
    Records a re-delivery dropped, removed from an incremental fact after its merge / insert.

    A re-delivered file (same S3 key, new content) replaces that key's raw rows
    (docs/CONTRACTS.md, "Loading rules"). A record the new version no longer contains is gone
    from raw and from the bronze view at once, but an incremental model only writes the rows it
    selects: without this hook the record would stay in the fact until a full refresh.

    Deleted: rows of `this` whose landing file was loaded again after the row was written
    (a raw row with the same `_source_key` and a later `_loaded_at`) and whose key no longer has
    any raw row at all. A key that still has rows (another delivery) is recomputed by the
    ordinary scope: the re-delivered rows put its day in scope. A full refresh never has such
    rows, so this keeps incremental builds equal to a full refresh.

      raw          the raw source table of the fact
      unique_key   the entity key (trimmed in bronze), e.g. order_id
-#}
{#- Spark's parquet tables take no DELETE: there the facts are insert_overwrite by day
    (macros/incremental/strategy.sql) and a re-delivery puts its rows' days in scope, so a day a
    re-delivered file still has rows for is rewritten without the dropped records. A record whose
    day the new version no longer has at all stays until that day is rebuilt (full refresh).
    Databricks (Delta) runs the DELETE. -#}
{% macro delete_records_dropped_by_redelivery(raw, unique_key) -%}
    {%- if is_incremental() and target.type != 'spark' -%}
delete from {{ this }}
where {{ unique_key }} in (
    -- rows whose landing file was loaded again after the row was written
    select fact.{{ unique_key }}
    from {{ this }} as fact
    where exists (
        select 1 from {{ raw }} as reloaded
        where reloaded._source_key = fact._source_key
            and reloaded._loaded_at > fact._loaded_at
    )
)
and {{ unique_key }} not in (
    -- keys that still have a raw row
    select trim({{ unique_key }}) from {{ raw }} where {{ unique_key }} is not null
)
    {%- else -%}
select 1
    {%- endif -%}
{%- endmacro %}
