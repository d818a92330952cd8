-- Every recorded version of every product with the half-open interval [valid_from, valid_to)
-- in which it was the product's current version, read from the SCD2 snapshot snap_products.
-- The first version recorded for a product counts as valid since the beginning of time: a
-- snapshot records history from its first run on, so an order placed before then is priced
-- at the oldest version known rather than left without a price.
{{ config(materialized='ephemeral') }}

with snapshot as (

    select * from {{ ref('snap_products') }}

)

select
    product_id,
    product_name,
    category,
    price,
    case
        when row_number() over (partition by product_id order by dbt_valid_from) = 1
            then cast('1900-01-01 00:00:00' as timestamp)
        else dbt_valid_from
    end as valid_from,
    dbt_valid_to as valid_to,
    _loaded_at
from snapshot
