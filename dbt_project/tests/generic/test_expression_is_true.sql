{#-
    Model-level test: fails for every row where `expression` is not true.
    Rows where it evaluates to null also fail.

        data_tests:
          - expression_is_true:
              arguments:
                expression: "revenue >= 0"
-#}
{% test expression_is_true(model, expression) %}

select *
from {{ model }}
where not coalesce(({{ expression }}), false)

{% endtest %}
