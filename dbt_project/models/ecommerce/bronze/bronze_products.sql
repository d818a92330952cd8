-- One row per product version (product_id, updated_at); a version delivered more than once
-- keeps its last-loaded copy (_loaded_at, _source_key, _source_row, all descending).
{#- Landed columns beyond the contract (added to raw by the loader) pass through unchanged. #}
{%- set contract_columns = ['product_id', 'product_name', 'category', 'price', 'updated_at', '_loaded_at', '_source_key', '_source_row'] -%}
{%- set passthrough = extra_columns(source('raw', 'products'), contract_columns) %}

with source as (

    select * from {{ source('raw', 'products') }}

),

normalised as (

    select
        trim(product_id) as product_id,
        trim(product_name) as product_name,
        trim(category) as category,
        price,
        updated_at,
        _loaded_at,
        _source_key,
        _source_row
        {%- for column in passthrough %},
        {{ column }}
        {%- endfor %}
    from source

),

deduplicated as (

    {{ dedupe('normalised', ['product_id', 'updated_at'], last_loaded_order()) }}

)

select
    product_id,
    product_name,
    category,
    price,
    updated_at,
    _loaded_at,
    _source_key,
    _source_row
    {%- for column in passthrough %},
    {{ column }}
    {%- endfor %}
from deduplicated
