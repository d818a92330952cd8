{#-
    Incremental strategy settings of the facts: silver_orders uses `merge` keyed on order_id,
    silver_reviews `delete+insert` keyed on review_date (both recompute whole days,
    macros/incremental/scope.sql). merge_row_changed() is the merge's update condition.
-#}

{#-
    merge_update_condition of a `merge` fact (dbt-duckdb): update a matched row only when one of
    `columns` changed. A run recomputes whole days, most of whose rows come out as they were;
    rewriting them costs most of a merge (DuckDB updates are row rewrites). Columns that land
    beyond the contract are not listed: their values change only with a new delivery, which
    changes _loaded_at. Adapters without the setting ignore it and update every matched row.
-#}
{% macro merge_row_changed(columns) -%}
    {%- set changed = [] -%}
    {%- for column in columns -%}
        {%- do changed.append('DBT_INTERNAL_SOURCE.' ~ column ~ ' is distinct from DBT_INTERNAL_DEST.' ~ column) -%}
    {%- endfor -%}
    {{ return('(' ~ changed | join(' or ') ~ ')') }}
{%- endmacro %}
