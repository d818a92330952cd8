-- New players per UTC day: players whose first event of a known type is on that day.
select
    cast(first_seen_at as date) as first_seen_date,
    cast(count(*) as bigint) as new_players
from {{ ref('silver_game_players') }}
group by cast(first_seen_at as date)
