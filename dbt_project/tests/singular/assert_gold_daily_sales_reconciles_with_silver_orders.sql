-- Business rule (docs/CONTRACTS.md): gold_daily_sales counts each non-cancelled order once, on
-- its UTC order date, and its revenue is the rounded sum of those orders' line revenue.
-- Recomputed here from silver_orders; any day that differs (or exists on one side only) fails.
{{ config(
    tags=['reconciliation'],
    meta={'dagster': {'ref': {'name': 'gold_daily_sales'}}},
) }}

with expected as (

    select
        order_date,
        count(distinct order_id) as orders,
        sum(quantity) as units,
        {{ round_money('sum(line_revenue)') }} as revenue
    from {{ ref('silver_orders') }}
    where status <> 'cancelled'
    group by order_date

),

actual as (

    select * from {{ ref('gold_daily_sales') }}

)

select
    coalesce(expected.order_date, actual.order_date) as order_date,
    expected.orders as expected_orders,
    actual.orders as actual_orders,
    expected.revenue as expected_revenue,
    actual.revenue as actual_revenue
from expected
full outer join actual
    on expected.order_date = actual.order_date
where expected.order_date is null
    or actual.order_date is null
    or expected.orders <> actual.orders
    or expected.units <> actual.units
    or expected.revenue <> actual.revenue
