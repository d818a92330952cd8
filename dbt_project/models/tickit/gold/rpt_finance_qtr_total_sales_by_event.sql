-- Finance: sales per event name and quarter of sale. commission_pcnt = staff_commission as a
-- percentage of sales_revenue, rounded half up to 2 decimals (exact decimal arithmetic).
select
    sale_year as year,
    sale_quarter as quarter,
    eventname,
    count(*) as sales_made,
    {{ round_money('sum(pricepaid)') }} as sales_revenue,
    {{ round_money('sum(commission)') }} as staff_commission,
    {{ round_decimal(safe_divide('100 * sum(commission)', 'sum(pricepaid)'), 2, 9) }}
        as commission_pcnt
from {{ ref('silver_tickit_sales') }}
group by sale_year, sale_quarter, eventname
