{#-
    Environment-specific settings with one precedence order, documented in docs/DBT.md:

      1. `--vars '{"<name>": <value>}'` on the command line (an explicit override, e.g. a backfill)
      2. `vars.settings_by_environment.<ANALYTICS_ENV>.<name>` in dbt_project.yml
         (ANALYTICS_ENV is `local` by default, `production` in production)
      3. `vars.settings_by_environment.default.<name>` in dbt_project.yml

    A name found nowhere is a compile error, not a silent default. YAML property files cannot call
    macros, so the few YAML configs that need a setting spell out the same lookup inline.
-#}
{% macro setting(name) -%}
    {%- set override = var(name, none) -%}
    {%- if override is not none -%}
        {{ return(override) }}
    {%- endif -%}
    {%- set by_environment = var('settings_by_environment') -%}
    {%- set environment = env_var('ANALYTICS_ENV', 'local') | trim | lower -%}
    {%- set scoped = by_environment.get(environment, {}) or {} -%}
    {%- if name in scoped -%}
        {{ return(scoped[name]) }}
    {%- endif -%}
    {%- set defaults = by_environment.get('default', {}) or {} -%}
    {%- if name in defaults -%}
        {{ return(defaults[name]) }}
    {%- endif -%}
    {{ exceptions.raise_compiler_error(
        "Unknown setting '" ~ name ~ "': add it to vars.settings_by_environment.default in dbt_project.yml"
    ) }}
{%- endmacro %}

{#- The environment the settings were taken from (for the audit table and logs). -#}
{% macro analytics_environment() -%}
    {{ return(env_var('ANALYTICS_ENV', 'local') | trim | lower) }}
{%- endmacro %}
