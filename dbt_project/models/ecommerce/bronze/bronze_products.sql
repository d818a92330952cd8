-- One row per product version (product_id, updated_at); a version delivered more than once
-- keeps its last-loaded copy (_loaded_at, _source_key, _source_row, all descending).
-- The SQL is macros/bronze.sql (cleaned_and_deduplicated_sql), like every bronze model.
{{ cleaned_and_deduplicated_sql(source('ecommerce', 'products'), [
    ('product_id', 'trim(product_id)'),
    ('product_name', 'trim(product_name)'),
    ('category', 'trim(category)'),
    ('price', 'price'),
    ('updated_at', 'updated_at'),
], ['product_id', 'updated_at']) }}
