-- Player sentiment per UTC day: the number of ratings (user_sentiment events) and their
-- average, 1 to 5, rounded to 4 decimals.
select
    event_date as rating_date,
    cast(count(user_rating) as bigint) as ratings,
    {{ round_decimal(exact_avg('user_rating'), 4, 10) }} as avg_rating
from {{ ref('silver_game_events') }}
where event_type = 'user_sentiment' and user_rating is not null
group by event_date
