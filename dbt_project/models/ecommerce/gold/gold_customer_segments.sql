-- Customers, orders and revenue per RFM segment (scored in Python by silver_customer_rfm),
-- with each segment's share of total revenue.
with customers as (

    select * from {{ ref('silver_customer_rfm') }}

),

totals as (

    select sum(revenue) as total_revenue from customers

)

select
    customers.segment,
    cast(count(*) as bigint) as customers,
    cast(sum(customers.orders) as bigint) as orders,
    {{ round_money('sum(customers.revenue)') }} as revenue,
    {{ round_money(safe_divide('sum(customers.revenue)', 'count(*)')) }} as revenue_per_customer,
    {{ round_decimal(
        safe_divide('sum(customers.revenue)', 'max(totals.total_revenue)'), 4, 9
    ) }} as revenue_share,
    {{ round_decimal('avg(customers.recency_days)', 1, 9) }} as avg_recency_days
from customers
cross join totals
group by customers.segment
