{#-
    Post-hook of every gold model (dbt_project.yml): read access for the reporting roles, taken
    from the `reporting_roles` setting (a list; see macros/settings.sql for where it comes from).

    - DuckDB has no roles or GRANT: nothing to run (an empty hook is skipped by dbt).
    - PostgreSQL / Redshift: one GRANT to every role (Redshift role-based access: `ROLE name`).
    - Databricks (Unity Catalog): one principal per GRANT, so each is run here and the hook
      itself renders empty.
    Unlike dbt's `grants:` config this neither needs `SHOW GRANTS` support in the adapter
    (dbt-duckdb has none) nor revokes grants someone added by hand.
-#}
{% macro grant_select(relation) -%}
    {{ return(adapter.dispatch('grant_select', 'analytics_platform')(relation, setting('reporting_roles'))) }}
{%- endmacro %}

{% macro default__grant_select(relation, roles) -%}
    {%- if roles -%}
        grant select on {{ relation }} to {{ roles | join(', ') }}
    {%- endif -%}
{%- endmacro %}

{% macro duckdb__grant_select(relation, roles) -%}
{%- endmacro %}

{% macro redshift__grant_select(relation, roles) -%}
    {%- if roles -%}
        grant select on {{ relation }} to {% for role in roles %}role {{ role }}{{ ", " if not loop.last }}{% endfor %}
    {%- endif -%}
{%- endmacro %}

{% macro spark__grant_select(relation, roles) -%}
    {%- if execute -%}
        {%- for role in roles -%}
            {%- do run_query("grant select on table " ~ relation ~ " to `" ~ role ~ "`") -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
