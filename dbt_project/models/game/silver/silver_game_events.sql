-- Game events, one row per event_id (as in bronze_game_events), partitioned by event hour: the
-- hourly fact every game metric is built from. Incremental at HOUR grain
-- (macros/incremental/scope.sql, grain='hour'): a run recomputes whole hours, namely those for
-- which raw holds a row loaded after the newest row this table holds for that hour (a late
-- event, a duplicate, a redelivery; incremental_lookback_hours more if set), or exactly the
-- hours of a backfill window (window_start / window_end). `delete+insert` keyed on event_hour
-- replaces each recomputed hour whole; other hours are not written (their _dbt_run_at stays).
{{ config(
    materialized='incremental',
    incremental_strategy=incremental_strategy_for('delete+insert'),
    partition_by=incremental_partition_by('event_hour'),
    unique_key='event_hour',
    on_schema_change='append_new_columns',
) }}

with
{{ incremental_scope_ctes(
    source('game', 'events'), game_event_time(), 'event_id', 'event_hour', grain='hour'
) }}

events as (

    {%- if incremental_reads_all() %}

    select * from {{ ref('bronze_game_events') }}

    {%- else %}

    -- bronze_game_events for the event_ids in scope only, deduplicated over all their raw rows.
    select * from (
        {{ bronze_game_events_sql(raw_filter=incremental_scope_keys_filter('event_id')) }}
    ) as touched
    where {{ incremental_scope_filter('event_at', 'event_hour', grain='hour') }}

    {%- endif %}

)

select
    event_id,
    event_type,
    event_name,
    event_timestamp,
    event_at,
    event_hour,
    event_date,
    player_id,
    session_id,
    country,
    platform,
    app_version,
    level_id,
    transaction_id,
    item_id,
    amount,
    currency,
    user_rating,
    report_reason,
    is_known_event_type,
    _loaded_at,
    _source_key,
    -- this invocation's stamp: its tests check the rows it wrote
    -- (macros/incremental/test_scope.sql)
    {{ dbt_run_at() }} as _dbt_run_at
from events
