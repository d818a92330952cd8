{{ config(materialized=materialized_view_or_table()) }}
-- Experimental: revenue per category group and day, a materialized view where the engine has them
-- (PostgreSQL, Redshift, Databricks; dbt creates or refreshes it on every build) and a table on
-- DuckDB (macros/tickit/materialized_view.sql).
select
    c.catgroup,
    s.sale_date,
    count(*) as sales_made,
    sum(s.qtysold) as tickets_sold,
    sum(s.pricepaid) as sales_revenue
from {{ ref('silver_tickit_sales') }} as s
inner join {{ ref('bronze_tickit_category') }} as c on s.catid = c.catid
group by c.catgroup, s.sale_date
