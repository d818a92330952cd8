-- One row per play session (event_data.session_id, login to logout), known event types only.
with events as (

    select * from {{ ref('silver_game_events') }}
    where is_known_event_type and session_id is not null

)

select
    session_id,
    min(player_id) as player_id,
    cast(min(event_at) as date) as session_date,
    min(event_at) as started_at,
    max(event_at) as ended_at,
    -- epoch seconds: a difference every engine computes alike (no datediff dispatch)
    cast(max(event_timestamp) - min(event_timestamp) as bigint) as duration_seconds,
    cast(count(*) as bigint) as events,
    cast(sum(case when event_type = 'level_started' then 1 else 0 end) as bigint) as levels_started,
    cast(sum(case when event_type = 'iap_transaction' then 1 else 0 end) as bigint) as purchases
from events
group by session_id
