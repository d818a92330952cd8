-- Reviews (one row per review_id) with their UTC review date and current product category.
with reviews as (

    select * from {{ ref('bronze_reviews') }}

),

products as (

    select * from {{ ref('silver_products') }}

)

select
    reviews.review_id,
    reviews.created_at,
    cast(reviews.created_at as date) as review_date,
    reviews.product_id,
    products.category,
    reviews.user_id,
    reviews.rating,
    reviews.review_text,
    reviews._loaded_at,
    reviews._source_key
from reviews
left join products
    on reviews.product_id = products.product_id
