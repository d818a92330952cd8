-- Level plays and completion rate per level: plays = level_started events, completion rate =
-- level_completed / level_started (null for a level never started).
with levels as (

    select
        level_id,
        event_type
    from {{ ref('silver_game_events') }}
    where
        event_type in ('level_started', 'level_completed', 'level_failed')
        and level_id is not null

),

counted as (

    select
        level_id,
        cast(sum(case when event_type = 'level_started' then 1 else 0 end) as bigint) as plays,
        cast(
            sum(case when event_type = 'level_completed' then 1 else 0 end) as bigint
        ) as completions,
        cast(sum(case when event_type = 'level_failed' then 1 else 0 end) as bigint) as failures
    from levels
    group by level_id

)

select
    level_id,
    plays,
    completions,
    failures,
    {{ round_decimal(safe_divide('completions', 'plays'), 4, 10) }} as completion_rate
from counted
