-- One row per player: when first and last seen, and the profile as of the player's latest
-- event (app version, country, platform) with their spender tier from their purchases so far.
-- dbt snapshot snap_game_players keeps its history (SCD2). Known event types only.
with events as (

    select * from {{ ref('silver_game_events') }}
    where is_known_event_type and player_id is not null

),

ranked as (

    select
        player_id,
        app_version,
        country,
        platform,
        row_number() over (partition by player_id order by event_at desc, event_id desc) as recency
    from events

),

activity as (

    select
        player_id,
        min(event_at) as first_seen_at,
        max(event_at) as last_seen_at,
        cast(sum(case when event_type = 'iap_transaction' then 1 else 0 end) as bigint) as purchases
    from events
    group by player_id

)

select
    activity.player_id,
    activity.first_seen_at,
    activity.last_seen_at,
    ranked.app_version,
    ranked.country,
    ranked.platform,
    activity.purchases,
    case
        when activity.purchases = 0 then 'non_spender'
        when activity.purchases = 1 then 'minnow'
        when activity.purchases <= 4 then 'dolphin'
        else 'whale'
    end as spender_tier
from activity
inner join ranked
    on activity.player_id = ranked.player_id
    and ranked.recency = 1
