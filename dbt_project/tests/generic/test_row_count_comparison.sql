{#-
    Model-level test: compares a count over this model with a count over another relation and
    fails with one row (both counts) unless `model_count <operator> compare_count` holds.
    Covers dbt-utils' equal_rowcount / fewer_rows_than and counts of distinct keys, e.g. "the
    incremental fact holds exactly the orders bronze holds":

        data_tests:
          - row_count_comparison:
              arguments:
                compare_model: ref('bronze_orders')
                operator: "="                                  # =, <, <=, >, >=, <>
                count_expression: count(*)                     # over this model
                compare_count_expression: count(distinct order_id)   # over compare_model
                compare_where: "status <> 'cancelled'"         # optional filter on compare_model
    (dbt's own `where:` config filters this model.)
-#}
{% test row_count_comparison(model, compare_model, operator='=', count_expression='count(*)',
                             compare_count_expression='count(*)', compare_where=none) %}

{%- if operator not in ['=', '<', '<=', '>', '>=', '<>'] -%}
    {{ exceptions.raise_compiler_error("row_count_comparison: unsupported operator " ~ operator) }}
{%- endif %}

with model_count as (

    select {{ count_expression }} as row_count
    from {{ model }}

),

compare_count as (

    select {{ compare_count_expression }} as row_count
    from {{ compare_model }}
    {%- if compare_where %}
    where {{ compare_where }}
    {%- endif %}

)

select
    model_count.row_count as model_count,
    compare_count.row_count as compare_count
from model_count
cross join compare_count
where not (model_count.row_count {{ operator }} compare_count.row_count)

{% endtest %}
