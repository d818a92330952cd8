{#-
    The schema of every model, seed and snapshot (and of the audit tables, macros/audit.sql),
    keyed by the environment, ANALYTICS_ENV (docs/DBT.md, dbt_project/README.md):

      production       bare custom schemas: bronze, silver, gold, reference, snapshots.
      local            bare custom schemas too. `local` is the embedded DuckDB file of one
                       person (.local/warehouse.duckdb) or a throwaway server a test starts:
                       nobody shares it, so nothing can collide, and the demo, the tests and
                       the docs read the same names as production (gold.gold_daily_sales).
      dev, branch,     shared, non-production warehouses: the target's own schema prefixes the
      any other value  custom schema, `<target.schema>_<custom>` (dbt's default), e.g.
                       dbt_alice_gold or pr_123_silver. Each person / branch sets its own target
                       schema (DATABRICKS_SCHEMA, REDSHIFT_SCHEMA, POSTGRES_SCHEMA in
                       profiles.yml), so two of them never overwrite each other's tables, nor
                       production's.

    Nodes without a custom schema land in the target schema in every environment.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- set environment = analytics_environment() -%}  {#- macros/settings.sql #}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- elif environment in ('production', 'local') -%}
        {{ custom_schema_name | trim }}
    {%- else -%}
        {{ target.schema }}_{{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
