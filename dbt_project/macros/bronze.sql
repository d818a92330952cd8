{#-
    The SQL of the bronze views: every bronze model is cleaned_and_deduplicated_sql over its
    source. The facts' SQL (bronze_orders_sql, bronze_reviews_sql) is shared with the incremental
    path of silver_orders and silver_reviews (macros/incremental.sql), which runs the same
    cleaning and dedupe on the raw rows of the keys a run touches only.

      raw_filter   optional WHERE on the raw table (raw column names), applied before the
                   dedupe: it must keep every delivery of a key or none, e.g.
                   "trim(order_id) in (select scope_key from scope_keys)".

    Plain subqueries, no WITH, so the result can be nested in a model's CTE on every target.
    Landed columns beyond the contract (added to raw by the loader) pass through unchanged
    after the contract columns (extra_columns, macros/incremental.sql).
-#}

{% macro bronze_orders_sql(raw_filter=none) -%}
    {{ cleaned_and_deduplicated_sql(source('ecommerce', 'orders'), [
        ('order_id', 'trim(order_id)'),
        ('created_at', 'created_at'),
        ('user_id', 'trim(user_id)'),
        ('product_id', 'trim(product_id)'),
        ('quantity', 'quantity'),
        ('unit_price', 'unit_price'),
        ('status', 'lower(trim(status))'),
    ], 'order_id', raw_filter) }}
{%- endmacro %}

{% macro bronze_reviews_sql(raw_filter=none) -%}
    {{ cleaned_and_deduplicated_sql(source('ecommerce', 'reviews'), [
        ('review_id', 'trim(review_id)'),
        ('created_at', 'created_at'),
        ('product_id', 'trim(product_id)'),
        ('user_id', 'trim(user_id)'),
        ('rating', 'rating'),
        ('review_text', 'trim(review_text)'),
    ], 'review_id', raw_filter) }}
{%- endmacro %}

{#- One row per `unique_key` of `raw` (a column name or a list of them, e.g.
    ['product_id', 'updated_at']), the last-loaded delivery (last_loaded_order()):
    `cleaned` lists (column, expression over the raw columns) in contract order; the lineage
    columns and any landed column beyond the contract follow them unchanged. -#}
{% macro cleaned_and_deduplicated_sql(raw, cleaned, unique_key, raw_filter=none) -%}
    {%- set unique_keys = [unique_key] if unique_key is string else unique_key -%}
    {%- set lineage = ['_loaded_at', '_source_key', '_source_row'] -%}
    {%- set contract_columns = cleaned | map(attribute=0) | list + lineage -%}
    {%- set output_columns = contract_columns + extra_columns(raw, contract_columns) -%}
    {%- set normalised -%}
(
        select
            {%- for column, expression in cleaned %}
            {{ expression }} as {{ column }},
            {%- endfor %}
            {{ (output_columns[cleaned | length:]) | join(',\n            ') }}
        from {{ raw }}
        {%- if raw_filter %}
        where {{ raw_filter }}
        {%- endif %}
    ) as normalised
    {%- endset -%}
select
    {{ output_columns | join(',\n    ') }}
from (
    {{ dedupe(normalised, unique_keys, last_loaded_order()) }}
) as deduplicated
{%- endmacro %}
