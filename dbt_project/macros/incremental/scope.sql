{#-
    Which rows an incremental fact model (silver_orders, silver_reviews) reads on a run: the
    lookback and scope CTEs and filters. Which case a run is in: macros/incremental/window.sql.

    Three cases, decided by the run, not the model:

    1. A backfill window is set (`--vars '{window_start: ..., window_end: ...}'`, which the
       Dagster dbt step passes from its run config; half-open [window_start, window_end), UTC): the
       rows of every period (day, or hour for grain='hour') the window touches, since the table
       replaces whole periods. A backfill of a date range is one such run.
    2. Incremental run without a window (the sensor / main job, `dbt build`). A fact that
       merges on its key (silver_orders, on every engine but Spark's parquet tables) recomputes
       the keys that changed: macros/incremental/key_scope.sql. The others (delete+insert
       keyed on the day, insert_overwrite of day partitions) recompute whole event days, namely
         - the last `incremental_lookback_days` days up to the newest day already in the table
           (late deliveries of recent days, redelivered rows, late product / user versions
           re-pricing recent orders),
         - every day on which raw holds a row loaded (`_loaded_at`) after the newest row the
           table holds for that day, however old the day: a late row beyond the lookback, a
           redelivery of a key already in the table, the days a backfill of other days
           left behind. A run that reads a day reads all its raw rows, so afterwards the
           newest load of the day is in the table and the day drops out (a per-day max on
           both sides, no join on the key).
    3. First build or `--full-refresh`: everything (the bronze view).

    Whole days, not single rows, so `delete+insert` keyed on the day (silver_reviews) replaces a
    day exactly; a `merge` keyed on the row needs no whole days outside a backfill window.

    Cases 1 and 2 never read the bronze view: it deduplicates every raw row before any filter
    could apply (a filter on the key cannot pass a window function). They select the keys in
    scope from raw first (`scope_keys`: every key with a raw row in scope), run bronze's
    cleaning and dedupe (macros/bronze.sql) on all raw rows of those keys only, and keep the
    winners in scope. A key's winner is picked among all its deliveries, as in bronze, so the
    rows written equal a full refresh's.

    A fact model reads:

        with
        {{ incremental_scope_ctes(source('ecommerce', 'orders'), 'created_at', 'order_id', 'order_date') }}
        orders as (
            {%- if incremental_reads_all() %} select * from {{ ref('bronze_orders') }}
            {%- else %} select * from ({{ bronze_orders_sql(raw_filter=incremental_scope_keys_filter('order_id')) }}) as touched
                        where {{ incremental_scope_filter('created_at', 'order_date') }}
            {%- endif %}
        ), ...
-#}

{#-
    The CTEs that scope a run (cases 1 and 2 above), each followed by a comma; nothing in case 3.
      raw          the raw source table of the fact
      event_time   its event timestamp (UTC): a column of raw, e.g. created_at (same name in raw
                   and bronze), or an SQL expression over raw's columns, e.g.
                   epoch_seconds_to_timestamp('event_timestamp')
      unique_key   the entity key (trimmed in bronze), e.g. order_id
      day_column   the table's period column derived from event_time, e.g. order_date
      grain        'day' (default: whole days, day_column a DATE) or 'hour' (whole hours,
                   day_column the event hour, a TIMESTAMP truncated to the hour; the lookback is
                   the setting incremental_lookback_hours, 0 = none: the hourly game facts)
-#}
{% macro incremental_scope_ctes(raw, event_time, unique_key, day_column, grain='day', versions=[]) -%}
    {%- if incremental_reads_all() -%}
        {{ return('') }}
    {%- endif -%}
    {%- if incremental_scope_by_key() -%}
        {{ return(incremental_key_scope_ctes(raw, event_time, unique_key, day_column, grain, versions)) }}
    {%- endif -%}
    {%- if partition_window() is none %}
scope_days as (

    -- days on which raw holds a row loaded after the newest row the table holds for that day
    -- (or any row, for a day the table lacks): a late row of any age, a redelivery of a key
    -- already in the table, rows a backfill of other days left behind. Two GROUP BYs
    -- on the day, no join on the key.
    select raw_days.scope_day
    from (
        select {{ scope_period(event_time, grain) }} as scope_day, max(_loaded_at) as loaded_at
        from {{ raw }}
        group by {{ scope_period(event_time, grain) }}
    ) as raw_days
    left join ({{ newest_load_by_period(day_column) }}) as table_days
        on table_days.scope_day = raw_days.scope_day
    where table_days.loaded_at is null or raw_days.loaded_at > table_days.loaded_at

),
    {%- endif %}

scope_keys as (

    -- every key with a raw row in scope: all raw rows of these keys are deduplicated
    select distinct trim(in_scope.{{ unique_key }}) as scope_key
    from {{ raw }} as in_scope
    where {{ incremental_scope_filter(event_time, day_column, grain) }}

),
{%- endmacro %}

{#-
    Whether this run scopes the fact by key (macros/incremental/key_scope.sql): an incremental
    run without a window of a fact that merges on its key. Backfill windows, first builds and
    full refreshes, and the `delete+insert` / `insert_overwrite` facts work in whole periods.
-#}
{% macro incremental_scope_by_key() -%}
    {{ return(
        config.get('incremental_strategy') == 'merge'
        and partition_window() is none
        and incremental_run()
    ) }}
{%- endmacro %}

{#- The newest `_loaded_at` the table holds per period (scope_day, loaded_at). -#}
{% macro newest_load_by_period(day_column) -%}
    select {{ day_column }} as scope_day, max(_loaded_at) as loaded_at from {{ this }} group by {{ day_column }}
{%- endmacro %}

{#- The raw_filter for macros/bronze.sql: the raw rows of the keys in scope. -#}
{% macro incremental_scope_keys_filter(unique_key) -%}
    trim({{ unique_key }}) in (select scope_key from scope_keys)
{%- endmacro %}

{#-
    Whether an event time is in the run's scope: the WHERE on the deduplicated rows (and, in
    incremental_scope_ctes, on raw). Needs the scope CTEs in case 2; `1 = 1` in case 3.
-#}
{% macro incremental_scope_filter(event_time, day_column, grain='day') -%}
    {%- set window = partition_window() -%}
    {%- if incremental_scope_by_key() -%}
        {#- every winner of the keys in scope (macros/incremental/key_scope.sql) -#}
        1 = 1
    {%- elif window is not none -%}
        {#- Whole periods: a table keyed on its day (delete+insert, insert_overwrite) replaces
            every day the run writes, so a window of a few hours rewrites those hours' whole
            days, never the window's rows alone (which would drop the rest of each day). -#}
        {{ scope_period_start(event_time, grain) }}
            >= {{ scope_period_start("cast('" ~ window.start ~ "' as timestamp)", grain) }}
        and {{ scope_period_start(event_time, grain) }} < cast('{{ window.end }}' as timestamp)
    {%- elif incremental_run() and grain == 'hour' -%}
        {%- set lookback_hours = setting('incremental_lookback_hours') | int -%}
        (
            {%- if lookback_hours > 0 %}
            {{ scope_period(event_time, grain) }} >= (
                select {{ add_hours('max(' ~ day_column ~ ')', -lookback_hours) }} from {{ this }}
            ) or
            {%- endif %}
            {{ scope_period(event_time, grain) }} in (select scope_day from scope_days)
        )
    {%- elif incremental_run() -%}
        {%- set lookback_days = setting('incremental_lookback_days') | int -%}
        (
            cast({{ event_time }} as date) >= (
                select {{ add_days('max(' ~ day_column ~ ')', -lookback_days) }} from {{ this }}
            )
            or cast({{ event_time }} as date) in (select scope_day from scope_days)
        )
    {%- else -%}
        1 = 1
    {%- endif -%}
{%- endmacro %}

{#- The start of the period an event time falls in, as a TIMESTAMP (compared with a window's bounds). -#}
{% macro scope_period_start(event_time, grain='day') -%}
    {%- if grain == 'day' -%}
        cast({{ scope_period(event_time, grain) }} as timestamp)
    {%- else -%}
        {{ scope_period(event_time, grain) }}
    {%- endif -%}
{%- endmacro %}

{#- The period an event time falls in at the scope's grain: its DATE, or its hour (a TIMESTAMP). -#}
{% macro scope_period(event_time, grain='day') -%}
    {%- if grain == 'day' -%}
        cast({{ event_time }} as date)
    {%- elif grain == 'hour' -%}
        date_trunc('hour', {{ event_time }})
    {%- else -%}
        {{ exceptions.raise_compiler_error("incremental scope grain must be 'day' or 'hour', got " ~ grain) }}
    {%- endif -%}
{%- endmacro %}
