-- One row per order_id: the same order may be delivered more than once; the last-loaded
-- delivery wins (_loaded_at, then _source_key, then _source_row, all descending).
-- The SQL is macros/bronze.sql (bronze_orders_sql): the incremental path of silver_orders runs
-- the same cleaning and dedupe on the order_ids a run touches only.
{{ bronze_orders_sql() }}
