{#-
    Schema drift: the raw columns beyond the contract, which macros/bronze.sql carries through
    the bronze views and the incremental path of the facts.
-#}

{#-
    Columns of `relation` beyond `known_columns`, quoted, in table order: a column that appears
    in a landed file is added to the raw table (as VARCHAR) by the loader and flows through
    bronze into the incremental facts (on_schema_change: append_new_columns) without a code
    change. Needs the warehouse: returns [] at parse time and under `compile --no-introspect`.
-#}
{% macro extra_columns(relation, known_columns) -%}
    {%- if not execute or not flags.INTROSPECT -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set known = known_columns | map('lower') | list -%}
    {%- set extra = [] -%}
    {%- for column in adapter.get_columns_in_relation(relation) -%}
        {%- if column.name | lower not in known and not column.name.startswith('_dedupe') -%}
            {%- do extra.append(adapter.quote(column.name)) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(extra) }}
{%- endmacro %}
