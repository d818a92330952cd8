{#-
    The game domain's event SQL, shared by the bronze_game_events view and the incremental path of
    silver_game_events (macros/incremental/scope.sql, hour grain).
-#}

{#- The event types the contract knows (docs/GAME.md); others are kept, flagged unknown. -#}
{% macro game_known_event_types() -%}
    {{ return([
        'user_registration', 'login', 'logout', 'level_started', 'level_completed', 'level_failed',
        'iap_transaction', 'user_sentiment', 'user_report',
    ]) }}
{%- endmacro %}

{#- The event time of a raw game event: its epoch seconds as a UTC timestamp. -#}
{% macro game_event_time(raw_column='event_timestamp') -%}
    {{ epoch_seconds_to_timestamp(raw_column) }}
{%- endmacro %}

{#-
    One row per event_id (a duplicate delivery is identical; the last-loaded wins, as in every
    bronze model), typed: the event time as a timestamp, its hour and day, and event_data's
    fields as columns. raw_filter: see macros/bronze.sql.
-#}
{% macro bronze_game_events_sql(raw_filter=none) -%}
    {%- set event_type = 'lower(trim(event_type))' -%}
    {%- set text = text_type() -%}
    {%- set fields = [
        ('player_id', text), ('session_id', text), ('country', text),
        ('platform', text), ('level_id', text), ('transaction_id', text),
        ('item_id', text), ('amount', 'decimal(18,2)'), ('currency', text),
        ('user_rating', 'integer'), ('report_reason', text),
    ] -%}
    {%- set cleaned = [
        ('event_id', 'trim(event_id)'),
        ('event_type', event_type),
        ('event_name', 'event_name'),
        ('event_timestamp', 'event_timestamp'),
        ('event_at', game_event_time()),
        ('event_hour', "date_trunc('hour', " ~ game_event_time() ~ ")"),
        ('event_date', 'cast(' ~ game_event_time() ~ ' as date)'),
        ('event_version', 'event_version'),
        ('app_version', 'trim(app_version)'),
        ('application_id', 'application_id'),
        ('event_data', 'event_data'),
    ] -%}
    {%- for name, sql_type in fields -%}
        {%- do cleaned.append((name, 'cast(' ~ json_text('event_data', name) ~ ' as ' ~ sql_type ~ ')')) -%}
    {%- endfor -%}
    {%- do cleaned.append((
        'is_known_event_type',
        'case when ' ~ event_type ~ " in ('" ~ game_known_event_types() | join("', '") ~ "') then true else false end",
    )) -%}
    {{ cleaned_and_deduplicated_sql(source('game', 'events'), cleaned, 'event_id', raw_filter) }}
{%- endmacro %}
