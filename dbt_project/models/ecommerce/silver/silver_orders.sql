-- Orders, one row per order_id (the last-loaded delivery, as in bronze_orders), with the
-- product and user attributes valid when the order was placed (SCD2 snapshots), so a row
-- written by an incremental run never goes stale when a product or user changes later.
{{ config(
    materialized='incremental',
    incremental_strategy=incremental_strategy_for('merge'),
    partition_by=incremental_partition_by('order_date'),
    unique_key='order_id',
    on_schema_change='append_new_columns',
    post_hook="{{ delete_records_dropped_by_redelivery(source('ecommerce', 'orders'), 'order_id') }}",
    merge_update_condition=merge_row_changed([
        'created_at', 'order_date', 'user_id', 'product_id', 'product_name', 'category',
        'user_country', 'quantity', 'unit_price', 'line_revenue', 'list_price', 'list_revenue',
        'status', 'is_cancelled', '_loaded_at', '_source_key',
    ]),
) }}

{%- set bronze = ref('bronze_orders') -%}
{%- set passthrough = extra_columns(bronze, [
    'order_id', 'created_at', 'user_id', 'product_id', 'quantity', 'unit_price', 'status',
    '_loaded_at', '_source_key', '_source_row',
]) %}

with
{{ incremental_scope_ctes(
    source('ecommerce', 'orders'), 'created_at', 'order_id', 'order_date',
    versions=[
        {'relation': ref('silver_product_versions'), 'key': 'product_id'},
        {'relation': ref('silver_user_versions'), 'key': 'user_id'},
    ],
) }}

orders as (

    {%- if incremental_reads_all() %}

    select * from {{ bronze }}

    {%- else %}

    -- bronze_orders for the order_ids in scope only, each deduplicated over all its raw rows
    -- (macros/incremental/scope.sql): a run reads what it rewrites, not the whole bronze view.
    select * from (
        {{ bronze_orders_sql(raw_filter=incremental_scope_keys_filter('order_id')) }}
    ) as touched
    where {{ incremental_scope_filter('created_at', 'order_date') }}

    {%- endif %}

),

product_versions as (

    select * from {{ ref('silver_product_versions') }}

),

user_versions as (

    select * from {{ ref('silver_user_versions') }}

)

select
    orders.order_id,
    orders.created_at,
    cast(orders.created_at as date) as order_date,
    orders.user_id,
    orders.product_id,
    product_versions.product_name,
    product_versions.category,
    user_versions.country as user_country,
    orders.quantity,
    orders.unit_price,
    {{ round_money('orders.quantity * orders.unit_price') }} as line_revenue,
    product_versions.price as list_price,
    {{ round_money('orders.quantity * product_versions.price') }} as list_revenue,
    orders.status,
    case when orders.status = 'cancelled' then true else false end as is_cancelled,
    orders._loaded_at,
    orders._source_key,
    -- this invocation's stamp: its tests check the rows it wrote
    -- (macros/incremental/test_scope.sql)
    {{ dbt_run_at() }} as _dbt_run_at{% for column in passthrough %},
    orders.{{ column }}{% endfor %}
from orders
left join product_versions
    on orders.product_id = product_versions.product_id
    and orders.created_at >= product_versions.valid_from
    and orders.created_at < product_versions.valid_to
left join user_versions
    on orders.user_id = user_versions.user_id
    and orders.created_at >= user_versions.valid_from
    and orders.created_at < user_versions.valid_to
