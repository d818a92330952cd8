-- Every kind of statement apply_governance() (macros/governance/apply.sql) may issue on the
-- target, rendered for review: `dbt compile --target redshift -s governance_statements`.
-- test_redshift.py parses the Redshift rendering with sqlglot.
{% for action, first, second in [
    ('create_role', 'finance', none),
    ('create_user', 'finance_analyst', none),
    ('grant_role', 'finance', 'finance_analyst'),
    ('revoke_role', 'finance', 'finance_analyst'),
    ('grant_usage', 'gold', 'finance'),
    ('revoke_usage', 'gold', 'finance'),
    ('grant_select', 'gold.rpt_finance_qtr_total_sales_by_event', 'finance'),
    ('revoke_select', 'gold.rpt_finance_qtr_total_sales_by_event', 'finance'),
] %}
{{ governance_sql(action, first, second) }};
{% endfor %}
