-- silver_customer_rfm on Spark's `session` target, which runs no Python models (dbt-spark submits
-- them to Databricks clusters only). The Python model silver_customer_rfm.py is the definition
-- and runs everywhere else it can (DuckDB, Databricks); this is its score_relation() step by
-- step in Spark SQL, enabled on the `spark` target only. SEGMENT_RULES are spelled out again
-- below: test_spark.py checks this table equals the Python reference (score_customers) on the
-- same silver_orders, so the two cannot drift apart unnoticed.
{{ config(materialized='table', enabled=target.type == 'spark') }}

{%- set segment_rules = [
    ('Champions', {'r': (4, 5), 'f': (4, 5), 'm': (4, 5)}),
    ('Loyal', {'r': (3, 5), 'f': (4, 5)}),
    ('Big spenders', {'m': (5, 5)}),
    ('New', {'r': (4, 5), 'f': (1, 2)}),
    ('At risk', {'r': (1, 2), 'f': (3, 5)}),
    ('Hibernating', {'r': (1, 2), 'f': (1, 2)}),
] -%}

{#- 1..5 by quintile of rank; equal values share the lower rank (quintile_score_sql in Python). -#}
{%- set quintile_score = "cast(greatest(1, ceil(cast(5 * rank() over (order by {0} {1}) as double)"
                         ~ " / cast(count(*) over () as double))) as bigint)" -%}

with kept_orders as (

    select user_id, order_id, order_date, line_revenue
    from {{ ref('silver_orders') }}
    where not coalesce(is_cancelled, false)

),

customers as (

    -- the newest order date counts every kept order, also one without a user
    select
        user_id,
        min(order_date) as first_order_date,
        max(order_date) as last_order_date,
        count(order_id) as orders,
        round(coalesce(cast(sum(line_revenue) as double), 0), 2) as revenue,
        max(max(order_date)) over () as scored_as_of
    from kept_orders
    group by user_id

),

scored as (

    select
        *,
        {{ quintile_score.format('recency_days', 'desc') }} as r_score,
        {{ quintile_score.format('orders', 'asc') }} as f_score,
        {{ quintile_score.format('revenue', 'asc') }} as m_score
    from (
        select *, cast(datediff(scored_as_of, last_order_date) as bigint) as recency_days
        from customers
        where user_id is not null
    ) as with_recency

)

select
    user_id,
    first_order_date,
    last_order_date,
    cast(orders as bigint) as orders,
    revenue,
    recency_days,
    r_score,
    f_score,
    m_score,
    cast(r_score as string) || cast(f_score as string) || cast(m_score as string) as rfm_score,
    case
        {%- for name, bounds in segment_rules %}
        when {% for score, range in bounds.items() %}{{ score }}_score between {{ range[0] }} and {{ range[1] }}{{ ' and ' if not loop.last }}{% endfor %} then '{{ name }}'
        {%- endfor %}
        else 'Needs attention'
    end as segment,
    scored_as_of
from scored
