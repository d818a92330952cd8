-- Business rule: every customer with a non-cancelled order is in exactly one RFM segment, so
-- the segment totals add up to the customers, orders and revenue of silver_orders.
{{ config(
    enabled=target.type in ('duckdb', 'databricks'),
    tags=['reconciliation'],
    meta={'dagster': {'ref': {'name': 'gold_customer_segments'}}},
) }}

with segments as (

    select
        sum(customers) as customers,
        sum(orders) as orders,
        sum(revenue) as revenue
    from {{ ref('gold_customer_segments') }}

),

orders as (

    select
        count(distinct user_id) as customers,
        count(*) as orders,
        sum(line_revenue) as revenue
    from {{ ref('silver_orders') }}
    where not is_cancelled

)

select
    segments.customers as segment_customers,
    orders.customers as order_customers,
    segments.revenue as segment_revenue,
    orders.revenue as order_revenue
from segments
cross join orders
where segments.customers <> orders.customers
    or segments.orders <> orders.orders
    -- each customer's revenue is rounded to cents in Python: allow half a cent per customer
    or abs(segments.revenue - orders.revenue) > 0.005 * orders.customers
