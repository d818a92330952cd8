{#-
    Column masking by the reading role: `mask_pii(column)` keeps the value when the session user
    may read PII, else the placeholder 'MASKED'. Used in views (rpt_tech_all_users), so the test
    runs as the reader, not as the view's owner. Who may read PII: members of the role named by the
    `pii_reader_role` setting (vars.governance in dbt_project.yml, macros/governance/apply.sql).
      postgres: pg_has_role(session_user, role, 'MEMBER') (direct or inherited membership);
      redshift: the role is granted to the user (svv_user_grants, role-based access control);
      duckdb:   no roles: every reader is the owner, values are shown.
-#}
{% macro mask_pii(column) -%}
    {{ return(adapter.dispatch('mask_pii', 'analytics_platform')(column, var('governance', {}).get('pii_reader_role', 'pii_reader'))) }}
{%- endmacro %}

{% macro default__mask_pii(column, role) -%}
    case
        when not exists (select 1 from pg_roles where rolname = '{{ role }}') then 'MASKED'
        when pg_has_role(session_user, '{{ role }}', 'MEMBER') then {{ column }}
        else 'MASKED'
    end
{%- endmacro %}

{% macro redshift__mask_pii(column, role) -%}
    case when exists (
        select 1 from svv_user_grants as g
        where g.user_name = session_user and g.role_name = '{{ role }}'
    ) then {{ column }} else 'MASKED' end
{%- endmacro %}

{% macro duckdb__mask_pii(column, role) -%}
    {{ column }}
{%- endmacro %}

{% macro spark__mask_pii(column, role) -%}
    case when is_account_group_member('{{ role }}') then {{ column }} else 'MASKED' end
{%- endmacro %}
