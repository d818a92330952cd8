-- Reviews, one row per review_id (the last-loaded delivery, as in bronze_reviews), with their
-- UTC review date and the product's category when the review was written (SCD2 snapshot).
{{ config(
    materialized='incremental',
    incremental_strategy=incremental_strategy_for('delete+insert'),
    partition_by=incremental_partition_by('review_date'),
    unique_key='review_date',
    on_schema_change='append_new_columns',
    post_hook="{{ delete_records_dropped_by_redelivery(source('ecommerce', 'reviews'), 'review_id') }}",
) }}

{%- set bronze = ref('bronze_reviews') -%}
{%- set passthrough = extra_columns(bronze, [
    'review_id', 'created_at', 'product_id', 'user_id', 'rating', 'review_text',
    '_loaded_at', '_source_key', '_source_row',
]) %}

with
{{ incremental_scope_ctes(
    source('ecommerce', 'reviews'), 'created_at', 'review_id', 'review_date'
) }}

reviews as (

    {%- if incremental_reads_all() %}

    select * from {{ bronze }}

    {%- else %}

    -- bronze_reviews for the review_ids in scope only, each deduplicated over all its raw
    -- rows, kept when their day is in scope (macros/incremental/scope.sql): a run reads the days it
    -- replaces, not the whole bronze view.
    select * from (
        {{ bronze_reviews_sql(raw_filter=incremental_scope_keys_filter('review_id')) }}
    ) as touched
    where {{ incremental_scope_filter('created_at', 'review_date') }}

    {%- endif %}

),

product_versions as (

    select * from {{ ref('silver_product_versions') }}

)

select
    reviews.review_id,
    reviews.created_at,
    cast(reviews.created_at as date) as review_date,
    reviews.product_id,
    product_versions.category,
    reviews.user_id,
    reviews.rating,
    reviews.review_text,
    reviews._loaded_at,
    reviews._source_key,
    -- this invocation's stamp: its tests check the rows it wrote
    -- (macros/incremental/test_scope.sql)
    {{ dbt_run_at() }} as _dbt_run_at{% for column in passthrough %},
    reviews.{{ column }}{% endfor %}
from reviews
left join product_versions
    on reviews.product_id = product_versions.product_id
    and reviews.created_at >= product_versions.valid_from
    and reviews.created_at < product_versions.valid_to
