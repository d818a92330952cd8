-- One row per order_id: the same order may be delivered more than once; the last-loaded
-- delivery wins (_loaded_at, then _source_key, then _source_row, all descending).
{#- Landed columns beyond the contract (added to raw by the loader) pass through unchanged. #}
{%- set contract_columns = ['order_id', 'created_at', 'user_id', 'product_id', 'quantity', 'unit_price', 'status', '_loaded_at', '_source_key', '_source_row'] -%}
{%- set passthrough = extra_columns(source('raw', 'orders'), contract_columns) %}

with source as (

    select * from {{ source('raw', 'orders') }}

),

normalised as (

    select
        trim(order_id) as order_id,
        created_at,
        trim(user_id) as user_id,
        trim(product_id) as product_id,
        quantity,
        unit_price,
        lower(trim(status)) as status,
        _loaded_at,
        _source_key,
        _source_row
        {%- for column in passthrough %},
        {{ column }}
        {%- endfor %}
    from source

),

deduplicated as (

    {{ dedupe('normalised', ['order_id'], last_loaded_order()) }}

)

select
    order_id,
    created_at,
    user_id,
    product_id,
    quantity,
    unit_price,
    status,
    _loaded_at,
    _source_key,
    _source_row
    {%- for column in passthrough %},
    {{ column }}
    {%- endfor %}
from deduplicated
