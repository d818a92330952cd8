{#-
    numerator / denominator, or null when the denominator is 0 or null (instead of an error on
    Redshift / PostgreSQL / Databricks with ANSI mode, or inf / NaN on DuckDB). The numerator is
    widened to decimal(28, 10) first so integer / integer does not truncate on Redshift and
    PostgreSQL (7 / 2 = 3 there).
-#}
{% macro safe_divide(numerator, denominator) -%}
    (cast({{ numerator }} as decimal(28, 10)) / nullif({{ denominator }}, 0))
{%- endmacro %}
