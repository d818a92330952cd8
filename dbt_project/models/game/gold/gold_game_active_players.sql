-- Daily, weekly and monthly active players per UTC day: players with at least one event of a
-- known type on the day (DAU), in the 7 days ending on it (WAU), in the 30 days ending on it
-- (MAU). Gap-free from the first to the last day with events.
with player_days as (

    select distinct
        event_date as activity_date,
        player_id
    from {{ ref('silver_game_events') }}
    where is_known_event_type and player_id is not null

),

days as (

    {{ date_spine(
        '(select min(activity_date) from player_days)',
        '(select max(activity_date) from player_days)'
    ) }}

)

select
    days.date_day as activity_date,
    cast(count(distinct case
        when player_days.activity_date = days.date_day then player_days.player_id
    end) as bigint) as dau,
    cast(count(distinct case
        when player_days.activity_date > {{ add_days('days.date_day', -7) }}
            then player_days.player_id
    end) as bigint) as wau,
    cast(count(distinct player_days.player_id) as bigint) as mau
from days
left join player_days
    on player_days.activity_date <= days.date_day
    and player_days.activity_date > {{ add_days('days.date_day', -30) }}
group by days.date_day
