-- Business rule (docs/CONTRACTS.md): product_categories is computed over the current version of
-- each product, every product in exactly one category: the counts add up to silver_products.
{{ config(
    tags=['reconciliation'],
    meta={'dagster': {'ref': {'name': 'product_categories'}}},
) }}

select
    categorised.products as products_in_categories,
    current_products.products as current_products
from (select sum(product_count) as products from {{ ref('product_categories') }}) as categorised
cross join (select count(*) as products from {{ ref('silver_products') }}) as current_products
where categorised.products <> current_products.products
