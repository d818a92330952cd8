-- One row per UTC order date. silver_orders already holds each order once (last-loaded
-- delivery wins); cancelled orders are excluded.
with orders as (

    select * from {{ ref('silver_orders') }}

)

select
    order_date,
    cast(count(*) as bigint) as orders,
    cast(sum(quantity) as bigint) as units,
    {{ round_money('sum(quantity * unit_price)') }} as revenue
from orders
where not is_cancelled
group by order_date
