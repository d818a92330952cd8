{#-
    Column-level test: the newest value of a timestamp column is at most `max_age_hours` old
    (UTC). Fails with one row (the newest value and its age limit) when it is older, or when
    the model is empty. The same rule dbt-utils calls `recency`, written here with the
    project's cross-database utc_now() and dbt's dateadd().

        - name: _loaded_at
          data_tests:
            - recency:
                arguments:
                  max_age_hours: 26
-#}
{% test recency(model, column_name, max_age_hours) %}

select
    max({{ column_name }}) as newest_value,
    {{ add_hours(utc_now(), -1 * (max_age_hours | int)) }} as oldest_allowed
from {{ model }}
having max({{ column_name }}) is null
    or max({{ column_name }}) < {{ add_hours(utc_now(), -1 * (max_age_hours | int)) }}

{% endtest %}
