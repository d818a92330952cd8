{#-
    Text and types for SQL the project writes itself (the audit hooks), where engines differ:
    - string literals: standard SQL doubles a quote; Spark SQL escapes with a backslash, and
      Redshift also treats a backslash in a literal as an escape;
    - long text: Redshift's VARCHAR defaults to 256 bytes (error messages are longer), Spark
      calls it STRING.
-#}
{% macro sql_string(value) -%}
    {%- if value is none -%}
        {{ return('null') }}
    {%- endif -%}
    {{ return(adapter.dispatch('sql_string', 'analytics_platform')(value | string)) }}
{%- endmacro %}

{% macro default__sql_string(value) -%}
    {{ return("'" ~ value.replace("'", "''") ~ "'") }}
{%- endmacro %}

{% macro redshift__sql_string(value) -%}
    {{ return("'" ~ value.replace("\\", "\\\\").replace("'", "''") ~ "'") }}
{%- endmacro %}

{% macro spark__sql_string(value) -%}
    {{ return("'" ~ value.replace("\\", "\\\\").replace("'", "\\'") ~ "'") }}
{%- endmacro %}

{% macro long_text_type() -%}
    {{ return(adapter.dispatch('long_text_type', 'analytics_platform')()) }}
{%- endmacro %}

{% macro default__long_text_type() -%}
    {{ return('varchar') }}
{%- endmacro %}

{% macro postgres__long_text_type() -%}
    {{ return('text') }}
{%- endmacro %}

{% macro redshift__long_text_type() -%}
    {{ return('varchar(65535)') }}
{%- endmacro %}

{% macro spark__long_text_type() -%}
    {{ return('string') }}
{%- endmacro %}

{#- The type of short text in casts: `varchar` (Spark / Databricks: `string`; Spark SQL's varchar
    requires a length). -#}
{% macro text_type() -%}
    {{ return(adapter.dispatch('text_type', 'analytics_platform')()) }}
{%- endmacro %}

{% macro default__text_type() -%}
    {{ return('varchar') }}
{%- endmacro %}

{% macro spark__text_type() -%}
    {{ return('string') }}
{%- endmacro %}
