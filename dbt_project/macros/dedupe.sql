{#-
    Keep one row per `partition_by`, choosing the first by `order_by`. A row_number() subquery
    rather than QUALIFY keeps the SQL portable (DuckDB, Spark SQL, Redshift, PostgreSQL).
    `relation` may be a relation or a CTE name.
-#}
{% macro dedupe(relation, partition_by, order_by) -%}
    select *
    from (
        select
            *,
            row_number() over (
                partition by {{ partition_by | join(', ') }}
                order by {{ order_by | join(', ') }}
            ) as _dedupe_rank
        from {{ relation }}
    ) as ranked
    where _dedupe_rank = 1
{%- endmacro %}

{#- Contract ordering for "last-loaded wins". Explicit NULLS LAST: engines disagree on the default. -#}
{% macro last_loaded_order() -%}
    {{ return(['_loaded_at desc nulls last', '_source_key desc nulls last', '_source_row desc nulls last']) }}
{%- endmacro %}
