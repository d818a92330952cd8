{#-
    Which rows an incremental fact model (silver_orders, silver_reviews) reads on a run.

    Three cases, decided by the run, not the model:

    1. A partition window is set (`--vars '{window_start: ..., window_end: ...}'`, which the
       partitioned Dagster asset passes; half-open [window_start, window_end), UTC): exactly the
       rows whose event time is in the window. A backfill of a date range is one such run.
    2. Incremental run without a window (the sensor / main job, `dbt build`): whole event days
       are recomputed, namely
         - the last `incremental_lookback_days` days up to the newest day already in the table
           (late deliveries of recent days, redelivered rows, late product / user versions
           re-pricing recent orders), and
         - every day that has a key not yet in the table, however old (a late row beyond the
           lookback is still picked up; the anti-join reads keys only).
    3. First build or `--full-refresh`: everything.

    Whole days, not single rows, so `delete+insert` keyed on the day (silver_reviews) replaces a
    day exactly, and `merge` keyed on the row (silver_orders) sees every row of the day.
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
            "--full-refresh with a partition window would rebuild the table with only that window; "
            "run one or the other."
        ) }}
    {%- endif -%}
    {{ return({'start': start | string, 'end': end | string}) }}
{%- endmacro %}

{#-
    The WHERE predicate of the fact's source CTE.
      source       the relation read (bronze view)
      event_time   its event timestamp column (UTC), e.g. created_at
      unique_key   the fact's key column, e.g. order_id
      day_column   the table's date column derived from event_time, e.g. order_date
-#}
{% macro incremental_source_filter(source, event_time, unique_key, day_column) -%}
    {%- set window = partition_window() -%}
    {%- if window is not none -%}
        {{ event_time }} >= cast('{{ window.start }}' as timestamp)
        and {{ event_time }} < cast('{{ window.end }}' as timestamp)
    {%- elif incremental_run() -%}
        {%- set lookback_days = setting('incremental_lookback_days') | int -%}
        (
            cast({{ event_time }} as date) >= (
                select {{ add_days('max(' ~ day_column ~ ')', -lookback_days) }} from {{ this }}
            )
            or cast({{ event_time }} as date) in (
                select distinct cast(unseen.{{ event_time }} as date)
                from {{ source }} as unseen
                where not exists (
                    select 1 from {{ this }} as seen
                    where seen.{{ unique_key }} = unseen.{{ unique_key }}
                )
            )
        )
    {%- else -%}
        1 = 1
    {%- endif -%}
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

{#-
    Columns of `relation` beyond `known_columns`, quoted, in table order: a column that appears
    in a landed file is added to the raw table (as VARCHAR) by the loader and flows through
    bronze into the incremental facts (on_schema_change: append_new_columns) without a code
    change. Needs the warehouse: returns [] at parse time and under `compile --no-introspect`.
-#}
{% macro extra_columns(relation, known_columns) -%}
    {%- if not execute or not flags.INTROSPECT -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set known = known_columns | map('lower') | list -%}
    {%- set extra = [] -%}
    {%- for column in adapter.get_columns_in_relation(relation) -%}
        {%- if column.name | lower not in known and not column.name.startswith('_dedupe') -%}
            {%- do extra.append(adapter.quote(column.name)) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(extra) }}
{%- endmacro %}
