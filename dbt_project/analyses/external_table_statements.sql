-- The statements that create and refresh each external dataset's table and view
-- (macros/external/), with the partition of one sample folder, rendered for review:
-- `dbt compile --target redshift -s external_table_statements` (or --target databricks).
-- analytics_platform_tests/test_external_tables.py parses both renderings with sqlglot and
-- compares them with the loaders' statements.
{% for source in external_sources() %}
{%- set sample = {} -%}
{%- for column in external_landing_meta(source).get('partitioned_by') or [] -%}
{%- do sample.update({column: {'dt': '2026-10-01', 'hh': '00'}.get(column, 'sample')}) -%}
{%- endfor -%}
{% for statement in external_table_statements(source) + external_partition_statements(source, [sample]) + external_refresh_statements(source) %}
{{ statement }};
{% endfor %}
{% endfor %}
