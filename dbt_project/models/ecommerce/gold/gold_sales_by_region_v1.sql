-- Version 1 (deprecated; relation gold.gold_sales_by_region_v1), kept for consumers still
-- pinned to it (the finance_weekly_report exposure) until its deprecation date. A view over
-- version 2: the numbers cannot drift apart and keeping it costs no storage or build time.
select
    order_date,
    region,
    orders,
    net_revenue as revenue
from {{ ref('gold_sales_by_region', v=2) }}
