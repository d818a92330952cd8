-- One row per review_id, last-loaded wins (_loaded_at, _source_key, _source_row, all descending).
{#- Landed columns beyond the contract (added to raw by the loader) pass through unchanged. #}
{%- set contract_columns = ['review_id', 'created_at', 'product_id', 'user_id', 'rating', 'review_text', '_loaded_at', '_source_key', '_source_row'] -%}
{%- set passthrough = extra_columns(source('raw', 'reviews'), contract_columns) %}

with source as (

    select * from {{ source('raw', 'reviews') }}

),

normalised as (

    select
        trim(review_id) as review_id,
        created_at,
        trim(product_id) as product_id,
        trim(user_id) as user_id,
        rating,
        trim(review_text) as review_text,
        _loaded_at,
        _source_key,
        _source_row
        {%- for column in passthrough %},
        {{ column }}
        {%- endfor %}
    from source

),

deduplicated as (

    {{ dedupe('normalised', ['review_id'], last_loaded_order()) }}

)

select
    review_id,
    created_at,
    product_id,
    user_id,
    rating,
    review_text,
    _loaded_at,
    _source_key,
    _source_row
    {%- for column in passthrough %},
    {{ column }}
    {%- endfor %}
from deduplicated
