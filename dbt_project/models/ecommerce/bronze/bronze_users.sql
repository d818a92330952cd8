-- One row per user version (user_id, updated_at); a version delivered more than once keeps
-- its last-loaded copy (_loaded_at, _source_key, _source_row, all descending).
{#- Landed columns beyond the contract (added to raw by the loader) pass through unchanged. #}
{%- set contract_columns = ['user_id', 'name', 'email', 'country', 'created_at', 'updated_at', '_loaded_at', '_source_key', '_source_row'] -%}
{%- set passthrough = extra_columns(source('raw', 'users'), contract_columns) %}

with source as (

    select * from {{ source('raw', 'users') }}

),

normalised as (

    select
        trim(user_id) as user_id,
        trim(name) as name,
        lower(trim(email)) as email,
        upper(trim(country)) as country,
        created_at,
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

    {{ dedupe('normalised', ['user_id', 'updated_at'], last_loaded_order()) }}

)

select
    user_id,
    name,
    email,
    country,
    created_at,
    updated_at,
    _loaded_at,
    _source_key,
    _source_row
    {%- for column in passthrough %},
    {{ column }}
    {%- endfor %}
from deduplicated
