{#-
    Branch environments (ANALYTICS_ENV=branch): one per pull request, keyed by ANALYTICS_BRANCH
    (a PR number or a branch name). Every schema of the branch starts with its prefix,
    macros/generate_schema_name.sql:

      ANALYTICS_BRANCH=123                 pr_123_bronze, pr_123_silver, pr_123_gold, ...
      ANALYTICS_BRANCH=feature/New-Model   pr_feature_new_model_1a2b3c4d_silver, ...

    The prefix is `pr_` + the name when the name is already a plain identifier (lower-case
    letters, digits, single inner underscores) and short. Otherwise it is the sanitised name
    (runs of other characters -> `_`), cut to fit, + `_` + 8 hex of the name's md5: two names that
    sanitise alike (`feat/x`, `feat-x`, `Feat_X`) still get different schemas. The prefix is at
    most BRANCH_PREFIX_MAX_LENGTH characters, so `<prefix>_dbt_test__audit` (the longest custom
    schema here) stays within PostgreSQL's 63-byte identifiers (Redshift: 127).

    `dbt run-operation drop_branch_schemas` drops the branch's schemas when the pull request is
    done (`analytics-platform drop-branch-schemas`).
-#}

{% macro branch_prefix_max_length() -%}
    {{ return(40) }}
{%- endmacro %}

{#- The branch's schema prefix, or none when ANALYTICS_BRANCH is unset. -#}
{% macro branch_schema_prefix() -%}
    {%- set branch = env_var('ANALYTICS_BRANCH', '') | trim -%}
    {%- if not branch -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set limit = branch_prefix_max_length() -%}
    {%- set clean = modules.re.sub('[^a-z0-9]+', '_', branch | lower).strip('_') -%}
    {%- set plain = 'pr_' ~ clean -%}
    {%- if clean == branch and plain | length <= limit -%}
        {{ return(plain) }}
    {%- endif -%}
    {#- 'pr_' + cut + '_' + 8 hex <= limit -#}
    {%- set cut = clean[:limit - 12].strip('_') -%}
    {{ return('pr_' ~ (cut ~ '_' if cut else '') ~ local_md5(branch)[:8]) }}
{%- endmacro %}

{#- Every schema this branch environment builds in: the schemas of the project's models, seeds,
    snapshots and tests (as generate_schema_name resolved them at parse time), the audit schema
    and the bare prefix. -#}
{% macro branch_schemas() -%}
    {%- set prefix = branch_schema_prefix() -%}
    {%- set found = {} -%}
    {%- for node in graph.nodes.values() if node.resource_type in ('model', 'seed', 'snapshot', 'test') -%}
        {%- do found.update({node.database ~ '.' ~ node.schema: (node.database, node.schema)}) -%}
    {%- endfor -%}
    {%- set audit = audit_relation('dbt_invocations') -%}  {#- macros/audit.sql #}
    {%- do found.update({audit.database ~ '.' ~ audit.schema: (audit.database, audit.schema)}) -%}
    {%- do found.update({target.database ~ '.' ~ prefix: (target.database, prefix)}) -%}
    {%- set schemas = [] -%}
    {%- for key in found | sort -%}
        {%- set database, schema = found[key] -%}
        {#- Never drop what is not this branch's: a node with a hard-coded schema, production's. -#}
        {%- if schema == prefix or schema.startswith(prefix ~ '_') -%}
            {%- do schemas.append(found[key]) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(schemas) }}
{%- endmacro %}

{#- `dbt run-operation drop_branch_schemas [--args '{dry_run: true}']`: drop (cascade) every
    schema of this branch environment. Refuses outside ANALYTICS_ENV=branch and without
    ANALYTICS_BRANCH, so it can never reach production's or another branch's schemas. Dropping
    goes through the adapter (`drop_schema`, dispatched per engine: DuckDB, PostgreSQL,
    Redshift, Databricks / Spark), which commits each drop itself. -#}
{% macro drop_branch_schemas(dry_run=false) -%}
    {%- if analytics_environment() != 'branch' -%}
        {{ exceptions.raise_compiler_error(
            "drop_branch_schemas runs only with ANALYTICS_ENV=branch; got '" ~ analytics_environment() ~ "'") }}
    {%- endif -%}
    {%- if not branch_schema_prefix() -%}
        {{ exceptions.raise_compiler_error("drop_branch_schemas needs ANALYTICS_BRANCH (the pull request / branch)") }}
    {%- endif -%}
    {%- for database, schema in branch_schemas() -%}
        {%- set relation = api.Relation.create(database=database, schema=schema) -%}
        {%- if dry_run -%}
            {{ log("would drop schema " ~ relation, info=true) }}
        {%- else -%}
            {%- do adapter.drop_schema(relation) -%}
            {{ log("dropped schema " ~ relation, info=true) }}
        {%- endif -%}
    {%- endfor -%}
{%- endmacro %}
