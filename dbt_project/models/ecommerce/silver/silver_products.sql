-- Current version of each product: the version with the latest updated_at (ties, which bronze
-- rules out unless updated_at is null, fall back to last-loaded). The snapshot snap_products
-- reads this model to keep the history of every version.
with versions as (

    select * from {{ ref('bronze_products') }}

),

current_version as (

    {{ dedupe('versions', ['product_id'], ['updated_at desc nulls last'] + last_loaded_order()) }}

)

select
    product_id,
    product_name,
    category,
    price,
    updated_at,
    _loaded_at,
    _source_key
from current_version
