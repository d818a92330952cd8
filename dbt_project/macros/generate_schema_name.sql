{#-
    Custom schemas are used verbatim (`bronze`, `silver`, `gold`) in every target, instead of
    dbt's default `<target_schema>_<custom_schema>`. Models without a custom schema land in the
    target schema.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
