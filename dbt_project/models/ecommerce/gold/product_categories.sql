-- One row per category over the current version of each product, with the department the
-- category reports to (category_departments seed; `Unmapped` until someone adds it there).
with products as (

    select * from {{ ref('silver_products') }}

),

departments as (

    select * from {{ ref('category_departments') }}

)

select
    products.category,
    coalesce(max(departments.department), 'Unmapped') as department,
    cast(count(*) as bigint) as product_count,
    {{ round_money('min(products.price)') }} as min_price,
    {{ round_money('max(products.price)') }} as max_price,
    {{ round_money(exact_avg('products.price')) }} as avg_price
from products
left join departments
    on products.category = departments.category
group by products.category
