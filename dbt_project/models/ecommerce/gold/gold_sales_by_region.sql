-- Version 2 (latest; relation gold.gold_sales_by_region). Sales per UTC order date and sales
-- region, gap-free: every day from the first to the last order date x every region (and
-- `Unknown`), zeros where nothing sold, so a chart never draws a line across a missing day.
-- The region is the one of the user's country when the order was placed (snap_users), mapped
-- by the country_regions seed. Cancelled orders are excluded, as in gold_daily_sales.
-- v2 renamed v1's `revenue` to `net_revenue` next to the new list-price measures.
with orders as (

    select * from {{ ref('silver_orders') }}
    where not is_cancelled

),

country_regions as (

    select * from {{ ref('country_regions') }}

),

days as (

    {{ date_spine(
        '(select min(order_date) from ' ~ ref('silver_orders') ~ ')',
        '(select max(order_date) from ' ~ ref('silver_orders') ~ ')'
    ) }}

),

regions as (

    select distinct region from country_regions
    union
    select 'Unknown' as region

),

sales as (

    select
        orders.order_date,
        coalesce(country_regions.region, 'Unknown') as region,
        count(*) as orders,
        sum(orders.quantity) as units,
        sum(orders.line_revenue) as net_revenue,
        sum(orders.list_revenue) as list_revenue,
        -- discounts compare like with like: only orders whose list price is known
        sum(case when orders.list_revenue is not null then orders.line_revenue end)
            as priced_net_revenue
    from orders
    left join country_regions
        on orders.user_country = country_regions.country_code
    group by orders.order_date, coalesce(country_regions.region, 'Unknown')

)

select
    days.date_day as order_date,
    regions.region,
    cast(coalesce(sales.orders, 0) as bigint) as orders,
    cast(coalesce(sales.units, 0) as bigint) as units,
    {{ round_money('coalesce(sales.net_revenue, 0)') }} as net_revenue,
    {{ round_money('coalesce(sales.list_revenue, 0)') }} as list_revenue,
    {{ round_money(
        'coalesce(sales.list_revenue, 0) - coalesce(sales.priced_net_revenue, 0)'
    ) }} as discount_amount,
    {{ round_decimal(
        safe_divide('sales.list_revenue - sales.priced_net_revenue', 'sales.list_revenue'), 4, 9
    ) }} as discount_rate
from days
cross join regions
left join sales
    on days.date_day = sales.order_date
    and regions.region = sales.region
