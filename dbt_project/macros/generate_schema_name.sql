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
      branch with      the branch's prefix replaces the target schema: `pr_<branch>_<custom>`,
      ANALYTICS_BRANCH sanitised and length-limited (macros/environments/branch_schemas.sql), so a
                       pull request needs no schema of its own in profiles.yml and
                       `drop_branch_schemas` finds every schema it made.

    Nodes without a custom schema land in the target schema (a branch: its prefix).
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- set environment = analytics_environment() -%}  {#- macros/settings.sql #}
    {%- set base = target.schema -%}
    {%- if environment == 'branch' -%}
        {%- set base = branch_schema_prefix() or target.schema -%}
    {%- endif -%}
    {%- if custom_schema_name is none -%}
        {{ base }}
    {%- elif environment in ('production', 'local') -%}
        {{ custom_schema_name | trim }}
    {%- else -%}
        {{ base }}_{{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
