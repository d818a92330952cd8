-- One row per user version (user_id, updated_at); a version delivered more than once keeps
-- its last-loaded copy (_loaded_at, _source_key, _source_row, all descending).
-- The SQL is macros/bronze.sql (cleaned_and_deduplicated_sql), like every bronze model.
{{ cleaned_and_deduplicated_sql(source('ecommerce', 'users'), [
    ('user_id', 'trim(user_id)'),
    ('name', 'trim(name)'),
    ('email', 'lower(trim(email))'),
    ('country', 'upper(trim(country))'),
    ('created_at', 'created_at'),
    ('updated_at', 'updated_at'),
], ['user_id', 'updated_at']) }}
