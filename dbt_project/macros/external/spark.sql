{#- Databricks and Spark (dbt-databricks falls back to spark__): a partitioned table over the
    files (USING JSON, OPTIONS compression), and the view joining it with the ledger on
    _metadata.file_path. The text equals DatabricksLoader's (lib/warehouses/databricks.py). -#}
{% macro spark__external_table_statements(source) -%}
    {%- set landing = external_landing_meta(source) -%}
    {%- set partitioned_by = landing.get('partitioned_by') or [] -%}
    {%- set columns = [] -%}
    {%- for name, column in source.columns.items() if name not in ['_source_key', '_source_row', '_loaded_at'] -%}
        {%- do columns.append(['`' ~ name ~ '`', external_column_type(column.data_type)]) -%}
    {%- endfor -%}
    {%- for name in partitioned_by -%}
        {%- do columns.append(['`' ~ name ~ '`', 'STRING']) -%}
    {%- endfor -%}
    {%- set lake = external_lake_table(source) -%}
    {%- set root = external_location_root() -%}
    {%- set compression = 'gzip' if landing.get('compression') == 'gzip' else 'none' -%}
    {%- set column_ddl = [] -%}
    {%- for name, type in columns -%}{%- do column_ddl.append(name ~ ' ' ~ type) -%}{%- endfor -%}
    {%- set table -%}
CREATE TABLE IF NOT EXISTS {{ lake }} ({{ column_ddl | join(', ') }}) USING {{ (landing.get('format') or 'json') | upper }} OPTIONS (compression {{ external_literal(compression) }}, ignoreCorruptFiles 'true')
        {%- if partitioned_by %} PARTITIONED BY ({% for name in partitioned_by %}`{{ name }}`{{ ', ' if not loop.last }}{% endfor %}){% endif %} LOCATION {{ external_literal(root ~ source.source_name ~ '/' ~ source.name ~ '/') }}
    {%- endset -%}
    {%- set view -%}
CREATE OR REPLACE VIEW {{ source.schema }}.{{ source.name }} AS SELECT {% for name, type in columns %}files.{{ name }}, {% endfor -%}
ledger.s3_key AS _source_key, CAST(NULL AS BIGINT) AS _source_row, ledger.loaded_at AS _loaded_at FROM {{ lake }} AS files JOIN raw._ingestion_ledger AS ledger ON files._metadata.file_path = concat({{ external_literal(root) }}, substr(ledger.s3_key, {{ external_landing_prefix() | length + 1 }})) WHERE ledger.dataset = {{ external_literal(source.source_name ~ '.' ~ source.name) }} AND ledger.superseded_at IS NULL
    {%- endset -%}
    {{ return(['CREATE SCHEMA IF NOT EXISTS ' ~ source.schema ~ '_lake', table, 'CREATE SCHEMA IF NOT EXISTS ' ~ source.schema, view]) }}
{%- endmacro %}

{#- lib/warehouses/databricks_casts.py DATABRICKS_TYPES -#}
{% macro spark__external_column_type(data_type) -%}
    {%- set types = {'VARCHAR': 'STRING', 'TEXT': 'STRING', 'JSON': 'STRING', 'INTEGER': 'INT', 'INT4': 'INT',
                     'INT8': 'BIGINT', 'INT2': 'SMALLINT', 'HUGEINT': 'DECIMAL(38,0)', 'REAL': 'FLOAT',
                     'TIMESTAMPTZ': 'TIMESTAMP'} -%}
    {%- if data_type.startswith('VARCHAR(') -%}{{ return('STRING') }}{%- endif -%}
    {{ return(types.get(data_type, data_type)) }}
{%- endmacro %}
