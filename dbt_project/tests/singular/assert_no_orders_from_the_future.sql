-- Business rule: an order cannot be placed after it was loaded. An order whose created_at is
-- later than its file's load time (plus an hour of clock skew) means a source clock or time
-- zone is wrong; the whole day's numbers would be attributed to the wrong date.
-- Like the fact's other row tests, it checks the rows this invocation wrote, and the whole
-- table in `dbt_full_tests` (macros/incremental/test_scope.sql).
{{ config(
    severity='error',
    warn_if='>0',
    error_if='>10',
) }}

select
    order_id,
    created_at,
    _loaded_at
from {{ ref('silver_orders') }}
where created_at > {{ add_hours('_loaded_at', 1) }}
    and {{ rows_this_run() }}
