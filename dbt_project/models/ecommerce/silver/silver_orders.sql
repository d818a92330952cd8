-- Orders (one row per order_id) enriched with the current product and user attributes.
with orders as (

    select * from {{ ref('bronze_orders') }}

),

products as (

    select * from {{ ref('silver_products') }}

),

users as (

    select * from {{ ref('silver_users') }}

)

select
    orders.order_id,
    orders.created_at,
    cast(orders.created_at as date) as order_date,
    orders.user_id,
    orders.product_id,
    products.product_name,
    products.category,
    users.country as user_country,
    orders.quantity,
    orders.unit_price,
    cast(orders.quantity * orders.unit_price as decimal(18, 2)) as line_revenue,
    orders.status,
    case when orders.status = 'cancelled' then true else false end as is_cancelled,
    orders._loaded_at,
    orders._source_key
from orders
left join products
    on orders.product_id = products.product_id
left join users
    on orders.user_id = users.user_id
