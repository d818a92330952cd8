-- One row per UTC review date and product. silver_reviews already holds each review once.
with reviews as (

    select * from {{ ref('silver_reviews') }}

)

select
    review_date,
    product_id,
    {{ round_decimal(exact_avg('rating'), 2, 18) }} as avg_rating,
    cast(count(*) as bigint) as review_count
from reviews
group by review_date, product_id
