-- Finance: the top 3 events by revenue in each quarter, from rpt_finance_qtr_total_sales_by_event.
-- Ties: equal revenue is ranked by eventname (ascending), so every quarter has exactly
-- min(3, events sold) rows and the ranking is the same on every engine.
select
    year,
    quarter,
    sales_rank,
    eventname,
    sales_made,
    sales_revenue,
    staff_commission,
    commission_pcnt
from (
    select
        *,
        row_number() over (
            partition by year, quarter order by sales_revenue desc, eventname asc
        ) as sales_rank
    from {{ ref('rpt_finance_qtr_total_sales_by_event') }}
) as ranked
where sales_rank <= 3
