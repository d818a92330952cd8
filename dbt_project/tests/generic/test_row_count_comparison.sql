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

    On an incremental fact, `key` (the model's key column) and `compare_key` (the same key as an
    expression over compare_model) scope the comparison to the keys a landing run is about, as
    the fact's other tests check only the rows the run wrote (macros/incremental/test_scope.sql):
    the keys the run wrote, and the keys of compare_model's rows loaded (`loaded_at`) after the
    newest load the model's older rows hold. Both counts are then taken over those keys only, and
    compare_model is read only in the files (`source_key`) of the rows the run wrote and in the
    rows loaded since: every key the run wrote comes from a row of its own file, so no other file
    can change the count, and the test costs what the run loaded rather than the whole source.
    Under the var `test_scope: full` (the scheduled `dbt_full_tests` job) it compares the whole
    tables, as without `key`:

                compare_model: source('ecommerce', 'orders')
                key: order_id                                  # over this model
                compare_key: trim(order_id)                    # over compare_model
    (with compare_key, compare_count_expression defaults to count(distinct <compare_key>)).
-#}
{% test row_count_comparison(model, compare_model, operator='=', count_expression='count(*)',
                             compare_count_expression=none, compare_where=none,
                             key=none, compare_key=none, loaded_at='_loaded_at',
                             source_key='_source_key') %}

{%- if operator not in ['=', '<', '<=', '>', '>=', '<>'] -%}
    {{ exceptions.raise_compiler_error("row_count_comparison: unsupported operator " ~ operator) }}
{%- endif %}
{%- if (key is none) != (compare_key is none) -%}
    {{ exceptions.raise_compiler_error("row_count_comparison: give both key and compare_key, or neither") }}
{%- endif %}
{%- set scoped = key is not none and var('test_scope', 'this_run') != 'full' %}
{%- if compare_count_expression is none -%}
    {%- set compare_count_expression = 'count(*)' if compare_key is none else 'count(distinct ' ~ compare_key ~ ')' -%}
{%- endif %}

with
{%- if scoped %}

older_loads as (

    -- the newest load the rows written before this run hold (none: the first run, every key)
    select coalesce(max({{ loaded_at }}), cast('1900-01-01 00:00:00' as timestamp)) as loaded_at
    from {{ model }}
    where not coalesce({{ rows_this_run() }}, false)

),

written_this_run as (

    select {{ key }} as scope_key, {{ source_key }} as source_key
    from {{ model }}
    where {{ rows_this_run() }}

),

scope_keys as (

    select scope_key from written_this_run

    union

    select {{ compare_key }} as scope_key
    from {{ compare_model }}
    where {{ loaded_at }} > (select loaded_at from older_loads)

),
{%- endif %}

model_count as (

    select {{ count_expression }} as row_count
    from {{ model }}
    {%- if scoped %}
    where {{ key }} in (select scope_key from scope_keys)
    {%- endif %}

),

compare_count as (

    select {{ compare_count_expression }} as row_count
    from {{ compare_model }}
    where {{ compare_where or '1 = 1' }}
    {%- if scoped %}
        and ({{ source_key }} in (select source_key from written_this_run)
            or {{ loaded_at }} > (select loaded_at from older_loads))
        and {{ compare_key }} in (select scope_key from scope_keys)
    {%- endif %}

)

select
    model_count.row_count as model_count,
    compare_count.row_count as compare_count
from model_count
cross join compare_count
where not (model_count.row_count {{ operator }} compare_count.row_count)

{% endtest %}
