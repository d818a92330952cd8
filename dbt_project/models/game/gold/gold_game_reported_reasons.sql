-- Player reports per UTC day and reason (user_report events).
select
    event_date as report_date,
    report_reason,
    cast(count(*) as bigint) as reports
from {{ ref('silver_game_events') }}
where event_type = 'user_report'
group by event_date, report_reason
