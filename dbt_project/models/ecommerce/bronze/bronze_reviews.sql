-- One row per review_id, last-loaded wins (_loaded_at, _source_key, _source_row, all descending).
-- The SQL is macros/bronze.sql (bronze_reviews_sql): the incremental path of silver_reviews
-- runs the same cleaning and dedupe on the review_ids a run touches only.
{{ bronze_reviews_sql() }}
