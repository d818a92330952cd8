{#-
    A query returning one row per calendar day, column `date_day` (DATE), from start_date to
    end_date inclusive. Both bounds are SQL expressions (literals or scalar subqueries).

    Gold models use it to report gap-free series (a day without orders is a 0, not a missing
    row, so dashboards do not draw a line across it); the MetricFlow time spine is built with it.
    The SQL differs per engine, hence adapter.dispatch:
    - DuckDB: generate_series() of timestamps, unnested;
    - PostgreSQL: the set-returning generate_series() in FROM;
    - Redshift: generate_series() only runs on the leader node, so a numbers table is built from
      cross-joined digits (up to 100,000 days);
    - Spark SQL / Databricks: explode(sequence()).
-#}
{% macro date_spine(start_date, end_date) -%}
    {{ return(adapter.dispatch('date_spine', 'analytics_platform')(start_date, end_date)) }}
{%- endmacro %}

{% macro default__date_spine(start_date, end_date) -%}
    {{ postgres__date_spine(start_date, end_date) }}
{%- endmacro %}

{% macro duckdb__date_spine(start_date, end_date) -%}
    select cast(spine.day_start as date) as date_day
    from (
        select unnest(generate_series(
            cast({{ start_date }} as timestamp),
            cast({{ end_date }} as timestamp),
            interval 1 day
        )) as day_start
    ) as spine
{%- endmacro %}

{% macro postgres__date_spine(start_date, end_date) -%}
    select cast(spine.day_start as date) as date_day
    from generate_series(
        cast({{ start_date }} as timestamp),
        cast({{ end_date }} as timestamp),
        interval '1 day'
    ) as spine(day_start)
{%- endmacro %}

{% macro redshift__date_spine(start_date, end_date) -%}
    select cast(dateadd(day, numbers.n, cast({{ start_date }} as date)) as date) as date_day
    from (
        select d1.n + 10 * d2.n + 100 * d3.n + 1000 * d4.n + 10000 * d5.n as n
        from
            (select 0 as n union all select 1 union all select 2 union all select 3 union all select 4
             union all select 5 union all select 6 union all select 7 union all select 8 union all select 9) as d1
            cross join (select 0 as n union all select 1 union all select 2 union all select 3 union all select 4
             union all select 5 union all select 6 union all select 7 union all select 8 union all select 9) as d2
            cross join (select 0 as n union all select 1 union all select 2 union all select 3 union all select 4
             union all select 5 union all select 6 union all select 7 union all select 8 union all select 9) as d3
            cross join (select 0 as n union all select 1 union all select 2 union all select 3 union all select 4
             union all select 5 union all select 6 union all select 7 union all select 8 union all select 9) as d4
            cross join (select 0 as n union all select 1 union all select 2 union all select 3 union all select 4
             union all select 5 union all select 6 union all select 7 union all select 8 union all select 9) as d5
    ) as numbers
    where numbers.n <= datediff(day, cast({{ start_date }} as date), cast({{ end_date }} as date))
{%- endmacro %}

{% macro spark__date_spine(start_date, end_date) -%}
    select explode(sequence(
        cast({{ start_date }} as date),
        cast({{ end_date }} as date),
        interval 1 day
    )) as date_day
{%- endmacro %}
