{#-
    Model-level test: the combination of `combination_of_columns` is unique (the model's grain).
    Fails once per duplicated combination.

        data_tests:
          - unique_combination_of_columns:
              arguments:
                combination_of_columns: [review_date, product_id]
-#}
{% test unique_combination_of_columns(model, combination_of_columns) %}

{%- set columns_csv = combination_of_columns | join(', ') %}

select
    {{ columns_csv }},
    count(*) as n_rows
from {{ model }}
group by {{ columns_csv }}
having count(*) > 1

{% endtest %}
