-- One row per category over the current version of each product.
with products as (

    select * from {{ ref('silver_products') }}

)

select
    category,
    cast(count(*) as bigint) as product_count,
    {{ round_money('min(price)') }} as min_price,
    {{ round_money('max(price)') }} as max_price,
    {{ round_money(exact_avg('price')) }} as avg_price
from products
group by category
