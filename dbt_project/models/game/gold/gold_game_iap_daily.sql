-- In-app purchases per UTC day and currency: transactions, paying players and revenue (amounts
-- are summed per currency, never converted).
select
    event_date as purchase_date,
    currency,
    cast(count(*) as bigint) as transactions,  -- noqa: RF04
    cast(count(distinct player_id) as bigint) as paying_players,
    {{ round_money('sum(amount)') }} as revenue
from {{ ref('silver_game_events') }}
where event_type = 'iap_transaction'
group by event_date, currency
