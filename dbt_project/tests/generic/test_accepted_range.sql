{#-
    Column-level test: fails for every non-null value outside [min_value, max_value]
    (bounds inclusive; either bound may be omitted). Pair it with not_null to reject nulls.

        - name: rating
          data_tests:
            - accepted_range:
                arguments:
                  min_value: 1
                  max_value: 5
-#}
{% test accepted_range(model, column_name, min_value=none, max_value=none) %}

{%- if min_value is none and max_value is none -%}
    {{ exceptions.raise_compiler_error("accepted_range needs min_value, max_value or both") }}
{%- endif %}

select *
from {{ model }}
where {{ column_name }} is not null
  and (
      1 = 0
      {%- if min_value is not none %}
      or {{ column_name }} < {{ min_value }}
      {%- endif %}
      {%- if max_value is not none %}
      or {{ column_name }} > {{ max_value }}
      {%- endif %}
  )

{% endtest %}
