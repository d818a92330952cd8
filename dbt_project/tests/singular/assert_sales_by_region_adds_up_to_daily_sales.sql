-- Business rule: splitting sales by region loses and invents nothing. For every day, the
-- regions' orders, units and net revenue add up to gold_daily_sales; days gold_daily_sales
-- does not have (no non-cancelled order) add up to zero.
{{ config(
    tags=['reconciliation'],
    meta={'dagster': {'ref': {'name': 'gold_sales_by_region', 'version': 2}}},
) }}

with by_region as (

    select
        order_date,
        sum(orders) as orders,
        sum(units) as units,
        sum(net_revenue) as revenue
    from {{ ref('gold_sales_by_region', v=2) }}
    group by order_date

),

daily as (

    select * from {{ ref('gold_daily_sales') }}

)

select
    by_region.order_date,
    by_region.revenue as revenue_by_region,
    daily.revenue as revenue_daily
from by_region
left join daily
    on by_region.order_date = daily.order_date
where by_region.orders <> coalesce(daily.orders, 0)
    or by_region.units <> coalesce(daily.units, 0)
    or by_region.revenue <> coalesce(daily.revenue, 0)
