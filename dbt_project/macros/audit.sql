{#-
    The warehouse keeps its own record of what dbt did (dbt_project.yml hooks):

      on-run-start  audit_create_table(...)     audit.dbt_invocations, audit.dbt_node_results
                    audit_invocation_started()   one row per dbt invocation, status 'running'
      on-run-end    audit_node_results(results)  one row per node run (model, test, seed, ...)
                    audit_invocation_finished(results)   status, counts and end time

    Only commands that run nodes write (build, run, seed, snapshot, test, retry); `compile`,
    `docs generate`, `parse`, `show` leave the warehouse alone (and `compile --no-introspect`
    stays offline). Each hook renders one SQL statement (so a failed insert fails the hook
    visibly); only the audit schema is created from inside the macro, through the adapter.
-#}

{% macro audit_enabled() -%}
    {{ return(execute and flags.WHICH in ['build', 'run', 'seed', 'snapshot', 'test', 'retry']) }}
{%- endmacro %}

{#- The audit schema goes through generate_schema_name like every node's: `audit` in production
    and local, `<target schema>_audit` in a shared dev / branch warehouse. -#}
{% macro audit_relation(identifier) -%}
    {%- set schema = generate_schema_name(setting('audit_schema'), none) | trim -%}
    {#- Spark has no database level (target.database is undefined there). -#}
    {%- set database = target.database if target.database is defined else none -%}
    {{ return(api.Relation.create(database=database, schema=schema, identifier=identifier)) }}
{%- endmacro %}

{% macro audit_create_table(identifier) -%}
    {%- if audit_enabled() -%}
        {%- set relation = audit_relation(identifier) -%}
        {%- set text = long_text_type() -%}
        {%- if identifier == 'dbt_invocations' -%}
            {%- do adapter.create_schema(relation) -%}
        create table if not exists {{ relation }} (
            invocation_id {{ text }},
            command {{ text }},
            target_name {{ text }},
            target_type {{ text }},
            environment {{ text }},
            dbt_version {{ text }},
            selector {{ text }},
            vars {{ text }},
            full_refresh boolean,
            started_at timestamp,
            finished_at timestamp,
            status {{ text }},
            nodes_total integer,
            nodes_failed integer,
            nodes_warned integer
        )
        {%- elif identifier == 'dbt_node_results' -%}
        create table if not exists {{ relation }} (
            invocation_id {{ text }},
            unique_id {{ text }},
            resource_type {{ text }},
            node_name {{ text }},
            relation_name {{ text }},
            materialized {{ text }},
            status {{ text }},
            message {{ text }},
            failures bigint,
            rows_affected bigint,
            execution_seconds {{ 'double' if target.type in ('spark', 'databricks') else 'double precision' }},
            recorded_at timestamp
        )
        {%- else -%}
            {{ exceptions.raise_compiler_error("unknown audit table " ~ identifier) }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- Spark's parquet tables take no UPDATE: there the finished hook inserts the whole row and the
    started hook writes nothing (no `running` row while the invocation runs). -#}
{% macro audit_invocation_started() -%}
    {%- if audit_enabled() and not audit_update_free() -%}
        {{ audit_invocation_row('running') }}
    {%- endif -%}
{%- endmacro %}

{% macro audit_update_free() -%}
    {{ return(adapter.dispatch('audit_update_free', 'analytics_platform')()) }}
{%- endmacro %}

{% macro default__audit_update_free() -%}
    {{ return(false) }}
{%- endmacro %}

{% macro spark__audit_update_free() -%}
    {#- Databricks (Delta) has UPDATE: dbt-databricks dispatches here only without its own macro. -#}
    {{ return(target.type == 'spark') }}
{%- endmacro %}

{#- One dbt_invocations row; `results` given: the finished row (status and counts). -#}
{% macro audit_invocation_row(status, results=none) -%}
        {%- set args = invocation_args_dict -%}
        {%- set selector = (args.get('select') or []) | join(' ') -%}
        {%- set counts = audit_result_counts(results) if results is not none else none -%}
        insert into {{ audit_relation('dbt_invocations') }} (
            invocation_id, command, target_name, target_type, environment, dbt_version, selector,
            vars, full_refresh, started_at, status
            {%- if counts %}, finished_at, nodes_total, nodes_failed, nodes_warned{% endif %}
        ) values (
            {{ sql_string(invocation_id) }},
            {{ sql_string(flags.WHICH) }},
            {{ sql_string(target.name) }},
            {{ sql_string(target.type) }},
            {{ sql_string(analytics_environment()) }},
            {{ sql_string(dbt_version) }},
            {{ sql_string(selector) }},
            {{ sql_string(tojson(args.get('vars') or {})) }},
            {{ 'true' if flags.FULL_REFRESH else 'false' }},
            cast({{ sql_string(run_started_at.strftime('%Y-%m-%d %H:%M:%S')) }} as timestamp),
            {%- if counts %}
            {{ sql_string(counts.status) }},
            {{ utc_now() }},
            {{ counts.total }},
            {{ counts.failed }},
            {{ counts.warned }}
            {%- else %}
            {{ sql_string(status) }}
            {%- endif %}
        )
{%- endmacro %}

{#- status ('error' when a node failed, else 'success') and node counts of an invocation's results. -#}
{% macro audit_result_counts(results) -%}
    {%- set statuses = results | map(attribute='status') | map('string') | list -%}
    {%- set failed = statuses | select('in', ['error', 'fail', 'runtime error']) | list | length -%}
    {%- set warned = statuses | select('equalto', 'warn') | list | length -%}
    {{ return({'status': 'error' if failed else 'success', 'total': statuses | length,
               'failed': failed, 'warned': warned}) }}
{%- endmacro %}

{% macro audit_node_results(results) -%}
    {%- if audit_enabled() and results -%}
        insert into {{ audit_relation('dbt_node_results') }} (
            invocation_id, unique_id, resource_type, node_name, relation_name, materialized,
            status, message, failures, rows_affected, execution_seconds, recorded_at
        ) values
        {%- for result in results %}
            {%- set node = result.node -%}
            {%- set response = result.adapter_response or {} -%}
            {%- set rows_affected = response.get('rows_affected') %}
            (
                {{ sql_string(invocation_id) }},
                {{ sql_string(node.unique_id) }},
                {{ sql_string(node.resource_type) }},
                {{ sql_string(node.name) }},
                {{ sql_string(node.relation_name) }},
                {{ sql_string(node.config.get('materialized')) }},
                {{ sql_string(result.status) }},
                {{ sql_string(result.message) }},
                {{ result.failures if result.failures is not none else 'null' }},
                {{ rows_affected if rows_affected is not none and rows_affected >= 0 else 'null' }},
                {{ result.execution_time | round(3) }},
                {{ utc_now() }}
            ){{ "," if not loop.last }}
        {%- endfor %}
    {%- endif -%}
{%- endmacro %}

{% macro audit_invocation_finished(results) -%}
    {%- if audit_enabled() and audit_update_free() -%}
        {{ audit_invocation_row('finished', results) }}
    {%- elif audit_enabled() -%}
        {%- set counts = audit_result_counts(results) -%}
        update {{ audit_relation('dbt_invocations') }}
        set finished_at = {{ utc_now() }},
            status = {{ sql_string(counts.status) }},
            nodes_total = {{ counts.total }},
            nodes_failed = {{ counts.failed }},
            nodes_warned = {{ counts.warned }}
        where invocation_id = {{ sql_string(invocation_id) }}
    {%- endif -%}
{%- endmacro %}
