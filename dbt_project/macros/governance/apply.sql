{#-
    Governance as code: make the warehouse's roles, users, memberships and read grants match
    vars.governance (dbt_project.yml). Run by on-run-start (so the roles masking refers to exist
    before the first model) and on-run-end (so relations dbt re-created get their grants back).

      roles:  role -> the models / seeds (by name) it may SELECT, plus USAGE on their schemas;
      users:  user -> the roles granted to it.

    Only what is declared is managed: a managed role or user missing is created (roles NOLOGIN,
    users LOGIN without a password: lib/governance.py sets passwords from the environment or AWS
    Secrets Manager, so they never reach dbt, its logs or its manifest); a grant or membership of
    a managed role or user that is not declared is revoked. Nothing is dropped. A second run with
    nothing changed issues no statement.

    PostgreSQL: roles and pg_catalog (aclexplode). Redshift: role-based access control (CREATE
    ROLE, GRANT ROLE ... TO user, GRANT ... TO ROLE) and the svv_* system views. DuckDB and other
    engines without roles: a no-op.
-#}
{% macro apply_governance() -%}
    {#- Commands that change the warehouse, and `dbt run-operation apply_governance`; never
        compile / docs / show (which must work offline, e.g. compile --no-introspect). -#}
    {%- if execute and flags.WHICH in ['build', 'run', 'seed', 'snapshot', 'retry', 'run-operation'] -%}
        {%- do adapter.dispatch('apply_governance', 'analytics_platform')(var('governance', {})) -%}
    {%- endif -%}
{%- endmacro %}

{% macro default__apply_governance(governance) -%}
{%- endmacro %}

{% macro postgres__apply_governance(governance) -%}
    {%- do governance_reconcile(governance) -%}
{%- endmacro %}

{% macro redshift__apply_governance(governance) -%}
    {%- do governance_reconcile(governance) -%}
{%- endmacro %}

{#- The declared state, the current state (dispatched catalog queries), the statements between. -#}
{% macro governance_plan(governance, current) -%}
    {%- set roles = governance.get('roles', {}) -%}
    {%- set users = governance.get('users', {}) -%}
    {%- set managed = (roles.keys() | list) + (users.keys() | list) -%}
    {%- set statements = [] -%}
    {%- for role in roles if role not in current.principals -%}
        {%- do statements.append(governance_sql('create_role', role)) -%}
    {%- endfor -%}
    {%- for user in users if user not in current.principals -%}
        {%- do statements.append(governance_sql('create_user', user)) -%}
    {%- endfor -%}
    {#- memberships -#}
    {%- set wanted_members = [] -%}
    {%- for user, granted in users.items() -%}
        {%- for role in granted -%}
            {%- do wanted_members.append([role, user]) -%}
            {%- if [role, user] not in current.memberships -%}
                {%- do statements.append(governance_sql('grant_role', role, user)) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- for membership in current.memberships if membership not in wanted_members -%}
        {%- do statements.append(governance_sql('revoke_role', membership[0], membership[1])) -%}
    {%- endfor -%}
    {#- SELECT on relations, USAGE on their schemas -#}
    {%- set relations = governance_relations() -%}
    {%- set wanted_selects = [] -%}
    {%- set wanted_usage = [] -%}
    {%- for role, names in roles.items() -%}
        {%- for name in names if name in relations -%}
            {%- set relation = relations[name] -%}
            {%- do wanted_selects.append([relation.schema, relation.identifier, role]) -%}
            {%- if [relation.schema, role] not in wanted_usage -%}
                {%- do wanted_usage.append([relation.schema, role]) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- for schema, role in wanted_usage if [schema, role] not in current.usage -%}
        {%- do statements.append(governance_sql('grant_usage', schema, role)) -%}
    {%- endfor -%}
    {%- for schema, table, role in wanted_selects if [schema, table, role] not in current.selects -%}
        {%- do statements.append(governance_sql('grant_select', schema ~ '.' ~ table, role)) -%}
    {%- endfor -%}
    {%- for schema, table, grantee in current.selects if [schema, table, grantee] not in wanted_selects -%}
        {%- do statements.append(governance_sql('revoke_select', schema ~ '.' ~ table, grantee)) -%}
    {%- endfor -%}
    {%- for schema, grantee in current.usage if [schema, grantee] not in wanted_usage -%}
        {%- do statements.append(governance_sql('revoke_usage', schema, grantee)) -%}
    {%- endfor -%}
    {{ return(statements) }}
{%- endmacro %}

{% macro governance_reconcile(governance) -%}
    {%- set managed = (governance.get('roles', {}).keys() | list) + (governance.get('users', {}).keys() | list) -%}
    {%- if not managed -%}{{ return(none) }}{%- endif -%}
    {%- set current = adapter.dispatch('governance_current_state', 'analytics_platform')(managed) -%}
    {%- set statements = governance_plan(governance, current) -%}
    {%- for statement in statements -%}
        {%- do run_query(statement) -%}
    {%- endfor -%}
    {{ log("governance: " ~ (statements | length) ~ " statement(s) applied", info=true) }}
{%- endmacro %}

{#- Models and seeds by name -> their relation in the warehouse, when it exists. -#}
{% macro governance_relations() -%}
    {%- set relations = {} -%}
    {%- set wanted = [] -%}
    {%- for names in var('governance', {}).get('roles', {}).values() -%}
        {%- do wanted.extend(names) -%}
    {%- endfor -%}
    {%- for node in graph.nodes.values() if node.resource_type in ('model', 'seed') and node.name in wanted -%}
        {%- set relation = adapter.get_relation(node.database, node.schema, node.alias or node.name) -%}
        {%- if relation is not none -%}
            {%- do relations.update({node.name: relation}) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(relations) }}
{%- endmacro %}

{% macro governance_rows(sql) -%}
    {%- set rows = [] -%}
    {%- for row in run_query(sql).rows -%}
        {%- do rows.append(row.values() | list) -%}
    {%- endfor -%}
    {{ return(rows) }}
{%- endmacro %}

{% macro governance_in_list(names) -%}
    ({%- for name in names -%}'{{ name }}'{{ ", " if not loop.last }}{%- endfor -%})
{%- endmacro %}

{#- The current state of the managed principals: {principals, memberships [role, user],
    selects [schema, table, grantee], usage [schema, grantee]}. -#}
{% macro postgres__governance_current_state(managed) -%}
    {%- set names = governance_in_list(managed) -%}
    {%- set principals = governance_rows("select rolname from pg_roles where rolname in " ~ names) | map(attribute=0) | list -%}
    {%- set memberships = governance_rows(
        "select r.rolname, m.rolname from pg_auth_members a join pg_roles r on r.oid = a.roleid"
        ~ " join pg_roles m on m.oid = a.member where r.rolname in " ~ names ~ " and m.rolname in " ~ names) -%}
    {%- set selects = governance_rows(
        "select n.nspname, c.relname, r.rolname from pg_class c join pg_namespace n on n.oid = c.relnamespace"
        ~ " cross join lateral aclexplode(c.relacl) a join pg_roles r on r.oid = a.grantee"
        ~ " where a.privilege_type = 'SELECT' and r.rolname in " ~ names) -%}
    {%- set usage = governance_rows(
        "select n.nspname, r.rolname from pg_namespace n cross join lateral aclexplode(n.nspacl) a"
        ~ " join pg_roles r on r.oid = a.grantee where a.privilege_type = 'USAGE' and r.rolname in " ~ names) -%}
    {{ return({'principals': principals, 'memberships': memberships, 'selects': selects, 'usage': usage}) }}
{%- endmacro %}

{% macro redshift__governance_current_state(managed) -%}
    {%- set names = governance_in_list(managed) -%}
    {%- set principals = governance_rows(
        "select role_name from svv_roles where role_name in " ~ names
        ~ " union select usename from pg_user where usename in " ~ names) | map(attribute=0) | list -%}
    {%- set memberships = governance_rows(
        "select role_name, user_name from svv_user_grants where role_name in " ~ names ~ " and user_name in " ~ names) -%}
    {%- set selects = governance_rows(
        "select namespace_name, relation_name, identity_name from svv_relation_privileges"
        ~ " where privilege_type = 'SELECT' and identity_name in " ~ names) -%}
    {%- set usage = governance_rows(
        "select namespace_name, identity_name from svv_schema_privileges"
        ~ " where privilege_type = 'USAGE' and identity_name in " ~ names) -%}
    {{ return({'principals': principals, 'memberships': memberships, 'selects': selects, 'usage': usage}) }}
{%- endmacro %}

{#- One statement: create_role, create_user, grant_role / revoke_role (role, user),
    grant_select / revoke_select (relation, grantee), grant_usage / revoke_usage (schema, grantee). -#}
{% macro governance_sql(action, first, second=none) -%}
    {{ return(adapter.dispatch('governance_sql', 'analytics_platform')(action, first, second)) }}
{%- endmacro %}

{% macro default__governance_sql(action, first, second) -%}
    {%- set templates = {
        'create_role': 'create role {0} nologin',
        'create_user': 'create role {0} login',
        'grant_role': 'grant {0} to {1}',
        'revoke_role': 'revoke {0} from {1}',
        'grant_select': 'grant select on {0} to {1}',
        'revoke_select': 'revoke select on {0} from {1}',
        'grant_usage': 'grant usage on schema {0} to {1}',
        'revoke_usage': 'revoke usage on schema {0} from {1}',
    } -%}
    {{ return(templates[action].format(first, second)) }}
{%- endmacro %}

{% macro redshift__governance_sql(action, first, second) -%}
    {%- set templates = {
        'create_role': 'create role {0}',
        'create_user': 'create user {0} password disable',
        'grant_role': 'grant role {0} to {1}',
        'revoke_role': 'revoke role {0} from {1}',
        'grant_select': 'grant select on {0} to role {1}',
        'revoke_select': 'revoke select on {0} from role {1}',
        'grant_usage': 'grant usage on schema {0} to role {1}',
        'revoke_usage': 'revoke usage on schema {0} from role {1}',
    } -%}
    {{ return(templates[action].format(first, second)) }}
{%- endmacro %}

{% macro default__governance_current_state(managed) -%}
    {{ return({'principals': [], 'memberships': [], 'selects': [], 'usage': []}) }}
{%- endmacro %}
