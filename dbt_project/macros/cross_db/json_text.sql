{#-
    The text of one top-level field of a JSON object held as text (null when absent or null):
    json_text('event_data', 'player_id'). `key` is a plain name (letters, digits, underscore).
    DuckDB's json_extract_string, PostgreSQL's ->>, Redshift's json_extract_path_text and
    Spark / Databricks' get_json_object all return the text of a string and the JSON text of a
    number ('4.99'), so a cast after it is the same everywhere.
-#}
{% macro json_text(json_expr, key) -%}
    {{ return(adapter.dispatch('json_text', 'analytics_platform')(json_expr, key)) }}
{%- endmacro %}

{% macro default__json_text(json_expr, key) -%}
    (cast({{ json_expr }} as json) ->> '{{ key }}')
{%- endmacro %}

{% macro duckdb__json_text(json_expr, key) -%}
    json_extract_string({{ json_expr }}, '$.{{ key }}')
{%- endmacro %}

{% macro redshift__json_text(json_expr, key) -%}
    nullif(json_extract_path_text({{ json_expr }}, '{{ key }}', true), '')
{%- endmacro %}

{% macro spark__json_text(json_expr, key) -%}
    get_json_object({{ json_expr }}, '$.{{ key }}')
{%- endmacro %}
