{#-
    The SQL of the bronze views of the two facts, bronze_orders and bronze_reviews, shared with
    the incremental path of silver_orders and silver_reviews (macros/incremental.sql), which
    runs the same cleaning and dedupe on the raw rows of the keys a run touches only.

      raw_filter   optional WHERE on the raw table (raw column names), applied before the
                   dedupe: it must keep every delivery of a key or none, e.g.
                   "trim(order_id) in (select scope_key from scope_keys)".

    Plain subqueries, no WITH, so the result can be nested in a model's CTE on every target.
    Landed columns beyond the contract (added to raw by the loader) pass through unchanged
    after the contract columns (extra_columns, macros/incremental.sql).
-#}

{% macro bronze_orders_sql(raw_filter=none) -%}
    {%- set raw = source('raw', 'orders') -%}
    {%- set contract_columns = ['order_id', 'created_at', 'user_id', 'product_id', 'quantity', 'unit_price', 'status', '_loaded_at', '_source_key', '_source_row'] -%}
    {%- set passthrough = extra_columns(raw, contract_columns) -%}
    {%- set normalised -%}
(
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
        from {{ raw }}
        {%- if raw_filter %}
        where {{ raw_filter }}
        {%- endif %}
    ) as normalised
    {%- endset -%}
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
from (
    {{ dedupe(normalised, ['order_id'], last_loaded_order()) }}
) as deduplicated
{%- endmacro %}

{% macro bronze_reviews_sql(raw_filter=none) -%}
    {%- set raw = source('raw', 'reviews') -%}
    {%- set contract_columns = ['review_id', 'created_at', 'product_id', 'user_id', 'rating', 'review_text', '_loaded_at', '_source_key', '_source_row'] -%}
    {%- set passthrough = extra_columns(raw, contract_columns) -%}
    {%- set normalised -%}
(
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
        from {{ raw }}
        {%- if raw_filter %}
        where {{ raw_filter }}
        {%- endif %}
    ) as normalised
    {%- endset -%}
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
from (
    {{ dedupe(normalised, ['review_id'], last_loaded_order()) }}
) as deduplicated
{%- endmacro %}
