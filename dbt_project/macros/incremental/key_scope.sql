{#-
    Case 2 of macros/incremental/scope.sql (an incremental run without a window) for a fact that
    `merge`s on its key (silver_orders): the run rewrites the keys that changed, not whole days.
    A merge keyed on the row needs nothing more: unlike `delete+insert` keyed on the day
    (silver_reviews) or Spark's `insert_overwrite` of day partitions, it never replaces a day,
    so a run need not read every row of one. On a 1% increment of 10M orders a run then reads
    ~0.1M keys instead of the 4-5 days (~1M orders) that the new day, its late rows and the
    lookback touch (BENCHMARKS.md).

    A key is in scope when:
      1. raw holds a delivery of it loaded after the newest row the table holds for the
         delivery's day (every row of a day the table lacks): new orders, late rows of any age,
         redeliveries, the rows a backfill of other days left behind, as in day mode;
      2. the landing file of its row in the table was loaded again after the row was written:
         the new version may have dropped that delivery, so another one wins (a key left with
         no delivery at all is deleted by the post-hook, macros/incremental/redelivery.sql);
      3. a version of a dimension the fact joins (`versions`) was recorded since the table's
         last write (its `_loaded_at` after the newest `_dbt_run_at`: both UTC, stamped on the
         run's host, the loader's before dbt starts) and the row's event time
         is in it: from the version's valid_from on, any time for a first version (valid since
         1900). Day mode's lookback restates only the last days; this restates every row the
         version re-prices.
    Every raw row of the keys in scope is deduplicated (macros/bronze.sql) and every winner is
    merged, whatever its day. Like day mode's per-day comparison, 1 relies on `_loaded_at` growing
    with each load (the loader stamps its clock when it loads a file); a row written into raw by
    hand with an older stamp is not seen until a backfill or full refresh.

      versions   [{'relation': ref('silver_product_versions'), 'key': 'product_id'}, ...]: each
                 relation has the key, valid_from and _loaded_at; `event_time` must then be a
                 column of the fact too (created_at)
-#}
{% macro incremental_key_scope_ctes(raw, event_time, unique_key, day_column, grain='day', versions=[]) -%}
scope_keys as (

    -- 1. deliveries loaded after the newest row the table holds for their day
    select distinct trim(delivered.{{ unique_key }}) as scope_key
    from (
        select {{ unique_key }}, _loaded_at, {{ scope_period(event_time, grain) }} as scope_day
        from {{ raw }}
    ) as delivered
    left join ({{ newest_load_by_period(day_column) }}) as table_days
        on table_days.scope_day = delivered.scope_day
    where table_days.loaded_at is null or delivered._loaded_at > table_days.loaded_at

    union

    -- 2. rows whose landing file was loaded again after they were written
    -- (macros/incremental/redelivery.sql)
    {{ keys_of_reloaded_rows(raw, unique_key) }}
    {%- for version in versions %}

    union

    -- 3. rows a {{ version.key }} version recorded since the table's last write re-prices
    select fact.{{ unique_key }} as scope_key
    from {{ this }} as fact
    inner join {{ version.relation }} as version
        on version.{{ version.key }} = fact.{{ version.key }}
    where version._loaded_at > (
            select coalesce(max(_dbt_run_at), cast('1900-01-01 00:00:00' as timestamp)) from {{ this }}
        )
        and fact.{{ event_time }} >= version.valid_from
    {%- endfor %}

),
{%- endmacro %}
