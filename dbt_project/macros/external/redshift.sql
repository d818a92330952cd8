{#- Redshift Spectrum: an external schema (a Glue Data Catalog database of the same name, created
    if missing), an external table read with the OpenX JSON SerDe, and a late-binding view
    joining it with the ledger on "$path". The text equals RedshiftLoader's
    (lib/warehouses/redshift.py). The IAM role (ANALYTICS_REDSHIFT_IAM_ROLE) reads the landing
    bucket and the Glue catalog; the region is AWS_REGION. -#}
{% macro redshift__external_table_statements(source) -%}
    {%- set landing = external_landing_meta(source) -%}
    {%- set partitioned_by = landing.get('partitioned_by') or [] -%}
    {%- set lake = external_lake_table(source) -%}
    {%- set lake_schema = source.schema ~ '_lake' -%}
    {%- set root = external_location_root() -%}
    {%- set names = [] -%}
    {%- set column_ddl = [] -%}
    {%- for name, column in source.columns.items() if name not in ['_source_key', '_source_row', '_loaded_at'] -%}
        {%- do names.append(name) -%}
        {%- do column_ddl.append('"' ~ name ~ '" ' ~ external_column_type(column.data_type)) -%}
    {%- endfor -%}
    {%- set schema -%}
CREATE EXTERNAL SCHEMA IF NOT EXISTS {{ lake_schema }} FROM DATA CATALOG DATABASE {{ external_literal(lake_schema) }} IAM_ROLE {{ external_literal(env_var('ANALYTICS_REDSHIFT_IAM_ROLE', '')) }} REGION {{ external_literal(env_var('AWS_REGION', 'us-east-1')) }} CREATE EXTERNAL DATABASE IF NOT EXISTS
    {%- endset -%}
    {%- set table -%}
CREATE EXTERNAL TABLE {{ lake }} ({{ column_ddl | join(', ') }})
        {%- if partitioned_by %} PARTITIONED BY ({% for name in partitioned_by %}"{{ name }}" VARCHAR(64){{ ', ' if not loop.last }}{% endfor %}){% endif %} ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe' WITH SERDEPROPERTIES ('ignore.malformed.json' = 'true', 'dots.in.keys' = 'false') STORED AS TEXTFILE LOCATION {{ external_literal(root ~ source.source_name ~ '/' ~ source.name ~ '/') }}
    {%- endset -%}
    {%- set view -%}
CREATE OR REPLACE VIEW {{ source.schema }}.{{ source.name }} AS SELECT {% for name in names + partitioned_by %}files."{{ name }}", {% endfor -%}
ledger.s3_key AS _source_key, CAST(NULL AS BIGINT) AS _source_row, ledger.loaded_at AS _loaded_at FROM {{ lake }} AS files JOIN raw._ingestion_ledger AS ledger ON files."$path" = {{ external_literal(root) }} || SUBSTRING(ledger.s3_key, {{ external_landing_prefix() | length + 1 }}) WHERE ledger.dataset = {{ external_literal(source.source_name ~ '.' ~ source.name) }} AND ledger.superseded_at IS NULL WITH NO SCHEMA BINDING
    {%- endset -%}
    {{ return([schema, table, 'CREATE SCHEMA IF NOT EXISTS ' ~ source.schema, view]) }}
{%- endmacro %}

{% macro external_table_exists(source) -%}
    {%- set found = run_query("SELECT count(*) FROM svv_external_tables WHERE schemaname = '" ~ source.schema ~ "_lake' AND tablename = '" ~ source.name ~ "'") -%}
    {{ return(found.columns[0].values()[0] > 0) }}
{%- endmacro %}

{#- lib/warehouses/redshift.py REDSHIFT_TYPES, JSON as text (Spectrum has no SUPER columns). -#}
{% macro redshift__external_column_type(data_type) -%}
    {%- set types = {'VARCHAR': 'VARCHAR(65535)', 'TEXT': 'VARCHAR(65535)', 'STRING': 'VARCHAR(65535)',
                     'DOUBLE': 'DOUBLE PRECISION', 'JSON': 'VARCHAR(65535)'} -%}
    {{ return(types.get(data_type, data_type)) }}
{%- endmacro %}
