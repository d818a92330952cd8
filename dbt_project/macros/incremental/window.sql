{#-
    Which of the three cases of an incremental fact run (macros/incremental/scope.sql) a run is
    in, decided by the run, not the model:

      partition_window()        the backfill window: the half-open [window_start, window_end)
                                `--vars` Dagster passes when a run's config sets one
                                (lib/backfill_window.py), or none (case 1 when set). The name
                                predates the window config; scope.sql calls it.
      incremental_run()         is_incremental(), also offline under `compile --no-introspect`
                                (case 2 when no window is set)
      incremental_reads_all()   first build or --full-refresh without a window: the model reads
                                the bronze view (case 3)
-#}

{% macro partition_window() -%}
    {%- set start = var('window_start', none) -%}
    {%- set end = var('window_end', none) -%}
    {%- if start is none and end is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if start is none or end is none -%}
        {{ exceptions.raise_compiler_error("Set both window_start and window_end (half-open [start, end)), or neither.") }}
    {%- endif -%}
    {%- if flags.FULL_REFRESH -%}
        {{ exceptions.raise_compiler_error(
            "--full-refresh with a backfill window would rebuild the table with only that window; "
            "run one or the other."
        ) }}
    {%- endif -%}
    {{ return({'start': start | string, 'end': end | string}) }}
{%- endmacro %}

{#- True on a first build or --full-refresh without a window: the model reads the bronze view. -#}
{% macro incremental_reads_all() -%}
    {{ return(partition_window() is none and not incremental_run()) }}
{%- endmacro %}

{#-
    is_incremental(), except under `dbt compile --no-introspect` (offline: the existence of the
    table cannot be checked), where the incremental form is shown unless --full-refresh is set.
-#}
{% macro incremental_run() -%}
    {%- if not flags.INTROSPECT -%}
        {{ return(model.config.materialized == 'incremental' and not flags.FULL_REFRESH) }}
    {%- endif -%}
    {{ return(is_incremental()) }}
{%- endmacro %}
