{#-
    External datasets (`meta.landing.external: true`, docs/GAME.md): their files are read where
    they land, never copied. Two relations per dataset, the same names on every engine
    (analytics_platform/lib/warehouses/external.py):
      <schema>_lake.<table>  the external table over the dataset's folder, partitioned by its
                             hive folders (`partitioned_by`, e.g. dt=YYYY-MM-DD/hh=HH/);
      <schema>.<table>       the view the dbt source reads: the external table joined with the
                             ingestion ledger (raw._ingestion_ledger, lib/warehouses/base.py) on
                             the file's path, so only files the ledger accepted are read, and
                             _source_key / _loaded_at come from the ledger.

    `dbt run-operation stage_external_sources` creates them (Redshift Spectrum; Databricks and
    Spark) and refreshes the partitions Spark can discover (MSCK REPAIR TABLE). Ingestion creates
    them too and adds each new folder's partition as files arrive (RedshiftLoader,
    DatabricksLoader): the statements here and there are the same text, which
    analytics_platform_tests/test_external_tables.py checks.
    On DuckDB the loader keeps a view over mirrored files; PostgreSQL loads the dataset: no-ops.

    Where the files are: s3://$ANALYTICS_LANDING_BUCKET/$ANALYTICS_LANDING_PREFIX<source>/<table>/,
    or --vars '{"external_location_root": "<root>/"}' (e.g. a local folder for Spark).
-#}

{% macro stage_external_sources() -%}
    {%- for source in external_sources() -%}
        {%- set statements = external_table_statements(source) + external_refresh_statements(source) -%}
        {%- if target.type == 'redshift' and external_table_exists(source) -%}
            {#- Redshift has no CREATE EXTERNAL TABLE IF NOT EXISTS: keep the view's statements. -#}
            {%- set statements = statements[2:] -%}
        {%- endif -%}
        {%- for statement in statements -%}
            {%- do log('external ' ~ source.source_name ~ '.' ~ source.name ~ ': ' ~ statement[:120], info=true) -%}
            {%- do run_query(statement) -%}
        {%- endfor -%}
    {%- endfor -%}
{%- endmacro %}

{#- Every source declared external, in (source, table) order. -#}
{% macro external_sources() -%}
    {%- set found = [] -%}
    {#- The graph is empty while dbt parses (execute is false). -#}
    {%- for source in (graph.sources.values() if execute else []) | sort(attribute='unique_id') -%}
        {%- set landing = external_landing_meta(source) -%}
        {%- if landing.get('external', false) -%}
            {%- do found.append(source) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(found) }}
{%- endmacro %}

{#- meta.landing merged as lib/datasets.py merges it: the source's, then the table's. -#}
{% macro external_landing_meta(source) -%}
    {%- set merged = {} -%}
    {%- for meta in [source.source_meta or {}, source.config.meta or {}, source.meta or {}] -%}
        {%- do merged.update(meta.get('landing') or {}) -%}
    {%- endfor -%}
    {{ return(merged) }}
{%- endmacro %}

{% macro external_landing_prefix() -%}
    {{ return(env_var('ANALYTICS_LANDING_PREFIX', 'landing/').strip().strip('/') ~ '/') }}
{%- endmacro %}

{#- The URL the landing prefix lives at; a dataset's files are under <root><source>/<table>/. -#}
{% macro external_location_root() -%}
    {%- set bucket = env_var('ANALYTICS_LANDING_BUCKET', 'analytics-landing').strip() -%}
    {{ return(var('external_location_root', 's3://' ~ bucket ~ '/' ~ external_landing_prefix())) }}
{%- endmacro %}

{% macro external_lake_table(source) -%}
    {{ return(source.schema ~ '_lake.' ~ source.name) }}
{%- endmacro %}

{#- The statements that create the external table and the view (loaders render the same text). -#}
{% macro external_table_statements(source) -%}
    {{ return(adapter.dispatch('external_table_statements', 'analytics_platform')(source)) }}
{%- endmacro %}

{% macro default__external_table_statements(source) -%}
    {{ return([]) }}
{%- endmacro %}

{#- `ALTER TABLE ... ADD IF NOT EXISTS PARTITION` for each folder: a list of {column: value}. -#}
{% macro external_partition_statements(source, folders) -%}
    {%- set statements = [] -%}
    {%- set columns = external_landing_meta(source).get('partitioned_by') or [] -%}
    {%- for folder in folders -%}
        {%- set spec = [] -%}
        {%- set path = [] -%}
        {%- for column in columns -%}
            {%- do spec.append(column ~ ' = ' ~ external_literal(folder[column])) -%}
            {%- do path.append(column ~ '=' ~ folder[column] ~ '/') -%}
        {%- endfor -%}
        {%- set location = external_location_root() ~ source.source_name ~ '/' ~ source.name ~ '/' ~ path | join('') -%}
        {%- do statements.append('ALTER TABLE ' ~ external_lake_table(source) ~ ' ADD IF NOT EXISTS PARTITION ('
            ~ spec | join(', ') ~ ') LOCATION ' ~ external_literal(location)) -%}
    {%- endfor -%}
    {{ return(statements) }}
{%- endmacro %}

{#- Spark discovers the folders itself; Redshift only has the partitions added one by one. -#}
{% macro external_refresh_statements(source) -%}
    {{ return(adapter.dispatch('external_refresh_statements', 'analytics_platform')(source)) }}
{%- endmacro %}

{% macro default__external_refresh_statements(source) -%}
    {{ return([]) }}
{%- endmacro %}

{% macro spark__external_refresh_statements(source) -%}
    {%- if external_landing_meta(source).get('partitioned_by') -%}
        {{ return(['MSCK REPAIR TABLE ' ~ external_lake_table(source)]) }}
    {%- endif -%}
    {{ return([]) }}
{%- endmacro %}

{% macro external_literal(value) -%}
    {{ return(adapter.dispatch('external_literal', 'analytics_platform')(value)) }}
{%- endmacro %}

{% macro default__external_literal(value) -%}
    {{ return("'" ~ (value | string).replace("'", "''") ~ "'") }}
{%- endmacro %}

{#- Spark SQL escapes with a backslash (databricks_casts.databricks_literal). -#}
{% macro spark__external_literal(value) -%}
    {{ return("'" ~ (value | string).replace('\\', '\\\\').replace("'", "\\'") ~ "'") }}
{%- endmacro %}

{#- The declared type (dbt data_type, DuckDB's spelling) in the engine's spelling. -#}
{% macro external_column_type(data_type) -%}
    {{ return(adapter.dispatch('external_column_type', 'analytics_platform')(data_type | upper | replace(' ', ''))) }}
{%- endmacro %}

{% macro default__external_column_type(data_type) -%}
    {{ return(data_type) }}
{%- endmacro %}
